/**
 * The opt-in process hook (`handleSignals: true`): on SIGINT, SIGTERM or an uncaught exception,
 * resign and close sessions so a successor takes over within milliseconds instead of waiting out
 * a session timeout. Closing a session we own is synchronous in the native client (the close
 * request is flushed before it returns), so even the crash path hands over.
 */
interface Closeable {
  close(): Promise<void>;
  /** The session it runs on, if any (an Election's, shared or its own). */
  readonly session?: { close(): Promise<void> } | undefined;
}

const registry = new Set<Closeable>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** Upper bound on how long a signal waits for resignations before the process goes on exiting. */
const EXIT_GRACE_MS = 3000;
let installed = false;

export function registerForExit(target: Closeable): () => void {
  registry.add(target);
  install();
  return () => {
    registry.delete(target);
    if (registry.size === 0) uninstall();
  };
}

function closeAll(): Promise<unknown> {
  return Promise.allSettled([...registry].map((target) => target.close()));
}

function onSignal(signal: NodeJS.Signals): void {
  uninstall();
  // Nobody else handles the signal: the process is about to exit. Closing each session the
  // elections run on first ends all their terms on the server with one request per session (a
  // closeSession deletes every ephemeral node of the session), where closing each election would
  // send one delete per election: a thousand elections on one session hand over in one write.
  // With a handler of its own the application goes on living, and keeps its shared sessions.
  if (process.listenerCount(signal) === 0) {
    const sessions = new Set([...registry].map((target) => target.session).filter((session) => session !== undefined));
    for (const session of sessions) void session.close().catch(() => undefined);
  }
  const grace = new Promise((resolve) => setTimeout(resolve, EXIT_GRACE_MS).unref());
  void Promise.race([closeAll(), grace]).then(() => {
    // Re-raise only when nobody else handles the signal: then the default action (exit) applies,
    // with the exit status a shell expects. Otherwise the application's own handler decides.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function onUncaught(): void {
  // Synchronous part of close(): our own sessions are closed before the process dies.
  void closeAll();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('uncaughtExceptionMonitor', onUncaught);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const signal of SIGNALS) process.off(signal, onSignal);
  process.off('uncaughtExceptionMonitor', onUncaught);
}

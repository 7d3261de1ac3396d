/**
 * The child of the bench's lean figures (bench/lean.ts). Modes:
 *   participant <connect>        one Election on its own session; prints {"rss": bytes} once it stands
 *   raw <connect>                one session through the bare native client; prints {"rss": bytes} once connected
 */

const [mode, connect] = process.argv.slice(2);
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));
const report = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss })}\n`);
};

if (mode === 'participant') {
  const { Election } = await import('zk-election');
  const election = new Election('/bench/lean-rss', { connect: connect!, id: `rss-${process.pid}` });
  await election.start();
  await settle();
  report();
  await election.close();
} else if (mode === 'raw') {
  const { nativeBinding } = await import('../lib/zk/native-binding.js');
  const handle = new (nativeBinding())();
  await new Promise<void>((resolve) => {
    handle.emit = (event) => event === 'connect' && resolve();
    handle.init({ connect: connect!, timeout: 10_000, debug_level: 0 });
  });
  await settle();
  report();
  handle.close();
}

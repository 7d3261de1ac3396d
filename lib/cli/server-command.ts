/**
 * `zk-election server`: a throwaway local ZooKeeper for trying the library by hand. It runs in the
 * foreground until Ctrl-C (or SIGTERM), then stops the JVM and removes its data directory. Not for
 * production: data is not fsynced and lives in a temporary directory.
 */
import { onAbort } from '../util/abort.js';
import type { TlsOptions } from '../session/tls-options.js';
import { startZooKeeper } from '../testing/index.js';
import { parse } from './args.js';
import { EXIT, exitForSignal, interruption, UsageError, type CliIo } from './io.js';

export const SERVER_HELP = `Usage: zk-election server [--port P] [--servers 1|3] [--tls]

Runs a local ZooKeeper on loopback in the foreground, for trying zk-election by hand,
until Ctrl-C (or SIGTERM, or until the process that started it exits); then stops it and
removes its data. Killed outright (SIGKILL), it still takes the server and its data with it. Needs Java and ZooKeeper's jars
(Debian's 'zookeeper' package, or $ZOOKEEPER_HOME; 'npm run ensure-zookeeper' installs them).
Not for production: data lives in a temporary directory and is not fsynced.

Options:
  --port P         client port of a standalone server (default 2181, the default of --connect)
  --servers N      1 (default) or 3; a 3-node ensemble takes free ports and prints its
                   connection string
  --tls            TLS only: a secure client port and no plaintext one (default port 2281),
                   certificates made for it (a CA, the server's, a client's) in its data
                   directory, and the flags (and variables) that connect to it printed;
                   a 3-node ensemble's servers also talk to each other over TLS.
                   Needs openssl and Netty's jars (Debian's libnetty-java)

Examples:
  zk-election server
  zk-election server --servers 3
  zk-election server --tls
`;

/** How often the parent is looked at; orphaned, the server stops and exits as on a hang-up (129). */
const PARENT_POLL_MS = 500;

export async function serverCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parse(argv, { port: { type: 'string' }, servers: { type: 'string' }, tls: { type: 'boolean' } });
  if (parsed.values.help) return void io.stdout.write(SERVER_HELP), EXIT.OK;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"; see zk-election server --help`);
  const servers = Number(parsed.values.servers ?? 1) as 1 | 3;
  if (servers !== 1 && servers !== 3) throw new UsageError('--servers expects 1 or 3');
  if (servers === 3 && parsed.values.port !== undefined) throw new UsageError('--port is for a standalone server; a 3-node ensemble takes free ports');
  const tls = parsed.values.tls === true;
  const port = Number(parsed.values.port ?? (tls ? 2281 : 2181));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port expects a port number, got "${String(parsed.values.port)}"`);

  // Handlers stay on until the end, so a second Ctrl-C while stopping cannot cut the clean-up short.
  const stop = interruption({ once: false });
  // A foreground server also ends with what started it: under `npx`, killing npm leaves us running
  // with nobody to press Ctrl-C. There is no event for it: the parent pid changes (to init's).
  const parent = process.ppid;
  const orphaned = new AbortController();
  const watchParent = setInterval(() => process.ppid !== parent && orphaned.abort(), PARENT_POLL_MS);
  // The JVM's handles are unref'd (a forgotten server must not hold a process open); this timer
  // keeps the process, and so the server, alive until it is stopped and cleaned up.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    const ensemble = await startZooKeeper({ ...(servers === 1 ? { servers: 1, clientPort: port } : { servers: 3 }), ...(tls ? { tls: { quorum: servers === 3 } } : {}) });
    try {
      io.stdout.write(`ZooKeeper (${servers === 1 ? 'standalone' : '3-node ensemble'}${tls ? ', TLS only' : ''}) serving at ${ensemble.connectString}\n`);
      if (ensemble.connectString !== '127.0.0.1:2181') io.stdout.write(`  export ZK_CONNECT=${ensemble.connectString}\n`);
      if (ensemble.tls) io.stdout.write(tlsInstructions(ensemble.connectString, ensemble.tls));
      io.stdout.write(`  data in ${ensemble.baseDir}; Ctrl-C stops the server and removes it\n`);
      await new Promise<void>((resolve) => (onAbort(stop.signal, resolve), onAbort(orphaned.signal, resolve)));
      // Orphaned, our stdout may lead nowhere (a closed pipe): stop without a word.
      if (orphaned.signal.aborted) return exitForSignal('SIGHUP');
      io.stdout.write('stopping ZooKeeper...\n');
    } finally {
      await ensemble.stop();
    }
    io.stdout.write('stopped; nothing left behind\n');
    return stop.exitCode();
  } finally {
    clearInterval(keepAlive);
    clearInterval(watchParent);
    stop.dispose();
  }
}

/** The variables (or flags) that connect every command to a TLS-only server made here. */
function tlsInstructions(connect: string, tls: TlsOptions): string {
  return [
    `  export ZK_TLS_CA=${tls.ca}`,
    `  export ZK_TLS_CERT=${tls.cert}`,
    `  export ZK_TLS_KEY=${tls.key}`,
    `  or, per command: --connect ${connect} --tls-ca ${tls.ca} --tls-cert ${tls.cert} --tls-key ${tls.key}`,
    '',
  ].join('\n');
}

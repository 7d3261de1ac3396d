/**
 * The child of the bench's lean figures (bench/lean.ts). Modes:
 *   participant <connect>        one Election on its own session; prints {"rss": bytes} once it stands
 *   raw <connect>                one session through the bare binding; prints {"rss": bytes} once connected
 */
import { createRequire } from 'node:module';

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
  interface Bare {
    connect(options: object, cb: () => void): void;
    on(event: string, listener: () => void): void;
    setLogger(on: boolean): void;
    close(): void;
  }
  const ZooKeeper = createRequire(import.meta.url)('zookeeper') as new (config: object) => Bare;
  const handle = new ZooKeeper({ connect: connect!, timeout: 10_000, debug_level: 0 });
  handle.setLogger(false);
  await new Promise<void>((resolve) => {
    handle.on('connect', resolve);
    handle.connect({}, () => {});
  });
  await settle();
  report();
  handle.close();
}

// A payment scheduler: start several copies; exactly one charges at a time.
import { setTimeout as sleep } from 'node:timers/promises';
import { isZkElectionError, runAsLeader } from 'zk-election';

const id = process.argv[2] ?? `scheduler-${process.pid}`;
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

console.log(`${id}: campaigning for /examples/payments (ZooKeeper at ${process.env.ZK_CONNECT ?? '127.0.0.1:2181'})`);
try {
  // Runs the task while leader; if leadership is lost mid-task, campaigns again and reruns it.
  await runAsLeader('/examples/payments', { id, signal: stop.signal }, async (leadership) => {
    console.log(`${id}: elected, fencing token ${leadership.token}`);
    while (!leadership.signal.aborted) {
      // Check right before every side effect, and pass the token along with it.
      if (leadership.isValid()) console.log(`${id}: charging due contracts with token ${leadership.token}`);
      await sleep(1000, undefined, { signal: leadership.signal }).catch(() => {});
    }
    console.log(`${id}: no longer leader (${(await leadership.ended).message})`); // why the term ended
  });
} catch (error) {
  if (!isZkElectionError(error, 'ABORTED')) throw error; // ABORTED: we were asked to stop
}
console.log(`${id}: resigned and left`);

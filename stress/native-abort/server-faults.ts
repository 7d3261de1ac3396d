/**
 * ZooKeeper server faults for the native-abort stress run, so that the victims' handles also lose
 * their server and reconnect to another one: kill -9 and restart, or SIGSTOP and SIGCONT, of one
 * server at a time (the other two keep a quorum).
 */
import type { LocalEnsemble } from '../../lib/testing/index.js';
import { sleep } from '../../lib/process/wait.js';
import type { Random } from '../../spec/chaos/schedule.js';
import type { Victims } from './victims.js';

const QUORUM_WAIT_MS = 60_000;
const GAP_MS: [number, number] = [4000, 12_000];
const DOWN_MS: [number, number] = [500, 3000];

export async function serverFaults(ensemble: LocalEnsemble, random: Random, victims: Victims, enough: () => boolean, print: (text: string) => void): Promise<void> {
  while (!enough()) {
    await sleep(random.between(...GAP_MS));
    if (enough()) return;
    const target = random.pick(ensemble.servers.filter((s) => s.running));
    const down = random.between(...DOWN_MS);
    if (random.chance(0.6)) {
      await target.kill();
      await sleep(down);
      await target.start();
    } else {
      target.pause();
      await sleep(down);
      target.resume();
    }
    victims.serverFaults += 1;
    try {
      await ensemble.waitForQuorum(QUORUM_WAIT_MS);
    } catch (error) {
      print(`ensemble did not settle after a fault on server ${target.id}: ${(error as Error).message}`);
      throw error;
    }
  }
}

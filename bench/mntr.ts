/**
 * What the server did between two `mntr` snapshots (ZooKeeper 3.8): requests received, split into
 * reads and writes, watch notifications sent, and the change in watches and znodes held.
 *
 *   - `zk_cnt_readlatency` counts every request answered without a transaction: reads, and the
 *     clients' pings;
 *   - `zk_cnt_updatelatency` counts transactions: create, delete, setData, createSession,
 *     closeSession (a session's expiry too);
 *   - `zk_sum_node_{created,deleted,changed,children}_watch_count` add up the watchers each
 *     event notified;
 *   - `zk_packets_received` also counts each four-letter command (one per snapshot).
 */
import type { LocalServer } from '../lib/testing/index.js';

export type Mntr = Record<string, number>;

export async function mntr(server: LocalServer): Promise<Mntr> {
  const text = await server.fourLetter('mntr');
  const values: Mntr = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.split('\t');
    const number = Number(value);
    if (key && Number.isFinite(number)) values[key] = number;
  }
  return values;
}

export interface ServerDelta {
  /** Requests the server received, pings and this snapshot's own command included. */
  packetsReceived: number;
  packetsSent: number;
  /** Reads and pings. */
  reads: number;
  /** Transactions. */
  writes: number;
  /** Watch notifications sent. */
  notifications: number;
  /** Change in watches held (data and child watches). */
  watches: number;
  znodes: number;
  /** Change in the server's estimate of its data size, bytes (paths and data). */
  dataBytes: number;
}

const WATCH_EVENTS = ['created', 'deleted', 'changed', 'children'];

export function delta(before: Mntr, after: Mntr): ServerDelta {
  const d = (key: string): number => (after[`zk_${key}`] ?? Number.NaN) - (before[`zk_${key}`] ?? Number.NaN);
  return {
    packetsReceived: d('packets_received'),
    packetsSent: d('packets_sent'),
    reads: d('cnt_readlatency'),
    writes: d('cnt_updatelatency'),
    notifications: WATCH_EVENTS.reduce((sum, event) => sum + d(`sum_node_${event}_watch_count`), 0),
    watches: d('watch_count'),
    znodes: d('znode_count'),
    dataBytes: d('approximate_data_size'),
  };
}

/** Every field divided by `n`: the cost of one operation when `n` of them ran between the snapshots. */
export function perOperation(total: ServerDelta, n: number): ServerDelta {
  const per = {} as ServerDelta;
  for (const [key, value] of Object.entries(total) as Array<[keyof ServerDelta, number]>) per[key] = value / n;
  return per;
}

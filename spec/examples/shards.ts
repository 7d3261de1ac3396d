// Many long-lived elections on one shared session: one leader per shard, across the fleet.
import { Election, Session } from 'zk-election';

export async function ownShards(shards: string[], signal: AbortSignal): Promise<void> {
  // One connection for every election; its expiry ends every term, and each election rejoins.
  const session = await Session.connect({ connect: process.env.ZK_CONNECT, sessionTimeout: 6000 });
  const elections = shards.map((shard) => new Election(`/shards/${shard}/owner`, { connect: session, data: { shard } }));
  for (const election of elections) {
    election.on('elected', (leadership) => {
      console.log(`${election.path}: owned with token ${leadership.token}`);
      void consume(election.path, leadership.token, leadership.signal);
    });
    election.on('lost', (_leadership, error) => console.log(`${election.path}: lost (${error.reason}), rejoining`));
    election.on('suspended', () => console.log(`${election.path}: disconnected, holding on the lease`));
    // Every participant hears of every leader change (a watch on the leader's node, while listened to).
    election.on('leader', (leader) => console.log(`${election.path}: leader is now ${leader?.id ?? 'nobody'} (token ${leader?.token})`));
    election.on('error', (error) => console.error(`${election.path}: ${error.message}`));
    await election.start(signal);
  }
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  await Promise.all(elections.map((election) => election.close())); // deletes our nodes
  await session.close(); // a shared session is the caller's to close
}

async function consume(shard: string, token: bigint, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    console.log(`${shard}: processing with token ${token}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// Following the leader from a process that does not campaign, and asking a leader to step down.
import { observeLeader, requestStepDown } from 'zk-election';

/** A dashboard, a proxy or a client that sends work to the leader: one value per leader change. */
export async function followPayments(signal: AbortSignal): Promise<void> {
  for await (const leader of observeLeader('/services/payments/leader', { connect: process.env.ZK_CONNECT, signal })) {
    console.log(leader ? `leader: ${leader.id} on ${leader.host} (token ${leader.token})` : 'nobody leads');
  }
}

/** Before a deploy: the leader stops its work and gives up its node; resolves once another one leads. */
export async function rotateLeader(): Promise<void> {
  const { previous, next } = await requestStepDown('/services/payments/leader', { connect: process.env.ZK_CONNECT, timeout: 30_000, by: 'deploy' });
  console.log(`${previous.id} stepped down; ${next.id} leads with token ${next.token}`);
}

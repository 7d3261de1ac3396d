// One term of leadership: wait to lead, act while valid, give it up.
import winston from 'winston';
import { electLeader, listParticipants } from 'zk-election';

const logger = winston.createLogger({ level: 'info', transports: [new winston.transports.Console()] });

export async function nightlyReport(): Promise<void> {
  const leadership = await electLeader('/services/reports/leader', {
    connect: 'zk1:2181,zk2:2181,zk3:2181/prod', // or process.env.ZK_CONNECT
    data: { version: '1.4.2' }, // shown to operators by `zk-election participants`
    sessionTimeout: 10_000,
    timeout: 60_000, // give up (code TIMEOUT) if not elected within a minute
    handleSignals: true, // resign on SIGINT/SIGTERM: the next candidate leads within milliseconds
    logger, // the library logs nothing without one
  });
  await using held = leadership; // resigns when this scope ends, however it ends
  console.log(`leading as ${held.id}, fencing token ${held.token}`);

  for (const batch of ['eu', 'us', 'apac']) {
    // Cheap and synchronous: false once the lease ran out, even before any event said so.
    if (!held.isValid()) throw held.signal.reason;
    // Costs a round trip: confirms with the ensemble that our node is still the lowest.
    await held.verify();
    await renderReport(batch, held.token, held.signal);
  }
  console.log(await listParticipants('/services/reports/leader', { connect: 'zk1:2181,zk2:2181,zk3:2181/prod' }));
}

async function renderReport(region: string, token: bigint, signal: AbortSignal): Promise<void> {
  // Pass the signal to anything cancellable and the token to anything that stores results.
  signal.throwIfAborted();
  console.log(`report ${region} written with token ${token}`);
}

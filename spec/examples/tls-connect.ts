// An ensemble that only speaks TLS: the tls option names PEM files (paths, not their contents).
import { isZkElectionError, runAsLeader } from 'zk-election';

const tls = {
  ca: '/etc/payments/zookeeper/ca.pem', // the CA that signed the servers' certificates
  cert: '/etc/payments/zookeeper/client.pem', // this client's certificate, for servers that ask for one
  key: '/etc/payments/zookeeper/client-key.pem',
};

export async function schedulePayments(work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  try {
    await runAsLeader('/services/payments/leader', { connect: 'zk1:2281,zk2:2281,zk3:2281', tls }, (leadership) => work(leadership.signal));
  } catch (error) {
    // Bad files fail before anything connects; a refused handshake is UNREACHABLE, saying why.
    if (isZkElectionError(error, 'TLS_CONFIG', 'UNREACHABLE')) console.error(error.message);
    throw error;
  }
}

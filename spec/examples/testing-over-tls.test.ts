// Testing against a ZooKeeper that only speaks TLS, as production does: certificates made for it.
import { electLeader, listParticipants } from 'zk-election';
import { startZooKeeper, type LocalEnsemble } from 'zk-election/testing';

let zk: LocalEnsemble;
beforeAll(async () => {
  // A secure client port only (no plaintext one), client certificates required; a CA, the server's
  // and a client's certificate are made for it with openssl and keytool. { servers: 3 } works too.
  zk = await startZooKeeper({ tls: true });
}, 60_000);
afterAll(() => zk.stop()); // also removes the certificates

test('a leader elected over TLS, seen over TLS', async () => {
  // zk.tls is { ca, cert, key }: paths of the PEM files, what the library's tls option takes.
  const leadership = await electLeader('/jobs/reports', { connect: zk.connectString, tls: zk.tls, id: 'reporter' });
  const [leader] = await listParticipants('/jobs/reports', { connect: zk.connectString, tls: zk.tls });
  expect(leader).toMatchObject({ id: 'reporter', token: leadership.token });
  await leadership.resign();
});

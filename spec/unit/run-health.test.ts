/** The rule behind `run --metrics`'s /healthz (lib/cli/run/run-status.ts): pure, no server. */
import { healthOf, SESSION_STATES, type Role, type Snapshot } from '../../lib/cli/run/run-status.js';
import type { SessionState } from '../../lib/session/session.js';

const snapshot = (role: Role, session: SessionState): Snapshot => ({
  id: 'sched-1',
  role,
  token: role === 'leader' ? 12_884_901_890n : undefined,
  session,
  leaseRemainingMs: role === 'leader' ? 4000 : 0,
});

test('200 while the session is connected, whatever the role; a leader also while suspended, its lease holding; never while stopping', () => {
  const table = Object.fromEntries(
    (['leader', 'follower', 'candidate', 'stopped'] as const).map((role) => [role, Object.fromEntries(SESSION_STATES.map((session) => [session, healthOf(snapshot(role, session)).status]))]),
  );
  expect(table).toEqual({
    // A leader's role already says its lease holds (Leadership.isValid()): it stays healthy through a disconnection.
    leader: { connecting: 200, connected: 200, suspended: 200, reconnected: 200, expired: 200, closed: 200 },
    follower: { connecting: 503, connected: 200, suspended: 503, reconnected: 200, expired: 503, closed: 503 },
    candidate: { connecting: 503, connected: 200, suspended: 503, reconnected: 200, expired: 503, closed: 503 },
    stopped: { connecting: 503, connected: 503, suspended: 503, reconnected: 503, expired: 503, closed: 503 },
  });
});

test('the body: id, role, the token as a decimal string (it exceeds 2^53) or null, the session state', () => {
  expect(healthOf(snapshot('leader', 'suspended')).body).toEqual({ id: 'sched-1', role: 'leader', token: '12884901890', session: 'suspended' });
  expect(healthOf(snapshot('follower', 'connected')).body).toEqual({ id: 'sched-1', role: 'follower', token: null, session: 'connected' });
});

test('every session state is one series of zk_election_session_state', () => {
  expect([...SESSION_STATES].sort()).toEqual(['closed', 'connected', 'connecting', 'expired', 'reconnected', 'suspended']);
});

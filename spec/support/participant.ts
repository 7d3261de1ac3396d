/**
 * A participant in its own OS process, for tests that pause, kill or signal a leader.
 * Usage: node dist/spec/support/participant.js '<json config>'
 * It prints one JSON object per line on stdout: {event:'ready'|'elected'|'lost'|'resigned'|'error', ...}
 * and obeys lines on stdin: 'resign', 'exit'.
 */
import { createInterface } from 'node:readline';
import { electLeader } from 'zk-election';
import type { Leadership } from 'zk-election';

interface Config {
  connect: string;
  path: string;
  id: string;
  sessionTimeout?: number;
  handleSignals?: boolean;
  suspendedPolicy?: 'lease' | 'strict';
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const say = (event: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, id: config.id, at: performance.now(), ...fields })}\n`);
};

let leadership: Leadership | undefined;

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'resign') void leadership?.resign().then(() => say('resigned'));
  if (line === 'exit') process.exit(0);
  if (line === 'valid') say('valid', { valid: leadership?.isValid() ?? false });
});

try {
  say('ready', { pid: process.pid });
  leadership = await electLeader(config.path, {
    connect: config.connect,
    id: config.id,
    ...(config.sessionTimeout ? { sessionTimeout: config.sessionTimeout } : {}),
    ...(config.handleSignals ? { handleSignals: true } : {}),
    ...(config.suspendedPolicy ? { suspendedPolicy: config.suspendedPolicy } : {}),
  });
  const held = leadership;
  say('elected', { token: held.token.toString(), node: held.node });
  held.signal.addEventListener('abort', () => {
    const reason = (held.signal.reason as { reason?: string }).reason;
    say('lost', { reason, valid: held.isValid() });
  });
} catch (error) {
  say('error', { code: (error as { code?: string }).code, message: (error as Error).message });
  process.exitCode = 1;
}

/**
 * A victim of the native-abort stress run: one OS process holding many native handles at once,
 * the way a real service might, so that the driver can pause it past its session timeout again
 * and again and count how often the native client kills it.
 *
 * Handles held: `ownSessions` elections each on its own session, `sharedElections` elections on
 * one shared Session, a short-lived session every `churnMs` (getLeader with a connect string opens
 * and closes one), and the library's own short-lived handles (the twin that buries an expired
 * session). Usage: node dist/stress/native-abort/victim.js '<VictimConfig as JSON>'
 *
 * It prints JSON lines: `ready`, then `stats` every 2 s. On SIGTERM it closes everything and exits 0.
 */
import { Writable } from 'node:stream';
import winston from 'winston';
import { Election, getLeader, Session } from '../../lib/index.js';
import type { VictimConfig, VictimLine, VictimStats } from './protocol.js';

const config = JSON.parse(process.argv[2] ?? '{}') as VictimConfig;
const STATS_EVERY_MS = 2000;

const stats: VictimStats = { connected: 0, suspended: 0, expired: 0, buried: 0, churned: 0, errors: 0 };

function say(line: VictimLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Counts the session events the library logs (the burial of an expired session among them). */
const counting = new Writable({
  objectMode: true,
  write(info: { message?: unknown }, _encoding, done) {
    const message = String(info.message);
    if (message === 'session connected') stats.connected += 1;
    else if (message.startsWith('connection lost')) stats.suspended += 1;
    else if (message === 'session expired' || message === 'session handle closed') stats.expired += 1;
    else if (message.startsWith('closed the previous session')) stats.buried += 1;
    done();
  },
});
const logger = winston.createLogger({ level: 'info', transports: [new winston.transports.Stream({ stream: counting })] });

const stop = new AbortController();
const elections: Election[] = [];

function track(election: Election): Election {
  election.on('error', () => void (stats.errors += 1));
  elections.push(election);
  return election;
}

async function startAll(): Promise<Session> {
  for (let i = 0; i < config.ownSessions; i += 1) {
    const election = track(new Election(config.path, { connect: config.connect, id: `${config.name}-own${i}`, sessionTimeout: config.sessionTimeout, logger }));
    await election.start(stop.signal);
  }
  const shared = await Session.connect({ connect: config.connect, sessionTimeout: config.sessionTimeout, logger });
  for (let i = 0; i < config.sharedElections; i += 1) {
    const election = track(new Election(config.path, { connect: shared, id: `${config.name}-shared${i}`, logger }));
    await election.start(stop.signal);
  }
  return shared;
}

/** A short-lived session, opened and closed, now and then: more native handles come and go. */
async function churn(): Promise<void> {
  while (!stop.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, config.churnMs));
    if (stop.signal.aborted) return;
    try {
      await getLeader(config.path, { connect: config.connect, sessionTimeout: config.sessionTimeout, connectTimeout: 4 * config.sessionTimeout, logger });
      stats.churned += 1;
    } catch {
      stats.errors += 1;
    }
  }
}

process.on('SIGTERM', () => stop.abort());
const shared = await startAll();
say({ event: 'ready', pid: process.pid });
const reporter = setInterval(() => say({ event: 'stats', ...stats }), STATS_EVERY_MS);
const churning = churn();
await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
clearInterval(reporter);
await Promise.allSettled(elections.map((election) => election.close()));
await shared.close();
await churning;
say({ event: 'stats', ...stats });
say({ event: 'exit' });

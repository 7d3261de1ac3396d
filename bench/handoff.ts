/**
 * Figure 18: moving leadership on purpose. A handoff (`requestStepDown(path, { to })`) among N
 * candidates, each on a session of its own in this process: from the request to the named
 * participant's `elected` event. Two cases alternate: to the next in line (a plain step-down: no
 * requeue) and to the last in line (N - 2 candidates requeue behind it, one after the other).
 */
import { Election, requestStepDown, Session } from '../lib/index.js';
import { now, within } from './timing.js';

const HANDOFF_MS = 120_000;

export interface HandoffSamples {
  n: number;
  /** To the next in line, ms. */
  next: number[];
  /** To the last in line, ms. */
  last: number[];
}

export async function handoffTrials(connect: string, n: number, trials: number, progress: (line: string) => void): Promise<HandoffSamples> {
  const path = `/bench/handoff-${n}-${Date.now()}`;
  const sessions: Session[] = [];
  const elections: Election[] = [];
  const samples: HandoffSamples = { n, next: [], last: [] };
  try {
    for (let i = 0; i < n; i += 1) {
      const session = await Session.connect({ connect, sessionTimeout: 10_000 });
      sessions.push(session);
      const election = new Election(path, { connect: session, id: `h${i}` });
      elections.push(election);
      await election.start();
    }
    progress(`handoff N=${n}: ${trials} trials each way`);
    for (let trial = 0; trial < trials; trial += 1) {
      for (const where of ['next', 'last'] as const) {
        const order = (await elections[0]!.participants()).map((p) => p.id);
        const target = where === 'next' ? order[1]! : order[order.length - 1]!;
        const election = elections.find((e) => e.id === target)!;
        const elected = new Promise<number>((resolve) => election.once('elected', () => resolve(now())));
        const start = now();
        await within(requestStepDown(path, { connect: sessions[0]!, to: target, timeout: HANDOFF_MS }), HANDOFF_MS, 'handoff');
        samples[where].push((await within(elected, HANDOFF_MS, 'target elected')) - start);
      }
    }
  } finally {
    await Promise.allSettled(elections.map((e) => e.close()));
    await Promise.allSettled(sessions.map((s) => s.close()));
  }
  return samples;
}

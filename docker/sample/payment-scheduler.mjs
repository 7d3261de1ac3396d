#!/usr/bin/env node
// The sample job of docker/docker-compose.yml: a payment scheduler that must run on exactly one machine at a time,
// because two schedulers would charge the same customer twice. `zk-election run` starts it only on the leader:
//
//   zk-election run /demo/payment-scheduler --id scheduler-1 -- node payment-scheduler.mjs
//
// It reads what the CLI hands its command:
//   ZK_ELECTION_TOKEN  the fencing token of this term of leadership (decimal; a later leader has a larger one)
//   ZK_ELECTION_ID     the candidate id given with --id
//
// Fencing. Leader election alone cannot stop a stale leader: a process that was frozen (GC pause, VM migration,
// `docker pause`) may wake up and write before it learns that its session expired and another leader took over.
// A real job therefore passes the token with every write and lets the database reject the stale one, e.g.
//
//   UPDATE contracts SET charged_at = now(), fence = $token
//    WHERE id = $contract AND charged_at IS NULL AND fence <= $token
//
// and treats "0 rows updated" as "I am no longer the leader": stop. This sample only prints the token.
//
// Stopping. On SIGTERM (the CLI sends it when leadership is lost or the container stops) the job finishes the
// charge in flight, never half of one, prints a last line and exits 0. The CLI sends SIGKILL after --grace ms.
// Plain Node, no dependencies: it runs as `node payment-scheduler.mjs` anywhere.

const TICK_MS = 1000; // how often due contracts are looked for
const CHARGE_MS = 150; // how long one simulated charge (a call to the payment provider) takes

const token = process.env.ZK_ELECTION_TOKEN ?? '';
const by = process.env.ZK_ELECTION_ID || 'unknown';

if (!/^\d+$/.test(token)) {
  console.error('payment-scheduler: ZK_ELECTION_TOKEN is not set to a decimal fencing token; run me under ' +
    '`zk-election run <path> -- node payment-scheduler.mjs`, which sets it while this process leads.');
  process.exit(2);
}

let stopping = false;
let timer;
let inFlight = Promise.resolve();
let nextContract = 1;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The contracts that fall due this tick: one or two, numbered in order. */
function dueContracts() {
  const count = 1 + (nextContract % 2);
  const due = [];
  for (let i = 0; i < count; i += 1, nextContract += 1) {
    const amount = (9 + ((nextContract * 7) % 40) + 0.99).toFixed(2);
    due.push({ id: `C-${String(nextContract).padStart(4, '0')}`, amount });
  }
  return due;
}

async function charge(contract) {
  await delay(CHARGE_MS); // stands for: provider call + UPDATE ... WHERE fence <= $token
  console.log(`charged contract ${contract.id} amount=${contract.amount} token=${token} by=${by}`);
}

async function tick() {
  timer = undefined;
  for (const contract of dueContracts()) {
    if (stopping) return; // a stop between two charges: leave the rest to the next leader
    await charge(contract);
  }
  if (!stopping) timer = setTimeout(() => { inFlight = tick(); }, TICK_MS);
}

function stop(signal) {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  inFlight.then(() => {
    console.log(`payment-scheduler stopping on ${signal}: current charge finished, exiting (token=${token} by=${by})`);
    process.exitCode = 0; // nothing else is pending: the process ends here
  }, (err) => {
    console.error(`payment-scheduler: charge failed while stopping: ${err?.stack ?? err}`);
    process.exitCode = 1;
  });
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

console.log(`payment-scheduler started: leading with token=${token} by=${by}`);
inFlight = tick();

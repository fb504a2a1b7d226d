/**
 * `npm run chaos`: the long chaos run of issue 3. The real `backroom serve` takes POS traffic and delivers to the
 * fault-injecting sink while it is SIGKILLed at random moments; at the end every acknowledged event must be
 * applied at the sink exactly once, in capture order per location. Exits 1 (with the evidence) if not.
 *
 * Options: --kills N (default 200), --seed S (default: from the clock; printed, to replay a failure),
 * --clients N (1 to 3, default 3), --rate N (events per second per till, default 15),
 * --batch N (events per webhook request, default 1), --drain-seconds N (how long the final drain may take,
 * default 180).
 *
 * @example
 * npm run chaos -- --kills 300 --seed 42
 */
import { parseArgs } from 'node:util';
import { runChaos } from '../test/chaos/chaos.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '200' },
    seed: { type: 'string' },
    clients: { type: 'string', default: '3' },
    rate: { type: 'string', default: '15' },
    'drain-seconds': { type: 'string', default: '180' },
    batch: { type: 'string', default: '1' },
  },
});

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a whole number >= 1, got "${value}"`);
    process.exit(2);
  }
  return n;
}

const kills = positiveInt('kills', values.kills);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : positiveInt('seed', values.seed);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

console.log(`chaos: ${kills} SIGKILLs, seed ${seed} (replay with --seed ${seed})`);
try {
  const summary = await runChaos({
    kills,
    seed,
    clients: positiveInt('clients', values.clients),
    eventsPerSecond: positiveInt('rate', values.rate),
    batchSize: positiveInt('batch', values.batch),
    drainTimeoutMs: positiveInt('drain-seconds', values['drain-seconds']) * 1000,
    onProgress: (line) => console.log(`[${elapsed()}] ${line}`),
  });
  console.log('\nchaos passed: every acknowledged event applied exactly once, in capture order per location');
  console.log(JSON.stringify(summary, null, 2));
} catch (error) {
  console.error(`\nchaos FAILED (seed ${seed}, after ${elapsed()}):`);
  console.error(error);
  process.exitCode = 1;
}

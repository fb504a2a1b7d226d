// `npm run fleet:sim -- --stores 500 [--servers nats://a:4222,nats://b:4222] [--rate 2] [--report-seconds 30]
// [--minutes 0] [--seed 15]`: simulated stores publishing movements and statuses through the real protocol to a
// running NATS JetStream (the stream and bucket must exist: `backroom fleet serve` creates them). Runs until
// Ctrl+C, or for --minutes; prints what was published every 10 s.
import { parseArgs } from 'node:util';
import { FleetSimulator } from '../test/simulators/fleet-simulator.js';

const { values } = parseArgs({
  options: {
    stores: { type: 'string', default: '500' },
    servers: { type: 'string', default: 'nats://127.0.0.1:4222' },
    rate: { type: 'string', default: '2' },
    'report-seconds': { type: 'string', default: '30' },
    minutes: { type: 'string', default: '0' },
    seed: { type: 'string', default: '15' },
    subject: { type: 'string', default: 'backroom.events' },
    stream: { type: 'string', default: 'BACKROOM' },
    bucket: { type: 'string', default: 'BACKROOM_STATUS' },
  },
});

const number = (name: keyof typeof values, min: number): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min) {
    console.error(`--${name} must be a number of ${min} or more`);
    process.exit(2);
  }
  return n;
};

const sim = await FleetSimulator.start({
  servers: values.servers.split(','),
  stores: Math.floor(number('stores', 1)),
  movementsPerSecond: number('rate', 0.001),
  reportSeconds: number('report-seconds', 1),
  seed: Math.floor(number('seed', 0)),
  subject: values.subject,
  stream: values.stream,
  bucket: values.bucket,
});
console.log(`${sim.storeIds.length} stores publishing to ${values.servers}; Ctrl+C to stop`);
await sim.reportAll();
sim.start();
const started = Date.now();
const print = setInterval(() => {
  const s = sim.stats;
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `${seconds.toFixed(0)} s: ${s.published} movements stored (${(s.published / seconds).toFixed(0)}/s), ` +
      `${s.duplicatesAcked} resends answered duplicate, ${s.failed} given up, ${s.statuses} statuses`,
  );
}, 10_000);
const stop = async () => {
  clearInterval(print);
  await sim.close();
  console.log('stopped', sim.stats);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
const minutes = number('minutes', 0);
if (minutes > 0) setTimeout(() => void stop(), minutes * 60_000);

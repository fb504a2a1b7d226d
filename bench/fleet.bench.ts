/*
 * `npm run bench:fleet [-- --duration 300 --stores 500 --rate 2]`: the central side under a fleet's load.
 *
 * Setup (all on this machine, traffic only to 127.0.0.1): a three-node NATS JetStream cluster (stream, bucket and
 * consumer replicated 3 ways), a PostgreSQL started by the test harness (fsync off: a test cluster; the same for
 * the fleet and the baseline), one `backroom fleet serve` (in process), and the fleet simulator: `--stores`
 * stores publishing `--rate` movements per second each through the real protocol, with their statuses every
 * 30 s, outages (catch-up bursts and resends), old versions and exception bursts.
 *
 * Figures:
 *   live      movements/s stored in PostgreSQL during the run (distinct events committed by its end / its length), consumer
 *             lag p99 (messages not yet acknowledged, sampled every second), end-to-end latency p50/p99
 *             (JetStream's store time of the message to its PostgreSQL commit: `stored_at - published_at`).
 *   backlog   the whole stream, read again from its start by two new durable consumers, one after the other:
 *             the fleet's consumer (validation, dedupe by key, events and lines, one transaction per batch) into
 *             a fresh database, and the baseline: a plain pull consumer that COPYs each batch's raw messages
 *             into one table and acks (no parsing, no dedupe). The ratio is baseline / fleet.
 *   relay     the live fleet relays every movement to a central ERP (a FaultSink with a token bucket of
 *             --relay-limit requests/s, answering 429 above it) through the webhook connector, 100 events per
 *             request: its request rate against the limit, the 429s it got, and events relayed per second.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { parseFleetConfig, type ResolvedFleetConfig } from '../src-main/fleet/fleet-config-loader.js';
import { FleetService } from '../src-main/fleet/fleet-service.js';
import { createLogger } from '../src-main/platform/logger.js';
import { NatsCluster } from '../test/support/nats-server.js';
import { PostgresServer } from '../test/support/postgres-server.js';
import { FaultSink } from '../test/simulators/fault-sink.js';
import { FleetSimulator } from '../test/simulators/fleet-simulator.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    stores: { type: 'string', default: '500' },
    rate: { type: 'string', default: '2' },
    'relay-limit': { type: 'string', default: '50' },
  },
});
const DURATION_S = Number(values.duration);
const STORES = Number(values.stores);
const RATE = Number(values.rate);
const RELAY_LIMIT = Number(values['relay-limit']);
/** Events per relay request (the webhook's `batchSize`): the ERP takes batches. */
const RELAY_BATCH = 100;
if (!(DURATION_S > 0 && Number.isInteger(STORES) && STORES > 0 && RATE > 0 && RELAY_LIMIT > 0))
  throw new Error('--duration and --rate must be above 0, --stores a whole number above 0');
setTimeout(
  () => {
    console.error('bench:fleet: watchdog fired');
    process.exit(1);
  },
  (DURATION_S + 900) * 1000,
).unref();

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const started = new Date();
console.log(
  `bench:fleet ${started.toISOString()}: ${STORES} stores x ${RATE} movements/s for ${DURATION_S} s; ` +
    `${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
const [cluster, postgres] = await Promise.all([NatsCluster.start(), PostgresServer.start()]);
const logger = createLogger({ level: 'warn' });
const nc = await connect({ servers: cluster.urls });
try {
  // The meta leader first.
  for (let i = 0; i < 100; i += 1) {
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const erp = await FaultSink.start({
    secret: 'bench-relay',
    rateLimit: { perSecond: RELAY_LIMIT, burst: RELAY_LIMIT },
  });
  const relay = {
    destination: {
      id: 'erp',
      type: 'webhook',
      url: `${erp.url}/events`,
      secret: 'bench-relay',
      batchSize: RELAY_BATCH,
    },
    requestsPerSecond: RELAY_LIMIT,
  };
  const config = (database: string, durable: string, withRelay = false): Promise<ResolvedFleetConfig> =>
    postgres.createDatabase(database).then((connectionString) =>
      parseFleetConfig(
        {
          nats: { servers: cluster.urls },
          postgres: { connectionString },
          listen: { host: '127.0.0.1', port: 0 },
          durable,
          ...(withRelay ? { relay } : {}),
        },
        process.cwd(),
      ),
    );
  const fleet = await FleetService.start({ config: await config('fleet', 'fleet', true), logger });
  const sim = await FleetSimulator.start({ servers: cluster.urls, stores: STORES, movementsPerSecond: RATE });
  await sim.reportAll();
  const lags: number[] = [];
  const jsm = await jetstreamManager(nc);
  const sampler = setInterval(() => {
    jsm.consumers
      .info('BACKROOM', 'fleet')
      .then((info) => lags.push(info.num_pending + info.num_ack_pending))
      .catch(() => undefined);
  }, 1000);
  const runStart = Date.now();
  await sim.runFor(DURATION_S * 1000);
  const runEnd = new Date();
  // The relay's requests during the run (it goes on while the rest drains).
  const relayRequests = Number(
    /backroom_fleet_relay_requests_total (\d+)/.exec(await fleet.metrics.registry.metrics())?.[1] ?? 0,
  );
  const relay429 = erp.requests.byStatus[429] ?? 0;
  const runSeconds = (runEnd.getTime() - runStart) / 1000;
  // The rest drains (bounded), then the run's figures are read from PostgreSQL.
  for (let i = 0; i < 600; i += 1) {
    const info = await jsm.consumers.info('BACKROOM', 'fleet');
    if (info.num_pending + info.num_ack_pending === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  clearInterval(sampler);
  const { rows } = await fleet.db.pool.query<{ n: string; during: string; p50: number; p99: number }>(
    `SELECT count(*) AS n, count(*) FILTER (WHERE stored_at <= $1) AS during,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - published_at)) AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - published_at)) AS p99
     FROM fleet_events`,
    [runEnd],
  );
  const live = rows[0]!;
  const stored = Number(live.n);
  const storedDuringRun = Number(live.during);
  const streamInfo = await jsm.streams.info('BACKROOM');
  const relayed = Number(
    (
      await fleet.db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM fleet_relay WHERE state = 'delivered' AND delivered_at <= $1`,
        [runEnd],
      )
    ).rows[0]!.n,
  );
  const statuses = Number(
    (await fleet.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM fleet_status_history')).rows[0]!.n,
  );
  await fleet.stop();
  const sortedLags = [...lags].sort((a, b) => a - b);

  // Backlog: the fleet's consumer from the start of the stream into a fresh database.
  const total = streamInfo.state.messages;
  const replayStart = Date.now();
  const replay = await FleetService.start({ config: await config('fleet_replay', 'fleet-replay'), logger });
  for (let i = 0; i < 3600; i += 1) {
    const info = await jsm.consumers.info('BACKROOM', 'fleet-replay');
    if (
      info.num_pending + info.num_ack_pending === 0 &&
      info.delivered.stream_seq >= streamInfo.state.last_seq
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const replaySeconds = (Date.now() - replayStart) / 1000;
  await replay.stop();

  // Baseline: a plain pull consumer, COPY of the raw messages, ack.
  const baselineUrl = await postgres.createDatabase('baseline');
  const client = new pg.Client({ connectionString: baselineUrl });
  await client.connect();
  await client.query('CREATE TABLE raw_events (msg_id text, subject text, stream_seq bigint, body text)');
  await jsm.consumers.add('BACKROOM', {
    durable_name: 'baseline',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000),
    max_ack_pending: 20_000,
  });
  const consumer = await jetstream(nc).consumers.get('BACKROOM', 'baseline');
  const baselineStart = Date.now();
  let copied = 0;
  while (copied < total) {
    const batch = [];
    for await (const m of await consumer.fetch({ max_messages: 500, expires: 1000 })) batch.push(m);
    if (batch.length === 0) continue;
    const escape = (s: string) =>
      s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
    const lines = batch.map(
      (m) =>
        `${escape(m.headers?.get('Nats-Msg-Id') ?? '')}\t${escape(m.subject)}\t${m.seq}\t${escape(m.string())}\n`,
    );
    await client.query('BEGIN');
    await pipeline(Readable.from(lines), client.query(copyFrom('COPY raw_events FROM STDIN')));
    await client.query('COMMIT');
    for (const m of batch) m.ack();
    copied += batch.length;
  }
  const baselineSeconds = (Date.now() - baselineStart) / 1000;
  await client.end();
  await sim.close();
  await erp.stop();

  const rows2 = [
    [
      'live: movements stored / s',
      `${fmt(storedDuringRun / runSeconds, 0)} /s`,
      `offered ${fmt(STORES * RATE)} /s`,
    ],
    [
      'live: consumer lag p99',
      `${fmt(percentile(sortedLags, 0.99))} messages`,
      `max ${fmt(sortedLags.at(-1) ?? 0)}`,
    ],
    [
      'live: end-to-end p50 / p99',
      `${fmt(live.p50 * 1000)} / ${fmt(live.p99 * 1000)} ms`,
      'JetStream stored -> PG commit',
    ],
    [
      'backlog: fleet consumer',
      `${fmt(total / replaySeconds)} msgs/s`,
      `${fmt(total)} messages in ${fmt(replaySeconds, 1)} s`,
    ],
    [
      'backlog: plain COPY baseline',
      `${fmt(total / baselineSeconds)} msgs/s`,
      `${fmt(total)} in ${fmt(baselineSeconds, 1)} s`,
    ],
    ['ratio baseline / fleet', `${fmt(replaySeconds / baselineSeconds, 2)}x`, ''],
    [
      'relay: requests / s',
      `${fmt(relayRequests / runSeconds, 1)} /s`,
      `limit ${fmt(RELAY_LIMIT)} /s; ${fmt(relay429)} answered 429`,
    ],
    [
      'relay: events relayed / s',
      `${fmt(relayed / runSeconds)} /s`,
      `${RELAY_BATCH} events per request at most`,
    ],
  ];
  console.log('');
  for (const [a, b, c] of rows2) console.log(`${a!.padEnd(32)} ${b!.padEnd(22)} ${c}`);
  console.log(
    `\ndetails: ${fmt(stored)} distinct movements stored of ${fmt(sim.stats.distinct)} published (${fmt(total)} ` +
      `messages in the stream, ${fmt(sim.stats.duplicatesAcked)} resends answered duplicate by JetStream, ` +
      `${fmt(sim.stats.failed)} given up); ${fmt(statuses)} statuses stored; run ${fmt(runSeconds, 1)} s; ` +
      `load after ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
} finally {
  await nc.close();
  await Promise.all([cluster.dispose(), postgres.dispose()]);
}
process.exit(0);

/*
 * `npm run bench:capture`: what durable capture costs, in one run.
 *
 *   (a) batch ingest over HTTP: the real agent (`backroom serve`, a child process so the load generator does not
 *       share its event loop), durability on, 1000-event batches from a few keep-alive connections, three ledger
 *       destinations so each event also gets three outbox rows;
 *   (b) the baseline: raw better-sqlite3 in this process writing the same rows per event (event, movement, level
 *       upsert, three outbox rows), one transaction per 1000 events, WAL + synchronous=FULL, same schema;
 *   (c) acknowledgement latency of single-event POSTs from 64 concurrent connections.
 *
 * See bench/README.md for what each figure means and bench/RESULTS.md for recorded runs.
 * Environment: BENCH_EVENTS (default 120000), BENCH_LATENCY_REQUESTS (default 20000),
 * BENCH_CPU_PROF=DIR (write a V8 CPU profile of the agent into DIR; it is not deleted),
 * BENCH_ONLY=batch|latency (run only (a), or only (c) and its floor, e.g. to profile one of them; no table then),
 * BENCH_AGENT_NODE_ARGS (node flags for the agent's process, space-separated, e.g. `--trace-gc`),
 * BENCH_AGENT_LOG=FILE (what the agent printed, written to FILE once it stops).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import { Pool } from 'undici';
import type { IngestResponse } from '../shared/api.js';
import type { ConfigInput } from '../shared/config.js';
import { AgentDatabase } from '../src-main/db/agent-database.js';

const ROOT = resolve(import.meta.dirname, '..');
const TOKEN = 'bench-token-0123456789abcdef0123456789';
const BATCH = 1000;
const EVENTS = roundUp(Number(process.env.BENCH_EVENTS ?? 120_000), BATCH);
const WARMUP_BATCHES = 10;
const BATCH_CONNECTIONS = 4;
const LATENCY_CONNECTIONS = 64;
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 20_000);
const LATENCY_WARMUP = 2_000;
const SKUS = 500;
const LOCATIONS = ['S1', 'S2'] as const;
const DESTINATIONS = ['ledger-a', 'ledger-b', 'ledger-c'] as const;
const ONLY = process.env.BENCH_ONLY;
/** Node flags for the agent's process only (say `--trace-gc`), to try a runtime setting against the same load. */
const AGENT_NODE_ARGS = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
/** Where to write what the agent printed (its output and errors), e.g. with `--trace-gc` among those flags. */
const AGENT_LOG = process.env.BENCH_AGENT_LOG;
if (ONLY !== undefined && ONLY !== 'batch' && ONLY !== 'latency')
  throw new Error('BENCH_ONLY must be batch or latency');
// (a) within 1.3x of (b); (c)'s p99 within 1.5x of the empty route's p99 measured in the same run.
const TARGET = { eventsPerSecond: 30_000, ratio: 1.3, p99OverFloor: 1.5 } as const;

type BenchEvent = {
  id: string;
  type: 'sale' | 'return' | 'receipt';
  location: string;
  occurredAt: string;
  lines: { sku: string; qty: number; unitPrice: string; currency: string }[];
  reference: string;
};

function roundUp(n: number, step: number): number {
  return Math.max(step, Math.ceil(n / step) * step);
}

function sku(n: number): string {
  return `SKU-${String(n % SKUS).padStart(5, '0')}`;
}

/**
 * A realistic till event with one line. Stock was primed high, so sales never go negative and no exception
 * rows are written: (a) and (b) then write the same rows.
 */
function makeEvent(prefix: string, n: number): BenchEvent {
  const roll = n % 10;
  return {
    id: `${prefix}:${String(n).padStart(8, '0')}`,
    type: roll < 7 ? 'sale' : roll < 8 ? 'return' : 'receipt',
    location: LOCATIONS[n % LOCATIONS.length]!,
    occurredAt: '2026-11-24T10:15:00+01:00',
    lines: [{ sku: sku(n * 7), qty: 1 + (n % 3), unitPrice: '9.99', currency: 'EUR' }],
    reference: `R-${n}`,
  };
}

/** One receipt per (sku, location) of 1,000,000 units, so the measured sales never drive stock negative. */
function primingEvents(): BenchEvent[] {
  const events: BenchEvent[] = [];
  for (let s = 0; s < SKUS; s += 1) {
    for (const location of LOCATIONS) {
      events.push({
        id: `prime:${sku(s)}:${location}`,
        type: 'receipt',
        location,
        occurredAt: '2026-11-24T08:00:00+01:00',
        lines: [{ sku: sku(s), qty: 1_000_000, unitPrice: '0', currency: 'EUR' }],
        reference: 'opening stock',
      });
    }
  }
  return events;
}

function delta(e: BenchEvent): number {
  return e.type === 'sale' ? -e.lines[0]!.qty : e.lines[0]!.qty;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// ---------------------------------------------------------------------------------------------------------
// (b) raw better-sqlite3

/**
 * The same rows the agent writes for one single-line event with three ledger destinations, written with plain
 * prepared statements: no HTTP, no validation, no hashing (row values are computed before the clock starts).
 */
function runRaw(dir: string): { eventsPerSecond: number; seconds: number } {
  const db = AgentDatabase.open(join(dir, 'raw.db'));
  try {
    const s = db.sqlite;
    const insertEvent = s.prepare<
      [number, string, string, string, string, string, number, string, string, string, string]
    >(
      `INSERT INTO events (seq, source, event_id, type, location, occurred_at, received_at, body, content_hash, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const upsertLevel = s.prepare<[string, string, number, number], { on_hand: number }>(
      `INSERT INTO stock_levels (sku, location, on_hand, reserved, updated_seq) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (sku, location) DO UPDATE SET on_hand = on_hand + excluded.on_hand, updated_seq = excluded.updated_seq
       RETURNING on_hand`,
    );
    const insertMovement = s.prepare<[number, number, string, string, number, number]>(
      'INSERT INTO movements (event_seq, line_no, sku, location, delta, on_hand_after) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertOutbox = s.prepare<[string, number, string, string, number, number]>(
      `INSERT INTO outbox (destination_id, event_seq, location, idempotency_key, state, attempts, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)`,
    );
    type Row = {
      e: BenchEvent;
      body: string;
      contentHash: string;
      prevHash: string;
      hash: string;
      key: string;
    };
    const now = Date.now();
    // Values of the same shape and size as the agent's (a JSON body, three hex sha256 digests).
    const toRows = (events: BenchEvent[]): Row[] => {
      let prev = '0'.repeat(64);
      return events.map((e) => {
        const body = JSON.stringify(e);
        const hash = createHash('sha256').update(`${prev}\n${body}`).digest('hex');
        const row = {
          e,
          body,
          contentHash: createHash('sha256').update(body).digest('hex'),
          prevHash: prev,
          hash,
          key: `bench:pos-1:${e.id}`,
        };
        prev = hash;
        return row;
      });
    };
    let seq = 0;
    const writeBatch = s.transaction((rows: readonly Row[]) => {
      for (const r of rows) {
        seq += 1;
        const line = r.e.lines[0]!;
        insertEvent.run(
          seq,
          'pos-1',
          r.e.id,
          r.e.type,
          r.e.location,
          r.e.occurredAt,
          now,
          r.body,
          r.contentHash,
          r.prevHash,
          r.hash,
        );
        const level = upsertLevel.get(line.sku, r.e.location, delta(r.e), seq)!;
        insertMovement.run(seq, 0, line.sku, r.e.location, delta(r.e), level.on_hand);
        for (const d of DESTINATIONS) insertOutbox.run(d, seq, r.e.location, r.key, now, now);
      }
    });
    writeBatch(toRows(primingEvents()));
    const warmup = Array.from({ length: WARMUP_BATCHES }, (_, b) =>
      toRows(Array.from({ length: BATCH }, (_, i) => makeEvent('warm', b * BATCH + i))),
    );
    for (const rows of warmup) writeBatch(rows);
    const batches = Array.from({ length: EVENTS / BATCH }, (_, b) =>
      toRows(Array.from({ length: BATCH }, (_, i) => makeEvent('raw', b * BATCH + i))),
    );
    const started = performance.now();
    for (const rows of batches) writeBatch(rows);
    const seconds = (performance.now() - started) / 1000;
    return { eventsPerSecond: EVENTS / seconds, seconds };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// The agent as a child process

type ServeChild = {
  proc: ChildProcess;
  address: string;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
};

function spawnAgent(configFile: string, nodeArgs: readonly string[]): Promise<ServeChild> {
  return spawnServer([
    ...nodeArgs,
    '--import',
    'tsx',
    join(ROOT, 'src-main/cli/index.ts'),
    'serve',
    '--config',
    configFile,
    '--log-level',
    'warn',
  ]);
}

/** Runs `node ARGS` and resolves once it prints `listening on <url>`. */
function spawnServer(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeChild> {
  return new Promise((resolveStart, reject) => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not start in 60 s\n${stderr}`));
    }, 60_000);
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let isListening = false;
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (isListening) return;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        isListening = true;
        clearTimeout(timer);
        resolveStart({ proc, address: match[1]!, exited, stdout: () => stdout, stderr: () => stderr });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code}) before it listened\n${stderr}`));
    });
  });
}

async function post(pool: Pool, body: string): Promise<IngestResponse> {
  const response = await pool.request({
    method: 'POST',
    path: '/api/v1/events',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200)
    throw new Error(`ingest answered ${response.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as IngestResponse;
}

function expectAccepted(response: IngestResponse, count: number): void {
  if (response.results.length !== count || response.results.some((r) => r.status !== 'accepted')) {
    const bad = response.results.find((r) => r.status !== 'accepted');
    throw new Error(
      `expected ${count} accepted events, got ${JSON.stringify(bad ?? response.results.length)}`,
    );
  }
}

/** Opening stock for every (sku, location), so that no measured sale raises a negative-stock exception. */
async function prime(address: string): Promise<void> {
  const pool = new Pool(address, { connections: 1 });
  try {
    expectAccepted(await post(pool, JSON.stringify({ events: primingEvents() })), SKUS * LOCATIONS.length);
  } finally {
    await pool.close();
  }
}

/** (a): batches of 1000 from a few keep-alive connections; bodies are serialized before the clock starts. */
async function runBatchIngest(address: string): Promise<{ eventsPerSecond: number; seconds: number }> {
  const pool = new Pool(address, { connections: BATCH_CONNECTIONS, keepAliveTimeout: 60_000 });
  try {
    const warmup = Array.from({ length: WARMUP_BATCHES }, (_, b) =>
      JSON.stringify({ events: Array.from({ length: BATCH }, (_, i) => makeEvent('warm', b * BATCH + i)) }),
    );
    await sendAll(pool, warmup);
    const bodies = Array.from({ length: EVENTS / BATCH }, (_, b) =>
      JSON.stringify({ events: Array.from({ length: BATCH }, (_, i) => makeEvent('batch', b * BATCH + i)) }),
    );
    const started = performance.now();
    await sendAll(pool, bodies);
    const seconds = (performance.now() - started) / 1000;
    return { eventsPerSecond: EVENTS / seconds, seconds };
  } finally {
    await pool.close();
  }
}

async function sendAll(pool: Pool, bodies: readonly string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: BATCH_CONNECTIONS }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        expectAccepted(await post(pool, body), BATCH);
      }
    }),
  );
}

/** (c): single-event POSTs, each timed from send to the full answer, 64 requests always in flight. */
async function runLatency(
  address: string,
): Promise<{ p50: number; p99: number; max: number; perSecond: number }> {
  const pool = new Pool(address, { connections: LATENCY_CONNECTIONS, keepAliveTimeout: 60_000 });
  try {
    const run = async (prefix: string, count: number): Promise<{ times: number[]; seconds: number }> => {
      const bodies = Array.from({ length: count }, (_, i) => JSON.stringify(makeEvent(prefix, i)));
      const times: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: LATENCY_CONNECTIONS }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++]!;
            const t0 = performance.now();
            const response = await post(pool, body);
            times.push(performance.now() - t0);
            expectAccepted(response, 1);
          }
        }),
      );
      return { times, seconds: (performance.now() - started) / 1000 };
    };
    await run('lat-warm', LATENCY_WARMUP);
    const { times, seconds } = await run('lat', LATENCY_REQUESTS);
    times.sort((x, y) => x - y);
    return {
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      max: times.at(-1)!,
      perSecond: LATENCY_REQUESTS / seconds,
    };
  } finally {
    await pool.close();
  }
}

/**
 * The floor under (c): fastify in its own process answering the same POST with a fixed result, no auth, no
 * validation, no database. What (c) measures above this is the agent's own work.
 */
async function serveFloor(): Promise<void> {
  const app = Fastify({ bodyLimit: 5 * 1024 * 1024 });
  app.post('/api/v1/events', async () => ({ results: [{ id: 'floor', status: 'accepted', seq: 0 }] }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`listening on ${address}\n`);
  process.once('SIGTERM', () => void app.close());
}

async function runFloor(): Promise<Awaited<ReturnType<typeof runLatency>>> {
  const floor = await spawnServer(['--import', 'tsx', import.meta.filename], {
    ...process.env,
    BENCH_ROLE: 'http-floor',
  });
  try {
    return await runLatency(floor.address);
  } finally {
    floor.proc.kill('SIGTERM');
    await floor.exited;
  }
}

/** Group-commit figures from the agent's own metrics: commits, events per commit, time per commit. */
async function commitStats(address: string): Promise<{ commits: number; events: number; seconds: number }> {
  const response = await fetch(`${address}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await response.text();
  const value = (name: string): number =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    commits: value('backroom_capture_commit_events_count'),
    events: value('backroom_capture_commit_events_sum'),
    seconds: value('backroom_capture_commit_seconds_sum'),
  };
}

// ---------------------------------------------------------------------------------------------------------

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'backroom-bench-'));
  let agent: ServeChild | undefined;
  try {
    console.log(
      `Backroom capture benchmark: ${new Date().toISOString()}, node ${process.version}, ` +
        `${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
    );
    console.log(
      `${fmt(EVENTS)} events in batches of ${BATCH}, ${DESTINATIONS.length} ledger destinations; ` +
        `the agent syncs its WAL off the event loop, the raw baseline commits with synchronous=FULL\n`,
    );

    if (ONLY === undefined) process.stdout.write('(b) raw better-sqlite3 ... ');
    const raw = ONLY === undefined ? runRaw(dir) : undefined;
    if (raw) console.log(`${fmt(raw.eventsPerSecond)} events/s`);

    const dataDir = join(dir, 'agent');
    const config: ConfigInput = {
      agentId: 'bench',
      dataDir,
      listen: { host: '127.0.0.1', port: 0 },
      sources: [{ id: 'pos-1', token: TOKEN }],
      locations: LOCATIONS.map((id) => ({ id, name: `Store ${id}` })),
      destinations: DESTINATIONS.map((id) => ({
        id,
        type: 'webhook',
        url: 'http://127.0.0.1:9/x',
        secret: 'bench-secret',
      })),
    };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const profileDir = process.env.BENCH_CPU_PROF;
    agent = await spawnAgent(configFile, [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : []),
      ...AGENT_NODE_ARGS,
    ]);

    await prime(agent.address);
    let http: Awaited<ReturnType<typeof runBatchIngest>> | undefined;
    if (ONLY !== 'latency') {
      process.stdout.write('(a) HTTP batch ingest ... ');
      http = await runBatchIngest(agent.address);
      console.log(`${fmt(http.eventsPerSecond)} events/s`);
    }
    const afterBatch = await commitStats(agent.address);

    let latency: Awaited<ReturnType<typeof runLatency>> | undefined;
    if (ONLY !== 'batch') {
      process.stdout.write(`(c) single-event latency, ${LATENCY_CONNECTIONS} connections ... `);
      latency = await runLatency(agent.address);
      console.log(`p50 ${fmt(latency.p50, 2)} ms, p99 ${fmt(latency.p99, 2)} ms`);
    }
    const afterLatency = await commitStats(agent.address);

    agent.proc.kill('SIGTERM');
    const code = await agent.exited;
    if (AGENT_LOG !== undefined) writeFileSync(AGENT_LOG, agent.stdout() + agent.stderr());
    if (code !== 0) throw new Error(`the agent did not stop cleanly (exit ${code})\n${agent.stderr()}`);
    agent = undefined;
    if (profileDir) console.log(`CPU profile of the agent written to ${resolve(profileDir)}`);
    if (!latency) return;

    process.stdout.write('    HTTP floor: the same load on an empty fastify route ... ');
    const floor = await runFloor();
    console.log(`p50 ${fmt(floor.p50, 2)} ms, p99 ${fmt(floor.p99, 2)} ms`);
    if (!raw || !http) {
      console.log(
        `(c) p99 / floor p99 ${fmt(latency.p99 / floor.p99, 2)}x at ${fmt(latency.perSecond)} requests/s ` +
          `(floor ${fmt(floor.perSecond)} requests/s); max ${fmt(latency.max, 2)} ms`,
      );
      return;
    }

    const ratio = raw.eventsPerSecond / http.eventsPerSecond;
    const p99Ratio = latency.p99 / floor.p99;
    const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    const latencyCommits = afterLatency.commits - afterBatch.commits;
    const rows: [string, string, string, string][] = [
      ['figure', 'measured', 'target', ''],
      [
        '(a) HTTP batch ingest, durable',
        `${fmt(http.eventsPerSecond)} events/s`,
        `>= ${fmt(TARGET.eventsPerSecond)} events/s`,
        mark(http.eventsPerSecond >= TARGET.eventsPerSecond),
      ],
      ['(b) raw better-sqlite3, same rows', `${fmt(raw.eventsPerSecond)} events/s`, '', ''],
      ['    ratio raw / HTTP', `${fmt(ratio, 2)}x`, `<= ${TARGET.ratio}x`, mark(ratio <= TARGET.ratio)],
      ['(c) single-event ack latency p50', `${fmt(latency.p50, 2)} ms`, '', ''],
      ['    single-event ack latency p99', `${fmt(latency.p99, 2)} ms`, '', ''],
      ['    HTTP floor p50 / p99', `${fmt(floor.p50, 2)} / ${fmt(floor.p99, 2)} ms`, '', ''],
      [
        '    ratio p99 / floor p99',
        `${fmt(p99Ratio, 2)}x`,
        `<= ${TARGET.p99OverFloor}x`,
        mark(p99Ratio <= TARGET.p99OverFloor),
      ],
    ];
    const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: readonly string[]) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd();
    console.log(`\n${line(rows[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
    for (const r of rows.slice(1)) console.log(line(r));
    console.log(
      `\ndetails: (a) ${fmt(EVENTS)} events in ${fmt(http.seconds, 2)} s over ${BATCH_CONNECTIONS} connections; ` +
        `group commits so far ${fmt(afterBatch.commits)}, ${fmt(afterBatch.events / afterBatch.commits)} events and ` +
        `${fmt((afterBatch.seconds / afterBatch.commits) * 1000, 2)} ms each on average`,
    );
    console.log(
      `         (b) ${fmt(EVENTS)} events in ${fmt(raw.seconds, 2)} s, one transaction per ${BATCH}`,
    );
    console.log(
      `         (c) ${fmt(LATENCY_REQUESTS)} requests at ${fmt(latency.perSecond)}/s, max ${fmt(latency.max, 2)} ms; ` +
        `${fmt(latencyCommits)} group commits, ${fmt((afterLatency.events - afterBatch.events) / latencyCommits, 1)} events each; ` +
        `HTTP floor ${fmt(floor.perSecond)} requests/s`,
    );
  } finally {
    if (agent) {
      agent.proc.kill('SIGKILL');
      await agent.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_ROLE === 'http-floor') await serveFloor();
else await main();

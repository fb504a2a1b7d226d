/*
 * `npm run bench:drain`: how fast a backlog drains into rate-limited destinations, in one run.
 *
 *   (a) Backroom: 100,000 events over 10,000 SKUs at two locations are captured while no dispatcher runs (the
 *       agent started with `isServing: false`), then the agent is started for real once the sinks are up and
 *       drains the backlog into two rate-limited FaultSinks: a ledger sink (webhook, batches of 500, 20 requests/s)
 *       and a level sink (level_webhook, batches of 250, 10 requests/s). The drain time, from "sinks up" to "queues
 *       empty", is set against the minimum the limits allow; requests sent against a naive outbox that sends one
 *       request per event to each destination; rate-limit violations seen by the sinks; peak RSS. Then the same
 *       again in a fresh agent with every limit lifted: the dispatcher's own ceiling, for context.
 *   (b) BullMQ on a real local Redis (redis-server started here on a free port of 127.0.0.1, no persistence): the
 *       same 100,000 events enqueued the way a Node developer would (one job per event, `addBulk` in chunks of
 *       1000), drained by a Worker that POSTs each job to the same kind of ledger sink through the same HTTP client
 *       as Backroom's webhook connector: once with BullMQ's limiter at the sink's rate (bounded in time, since at
 *       one event a request the limit is the throughput), once with the limits lifted (its best throughput).
 *
 * Each side runs in its own child process (the agent, the sinks, the BullMQ worker), so the figures are not mixed
 * up: the sinks' CPU does not slow the agent's event loop and each RSS is that process's own.
 *
 * See bench/README.md for what each figure means and bench/RESULTS.md for recorded runs.
 * Environment: BENCH_EVENTS (default 100000), BENCH_ONLY=backroom|bullmq (one side only, no comparison),
 * BENCH_BULLMQ_LIMITED_SECONDS (default 10: how long the rate-limited BullMQ variant runs),
 * BENCH_CPU_PROF=DIR (write a V8 CPU profile of the agent's process into DIR; it is not deleted).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FaultSettings, FaultSink as FaultSinkType, RateLimit } from '../test/simulators/fault-sink.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const SKUS = 10_000;
const LOCATIONS = ['S1', 'S2'] as const;
/** Events per capture request, and jobs per `addBulk` call. */
const CHUNK = 1000;
/** Capture requests in flight at once (group commit merges them, as with a few busy tills). */
const CAPTURE_CONCURRENCY = 4;
const SECRET = 'bench-drain-secret';
const LEDGER = { batchSize: 500, requestsPerSecond: 20 } as const;
const LEVEL = { batchSize: 250, requestsPerSecond: 10 } as const;
/** The agent's token bucket holds one second of requests (`TokenBucket(rate, rate)` in agent.ts): so do the sinks'. */
const LEDGER_LIMIT: RateLimit = { perSecond: LEDGER.requestsPerSecond, burst: LEDGER.requestsPerSecond };
const LEVEL_LIMIT: RateLimit = { perSecond: LEVEL.requestsPerSecond, burst: LEVEL.requestsPerSecond };
const BULLMQ_LIMITED_SECONDS = Number(process.env.BENCH_BULLMQ_LIMITED_SECONDS ?? 10);
/** Worker concurrency for BullMQ: enough requests in flight that the HTTP round trip is not the bound. */
const BULLMQ_CONCURRENCY = 50;
const BULLMQ_UNLIMITED_MAX_SECONDS = 240;
const DRAIN_MAX_SECONDS = 300;
/** The whole run is killed after this, whatever hangs. */
const WATCHDOG_MS = 20 * 60_000;
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'backroom' && ONLY !== 'bullmq')
  throw new Error('BENCH_ONLY must be backroom or bullmq');
if (!(Number.isInteger(EVENTS) && EVENTS >= SKUS))
  throw new Error(`BENCH_EVENTS must be a whole number >= ${SKUS}`);
const TARGET = { ratio: 1.15, faultyRatio: 1.5, retryShare: 0.3 } as const;
/**
 * The faulty receivers (issue 16): about 20% of requests fail at random with a transient server error (500 at the
 * ledger sink, 503 at the level sink), a connection reset before the answer, or an answer lost after the effect
 * was applied; a 429 only when the agent exceeds the sink's rate limit (the same limits as the healthy pass).
 */
const FAULTS = {
  rate5xx: 0.1,
  rateReset: 0.05,
  rateAppliedThenLost: 0.05,
} as const satisfies Partial<FaultSettings>;
/** SIGKILLs of the agent during the faulty drain, this many ms after the sinks came up (BENCH_FAULTY_KILLS=0: none). */
const KILL_AT_MS = [3000, 7000].slice(0, Number(process.env.BENCH_FAULTY_KILLS ?? 2));

type BenchEvent = {
  id: string;
  type: 'sale' | 'return' | 'receipt';
  location: string;
  occurredAt: string;
  lines: { sku: string; qty: number; unitPrice: string; currency: string }[];
  reference: string;
};

function skuName(s: number): string {
  return `SKU-${String(s).padStart(5, '0')}`;
}

/**
 * Event `n` of the backlog. SKU `n % 10000` lives at one location (even SKUs at S1, odd at S2), so there are
 * 10,000 distinct (sku, location) pairs and two ledger lanes of 50,000 events each. The first event of each SKU
 * is a receipt of 100 units; later ones are mostly sales of 1 to 3 (at most 9 per SKU), so stock never goes
 * negative and no exception rows are written.
 */
function makeEvent(n: number): BenchEvent {
  const s = n % SKUS;
  const round = Math.floor(n / SKUS);
  const roll = round % 10;
  const type = round === 0 ? 'receipt' : roll < 7 ? 'sale' : roll < 8 ? 'return' : 'receipt';
  return {
    id: `e-${String(n).padStart(7, '0')}`,
    type,
    location: LOCATIONS[s % LOCATIONS.length]!,
    occurredAt: '2026-11-24T10:15:00+01:00',
    lines: [{ sku: skuName(s), qty: round === 0 ? 100 : 1 + (n % 3), unitPrice: '9.99', currency: 'EUR' }],
    reference: `R-${n}`,
  };
}

/** The available-to-sell every (sku, location) must end at: what the level sink must hold last. */
function expectedLevels(): Map<string, number> {
  const levels = new Map<string, number>();
  for (let n = 0; n < EVENTS; n += 1) {
    const e = makeEvent(n);
    const line = e.lines[0]!;
    const key = `${line.sku}|${e.location}`;
    levels.set(key, (levels.get(key) ?? 0) + (e.type === 'sale' ? -line.qty : line.qty));
  }
  return levels;
}

/** Requests a lane-by-lane batching sender needs at least: each ledger lane (location) is batched on its own. */
function minimumRequests(): { ledger: number; level: number } {
  const perLane = new Map<string, number>();
  for (let s = 0; s < SKUS; s += 1) {
    const location = LOCATIONS[s % LOCATIONS.length]!;
    const events = Math.floor(EVENTS / SKUS) + (s < EVENTS % SKUS ? 1 : 0);
    perLane.set(location, (perLane.get(location) ?? 0) + events);
  }
  let ledger = 0;
  for (const count of perLane.values()) ledger += Math.ceil(count / LEDGER.batchSize);
  return { ledger, level: Math.ceil(Math.min(EVENTS, SKUS) / LEVEL.batchSize) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The highest RSS seen while it runs, sampled every 25 ms (between samples a peak can be missed). */
class RssSampler {
  #peak = process.memoryUsage.rss();
  readonly #timer = setInterval(() => {
    this.#peak = Math.max(this.#peak, process.memoryUsage.rss());
  }, 25);

  /** Stops sampling; returns the peak in bytes. */
  stop(): number {
    clearInterval(this.#timer);
    return Math.max(this.#peak, process.memoryUsage.rss());
  }
}

/** The process's peak RSS since it started, in bytes (the kernel's high-water mark: nothing is missed). */
function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

// ---------------------------------------------------------------------------------------------------------
// Child processes and their messages

type Request = { id: number; cmd: string; args: unknown };
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type Handlers = Record<string, (args: never) => Promise<unknown>>;

/** Answers the parent's requests with `handlers`; `exit` ends the process once answered. */
function serveRole(handlers: Handlers): void {
  // Without the parent nobody would stop this process: go too.
  process.on('disconnect', () => process.exit(1));
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd];
    const answer = (reply: Reply) => process.send!(reply, () => message.cmd === 'exit' && process.exit(0));
    if (!handler) return answer({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
    handler(message.args as never).then(
      (result) => answer({ id: message.id, ok: true, result }),
      (error: unknown) =>
        answer({ id: message.id, ok: false, error: (error as Error).stack ?? String(error) }),
    );
  });
}

type Child = {
  proc: ChildProcess;
  call: <T>(cmd: string, args?: unknown, timeoutMs?: number) => Promise<T>;
  exited: Promise<number | null>;
};

const children = new Set<ChildProcess>();

/** Runs this file again as `role` in a child process with an IPC channel. */
function forkRole(role: string, nodeArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Child {
  const proc = fork(import.meta.filename, [], {
    execArgv: ['--import', 'tsx', ...nodeArgs],
    env: { ...process.env, ...env, BENCH_ROLE: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(proc);
  const exited = new Promise<number | null>((r) =>
    proc.on('exit', (code) => {
      children.delete(proc);
      r(code);
    }),
  );
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  proc.on('message', (reply: Reply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.ok) waiter?.resolve(reply.result);
    else waiter?.reject(new Error(`${role}: ${reply.error}`));
  });
  void exited.then((code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${role} exited (${code})`));
    pending.clear();
  });
  let nextId = 0;
  const call = <T>(cmd: string, args: unknown = null, timeoutMs = 60_000): Promise<T> =>
    new Promise<T>((resolveCall, reject) => {
      const id = (nextId += 1);
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${role}: ${cmd} took more than ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolveCall(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      proc.send({ id, cmd, args } satisfies Request);
    });
  return { proc, call, exited };
}

async function finish(child: Child): Promise<void> {
  if (child.proc.exitCode !== null) return;
  await child.call('exit').catch(() => child.proc.kill('SIGKILL'));
  await child.exited;
}

// ---------------------------------------------------------------------------------------------------------
// The sinks' process

type SinkSpec = {
  name: string;
  rateLimit: RateLimit | null;
  isDown: boolean;
  faults?: Partial<FaultSettings> & { seed?: number };
};
type SinkStats = {
  requests: number;
  byStatus: Record<number, number>;
  violations: number;
  applied: number;
  duplicates: number;
  /**
   * Effects applied more than once: events by their `id`, levels by (sku, location, version). The sink applies
   * each idempotency key once, so this counts resends under a different key.
   */
  duplicateEffects: number;
  /** Distinct effects applied (events by `id`, levels by sku, location and version). */
  distinctEffects: number;
  orderViolations: number;
  /** Arrival of the first and the last request (epoch ms), or null without requests. */
  firstAt: number | null;
  lastAt: number | null;
  /** Requests that arrived in each second after the first one. */
  perSecond: number[];
};

async function runSinksRole(): Promise<void> {
  const { FaultSink } = await import('../test/simulators/fault-sink.js');
  const sinks = new Map<string, FaultSinkType>();
  const sink = (name: string) => {
    const found = sinks.get(name);
    if (!found) throw new Error(`no sink ${name}`);
    return found;
  };
  serveRole({
    start: async (specs: SinkSpec[]) => {
      const urls: Record<string, string> = {};
      for (const spec of specs) {
        const started = await FaultSink.start({
          secret: SECRET,
          rateLimit: spec.rateLimit,
          down: spec.isDown,
          ...spec.faults,
        });
        sinks.set(spec.name, started);
        urls[spec.name] = started.url;
      }
      return urls;
    },
    up: async (names: string[]) => {
      for (const name of names) await sink(name).setDown(false);
      return null;
    },
    stats: async (name: string): Promise<SinkStats> => {
      const s = sink(name);
      const requests = s.requests;
      return {
        requests: requests.total,
        byStatus: requests.byStatus,
        violations: s.rateLimitViolations.length,
        applied: s.applied.length,
        duplicates: s.duplicates,
        ...((effects) => ({
          distinctEffects: effects.size,
          duplicateEffects: s.applied.length - effects.size,
        }))(
          new Set(
            s.applied.map(({ body }) =>
              body['id'] !== undefined
                ? JSON.stringify(body['id'])
                : `${String(body['sku'])}|${String(body['location'])}|${String(body['version'])}`,
            ),
          ),
        ),
        orderViolations: s.orderViolations('seq', 'location').length,
        firstAt: s.log[0]?.at ?? null,
        lastAt: s.log.at(-1)?.at ?? null,
        perSecond: s.log.reduce<number[]>((counts, { at }) => {
          const second = Math.floor((at - s.log[0]!.at) / 1000);
          while (counts.length <= second) counts.push(0);
          counts[second]! += 1;
          return counts;
        }, []),
      };
    },
    /** The last level applied per (sku, location): `[ "sku|location", available ]`, highest version winning. */
    levels: async (name: string): Promise<[string, number][]> => {
      const last = new Map<string, { version: number; available: number }>();
      for (const { body } of sink(name).applied) {
        const key = `${String(body['sku'])}|${String(body['location'])}`;
        const version = Number(body['version']);
        if ((last.get(key)?.version ?? -1) < version)
          last.set(key, { version, available: Number(body['available']) });
      }
      return [...last].map(([key, v]) => [key, v.available]);
    },
    exit: async () => {
      for (const s of sinks.values()) await s.stop();
      return null;
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Backroom's process

type CaptureResult = {
  seconds: number;
  peakRss: number;
  /** RSS of the process once its modules are loaded (node, tsx, the agent's code), before the agent starts. */
  baseRss: number;
};
type DrainResult = {
  seconds: number;
  /** When the drain started (epoch ms): the sinks were up. */
  startedAt: number;
  /** How long `Agent.start` took (opening the database, resetting leases, listening), seconds. */
  agentStartSeconds: number;
  /** Requests each dispatcher sent, by destination id. */
  requests: Record<string, number>;
  openExceptions: number;
  peakRss: number;
  maxRss: number;
  /** CPU time of the agent's process during the drain (user + system), seconds. */
  cpuSeconds: number;
  /** When the queues were found empty (epoch ms). */
  endedAt: number;
  /** Per destination: requests that carried an item tried before, quick retries and backoffs (this life only). */
  retries: Record<string, { retries: number; quick: number; backoffs: number }>;
};

async function runBackroomRole(): Promise<void> {
  const { Agent } = await import('../src-main/agent/agent.js');
  const { parseConfig } = await import('../src-main/agent/config-loader.js');
  const { createLogger } = await import('../src-main/platform/logger.js');
  const baseRss = process.memoryUsage.rss();
  // The parent owns this folder and removes it at the end, whatever happens to this process.
  const dir = process.env.BENCH_DIR!;
  const logger = createLogger({ level: 'silent' });
  // The `open` pass lifts the limits (the schema's highest rate): what the dispatcher itself can do.
  const rate = (limited: number) => (process.env.BENCH_PASS === 'open' ? 10_000 : limited);
  // `faulty` runs at the same limits as `limited`.
  let urls: { ledger: string; level: string } | undefined;
  const startAgent = (isServing: boolean) => {
    if (!urls) throw new Error('capture first');
    const config = parseConfig(
      {
        agentId: 'bench',
        dataDir: join(dir, 'agent'),
        listen: { host: '127.0.0.1', port: 0 },
        sources: [{ id: 'pos-1', token: 'bench-token-0123456789abcdef0123456789' }],
        locations: LOCATIONS.map((id) => ({ id, name: `Store ${id}` })),
        destinations: [
          {
            id: 'ledger',
            type: 'webhook',
            url: `${urls.ledger}/events`,
            secret: SECRET,
            batchSize: LEDGER.batchSize,
            requestsPerSecond: rate(LEDGER.requestsPerSecond),
          },
          {
            id: 'marketplace',
            type: 'level_webhook',
            url: `${urls.level}/levels`,
            secret: SECRET,
            batchSize: LEVEL.batchSize,
            requestsPerSecond: rate(LEVEL.requestsPerSecond),
          },
        ],
      },
      dir,
    );
    return Agent.start({ config, logger, isServing });
  };
  serveRole({
    /** Captures the backlog with no dispatcher running, 1000 events a request, a few requests in flight. */
    capture: async (args: { ledger: string; level: string }): Promise<CaptureResult> => {
      urls = args;
      const agent = await startAgent(false);
      try {
        const rss = new RssSampler();
        const requests = Math.ceil(EVENTS / CHUNK);
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: CAPTURE_CONCURRENCY }, async () => {
            while (next < requests) {
              const r = next++;
              const events = [];
              for (let n = r * CHUNK; n < Math.min(EVENTS, (r + 1) * CHUNK); n += 1)
                events.push(makeEvent(n));
              const results = await agent.capture.capture('pos-1', events);
              const bad = results.find((x) => x.status !== 'accepted');
              if (bad) throw new Error(`capture did not accept an event: ${JSON.stringify(bad)}`);
            }
          }),
        );
        return { seconds: (performance.now() - started) / 1000, peakRss: rss.stop(), baseRss };
      } finally {
        await agent.stop();
      }
    },
    /**
     * Called once the sinks are up: starts the agent for real and waits until both queues are empty. The clock
     * includes the agent's start (opening the database, resetting leases), as it would after an outage.
     */
    drain: async (args: { ledger: string; level: string } | null): Promise<DrainResult> => {
      // A new process after a SIGKILL resumes the drain of the same data folder: it is told the sinks' URLs.
      if (args) urls = args;
      const started = performance.now();
      const startedAt = Date.now();
      const cpu = process.cpuUsage();
      const rss = new RssSampler();
      const agent = await startAgent(true);
      const agentStartSeconds = (performance.now() - started) / 1000;
      try {
        // Per destination, so that both lookups go through an index (outbox_by_state, the level_dirty key): this
        // runs on the agent's thread and must not steal its time. Nothing is scanned over the delivered rows.
        const busy = agent.db.sqlite.prepare<[string, string], { busy: number }>(
          `SELECT EXISTS (SELECT 1 FROM outbox WHERE destination_id = ? AND state IN ('pending', 'in_flight'))
               OR EXISTS (SELECT 1 FROM level_dirty WHERE destination_id = ? AND version > sent_version) AS busy`,
        );
        const isBusy = () =>
          agent.dispatchers.some((d) => busy.get(d.destinationId, d.destinationId)?.busy === 1);
        const deadline = started + DRAIN_MAX_SECONDS * 1000;
        // Event-driven: each dispatcher says when nothing is due any more; the 1 s poll is only a safety net.
        while (isBusy()) {
          if (performance.now() > deadline)
            throw new Error(`the backlog did not drain in ${DRAIN_MAX_SECONDS} s`);
          await Promise.race([Promise.all(agent.dispatchers.map((d) => d.waitForIdle())), sleep(1000)]);
          // Idle with rows left (a dispatcher waits out a 429 pause or a retry's backoff, so nothing is due): look
          // again shortly. Without this the loop would spin on the resolved idle promise and starve the event loop.
          if (isBusy()) await sleep(20);
        }
        const seconds = (performance.now() - started) / 1000;
        const openExceptions = (
          agent.db.sqlite.prepare(`SELECT COUNT(*) AS n FROM exceptions WHERE status = 'open'`).get() as {
            n: number;
          }
        ).n;
        return {
          seconds,
          startedAt,
          agentStartSeconds,
          requests: Object.fromEntries(agent.dispatchers.map((d) => [d.destinationId, d.counters.requests])),
          openExceptions,
          peakRss: rss.stop(),
          maxRss: maxRss(),
          cpuSeconds: ((u) => (u.user + u.system) / 1e6)(process.cpuUsage(cpu)),
          endedAt: Date.now(),
          retries: Object.fromEntries(
            agent.dispatchers.map((d) => [
              d.destinationId,
              { retries: d.counters.retries, quick: d.counters.quickRetries, backoffs: d.counters.backoffs },
            ]),
          ),
        };
      } finally {
        await agent.stop();
      }
    },
    /** Answers once the modules are loaded (a standby process for a restart). */
    ready: async () => null,
    exit: async () => null,
  });
}

// ---------------------------------------------------------------------------------------------------------
// BullMQ's process

type EnqueueResult = { seconds: number };
type WorkerResult = {
  completed: number;
  /** Attempts that failed (each is retried by BullMQ with backoff). */
  failedAttempts: number;
  seconds: number;
  peakRss: number;
  /** CPU time of the worker's process while it ran (user + system), seconds. */
  cpuSeconds: number;
};

async function runBullmqRole(): Promise<void> {
  const { Queue, Worker } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const { createSignedPoster } = await import('../src-main/connectors/webhook/signed-poster.js');
  const port = Number(process.env.BENCH_REDIS_PORT);
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const agentId = 'bench-bullmq';
  type JobData = { key: string; event: BenchEvent & { agentId: string; seq: number } };
  serveRole({
    /** One job per event, `addBulk` in chunks of 1000: what the BullMQ docs and most codebases do. */
    enqueue: async (name: string): Promise<EnqueueResult> => {
      const queue = new Queue<JobData>(name, { connection });
      try {
        await queue.waitUntilReady();
        const started = performance.now();
        for (let from = 0; from < EVENTS; from += CHUNK) {
          const jobs = [];
          for (let n = from; n < Math.min(EVENTS, from + CHUNK); n += 1) {
            const event = makeEvent(n);
            jobs.push({
              name: 'deliver',
              data: { key: `${agentId}:pos-1:${event.id}`, event: { ...event, agentId, seq: n + 1 } },
              opts: {
                attempts: 10,
                backoff: { type: 'exponential', delay: 1000 },
                removeOnComplete: true,
              },
            });
          }
          await queue.addBulk(jobs);
        }
        return { seconds: (performance.now() - started) / 1000 };
      } finally {
        await queue.close();
      }
    },
    /**
     * A Worker POSTing each job to `url` with the HTTP client of Backroom's webhook connector (got, signed body,
     * Idempotency-Key): a non-2xx answer throws, so BullMQ retries the job with backoff. Runs until every job
     * completed or `maxSeconds` passed.
     */
    work: async (args: {
      name: string;
      url: string;
      limiter: { max: number; duration: number } | null;
      maxSeconds: number;
    }): Promise<WorkerResult> => {
      const post = createSignedPoster({ url: args.url, secret: SECRET, agentId });
      const rss = new RssSampler();
      let completed = 0;
      let failedAttempts = 0;
      let lastCompletedAt = 0;
      const started = performance.now();
      const cpu = process.cpuUsage();
      const worker = new Worker<JobData>(
        args.name,
        async (job) => {
          const { result } = await post(
            JSON.stringify(job.data.event),
            job.data.key,
            AbortSignal.timeout(10_000),
          );
          if (result.kind !== 'delivered' && result.kind !== 'already_applied')
            throw new Error(`${result.kind}: ${'detail' in result ? result.detail : ''}`);
        },
        {
          connection,
          concurrency: BULLMQ_CONCURRENCY,
          ...(args.limiter ? { limiter: args.limiter } : {}),
        },
      );
      worker.on('completed', () => {
        completed += 1;
        lastCompletedAt = performance.now();
      });
      worker.on('failed', () => (failedAttempts += 1));
      const deadline = started + args.maxSeconds * 1000;
      while (completed < EVENTS && performance.now() < deadline) await sleep(20);
      const isDone = completed >= EVENTS;
      await worker.close(true);
      return {
        completed,
        failedAttempts,
        seconds: ((isDone ? lastCompletedAt : performance.now()) - started) / 1000,
        peakRss: rss.stop(),
        cpuSeconds: ((u) => (u.user + u.system) / 1e6)(process.cpuUsage(cpu)),
      };
    },
    redisMemory: async (): Promise<{ usedPeak: number; rss: number }> => {
      const redis = new Redis(connection);
      try {
        const info = await redis.info('memory');
        const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
        return { usedPeak: field('used_memory_peak'), rss: field('used_memory_rss') };
      } finally {
        redis.disconnect();
      }
    },
    exit: async () => ({ maxRss: maxRss() }),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Redis

type RedisServer = { port: number; stop: () => Promise<void> };

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error === undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** PING over a raw socket: true once Redis answers PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolvePing(d.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolvePing(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolvePing(false);
    });
  });
}

/** Starts `redis-server` on a free port of 127.0.0.1, without persistence, in a temporary folder. */
async function startRedis(dir: string): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(proc);
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) =>
    proc.on('exit', () => {
      children.delete(proc);
      r();
    }),
  );
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start on port ${port}\n${stderr}`);
    }
    await sleep(50);
  }
  return { port, stop };
}

// ---------------------------------------------------------------------------------------------------------

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024)} MB`;

type BackroomFigures = {
  capture: CaptureResult;
  drain: DrainResult;
  ledger: SinkStats;
  level: SinkStats;
  levelMismatches: number;
  levelCount: number;
  /** Faulty pass: sinks up -> queues empty, across the agent's lives (seconds). */
  drainSeconds: number;
  /** Faulty pass: the SIGKILLs that happened during the drain. */
  kills: number;
};

type BullmqFigures = {
  enqueue: EnqueueResult[];
  limited: WorkerResult;
  unlimited: WorkerResult;
  limitedSink: SinkStats;
  unlimitedSink: SinkStats;
  redis: { usedPeak: number; rss: number };
  workerMaxRss: number;
};

/**
 * One Backroom pass in a fresh agent process: capture with the sinks down, then bring them up and drain.
 * `limited`: the sinks and the agent at the configured limits; `open`: no limits anywhere (the dispatcher's own
 * ceiling, for context and for a like-for-like comparison with BullMQ without limits).
 */
/** Every event applied once and in capture order per location; every level applied with its final quantity. */
function isDeliveredRight(f: BackroomFigures): boolean {
  return (
    f.ledger.applied === EVENTS &&
    f.ledger.duplicates === 0 &&
    f.ledger.orderViolations === 0 &&
    f.level.applied === Math.min(EVENTS, SKUS) &&
    f.levelMismatches === 0 &&
    f.drain.openExceptions === 0
  );
}

async function runBackroom(
  sinks: Child,
  urls: Record<string, string>,
  pass: 'limited' | 'open' | 'faulty',
  dir: string,
): Promise<BackroomFigures> {
  const profileDir = pass === 'limited' ? process.env.BENCH_CPU_PROF : undefined;
  const forkAgent = () =>
    forkRole('backroom', profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [], {
      BENCH_PASS: pass,
      BENCH_DIR: join(dir, pass),
    });
  let agent = forkAgent();
  const names = {
    limited: ['ledger', 'level'],
    open: ['ledger-open', 'level-open'],
    faulty: ['ledger-faulty', 'level-faulty'],
  }[pass];
  const label = {
    limited: 'Backroom',
    open: 'Backroom, limits lifted',
    faulty: 'Backroom, faulty receivers',
  }[pass];
  const sinkUrls = { ledger: urls[names[0]!]!, level: urls[names[1]!]! };
  try {
    process.stdout.write(`${label}: capturing ${fmt(EVENTS)} events (sinks down, no dispatcher) ... `);
    const capture = await agent.call<CaptureResult>('capture', sinkUrls, 300_000);
    console.log(`${fmt(capture.seconds, 2)} s (${fmt(EVENTS / capture.seconds)} events/s)`);
    process.stdout.write(`${label}: sinks up, draining ... `);
    await sinks.call('up', names);
    const upAt = Date.now();
    let drain: DrainResult | undefined;
    let kills = 0;
    // The faulty pass SIGKILLs the agent at set moments of the drain; a new process resumes the same folder. It is
    // forked ahead, its modules loaded, as a supervisor's restart of the built app would not transpile the
    // sources with tsx (a second of CPU here): the restart measured is the agent's (open, reset leases, resume).
    const forkStandby = () => {
      const child = forkAgent();
      return { child, ready: child.call('ready', null, 120_000) };
    };
    const killAts = pass === 'faulty' ? KILL_AT_MS : [];
    let standby = killAts.length > 0 ? forkStandby() : undefined;
    for (const [k, killAt] of killAts.entries()) {
      const draining = agent.call<DrainResult>('drain', sinkUrls, (DRAIN_MAX_SECONDS + 30) * 1000);
      const wait = Math.max(0, upAt + killAt - Date.now());
      const early = await Promise.race([draining, sleep(wait).then(() => null)]);
      if (early !== null) {
        drain = early;
        break;
      }
      draining.catch(() => undefined);
      await standby!.ready;
      agent.proc.kill('SIGKILL');
      await agent.exited;
      kills += 1;
      process.stdout.write(`SIGKILL at ${fmt((Date.now() - upAt) / 1000, 1)} s ... `);
      agent = standby!.child;
      standby = k + 1 < killAts.length ? forkStandby() : undefined;
    }
    if (standby) await finish(standby.child);
    drain ??= await agent.call<DrainResult>('drain', sinkUrls, (DRAIN_MAX_SECONDS + 30) * 1000);
    const drainSeconds = pass === 'faulty' ? (drain.endedAt - upAt) / 1000 : drain.seconds;
    console.log(`${fmt(drainSeconds, 2)} s`);
    await finish(agent);
    if (profileDir) console.log(`CPU profile of the agent written to ${resolve(profileDir)}`);
    const ledger = await sinks.call<SinkStats>('stats', names[0]);
    const level = await sinks.call<SinkStats>('stats', names[1]);
    const levels = new Map(await sinks.call<[string, number][]>('levels', names[1]));
    let levelMismatches = 0;
    for (const [key, quantity] of expectedLevels()) if (levels.get(key) !== quantity) levelMismatches += 1;
    return { capture, drain, ledger, level, levelMismatches, levelCount: levels.size, drainSeconds, kills };
  } finally {
    if (agent.proc.exitCode === null) agent.proc.kill('SIGKILL');
  }
}

async function runBullmq(sinks: Child, urls: Record<string, string>, dir: string): Promise<BullmqFigures> {
  const redis = await startRedis(dir);
  const worker = forkRole('bullmq', [], { BENCH_REDIS_PORT: String(redis.port) });
  try {
    console.log(`BullMQ: redis-server on 127.0.0.1:${redis.port} (no persistence)`);
    process.stdout.write(`BullMQ: enqueueing ${fmt(EVENTS)} jobs (addBulk of ${CHUNK}) ... `);
    const first = await worker.call<EnqueueResult>('enqueue', 'limited', 300_000);
    console.log(`${fmt(first.seconds, 2)} s (${fmt(EVENTS / first.seconds)} jobs/s)`);
    process.stdout.write(
      `BullMQ: Worker with limiter ${LEDGER.requestsPerSecond}/s into the rate-limited sink, ` +
        `for ${BULLMQ_LIMITED_SECONDS} s ... `,
    );
    const limited = await worker.call<WorkerResult>(
      'work',
      {
        name: 'limited',
        url: `${urls['bullmq-limited']}/events`,
        limiter: { max: LEDGER.requestsPerSecond, duration: 1000 },
        maxSeconds: BULLMQ_LIMITED_SECONDS,
      },
      (BULLMQ_LIMITED_SECONDS + 60) * 1000,
    );
    console.log(`${fmt(limited.completed)} jobs, ${fmt(limited.completed / limited.seconds, 1)} events/s`);
    process.stdout.write(`BullMQ: enqueueing ${fmt(EVENTS)} jobs again for the unlimited run ... `);
    const second = await worker.call<EnqueueResult>('enqueue', 'unlimited', 300_000);
    console.log(`${fmt(second.seconds, 2)} s`);
    process.stdout.write(
      `BullMQ: Worker without limiter into a sink without limit, concurrency ${BULLMQ_CONCURRENCY} ... `,
    );
    const unlimited = await worker.call<WorkerResult>(
      'work',
      {
        name: 'unlimited',
        url: `${urls['bullmq-unlimited']}/events`,
        limiter: null,
        maxSeconds: BULLMQ_UNLIMITED_MAX_SECONDS,
      },
      (BULLMQ_UNLIMITED_MAX_SECONDS + 60) * 1000,
    );
    console.log(`${fmt(unlimited.completed)} jobs in ${fmt(unlimited.seconds, 2)} s`);
    const redisMemory = await worker.call<{ usedPeak: number; rss: number }>('redisMemory');
    const { maxRss: workerMaxRss } = await worker.call<{ maxRss: number }>('exit');
    await worker.exited;
    return {
      enqueue: [first, second],
      limited,
      unlimited,
      limitedSink: await sinks.call<SinkStats>('stats', 'bullmq-limited'),
      unlimitedSink: await sinks.call<SinkStats>('stats', 'bullmq-unlimited'),
      redis: redisMemory,
      workerMaxRss,
    };
  } finally {
    if (worker.proc.exitCode === null) worker.proc.kill('SIGKILL');
    await redis.stop();
  }
}

function printTable(rows: readonly (readonly [string, string, string, string])[]): void {
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  console.log(`\n${line(rows[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows.slice(1)) console.log(line(r));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'backroom-drain-bench-'));
  /** Kills every child (Redis too) and removes the temporary folder: for the watchdog and signals. */
  const abandon = (code: number) => {
    for (const proc of children) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  const watchdog = setTimeout(() => {
    console.error(`\nthe benchmark ran longer than ${WATCHDOG_MS / 60_000} min: stopping everything`);
    abandon(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abandon(130));

  const sinks = forkRole('sinks');
  try {
    console.log(
      `Backroom drain benchmark: ${new Date().toISOString()}, node ${process.version}, ` +
        `${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
    );
    console.log(
      `${fmt(EVENTS)} events over ${fmt(SKUS)} SKUs at ${LOCATIONS.length} locations; ledger sink ` +
        `${LEDGER.requestsPerSecond} requests/s (batches of ${LEDGER.batchSize}), level sink ` +
        `${LEVEL.requestsPerSecond} requests/s (batches of ${LEVEL.batchSize})\n`,
    );
    const isRedisMissing = ONLY !== 'backroom' && !hasRedisServer();
    if (isRedisMissing) {
      // The comparison is part of the benchmark: say how to get it, run the rest, and fail the run.
      process.exitCode = 1;
      console.log(
        'redis-server is not installed, so the BullMQ comparison is skipped. Install it and run again:\n' +
          '  sudo apt-get install -y redis-server   (Debian/Ubuntu; the bench starts and stops it itself)\n',
      );
    }
    const urls = await sinks.call<Record<string, string>>('start', [
      { name: 'ledger', rateLimit: LEDGER_LIMIT, isDown: true },
      { name: 'level', rateLimit: LEVEL_LIMIT, isDown: true },
      { name: 'ledger-open', rateLimit: null, isDown: true },
      {
        name: 'ledger-faulty',
        rateLimit: LEDGER_LIMIT,
        isDown: true,
        faults: { ...FAULTS, serverErrorStatus: 500, seed: 16 },
      },
      {
        name: 'level-faulty',
        rateLimit: LEVEL_LIMIT,
        isDown: true,
        faults: { ...FAULTS, serverErrorStatus: 503, seed: 17 },
      },
      { name: 'level-open', rateLimit: null, isDown: true },
      { name: 'bullmq-limited', rateLimit: LEDGER_LIMIT, isDown: false },
      { name: 'bullmq-unlimited', rateLimit: null, isDown: false },
    ] satisfies SinkSpec[]);

    const backroom = ONLY === 'bullmq' ? undefined : await runBackroom(sinks, urls, 'limited', dir);
    const backroomFaulty = ONLY === 'bullmq' ? undefined : await runBackroom(sinks, urls, 'faulty', dir);
    const backroomOpen = ONLY === 'bullmq' ? undefined : await runBackroom(sinks, urls, 'open', dir);
    const bullmq = ONLY === 'backroom' || isRedisMissing ? undefined : await runBullmq(sinks, urls, dir);

    const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    const rows: [string, string, string, string][] = [['figure', 'measured', 'target', '']];
    const minimum = minimumRequests();
    const ledgerMin = minimum.ledger / LEDGER.requestsPerSecond;
    const levelMin = minimum.level / LEVEL.requestsPerSecond;
    const floor = Math.max(ledgerMin, levelMin);
    // With a full bucket at the start, the first `burst` requests need not wait: the strict floor.
    const burstFloor = Math.max(
      (minimum.ledger - LEDGER_LIMIT.burst) / LEDGER.requestsPerSecond,
      (minimum.level - LEVEL_LIMIT.burst) / LEVEL.requestsPerSecond,
      0,
    );
    const backroomRate = backroom ? EVENTS / backroom.drain.seconds : NaN;
    const openRate = backroomOpen ? EVENTS / backroomOpen.drain.seconds : NaN;
    if (backroom) {
      const { capture, drain, ledger, level } = backroom;
      const ratio = drain.seconds / floor;
      const strictRatio = drain.seconds / burstFloor;
      const sent = ledger.requests + level.requests;
      const naive = EVENTS * 2;
      const violations = ledger.violations + level.violations;
      rows.push(
        [
          `Backroom capture, ${fmt(EVENTS)} events`,
          `${fmt(capture.seconds, 2)} s (${fmt(EVENTS / capture.seconds)} events/s)`,
          '',
          '',
        ],
        [
          'Backroom drain, sinks up -> queues empty',
          `${fmt(drain.seconds, 2)} s (${fmt(backroomRate)} events/s)`,
          '',
          '',
        ],
        [
          '  minimum: requests / rate',
          `${fmt(floor, 2)} s`,
          `ledger ${minimum.ledger}/${LEDGER.requestsPerSecond}, level ${minimum.level}/${LEVEL.requestsPerSecond}`,
          '',
        ],
        ['  ratio drain / minimum', `${fmt(ratio, 3)}x`, `<= ${TARGET.ratio}x`, mark(ratio <= TARGET.ratio)],
        [
          '  strict floor (bucket starts full)',
          `${fmt(burstFloor, 2)} s`,
          ledgerMin >= levelMin
            ? `ledger (${minimum.ledger}-${LEDGER_LIMIT.burst})/${LEDGER.requestsPerSecond}`
            : `level (${minimum.level}-${LEVEL_LIMIT.burst})/${LEVEL.requestsPerSecond}`,
          '',
        ],
        [
          '  ratio drain / strict floor',
          `${fmt(strictRatio, 3)}x`,
          `<= ${TARGET.ratio}x`,
          mark(strictRatio <= TARGET.ratio),
        ],
        [
          '  requests sent (ledger + level)',
          `${fmt(ledger.requests)} + ${fmt(level.requests)} = ${fmt(sent)}`,
          `naive outbox ${fmt(naive)}`,
          `${fmt(naive / sent)}x fewer`,
        ],
        ['  rate-limit violations at the sinks', fmt(violations), '0', mark(violations === 0)],
        [
          '  peak RSS of the agent process',
          `capture ${mb(capture.peakRss)}, drain ${mb(drain.peakRss)}`,
          `at start ${mb(capture.baseRss)}`,
          '',
        ],
        [
          '  delivered exactly once, in order',
          `${fmt(ledger.applied)} events, ${fmt(level.applied)} levels`,
          'all, final levels right',
          mark(isDeliveredRight(backroom)),
        ],
      );
    }
    if (backroomFaulty) {
      const f = backroomFaulty;
      const healthy = backroom?.drain.seconds ?? NaN;
      const ratio = f.drainSeconds / healthy;
      const lost = EVENTS - f.ledger.distinctEffects;
      const duplicateEffects = f.ledger.duplicateEffects + f.level.duplicateEffects;
      const requests = f.ledger.requests + f.level.requests;
      // A retry is a request beyond those a failure-free batching sender needs (as in the healthy pass).
      const retries = requests - minimum.ledger - minimum.level;
      const share = retries / requests;
      const isRight = lost === 0 && duplicateEffects === 0 && f.ledger.orderViolations === 0;
      rows.push(
        [
          `Backroom drain, faulty receivers (${f.kills} SIGKILLs)`,
          `${fmt(f.drainSeconds, 2)} s (${fmt(EVENTS / f.drainSeconds)} events/s)`,
          '~20% transient faults',
          '',
        ],
        [
          '  ratio faulty / healthy drain',
          `${fmt(ratio, 3)}x`,
          `<= ${TARGET.faultyRatio}x`,
          mark(ratio <= TARGET.faultyRatio),
        ],
        [
          '  lost / duplicate effects / order violations',
          `${fmt(lost)} / ${fmt(duplicateEffects)} / ${fmt(f.ledger.orderViolations)}`,
          '0 / 0 / 0',
          mark(isRight),
        ],
        [
          '  retries / requests (ledger + level)',
          `${fmt(retries)} / ${fmt(requests)} = ${fmt(share * 100, 1)}%`,
          `<= ${fmt(TARGET.retryShare * 100)}%`,
          mark(share <= TARGET.retryShare),
        ],
        [
          '  429s (rate-limit violations at the sinks)',
          fmt(f.ledger.violations + f.level.violations),
          '(rare)',
          '',
        ],
        [
          '  final levels right, no open exception',
          `${fmt(f.levelCount - f.levelMismatches)} of ${fmt(Math.min(EVENTS, SKUS))} levels`,
          `exceptions ${f.drain.openExceptions}`,
          mark(f.levelMismatches === 0 && f.drain.openExceptions === 0),
        ],
      );
    }
    if (backroomOpen)
      rows.push([
        'Backroom drain, limits lifted',
        `${fmt(backroomOpen.drain.seconds, 2)} s (${fmt(openRate)} events/s)`,
        `${fmt(backroomOpen.ledger.requests)} + ${fmt(backroomOpen.level.requests)} requests`,
        isDeliveredRight(backroomOpen) ? '(context)' : 'MISS: wrong delivery',
      ]);
    if (bullmq) {
      const { enqueue, limited, unlimited, limitedSink, unlimitedSink } = bullmq;
      const limitedRate = limited.completed / limited.seconds;
      const unlimitedRate = unlimited.completed / unlimited.seconds;
      rows.push(
        [
          `BullMQ enqueue, ${fmt(EVENTS)} jobs`,
          `${fmt(enqueue[0]!.seconds, 2)} s (${fmt(EVENTS / enqueue[0]!.seconds)} jobs/s)`,
          `2nd run ${fmt(enqueue[1]!.seconds, 2)} s`,
          '',
        ],
        [
          'BullMQ drain, limiter = sink limit',
          `${fmt(limitedRate, 1)} events/s`,
          `${fmt(limited.completed)} in ${fmt(limited.seconds, 1)} s`,
          `all would take ${fmt(EVENTS / limitedRate / 60)} min`,
        ],
        [
          '  requests / 429s at the sink',
          `${fmt(limitedSink.requests)} / ${fmt(limitedSink.byStatus[429] ?? 0)}`,
          `violations ${fmt(limitedSink.violations)}`,
          '',
        ],
        [
          `BullMQ drain, limits lifted`,
          `${fmt(unlimited.seconds, 2)} s (${fmt(unlimitedRate)} events/s)`,
          `${fmt(unlimitedSink.requests)} requests`,
          `concurrency ${BULLMQ_CONCURRENCY}`,
        ],
        [
          '  peak memory',
          `worker maxRSS ${mb(bullmq.workerMaxRss)}`,
          `Redis peak ${mb(bullmq.redis.usedPeak)}`,
          '',
        ],
      );
      if (backroom) {
        rows.push(
          [
            'throughput Backroom / BullMQ, limited',
            `${fmt(backroomRate / limitedRate)}x`,
            '> 1x',
            mark(backroomRate > limitedRate),
          ],
          [
            '  Backroom limited / BullMQ lifted',
            `${fmt(backroomRate / unlimitedRate, 2)}x`,
            '> 1x',
            mark(backroomRate > unlimitedRate),
          ],
        );
        if (backroomOpen)
          rows.push([
            '  both with limits lifted',
            `${fmt(openRate / unlimitedRate, 2)}x`,
            '> 1x',
            mark(openRate > unlimitedRate),
          ]);
        rows.push([
          'capture rate / BullMQ enqueue rate',
          `${fmt(enqueue[0]!.seconds / backroom.capture.seconds, 2)}x`,
          '(context)',
          '',
        ]);
      }
    }
    if (rows.length === 1) return;
    printTable(rows);
    if (backroom) {
      console.log(
        `\ndetails: Backroom dispatcher requests ` +
          `${Object.entries(backroom.drain.requests)
            .map(([id, n]) => `${id} ${n}`)
            .join(', ')}; sink answers ledger ${JSON.stringify(backroom.ledger.byStatus)}, ` +
          `level ${JSON.stringify(backroom.level.byStatus)}; agent CPU during the drain ` +
          `${fmt(backroom.drain.cpuSeconds, 2)} s (${fmt((backroom.drain.cpuSeconds / backroom.drain.seconds) * 100)}% of one core); ` +
          `maxRSS ${mb(backroom.drain.maxRss)}; open exceptions ${backroom.drain.openExceptions}; ` +
          `level mismatches ${backroom.levelMismatches} of ${fmt(backroom.levelCount)}`,
      );
      const { drain, ledger } = backroom;
      // A sender exactly at the limit: the first `burst` requests at once, then one every 1/rate.
      const ledgerSpan = Math.max(0, (minimum.ledger - LEDGER_LIMIT.burst) / LEDGER.requestsPerSecond);
      if (ledger.firstAt !== null && ledger.lastAt !== null)
        console.log(
          `         where the drain's time went: agent start ${fmt(drain.agentStartSeconds, 2)} s; first ledger ` +
            `request ${fmt((ledger.firstAt - drain.startedAt) / 1000, 2)} s after the start; ledger requests spanned ` +
            `${fmt((ledger.lastAt - ledger.firstAt) / 1000, 2)} s (at exactly the limit: ${fmt(ledgerSpan, 2)} s); ` +
            `last request to queues empty ${fmt(drain.seconds - (ledger.lastAt - drain.startedAt) / 1000, 2)} s`,
        );
      console.log(
        `         ledger requests in each second from the first: ${ledger.perSecond.join(' ')} ` +
          `(level: ${backroom.level.perSecond.join(' ')})`,
      );
    }
    if (backroomFaulty)
      console.log(
        `         faulty receivers: sink answers ledger ${JSON.stringify(backroomFaulty.ledger.byStatus)}, level ` +
          `${JSON.stringify(backroomFaulty.level.byStatus)}; resends answered duplicate ${fmt(backroomFaulty.ledger.duplicates)} + ` +
          `${fmt(backroomFaulty.level.duplicates)}; last life's dispatchers ${JSON.stringify(backroomFaulty.drain.retries)}; ` +
          `ledger requests in each second: ${backroomFaulty.ledger.perSecond.join(' ')}`,
      );
    if (backroomOpen)
      console.log(
        `         Backroom, limits lifted: agent CPU ${fmt(backroomOpen.drain.cpuSeconds, 2)} s ` +
          `(${fmt((backroomOpen.drain.cpuSeconds / backroomOpen.drain.seconds) * 100)}% of one core), ` +
          `${fmt((backroomOpen.drain.seconds / backroomOpen.ledger.requests) * 1000, 1)} ms of drain per ledger request of ` +
          `${LEDGER.batchSize}; peak RSS drain ${mb(backroomOpen.drain.peakRss)}`,
      );
    if (bullmq)
      console.log(
        `         BullMQ limited: ${fmt(bullmq.limited.failedAttempts)} failed attempts (retried by BullMQ), ` +
          `sink answers ${JSON.stringify(bullmq.limitedSink.byStatus)}; unlimited: applied ${fmt(bullmq.unlimitedSink.applied)}, ` +
          `duplicates ${fmt(bullmq.unlimitedSink.duplicates)}, failed attempts ${fmt(bullmq.unlimited.failedAttempts)}, ` +
          `worker CPU ${fmt(bullmq.unlimited.cpuSeconds, 2)} s (${fmt((bullmq.unlimited.cpuSeconds / bullmq.unlimited.seconds) * 100)}% of one core); ` +
          `Redis RSS at the end ${mb(bullmq.redis.rss)}`,
      );
    if (backroom && bullmq)
      console.log(
        '\nnote: Backroom writes each event, its ledger movement, stock level, outbox row and dirty mark in one SQLite\n' +
          'transaction (fsynced): an event is never captured without its deliveries queued. BullMQ enqueue is a\n' +
          "separate write to Redis, not atomic with the application's database (a crash between the two loses or\n" +
          'duplicates work), and BullMQ sends one request per job: it has no batching or coalescing.',
      );
  } finally {
    await finish(sinks);
    rmSync(dir, { recursive: true, force: true });
  }
}

const role = process.env.BENCH_ROLE;
if (role === 'sinks') await runSinksRole();
else if (role === 'backroom') await runBackroomRole();
else if (role === 'bullmq') await runBullmqRole();
else await main();

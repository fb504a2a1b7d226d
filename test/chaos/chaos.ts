import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent as HttpAgent, request } from 'undici';
import type { StatusResponse } from '../../shared/api.js';
import { FaultSink, type FaultSettings, type SinkOutcome } from '../simulators/fault-sink.js';
import { PosSimulator, type SimEvent } from '../simulators/pos-simulator.js';
import { tempDir, testConfig, TOKEN, TOKEN_2, writeConfig } from '../support/harness.js';
import { seededRandom } from '../support/seeded-random.js';
import { AgentLives, type Life } from '../support/agent-lives.js';

/*
 * The chaos run of issue 3 ("Must show"): the real `backroom serve` takes POS traffic over HTTP and delivers it
 * to a fault-injecting webhook sink, while it is SIGKILLed at random moments and restarted on the same data
 * directory. At the end every event a till saw acknowledged must have been applied at the sink exactly once (by
 * idempotency key) and in capture order per location. Redelivery after a kill is expected: the sink answers an
 * already-applied key as delivered, so what is asserted is the effect, not the number of requests.
 */

const AGENT_ID = 'store-chaos';
const SECRET = 'chaos-webhook-secret-0123456789';
const TOKEN_3 = 'test-token-pos-3-0123456789abcdef';
const SOURCES = [
  { id: 'pos-1', token: TOKEN },
  { id: 'pos-2', token: TOKEN_2 },
  { id: 'pos-3', token: TOKEN_3 },
] as const;
const LOCATIONS = ['S1', 'S2', 'S3'] as const;
const SKUS = Array.from({ length: 20 }, (_, i) => `SKU-${String(i + 1).padStart(3, '0')}`);

/**
 * The sink's faults by default: every class the sink knows, at rates that leave most requests through. Hangs are
 * short (well under the agent's 10 s request timeout): sends are ordered per location, so a hang holds its lane.
 */
export const DEFAULT_CHAOS_FAULTS: Readonly<Partial<FaultSettings>> = {
  latencyMs: { min: 0, max: 15 },
  rate5xx: 0.05,
  rate429: 0.01,
  retryAfterSeconds: 1,
  retryAfterFormat: 'seconds',
  rate408: 0.01,
  rateReset: 0.02,
  rateAppliedThenLost: 0.03,
  rateHang: 0.01,
  hangMs: 500,
};

export type ChaosOptions = Readonly<{
  /** How many times the agent is SIGKILLed (and restarted on the same data directory). */
  kills: number;
  /** Seeds the tills' traffic, the kill moments and the sink's faults: a failing run replays with its seed. */
  seed: number;
  /** POS tills sending at once, 1 to 3 (each its own source). Default 3. */
  clients?: number;
  /** How long each life of the agent lasts before it is killed, drawn uniformly. Default 100–700 ms. */
  killGapMs?: Readonly<{ min: number; max: number }>;
  /** Events per second each till sends, on average, while the agent is up. Default 15. */
  eventsPerSecond?: number;
  /** Events per webhook request (`batchSize` of the destination); above 1 the batch form is used. Default 1. */
  batchSize?: number;
  /** Faults of the sink, over `DEFAULT_CHAOS_FAULTS`. */
  faults?: Readonly<Partial<FaultSettings>>;
  /** Wall-clock budget of the kill phase; the run fails if the planned kills do not fit. Default: none. */
  killPhaseBudgetMs?: number;
  /** After the last restart, how long the queue may take to empty before the run fails as stuck. Default 90 s. */
  drainTimeoutMs?: number;
  /** Progress lines (one per kill, and the drain). */
  onProgress?: (line: string) => void;
}>;

export type ChaosSummary = Readonly<{
  seed: number;
  kills: number;
  clients: number;
  /** Distinct events acknowledged to the tills (accepted or duplicate), all applied once at the sink. */
  events: number;
  /** Ingest requests the tills made, and how many of them were resent because a kill cut them. */
  ingestRequests: number;
  ingestResends: number;
  /** Requests the sink received from the agent. */
  sinkRequests: number;
  /** Events that reached the sink again after being applied, answered as delivered and not applied again. */
  duplicatesAbsorbed: number;
  /** Requests the sink decided, by outcome: the faults it injected and the normal answers. */
  faults: Readonly<Partial<Record<SinkOutcome, number>>>;
  /** Time from the last restart until the agent's queue was empty. */
  drainMs: number;
  durationMs: number;
}>;

/** One life of the agent process; `isKilled` is set before the SIGKILL is sent. */
/** An event a till saw acknowledged, by idempotency key. */
type Ack = { seq: number; location: string };

type TillReport = { requests: number; resends: number };

/**
 * One POS till: sends the simulator's events (single, or small batches) one request at a time until told to
 * stop, and records each acknowledged event under its idempotency key. A request cut by a kill is sent again,
 * unchanged, to the restarted agent, as a POS does after a lost answer; anything else going wrong fails the run.
 */
async function runTill(
  index: number,
  lives: AgentLives,
  acks: Map<string, Ack>,
  options: Readonly<{
    seed: number;
    eventsPerSecond: number;
    maxAttempts: number;
    shouldStop: () => boolean;
  }>,
): Promise<TillReport> {
  const source = SOURCES[index]!;
  const random = seededRandom(options.seed);
  const simulator = new PosSimulator({
    url: 'http://unused.invalid',
    token: source.token,
    idPrefix: `till-${index + 1}`,
    locations: LOCATIONS,
    skus: SKUS,
    rate: options.eventsPerSecond,
    seed: 1 + Math.floor(random() * 2 ** 30),
  });
  const dispatcher = new HttpAgent({ connections: 1, keepAliveTimeout: 30_000 });
  const report: TillReport = { requests: 0, resends: 0 };
  try {
    while (!options.shouldStop()) {
      const size = random() < 0.6 ? 1 : 2 + Math.floor(random() * 4);
      // Poisson-like spacing, scaled by the request's size, for the configured average event rate.
      await sleep((-Math.log(1 - random()) * 1000 * size) / options.eventsPerSecond);
      const events: SimEvent[] = Array.from({ length: size }, () => simulator.next());
      const body = JSON.stringify(size === 1 ? events[0] : { events });
      report.requests += 1;
      const { results, resends } = await lives.postEvents(source.token, body, {
        dispatcher,
        timeoutMs: 20_000,
        maxAttempts: options.maxAttempts,
        label: `till ${index + 1}`,
      });
      const attempt = resends;
      report.resends += resends;
      assert.deepEqual(
        results.map((r) => r.id),
        events.map((e) => e.id),
        `till ${index + 1}: results answer each event in request order`,
      );
      results.forEach((result, i) => {
        const event = events[i]!;
        assert.ok(
          result.status === 'accepted' || result.status === 'duplicate',
          `till ${index + 1}: ${event.id} was ${result.status}: ${JSON.stringify(result)}`,
        );
        // A first send carries new ids only: a duplicate would mean the agent invented an earlier capture.
        if (attempt === 0)
          assert.equal(result.status, 'accepted', `till ${index + 1}: ${event.id} on first send`);
        const key = `${AGENT_ID}:${source.id}:${event.id}`;
        const earlier = acks.get(key);
        if (earlier !== undefined) assert.equal(result.seq, earlier.seq, `${key} keeps its seq`);
        acks.set(key, { seq: result.seq, location: event.location });
      });
    }
  } finally {
    await dispatcher.close();
  }
  return report;
}

async function readStatus(life: Life): Promise<StatusResponse> {
  const response = await request(`${life.serve.address}/api/v1/status`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await response.body.text();
  assert.equal(response.statusCode, 200, `GET /api/v1/status answered ${response.statusCode}: ${text}`);
  return JSON.parse(text) as StatusResponse;
}

/**
 * Polls the agent's status until every destination has nothing pending; throws (a stuck queue) past the deadline.
 * Reports the depth now and then, so a slow drain and a stuck one can be told apart.
 */
async function waitForEmptyQueue(
  life: Life,
  timeoutMs: number,
  progress: (line: string) => void,
): Promise<StatusResponse> {
  const deadline = Date.now() + timeoutMs;
  let reportedAt = Date.now();
  for (;;) {
    const status = await readStatus(life);
    if (status.destinations.every((d) => d.pending === 0)) return status;
    if (Date.now() > deadline)
      throw new Error(
        `stuck queue: the agent still had items pending ${timeoutMs} ms after the last restart: ` +
          JSON.stringify(status),
      );
    if (Date.now() - reportedAt >= 5000) {
      reportedAt = Date.now();
      progress(
        `draining: ${status.destinations.map((d) => `${d.id} ${d.pending} pending (${d.state})`).join(', ')}`,
      );
    }
    await sleep(200);
  }
}

/**
 * Runs the chaos: sink, agent, tills, `kills` SIGKILLs with restarts, a final drain, then the assertions
 * (node:assert, so a failure throws with the evidence in its message). Returns what happened.
 *
 * @example
 * const summary = await runChaos({ kills: 20, seed: 7, onProgress: console.log });
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const started = Date.now();
  const { kills, seed } = options;
  const clients = options.clients ?? 3;
  assert.ok(clients >= 1 && clients <= SOURCES.length, `clients must be 1 to ${SOURCES.length}`);
  const gap = options.killGapMs ?? { min: 100, max: 700 };
  const progress = options.onProgress ?? (() => undefined);
  const random = seededRandom(seed);

  const dir = tempDir('backroom-chaos-');
  const sink = await FaultSink.start({ secret: SECRET, seed, ...DEFAULT_CHAOS_FAULTS, ...options.faults });
  let lives: AgentLives | undefined;
  try {
    const dataDir = join(dir.path, 'data');
    const configFile = writeConfig(
      dir.path,
      testConfig(dataDir, {
        agentId: AGENT_ID,
        sources: SOURCES.map((s) => ({ id: s.id, token: s.token })),
        locations: LOCATIONS.map((id) => ({ id, name: `Store ${id}` })),
        destinations: [
          {
            id: 'hq',
            type: 'webhook',
            url: `${sink.url}/events`,
            secret: SECRET,
            batchSize: options.batchSize ?? 1,
            requestsPerSecond: 2000,
          },
        ],
        delivery: { baseDelayMs: 20, maxDelayMs: 500, maxAttempts: 10_000, maxAgeHours: 24 },
      }),
    );
    lives = new AgentLives(configFile);
    const agent = lives;
    await agent.start();

    const acks = new Map<string, Ack>();
    let isStopping = false;
    const killDeadline =
      options.killPhaseBudgetMs === undefined ? Infinity : started + options.killPhaseBudgetMs;
    const tills = Array.from({ length: clients }, (_, i) =>
      runTill(i, agent, acks, {
        seed: seed * 31 + i + 1,
        eventsPerSecond: options.eventsPerSecond ?? 15,
        // Each failed attempt means the agent was killed in between.
        maxAttempts: kills + 2,
        shouldStop: () => isStopping,
      }),
    );
    const tillsDone = Promise.all(tills);
    // A till that fails stops the kill loop at once.
    tillsDone.catch(() => (isStopping = true));

    let killed = 0;
    try {
      while (killed < kills && !isStopping && Date.now() < killDeadline) {
        await sleep(gap.min + Math.floor(random() * (gap.max - gap.min)));
        await agent.kill();
        killed += 1;
        await agent.start();
        if (killed % 10 === 0 || killed === kills)
          progress(
            `kill ${killed}/${kills}: ${acks.size} events acknowledged, ${sink.applied.length} applied, ` +
              `${sink.requests.total} sink requests, ${sink.duplicates} duplicates absorbed`,
          );
      }
    } finally {
      // Stop traffic; a till finishes (resends) the request it has in flight against the running agent.
      isStopping = true;
      await Promise.allSettled(tills);
    }
    const reports = await tillsDone;
    assert.equal(killed, kills, `every planned kill happened (${killed} of ${kills}) within the budget`);

    const life = await agent.alive();
    const drainStarted = Date.now();
    progress(`traffic stopped; draining ${acks.size} events (${sink.applied.length} applied so far)`);
    const status = await waitForEmptyQueue(life, options.drainTimeoutMs ?? 90_000, progress);
    const drainMs = Date.now() - drainStarted;
    progress(`queue empty after ${drainMs} ms`);

    // A clean stop after all that: the agent is not left in a state it cannot shut down from.
    life.serve.proc.kill('SIGTERM');
    const exit = await life.serve.exited;
    assert.deepEqual(
      exit,
      { code: 0, signal: null },
      `clean stop at the end; stderr: ${life.serve.stderr()}`,
    );

    assertExactlyOnceInOrder(sink, acks, status);

    return {
      seed,
      kills: killed,
      clients,
      events: acks.size,
      ingestRequests: reports.reduce((n, r) => n + r.requests, 0),
      ingestResends: reports.reduce((n, r) => n + r.resends, 0),
      sinkRequests: sink.requests.total,
      duplicatesAbsorbed: sink.duplicates,
      faults: sink.requests.byOutcome,
      drainMs,
      durationMs: Date.now() - started,
    };
  } finally {
    // Whatever happened, nothing of the run outlives it.
    lives?.current?.serve.proc.kill('SIGKILL');
    await sink.stop();
    dir.cleanup();
  }
}

/** The assertions of the chaos: every acknowledged event applied exactly once, nothing else, in order per location. */
function assertExactlyOnceInOrder(
  sink: FaultSink,
  acks: ReadonlyMap<string, Ack>,
  status: StatusResponse,
): void {
  const context = () =>
    `exceptions ${JSON.stringify(status.openExceptions)}; sink ${JSON.stringify(sink.requests.byOutcome)}`;
  assert.ok(acks.size > 0, 'the tills got events acknowledged');
  const missing = [...acks.keys()].filter((key) => sink.appliedCount(key) !== 1);
  assert.deepEqual(
    missing.slice(0, 20),
    [],
    `${missing.length} of ${acks.size} acknowledged events were not applied at the sink; ${context()}`,
  );
  const unknown = sink.applied.filter((a) => !acks.has(a.key)).map((a) => a.key);
  assert.deepEqual(unknown.slice(0, 20), [], `${unknown.length} applied keys were never acknowledged`);
  // appliedCount is 0 or 1 by construction; the applied list must agree (no key applied twice).
  assert.equal(sink.applied.length, acks.size, 'the sink applied each acknowledged event once, nothing more');
  for (const { key, body } of sink.applied) {
    const ack = acks.get(key)!;
    assert.equal(body['seq'], ack.seq, `${key} reached the sink with the seq its till was told`);
    assert.equal(body['location'], ack.location, `${key} reached the sink with its location`);
    assert.equal(body['agentId'], AGENT_ID, `${key} names the agent`);
  }
  const violations = sink.orderViolations('seq', 'location');
  assert.ok(
    sink.isOrderedBy('seq', 'location'),
    `${violations.length} order violations (capture order per location): ${JSON.stringify(violations.slice(0, 20))}`,
  );
}

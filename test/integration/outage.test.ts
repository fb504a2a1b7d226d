import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusResponse } from '../../shared/api.js';
import type { ConfigInput } from '../../shared/config.js';
import { FaultSink } from '../simulators/fault-sink.js';
import {
  makeEvent,
  runBackroom,
  startAgent,
  tempDir,
  testConfig,
  writeConfig,
  type TestAgent,
} from '../support/harness.js';

/*
 * Issue 3, "Must show", Outage: the sink is down while events are captured, stays down, then comes back. One
 * scenario runs once (in `before`), recording what it saw along the way; each test below asserts one behaviour
 * of it.
 */

const SECRET = 'outage-hmac-secret';
const DESTINATION = 'hq';
/** The dispatcher's breaker (dispatcher.ts): opens after this many consecutive transient failures ... */
const BREAKER_THRESHOLD = 5;
/** ... then probes half-open after 1 s, and after each failed probe waits twice as long (up to 60 s). */
const FIRST_PROBE_MS = 1000;
/** How long the sink stays down at least (the bound below is computed from the measured duration). */
const OUTAGE_MS = 6000;
/**
 * The events go to two locations, so two ledger lanes send side by side: when the fifth failure opens the
 * breaker, the other lane's request may already be on the wire. It fails too, but no new request starts.
 */
const LANES = 2;

/**
 * The most requests a destination that is down for `outageMs` can receive: the failures that open the breaker,
 * the other lanes' requests already in flight then, plus the half-open probes. Probe k comes no sooner than
 * 1 s + 2 s + … + 2^(k−1) s = (2^k − 1) s after the breaker opened, and it opened after the outage began.
 */
function maxRequestsDuringOutage(outageMs: number): number {
  let probes = 0;
  while (FIRST_PROBE_MS * (2 ** (probes + 1) - 1) <= outageMs) probes += 1;
  return BREAKER_THRESHOLD + (LANES - 1) + probes;
}

/** The value of one Prometheus sample, or null when the exposition has none. */
function metric(text: string, name: string, labels: Record<string, string>): number | null {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    const have = line.slice(name.length + 1, close).split(',');
    if (want.every((w) => have.includes(w))) return Number(line.slice(close + 1).trim());
  }
  return null;
}

/**
 * The destination's state as `backroom status --json` prints it. The CLI takes a second or two to start, so its
 * question may meet a half-open probe (a few ms every few seconds): then it asks again.
 */
async function cliState(configFile: string): Promise<string> {
  let state = '';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const cli = await runBackroom(['status', '--config', configFile, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    state =
      (JSON.parse(cli.stdout) as StatusResponse).destinations.find((d) => d.id === DESTINATION)?.state ?? '';
    if (state !== 'half_open') break;
  }
  return state;
}

/** Polls `predicate` until it holds; fails with `what` after `timeoutMs`. */
async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

type Observed = {
  /** Ids of every event captured, in capture order. */
  eventIds: string[];
  requestsBeforeOutage: number;
  requestsDuringOutage: number;
  outageMs: number;
  /** When each request of the outage failed (epoch ms), as the agent recorded its attempts. */
  outageFailureTimes: number[];
  stateBefore: { metric: number | null };
  stateDuring: { metric: number | null; api: string | undefined; cli: string | undefined };
  stateAfter: { metric: number | null; api: string | undefined; pending: number | undefined };
  resultsAfter: { delivered: number | null; retry: number | null };
  requestsTotal: number;
};

describe('a webhook destination that is down for a while and comes back', () => {
  const dir = tempDir();
  let sink: FaultSink | undefined;
  let agent: TestAgent | undefined;
  let observed: Observed;

  const status = async (a: TestAgent) => {
    const { body } = await a.get('/api/v1/status');
    return body as unknown as StatusResponse;
  };
  const metrics = async (a: TestAgent) => String((await a.get('/metrics')).body['text']);
  const post = async (a: TestAgent, ids: string[]) => {
    const events = ids.map((id, i) => makeEvent({ id, location: i % 3 === 0 ? 'S2' : 'S1' }));
    const { status: code, body } = await a.post({ events });
    assert.equal(code, 200);
    assert.ok(body.results.every((r) => r.status === 'accepted'));
  };

  before(async () => {
    sink = await FaultSink.start({ secret: SECRET, seed: 3 });
    const config: ConfigInput = testConfig(dir.path, {
      destinations: [
        {
          id: DESTINATION,
          type: 'webhook',
          url: `${sink.url}/events`,
          secret: SECRET,
          requestsPerSecond: 1000,
        },
      ],
      delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 50, maxAgeHours: 1 },
    });
    const configFile = writeConfig(dir.path, config);
    agent = await startAgent(config);
    const a = agent;
    const dispatcher = a.agent.dispatchers[0]!;
    const eventIds: string[] = [];
    const batch = (prefix: string, n: number) => {
      const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
      eventIds.push(...ids);
      return ids;
    };

    // Flowing: a first batch is delivered.
    await post(a, batch('before-', 12));
    await until('the first batch to be applied', () => sink!.applied.length === 12, 15_000);
    const stateBefore = {
      metric: metric(await metrics(a), 'backroom_destination_state', { destination: DESTINATION }),
    };

    // Down: capture goes on; the breaker opens.
    await sink.setDown(true);
    const outageStartedAt = Date.now();
    const requestsBeforeOutage = dispatcher.counters.requests;
    await post(a, batch('during-a-', 30));
    await until('the breaker to open', () => dispatcher.state === 'open', 10_000);
    const [metricsText, apiStatus] = await Promise.all([metrics(a), status(a)]);
    const stateDuring = {
      metric: metric(metricsText, 'backroom_destination_state', { destination: DESTINATION }),
      api: apiStatus.destinations.find((d) => d.id === DESTINATION)?.state,
      cli: await cliState(configFile),
    };
    await post(a, batch('during-b-', 30));
    const left = OUTAGE_MS - (Date.now() - outageStartedAt);
    if (left > 0) await sleep(left);

    // Back: everything drains.
    const requestsDuringOutage = dispatcher.counters.requests - requestsBeforeOutage;
    const outageMs = Date.now() - outageStartedAt;
    await sink.setDown(false);
    await until('every event to be applied', () => sink!.applied.length >= eventIds.length, 60_000);
    await until('the breaker to close', () => dispatcher.state === 'closed', 10_000);
    // The failed attempts in the order recorded; the first ones are the requests of the outage.
    const outageFailureTimes = (
      a.agent.db.sqlite
        .prepare(`SELECT at FROM delivery_attempts WHERE result = 'retry' ORDER BY id LIMIT ?`)
        .all(requestsDuringOutage) as { at: number }[]
    ).map((r) => r.at);
    const afterText = await metrics(a);
    const apiAfter = (await status(a)).destinations.find((d) => d.id === DESTINATION);
    observed = {
      eventIds,
      requestsBeforeOutage,
      requestsDuringOutage,
      outageMs,
      outageFailureTimes,
      stateBefore,
      stateDuring,
      stateAfter: {
        metric: metric(afterText, 'backroom_destination_state', { destination: DESTINATION }),
        api: apiAfter?.state,
        pending: apiAfter?.pending,
      },
      resultsAfter: {
        delivered: metric(afterText, 'backroom_delivery_results_total', {
          destination: DESTINATION,
          result: 'delivered',
        }),
        retry: metric(afterText, 'backroom_delivery_results_total', {
          destination: DESTINATION,
          result: 'retry',
        }),
      },
      requestsTotal: dispatcher.counters.requests,
    };
  });

  after(async () => {
    await agent?.stop();
    await sink?.stop();
    dir.cleanup();
  });

  it('delivers every event captured before and during the outage exactly once, in capture order per location', () => {
    const keys = observed.eventIds.map((id) => `store-test:pos-1:${id}`);
    assert.equal(sink!.applied.length, keys.length, 'nothing more than the captured events was applied');
    for (const key of keys) assert.equal(sink!.appliedCount(key), 1, key);
    assert.deepEqual(sink!.orderViolations('seq', 'location'), []);
    assert.equal(observed.stateAfter.pending, 0);
  });

  it('sends no more requests during the outage than the breaker allows: 5 failures (and the other lane’s request in flight then), then probes at 1 s, 2 s, 4 s …', (t) => {
    const bound = maxRequestsDuringOutage(observed.outageMs);
    const start = observed.outageFailureTimes[0] ?? 0;
    t.diagnostic(
      `${observed.requestsDuringOutage} requests in ${observed.outageMs} ms (bound ${bound}), failed at ` +
        observed.outageFailureTimes.map((at) => `+${at - start}`).join(' '),
    );
    assert.ok(
      observed.requestsDuringOutage >= BREAKER_THRESHOLD,
      `the outage was noticed (${observed.requestsDuringOutage} requests)`,
    );
    assert.ok(
      observed.requestsDuringOutage <= bound,
      `${observed.requestsDuringOutage} requests in ${observed.outageMs} ms of outage; the breaker allows ${bound}`,
    );
  });

  it('probes the open breaker no sooner than 1 s, then 2 s, 4 s … after each failure', () => {
    const times = observed.outageFailureTimes;
    assert.equal(times.length, observed.requestsDuringOutage, 'one failed attempt recorded per request');
    // A failure is recorded a moment after the breaker saw it; 5 ms covers that.
    const slackMs = 5;
    const openedAt = times[BREAKER_THRESHOLD - 1]!;
    // Requests of other lanes already in flight when the breaker opened fail right after it (a local sink that
    // is down answers in milliseconds); anything later is a probe.
    let firstProbe = BREAKER_THRESHOLD;
    while (firstProbe < times.length && times[firstProbe]! - openedAt < FIRST_PROBE_MS / 2) firstProbe += 1;
    assert.ok(
      firstProbe - BREAKER_THRESHOLD <= LANES - 1,
      `${firstProbe - BREAKER_THRESHOLD} requests failed just after the breaker opened; at most ${LANES - 1} other lane(s) can be in flight`,
    );
    let previous = openedAt;
    for (let i = firstProbe; i < times.length; i += 1) {
      const probe = i - firstProbe + 1;
      const gap = times[i]! - previous;
      const wait = FIRST_PROBE_MS * 2 ** (probe - 1);
      assert.ok(
        gap >= wait - slackMs,
        `probe ${probe} failed ${gap} ms after the previous probe, before ${wait} ms`,
      );
      previous = times[i]!;
    }
  });

  it('shows the breaker open (2) in /metrics, the status API and `backroom status --json` during the outage, and closed (0) after', () => {
    assert.equal(observed.stateBefore.metric, 0);
    assert.equal(observed.stateDuring.metric, 2);
    assert.equal(observed.stateDuring.api, 'open');
    assert.equal(observed.stateDuring.cli, 'open');
    assert.equal(observed.stateAfter.metric, 0);
    assert.equal(observed.stateAfter.api, 'closed');
  });

  it('counts every answered request in backroom_delivery_results_total, by result', () => {
    assert.equal(observed.resultsAfter.delivered, observed.eventIds.length);
    assert.ok((observed.resultsAfter.retry ?? 0) >= observed.requestsDuringOutage);
    assert.equal(
      (observed.resultsAfter.delivered ?? 0) + (observed.resultsAfter.retry ?? 0),
      observed.requestsTotal,
      'one result per request (one event a request)',
    );
  });
});

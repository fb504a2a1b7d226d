import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultSink } from '../simulators/fault-sink.js';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';

const SECRET = 'partial-failure-secret';
const EVENTS = 300;
const BATCH = 5;

/*
 * A receiver that fails about 20% of requests transiently (503, a connection reset before the answer, an answer
 * lost after the effect) while it mostly succeeds: every retry must be a quick one from the retry budget, never a
 * backoff. The backoff is set to ten minutes, so a backoff would also leave the drain unfinished; the assertions
 * are on counts. One location, so the requests come one after another and the seeded faults repeat run to run.
 */
test('a destination failing ~20% of requests transiently is retried quickly, without a backoff, exactly once and in order', async (t) => {
  const sink = await FaultSink.start({
    secret: SECRET,
    seed: 16,
    rate5xx: 0.1,
    serverErrorStatus: 500,
    rateReset: 0.05,
    rateAppliedThenLost: 0.05,
  });
  t.after(() => sink.stop());
  const dir = tempDir();
  t.after(dir.cleanup);
  const a = await startAgent(
    testConfig(dir.path, {
      destinations: [
        {
          id: 'hq',
          type: 'webhook',
          url: `${sink.url}/events`,
          secret: SECRET,
          batchSize: BATCH,
          requestsPerSecond: 1000,
        },
      ],
      delivery: { baseDelayMs: 600_000, maxDelayMs: 600_000, maxAttempts: 50, maxAgeHours: 1 },
    }),
  );
  t.after(() => a.stop());
  const events = Array.from({ length: EVENTS }, (_, i) =>
    makeEvent({ id: `e${String(i).padStart(4, '0')}` }),
  );
  for (let i = 0; i < EVENTS; i += 100) await a.post({ events: events.slice(i, i + 100) });
  await sink.waitFor((s) => s.applied.length === EVENTS, 60_000);

  const counters = a.agent.dispatchers[0]!.counters;
  const outcomes = sink.requests.byOutcome;
  const failed = (outcomes.server_error ?? 0) + (outcomes.reset ?? 0) + (outcomes.applied_then_lost ?? 0);
  t.diagnostic(
    `requests ${counters.requests}, retries ${counters.retries}, quick ${counters.quickRetries}, ` +
      `backoffs ${counters.backoffs}; sink ${JSON.stringify(outcomes)}`,
  );
  assert.ok(failed >= EVENTS / BATCH / 10, `the sink failed ${failed} requests: the faults were exercised`);
  assert.equal(counters.backoffs, 0, 'no retry waited a backoff');
  assert.equal(counters.quickRetries, failed, 'every failed request was retried quickly');
  assert.ok(
    counters.retries <= counters.requests * 0.3,
    `retries are ${counters.retries} of ${counters.requests} requests`,
  );
  for (const event of events)
    assert.equal(sink.appliedCount(`store-test:pos-1:${String(event.id)}`), 1, String(event.id));
  assert.deepEqual(sink.orderViolations('seq', 'location'), []);
  assert.equal(a.agent.dispatchers[0]!.state, 'closed');
});

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfigInput } from '../../shared/config.js';
import type { AuditRow } from '../../src-main/exceptions/audit-log.js';
import type { ExceptionRow } from '../../src-main/exceptions/exceptions-repo.js';
import type { OutboxItemView } from '../../shared/agent-api.js';
import { FaultSink, type FaultSinkOptions } from '../simulators/fault-sink.js';
import { TOKEN, makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

/*
 * Issue 3, Build 7 and "Must show", Rejection: what staff do about items that did not go through, through the
 * agent's API with an operator token, each action recorded in the audit log.
 */

const SECRET = 'ops-hmac-secret';
const DESTINATION = 'hq';
const MARIA = 'operator-token-maria-0123456789abcdef';
const keyOf = (id: string) => `store-test:pos-1:${id}`;

type Reply = { status: number; body: Record<string, unknown> };
/** Calls the agent's API as Maria unless another token (or `null`, none) is given. */
type Call = (method: 'GET' | 'POST', path: string, body?: unknown, token?: string | null) => Promise<Reply>;
type Setup = { sink: FaultSink; agent: TestAgent; call: Call };

/** A webhook sink and an agent delivering to it, with Maria as operator; all stop when the test ends. */
async function setup(
  t: TestContext,
  options: Readonly<{ sink?: FaultSinkOptions; maxAttempts?: number }> = {},
): Promise<Setup> {
  const dir = tempDir();
  t.after(dir.cleanup);
  const sink = await FaultSink.start({ secret: SECRET, ...options.sink });
  t.after(() => sink.stop());
  const config: ConfigInput = testConfig(dir.path, {
    operators: [{ name: 'Maria', token: MARIA }],
    destinations: [
      {
        id: DESTINATION,
        type: 'webhook',
        url: `${sink.url}/events`,
        secret: SECRET,
        requestsPerSecond: 1000,
      },
    ],
    delivery: { baseDelayMs: 50, maxDelayMs: 500, maxAttempts: options.maxAttempts ?? 50, maxAgeHours: 1 },
  });
  const agent = await startAgent(config);
  t.after(() => agent.stop());
  const call: Call = async (method, path, body, token = MARIA) => {
    const response = await fetch(`${agent.url}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  };
  return { sink, agent, call };
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

async function capture(agent: TestAgent, events: Record<string, unknown>[]): Promise<void> {
  const { status, body } = await agent.post({ events });
  assert.equal(status, 200);
  assert.ok(
    body.results.every((r) => r.status === 'accepted'),
    JSON.stringify(body.results),
  );
}

const items = async (call: Call, query: string) =>
  (await call('GET', `/api/v1/outbox?${query}`)).body['items'] as OutboxItemView[];
const exceptions = async (call: Call, query: string) =>
  (await call('GET', `/api/v1/exceptions?${query}`)).body['exceptions'] as ExceptionRow[];
const audit = async (call: Call) => (await call('GET', '/api/v1/audit')).body['entries'] as AuditRow[];

/**
 * Three sales at S1 (the middle one, `bad`, refused by the sink with 422) and one at S2; resolves once the
 * other three are applied and `bad` is rejected, with its outbox item.
 */
async function rejectedScenario(t: TestContext): Promise<Setup & { bad: OutboxItemView }> {
  const s = await setup(t, { sink: { rejectWhen: (event) => event['id'] === 'bad' } });
  await capture(s.agent, [
    makeEvent({ id: 'ok1' }),
    makeEvent({ id: 'bad' }),
    makeEvent({ id: 'ok2' }),
    makeEvent({ id: 'ok3', location: 'S2' }),
  ]);
  await until('the three good events to be applied', () => s.sink.applied.length === 3);
  let bad: OutboxItemView | undefined;
  await until('the bad event to be rejected', async () => {
    bad = (await items(s.call, 'state=rejected'))[0];
    return bad !== undefined;
  });
  return { ...s, bad: bad! };
}

test('a 422-rejected item becomes an open delivery_rejected exception while the rest of its lane flows', async (t) => {
  const { sink, call, bad } = await rejectedScenario(t);
  // Lanes (locations) are sent side by side: order is kept within S1, not across locations.
  assert.deepEqual(
    sink.applied.filter((a) => a.body['location'] === 'S1').map((a) => a.key),
    ['ok1', 'ok2'].map(keyOf),
  );
  assert.deepEqual(sink.applied.map((a) => a.key).sort(), ['ok1', 'ok2', 'ok3'].map(keyOf).sort());
  assert.equal(sink.receivedCount(keyOf('bad')), 1, 'a rejected item is not retried by itself');
  const open = await exceptions(call, 'status=open&kind=delivery_rejected');
  assert.equal(open.length, 1);
  assert.equal(open[0]!.destination_id, DESTINATION);
  assert.equal((JSON.parse(open[0]!.details) as { outboxId: number }).outboxId, bad.id);
  assert.match(open[0]!.message, /Sale bad was not accepted by hq: HTTP 422/);
});

test('GET /api/v1/outbox lists the items in the state asked for', async (t) => {
  const { call, bad } = await rejectedScenario(t);
  assert.deepEqual(
    (await items(call, 'state=rejected')).map((i) => [i.eventId, i.state]),
    [['bad', 'rejected']],
  );
  assert.equal(bad.idempotencyKey, keyOf('bad'));
  assert.equal(bad.destinationId, DESTINATION);
  assert.deepEqual(
    (await items(call, 'state=delivered')).map((i) => i.eventId),
    ['ok1', 'ok2', 'ok3'],
  );
  assert.deepEqual(await items(call, 'state=pending'), []);
  assert.equal((await call('GET', '/api/v1/outbox?state=lost')).status, 400);
});

test("after the cause is fixed, an operator's retry delivers the rejected item and resolves its exception, audited under her name", async (t) => {
  const { sink, call, bad } = await rejectedScenario(t);
  sink.setFaults({ rejectWhen: null });

  const retried = await call('POST', '/api/v1/outbox/retry', { ids: [bad.id], reason: 'SKU mapped at HQ' });
  assert.equal(retried.status, 200);
  assert.deepEqual(retried.body, { changed: [bad.id], skipped: [] });
  await until('the retried item to be applied', () => sink.appliedCount(keyOf('bad')) === 1);

  assert.deepEqual((await items(call, 'state=delivered')).map((i) => i.eventId).sort(), [
    'bad',
    'ok1',
    'ok2',
    'ok3',
  ]);
  assert.deepEqual(await exceptions(call, 'status=open&kind=delivery_rejected'), []);
  const [resolved] = await exceptions(call, 'kind=delivery_rejected');
  assert.equal(resolved!.status, 'resolved');
  assert.match(resolved!.resolution ?? '', /Maria/);
  const [entry] = await audit(call);
  assert.equal(entry!.operator, 'Maria');
  assert.equal(entry!.action, 'outbox.retry');
  assert.equal(entry!.subject, `outbox:${bad.id}`);
  assert.equal(entry!.reason, 'SKU mapped at HQ');
});

test('discarding without a reason is refused and changes nothing', async (t) => {
  const { call, bad } = await rejectedScenario(t);
  for (const body of [{ ids: [bad.id] }, { ids: [bad.id], reason: '   ' }]) {
    const refused = await call('POST', '/api/v1/outbox/discard', body);
    assert.ok(refused.status >= 400 && refused.status < 500, `answered ${refused.status}`);
    assert.equal(refused.body['type'], 'error');
    assert.match(String(refused.body['message']), /reason/);
  }
  assert.deepEqual(
    (await items(call, 'state=rejected')).map((i) => i.id),
    [bad.id],
  );
  assert.equal((await exceptions(call, 'status=open&kind=delivery_rejected')).length, 1);
  assert.deepEqual(await audit(call), []);
});

test('discarding with a reason discards the item, closes its exception, and the audit log records operator and reason', async (t) => {
  const { sink, call, bad } = await rejectedScenario(t);
  const reason = 'Test sale rung up by mistake; never happened';

  const discarded = await call('POST', '/api/v1/outbox/discard', { ids: [bad.id], reason });
  assert.equal(discarded.status, 200);
  assert.deepEqual(discarded.body, { changed: [bad.id], skipped: [] });

  assert.deepEqual(
    (await items(call, 'state=discarded')).map((i) => i.id),
    [bad.id],
  );
  assert.deepEqual(await items(call, 'state=rejected'), []);
  const [exception] = await exceptions(call, 'kind=delivery_rejected');
  assert.equal(exception!.status, 'discarded');
  assert.match(exception!.resolution ?? '', /Maria.*never happened/);
  const [entry] = await audit(call);
  assert.equal(entry!.operator, 'Maria');
  assert.equal(entry!.action, 'outbox.discard');
  assert.equal(entry!.subject, `outbox:${bad.id}`);
  assert.equal(entry!.reason, reason);
  assert.equal(sink.appliedCount(keyOf('bad')), 0);
});

test('replay as new delivers an event again under a new idempotency key', async (t) => {
  const { sink, agent, call } = await setup(t);
  await capture(agent, [makeEvent({ id: 'lost-at-hq' })]);
  await until('the event to be applied', () => sink.appliedCount(keyOf('lost-at-hq')) === 1);
  const [original] = await items(call, 'state=delivered');

  const replayed = await call('POST', '/api/v1/outbox/replay', {
    ids: [original!.id],
    reason: 'HQ restored a backup from before it',
  });
  assert.equal(replayed.status, 200);
  assert.deepEqual(replayed.body, { changed: [original!.id], skipped: [] });
  const replayKey = `${keyOf('lost-at-hq')}:replay-1`;
  await until('the replay to be applied', () => sink.appliedCount(replayKey) === 1);

  assert.deepEqual(
    sink.applied.map((a) => [a.key, a.body['id']]),
    [
      [keyOf('lost-at-hq'), 'lost-at-hq'],
      [replayKey, 'lost-at-hq'],
    ],
  );
  const delivered = await items(call, 'state=delivered');
  assert.deepEqual(
    delivered.map((i) => i.idempotencyKey),
    [replayKey],
  );
  const [entry] = await audit(call);
  assert.equal(entry!.operator, 'Maria');
  assert.equal(entry!.action, 'outbox.replay');
  assert.equal(entry!.reason, 'HQ restored a backup from before it');
});

test('a POS source token cannot use the outbox operations (401)', async (t) => {
  const { call, bad } = await rejectedScenario(t);
  const attempts: ['GET' | 'POST', string, unknown][] = [
    ['GET', '/api/v1/outbox?state=rejected', undefined],
    ['POST', '/api/v1/outbox/retry', { ids: [bad.id], operator: 'Maria' }],
    ['POST', '/api/v1/outbox/replay', { ids: [bad.id], operator: 'Maria' }],
    ['POST', '/api/v1/outbox/discard', { ids: [bad.id], operator: 'Maria', reason: 'because' }],
    ['POST', `/api/v1/destinations/${DESTINATION}/resume`, { operator: 'Maria' }],
    ['GET', '/api/v1/exceptions', undefined],
    ['GET', '/api/v1/audit', undefined],
  ];
  for (const [method, path, body] of attempts) {
    for (const token of [TOKEN, null]) {
      const reply = await call(method, path, body, token);
      assert.equal(
        reply.status,
        401,
        `${method} ${path} with ${token === null ? 'no token' : 'a POS token'}`,
      );
      assert.equal(reply.body['reason'], 'unauthorized');
    }
  }
  assert.deepEqual(
    (await items(call, 'state=rejected')).map((i) => i.id),
    [bad.id],
  );
  assert.deepEqual(await audit(call), []);
});

test('an auth failure pauses the destination with one exception and one request per lane; resuming after the secret is fixed delivers everything', async (t) => {
  const { sink, agent, call } = await setup(t);
  sink.setSecret('the-secret-hq-has-now');
  const dispatcher = agent.agent.dispatchers[0]!;
  const first = Array.from({ length: 6 }, (_, i) =>
    makeEvent({ id: `p${i}`, location: i % 2 ? 'S1' : 'S2' }),
  );
  await capture(agent, first);
  await until('the destination to pause', () => dispatcher.state === 'paused');
  // Capture goes on while paused, and wakes the dispatcher, which must still send nothing.
  const more = Array.from({ length: 4 }, (_, i) => makeEvent({ id: `q${i}`, location: i % 2 ? 'S1' : 'S2' }));
  await capture(agent, more);
  await sleep(1500);

  // At most the one request each lane (S1, S2) had under way when the first refusal came, then nothing.
  assert.ok(sink.requests.total <= 2, `${sink.requests.total} refused requests, then nothing`);
  const raised = await exceptions(call, 'kind=destination_auth_failed');
  assert.equal(raised.length, 1);
  assert.equal(raised[0]!.occurrences, 1);
  assert.equal(raised[0]!.status, 'open');
  const metrics = String((await agent.get('/metrics')).body['text']);
  assert.match(metrics, /backroom_destination_state\{destination="hq"\} 3/);

  sink.setSecret(SECRET);
  const resumed = await call('POST', `/api/v1/destinations/${DESTINATION}/resume`, {
    reason: 'new secret set',
  });
  assert.equal(resumed.status, 200);
  assert.deepEqual(resumed.body, { destination: DESTINATION, state: 'closed' });
  await until('every event to be applied', () => sink.applied.length === first.length + more.length);

  assert.deepEqual(sink.orderViolations('seq', 'location'), []);
  assert.deepEqual(
    await exceptions(call, 'status=open&kind=destination_auth_failed'),
    [],
    'the resume closed the auth exception',
  );
  const [entry] = await audit(call);
  assert.equal(entry!.operator, 'Maria');
  assert.equal(entry!.action, 'destination.resume');
  assert.equal(entry!.subject, `destination:${DESTINATION}`);
  assert.equal(entry!.reason, 'new secret set');
});

test('after delivery.maxAttempts failures an item becomes a delivery_dead_letter exception and its lane moves on', async (t) => {
  // Every request fails (503) and is held 300 ms, so the faults can be lifted while the third one is held.
  const { sink, agent, call } = await setup(t, { sink: { rate5xx: 1, latencyMs: 300 }, maxAttempts: 3 });
  await capture(agent, [makeEvent({ id: 'doomed' }), makeEvent({ id: 'next1' }), makeEvent({ id: 'next2' })]);
  await sink.waitFor((s) => s.requests.total >= 3, 15_000);
  sink.setFaults({ rate5xx: 0, latencyMs: 0 });
  await until('the rest of the lane to be applied', () => sink.applied.length === 2);

  // Three failed requests for `doomed` (the lane waits behind it), then one each for the rest.
  assert.deepEqual(
    sink.log.map((r) => r.status),
    [503, 503, 503, 200, 200],
  );
  assert.deepEqual(
    sink.applied.map((a) => a.key),
    [keyOf('next1'), keyOf('next2')],
  );
  const dead = await items(call, 'state=dead');
  assert.deepEqual(
    dead.map((i) => [i.eventId, i.attempts]),
    [['doomed', 3]],
  );
  assert.deepEqual(
    (await items(call, 'state=delivered')).map((i) => [i.eventId, i.attempts]),
    [
      ['next1', 1],
      ['next2', 1],
    ],
  );
  const [exception] = await exceptions(call, 'status=open&kind=delivery_dead_letter');
  assert.equal(exception?.event_seq, dead[0]!.eventSeq);
  assert.match(exception.message, /after 3 attempts/);
});

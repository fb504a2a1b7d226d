import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultSink, batchEventKey, signBody, type FaultSinkOptions } from '../simulators/fault-sink.js';

type Reply = { status: number; headers: Headers; body: Record<string, unknown> };

/** Starts a sink that is stopped when the test ends. */
async function startSink(t: TestContext, options: FaultSinkOptions = {}): Promise<FaultSink> {
  const sink = await FaultSink.start(options);
  t.after(() => sink.stop());
  return sink;
}

/** POSTs `body` (JSON unless a string) to the sink; rejects on a connection error, as fetch does. */
async function post(
  sink: FaultSink,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/events',
): Promise<Reply> {
  const response = await fetch(`${sink.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

/** One event of the webhook destination, sent with its `Idempotency-Key`. */
function sendEvent(sink: FaultSink, id: string, extra: Record<string, unknown> = {}): Promise<Reply> {
  const event = { agentId: 'store-1', source: 'pos-1', id, type: 'sale', location: 'S1', seq: 1, ...extra };
  return post(sink, event, { 'idempotency-key': `store-1:pos-1:${id}` });
}

/** The code of the connection error `promise` rejects with (`ECONNREFUSED`, `UND_ERR_SOCKET`, ...). */
async function connectionError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const cause = error instanceof Error ? error.cause : undefined;
    if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return cause.code;
    return String(cause ?? error);
  }
  assert.fail('expected the request to fail without an answer');
}

test('a key sent twice is applied once and the resend is answered 200 as a duplicate', async (t) => {
  const sink = await startSink(t);
  assert.equal((await sendEvent(sink, 'e-1')).status, 200);
  const again = await sendEvent(sink, 'e-1');
  assert.equal(again.status, 200);
  assert.equal(again.body['status'], 'duplicate');
  assert.equal(sink.applied.length, 1);
  assert.equal(sink.appliedCount('store-1:pos-1:e-1'), 1);
  assert.equal(sink.receivedCount('store-1:pos-1:e-1'), 2);
  assert.equal(sink.duplicates, 1);
  assert.deepEqual(sink.applied[0]?.body['id'], 'e-1');
  assert.equal(sink.applied[0]?.path, '/events');
});

test('conflictOnDuplicate answers an already-applied key 409, still without applying it again', async (t) => {
  const sink = await startSink(t, { conflictOnDuplicate: true });
  assert.equal((await sendEvent(sink, 'e-1')).status, 200);
  assert.equal((await sendEvent(sink, 'e-1')).status, 409);
  assert.equal(sink.applied.length, 1);
  assert.equal(sink.duplicates, 1);
});

test('a single event without an Idempotency-Key header is answered 400 and not applied', async (t) => {
  const sink = await startSink(t);
  const reply = await post(sink, { id: 'e-1', location: 'S1', seq: 1 });
  assert.equal(reply.status, 400);
  assert.equal(sink.applied.length, 0);
  assert.equal(sink.requests.byOutcome.bad_request, 1);
});

test('with a secret, only a body signed with it is applied; a missing or wrong signature gets 401', async (t) => {
  const sink = await startSink(t, { secret: 's3cret' });
  const body = JSON.stringify({ agentId: 'a', source: 'p', id: 'e-1', location: 'S1', seq: 1 });
  const key = { 'idempotency-key': 'a:p:e-1' };
  assert.equal((await post(sink, body, key)).status, 401);
  assert.equal(
    (await post(sink, body, { ...key, 'x-backroom-signature': signBody('wrong', body) })).status,
    401,
  );
  // A signature of other bytes (the same JSON re-serialised with a space) is refused too.
  const other = signBody('s3cret', body.replace(':', ': '));
  assert.equal((await post(sink, body, { ...key, 'x-backroom-signature': other })).status, 401);
  assert.equal(sink.applied.length, 0);
  assert.equal(
    (await post(sink, body, { ...key, 'x-backroom-signature': signBody('s3cret', body) })).status,
    200,
  );
  assert.equal(sink.applied.length, 1);
  assert.equal(sink.requests.byStatus[401], 3);

  sink.setSecret('rotated');
  const signed = { ...key, 'x-backroom-signature': signBody('s3cret', body) };
  assert.equal((await post(sink, body, signed)).status, 401);
});

test('latencyMs delays every answer by at least that long', async (t) => {
  const sink = await startSink(t, { latencyMs: 150 });
  const started = performance.now();
  assert.equal((await sendEvent(sink, 'e-1')).status, 200);
  assert.ok(performance.now() - started >= 145, `answered after ${performance.now() - started} ms`);
});

test('rate5xx = 1 answers every request 503 without applying; setFaults at run time turns it off', async (t) => {
  const sink = await startSink(t, { rate5xx: 1 });
  assert.equal((await sendEvent(sink, 'e-1')).status, 503);
  sink.setFaults({ serverErrorStatus: 502 });
  assert.equal((await sendEvent(sink, 'e-1')).status, 502);
  assert.equal(sink.applied.length, 0);
  sink.setFaults({ rate5xx: 0 });
  assert.equal((await sendEvent(sink, 'e-1')).status, 200);
  assert.equal(sink.appliedCount('store-1:pos-1:e-1'), 1);
  assert.equal(sink.requests.byOutcome.server_error, 2);
});

test('rate408 = 1 answers 408 without applying', async (t) => {
  const sink = await startSink(t, { rate408: 1 });
  assert.equal((await sendEvent(sink, 'e-1')).status, 408);
  assert.equal(sink.applied.length, 0);
});

test('error rates by class come out near their configured values and repeat for the same seed', async (t) => {
  const faults = { rate5xx: 0.2, rate429: 0.1, rate408: 0.1, retryAfterSeconds: 0 } as const;
  const run = async (seed: number) => {
    const sink = await startSink(t, { ...faults, seed });
    const statuses: number[] = [];
    for (let i = 0; i < 200; i += 1) statuses.push((await sendEvent(sink, `e-${i}`)).status);
    return statuses;
  };
  const first = await run(7);
  assert.deepEqual(await run(7), first, 'the same seed gives the same faults');
  assert.notDeepEqual(await run(8), first, 'another seed gives other faults');
  const share = (status: number) => first.filter((s) => s === status).length / first.length;
  assert.ok(Math.abs(share(503) - 0.2) < 0.06, `503 share ${share(503)}`);
  assert.ok(Math.abs(share(429) - 0.1) < 0.05, `429 share ${share(429)}`);
  assert.ok(Math.abs(share(408) - 0.1) < 0.05, `408 share ${share(408)}`);
  assert.ok(Math.abs(share(200) - 0.6) < 0.07, `200 share ${share(200)}`);
});

test('rate429 answers 429 with Retry-After in seconds and records a request that comes back too early', async (t) => {
  const sink = await startSink(t, { rate429: 1, retryAfterSeconds: 1 });
  const reply = await sendEvent(sink, 'e-1');
  assert.equal(reply.status, 429);
  assert.equal(reply.headers.get('retry-after'), '1');
  assert.equal(sink.earlyRequests.length, 0);

  sink.setFaults({ rate429: 0 });
  assert.equal((await sendEvent(sink, 'e-1')).status, 200, 'the sink itself does not enforce Retry-After');
  assert.equal(sink.earlyRequests.length, 1, 'a resend at once is recorded as early');

  sink.setFaults({ rate429: 1 });
  assert.equal((await sendEvent(sink, 'e-2')).status, 429);
  assert.equal(sink.earlyRequests.length, 2, 'e-2 too came within the first Retry-After');
  await sleep(1000);
  sink.setFaults({ rate429: 0 });
  assert.equal((await sendEvent(sink, 'e-2')).status, 200);
  assert.equal(sink.earlyRequests.length, 2, 'a resend after Retry-After is not early');
  assert.equal(sink.appliedCount('store-1:pos-1:e-2'), 1);
});

test('rate429 can announce Retry-After as an HTTP date, rounded up to a whole second', async (t) => {
  const sink = await startSink(t, { rate429: 1, retryAfterSeconds: 2, retryAfterFormat: 'date' });
  const before = Date.now();
  const reply = await sendEvent(sink, 'e-1');
  assert.equal(reply.status, 429);
  const header = reply.headers.get('retry-after') ?? '';
  assert.match(header, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  const date = Date.parse(header);
  assert.ok(date >= before + 2000 && date <= Date.now() + 3000, `Retry-After ${header}`);

  sink.setFaults({ rate429: 0 });
  await sendEvent(sink, 'e-1');
  assert.equal(sink.earlyRequests.length, 1);
  assert.equal(sink.earlyRequests[0]?.notBefore, date, 'the deadline recorded is the date announced');

  sink.setFaults({ rate429: 1, retryAfterFormat: 'none' });
  assert.equal((await sendEvent(sink, 'e-2')).headers.get('retry-after'), null);
});

test('rejectWhen rejects one chosen event with 422 while others are applied; fixing the cause delivers it', async (t) => {
  const sink = await startSink(t, { rejectWhen: (event) => event['sku'] === 'BAD' });
  const rejected = await sendEvent(sink, 'e-1', { sku: 'BAD' });
  assert.equal(rejected.status, 422);
  assert.deepEqual(rejected.body['rejected'], [
    { index: 0, key: 'store-1:pos-1:e-1', message: 'rejected by the sink' },
  ]);
  assert.equal((await sendEvent(sink, 'e-2', { sku: 'GOOD' })).status, 200);
  assert.equal(
    (await sendEvent(sink, 'e-1', { sku: 'BAD' })).status,
    422,
    'rejected again while the cause stays',
  );
  assert.deepEqual(
    sink.applied.map((a) => a.key),
    ['store-1:pos-1:e-2'],
  );

  sink.setFaults({ rejectWhen: null });
  assert.equal((await sendEvent(sink, 'e-1', { sku: 'BAD' })).status, 200);
  assert.equal(sink.appliedCount('store-1:pos-1:e-1'), 1);
  assert.equal(sink.requests.byOutcome.rejected, 2);
});

test('rate422 rejects a share of keys, and the same keys again when they are resent', async (t) => {
  const sink = await startSink(t, { rate422: 0.3, seed: 3 });
  const verdicts = async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i += 1) statuses.push((await sendEvent(sink, `e-${i}`)).status);
    return statuses;
  };
  const first = await verdicts();
  const rejected = first.filter((s) => s === 422).length;
  assert.ok(rejected >= 8 && rejected <= 28, `${rejected} of 60 rejected`);
  const second = await verdicts();
  const isRejected = (status: number) => status === 422;
  assert.deepEqual(second.map(isRejected), first.map(isRejected), 'the same keys are rejected again');
  assert.equal(sink.applied.length, 60 - rejected);
  assert.equal(sink.duplicates, 60 - rejected, 'applied keys sent again are duplicates, never re-judged');
});

test('a hung request gets no answer until stop(), which releases it at once', async (t) => {
  const sink = await startSink(t, { rateHang: 1 });
  const pending = sendEvent(sink, 'e-1');
  const failure = connectionError(pending);
  await sink.waitFor((s) => s.log[0]?.outcome === 'hang', 2000);
  const raced = await Promise.race([
    pending.then(
      () => 'answered',
      () => 'failed',
    ),
    sleep(300, 'still waiting'),
  ]);
  assert.equal(raced, 'still waiting');

  const started = performance.now();
  await sink.stop();
  assert.ok((await failure).length > 0);
  assert.ok(performance.now() - started < 1000, 'stop() does not wait for hung requests');
  assert.equal(sink.applied.length, 0);
});

test('with hangMs, a hung request is cut off after that long, unapplied', async (t) => {
  const sink = await startSink(t, { rateHang: 1, hangMs: 200 });
  const started = performance.now();
  await connectionError(sendEvent(sink, 'e-1'));
  assert.ok(performance.now() - started >= 190, `cut off after ${performance.now() - started} ms`);
  assert.equal(sink.applied.length, 0);
});

test('rateReset resets the connection without an answer and without applying', async (t) => {
  const sink = await startSink(t, { rateReset: 1 });
  const code = await connectionError(sendEvent(sink, 'e-1'));
  assert.ok(['ECONNRESET', 'UND_ERR_SOCKET'].includes(code), code);
  assert.equal(sink.applied.length, 0);
  assert.equal(sink.requests.byOutcome.reset, 1);
  assert.deepEqual(sink.requests.byStatus, {});
});

test('applied-then-lost records the event as applied while the client sees only a connection error', async (t) => {
  const sink = await startSink(t, { rateAppliedThenLost: 1 });
  await connectionError(sendEvent(sink, 'e-1'));
  assert.equal(sink.appliedCount('store-1:pos-1:e-1'), 1);
  assert.equal(sink.requests.byOutcome.applied_then_lost, 1);

  // The client cannot tell, so it resends with the same key: answered as delivered, not applied twice.
  sink.setFaults({ rateAppliedThenLost: 0 });
  const resend = await sendEvent(sink, 'e-1');
  assert.equal(resend.status, 200);
  assert.equal(resend.body['status'], 'duplicate');
  assert.equal(sink.applied.length, 1);
  assert.equal(sink.duplicates, 1);
});

test('down refuses connections on the same port, and back up it answers there again with its records', async (t) => {
  const sink = await startSink(t);
  const { url, port } = sink;
  assert.equal((await sendEvent(sink, 'e-1')).status, 200);

  await sink.setDown(true);
  assert.equal(sink.isDown, true);
  assert.equal(await connectionError(sendEvent(sink, 'e-2')), 'ECONNREFUSED');
  assert.equal(await connectionError(sendEvent(sink, 'e-2')), 'ECONNREFUSED');

  await sink.setDown(false);
  assert.equal(sink.isDown, false);
  assert.equal(sink.url, url);
  assert.equal(sink.port, port);
  assert.equal((await sendEvent(sink, 'e-2')).status, 200);
  assert.deepEqual(
    sink.applied.map((a) => a.key),
    ['store-1:pos-1:e-1', 'store-1:pos-1:e-2'],
  );
  assert.equal(sink.requests.total, 2, 'refused connections never reach the sink');
});

test('going down cuts off hung and slow requests, unapplied', async (t) => {
  const sink = await startSink(t, { latencyMs: 5000 });
  const slow = connectionError(sendEvent(sink, 'e-1'));
  await sink.waitFor((s) => s.requests.total === 1, 2000);
  sink.setFaults({ latencyMs: 0, rateHang: 1 });
  const hung = connectionError(sendEvent(sink, 'e-2'));
  await sink.waitFor((s) => s.requests.byOutcome.hang === 1, 2000);

  const started = performance.now();
  await sink.setDown(true);
  await Promise.all([slow, hung]);
  assert.ok(performance.now() - started < 1000, 'neither waits for its latency or hang');
  await sink.setDown(false);
  assert.equal(sink.applied.length, 0);
  assert.equal(sink.requests.byOutcome.dropped, 1);
});

test('a sink started down refuses connections until it is brought up', async (t) => {
  const sink = await startSink(t, { down: true });
  assert.ok(sink.port > 0);
  assert.equal(await connectionError(sendEvent(sink, 'e-1')), 'ECONNREFUSED');
  await sink.setDown(false);
  assert.equal((await sendEvent(sink, 'e-1')).status, 200);
});

test('the token bucket answers 429 with Retry-After when empty and counts each violation', async (t) => {
  const sink = await startSink(t, { rateLimit: { perSecond: 2, burst: 2 } });
  const statuses = [];
  for (let i = 0; i < 4; i += 1) statuses.push(await sendEvent(sink, `e-${i}`));
  assert.deepEqual(
    statuses.map((r) => r.status),
    [200, 200, 429, 429],
  );
  assert.equal(statuses[2]?.headers.get('retry-after'), '1');
  assert.equal(sink.rateLimitViolations.length, 2);
  assert.equal(sink.earlyRequests.length, 1, 'the fourth came before the third one’s Retry-After');
  assert.equal(sink.requests.byOutcome.rate_limited, 2);

  await sleep(1000);
  assert.equal((await sendEvent(sink, 'e-2')).status, 200);
  assert.equal(sink.rateLimitViolations.length, 2);
  assert.equal(sink.earlyRequests.length, 1);
  assert.equal(sink.requestTimes.length, 5);
  assert.ok(sink.requestTimes.every((at, i, all) => i === 0 || at >= (all[i - 1] ?? 0)));
});

test('a client pacing itself within the token bucket causes no violations', async (t) => {
  const sink = await startSink(t, { rateLimit: { perSecond: 20, burst: 1 } });
  for (let i = 0; i < 6; i += 1) {
    assert.equal((await sendEvent(sink, `e-${i}`)).status, 200);
    await sleep(60);
  }
  assert.equal(sink.rateLimitViolations.length, 0);
});

test('the batch form applies each event under its own key and answers per event', async (t) => {
  const sink = await startSink(t);
  const events = [
    { idempotencyKey: 'k-1', id: 'e-1', location: 'S1', seq: 1 },
    { agentId: 'store-1', source: 'pos-1', id: 'e-2', location: 'S1', seq: 2 },
    { idempotencyKey: 'k-1', id: 'e-1', location: 'S1', seq: 1 },
  ];
  const reply = await post(sink, { events });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.body['results'], [
    { key: 'k-1', status: 'applied' },
    { key: 'store-1:pos-1:e-2', status: 'applied' },
    { key: 'k-1', status: 'duplicate' },
  ]);
  assert.deepEqual(
    sink.applied.map((a) => a.key),
    ['k-1', 'store-1:pos-1:e-2'],
  );
  assert.equal(sink.duplicates, 1);
  assert.deepEqual(sink.log[0]?.keys, ['k-1', 'store-1:pos-1:e-2', 'k-1']);
  assert.equal(batchEventKey({ id: 'e-3' }), null);
  assert.equal((await post(sink, { events: [{ id: 'e-3' }] })).status, 400, 'an event without a key');
});

test('a batch with a rejected event applies none of it and names the rejected index', async (t) => {
  const sink = await startSink(t, { rejectWhen: (event) => event['id'] === 'e-2' });
  const events = ['e-1', 'e-2', 'e-3'].map((id, i) => ({
    idempotencyKey: `k-${id}`,
    id,
    location: 'S1',
    seq: i,
  }));
  const reply = await post(sink, { events });
  assert.equal(reply.status, 422);
  assert.deepEqual(reply.body['rejected'], [{ index: 1, key: 'k-e-2', message: 'rejected by the sink' }]);
  assert.equal(sink.applied.length, 0);

  const rest = await post(sink, { events: [events[0], events[2]] });
  assert.equal(rest.status, 200);
  assert.equal(sink.applied.length, 2);
});

test('a batch of events that were all applied before gets 409 with conflictOnDuplicate', async (t) => {
  const sink = await startSink(t, { conflictOnDuplicate: true });
  const events = [{ idempotencyKey: 'k-1' }, { idempotencyKey: 'k-2' }];
  assert.equal((await post(sink, { events })).status, 200);
  assert.equal((await post(sink, { events })).status, 409);
  assert.equal((await post(sink, { events: [...events, { idempotencyKey: 'k-3' }] })).status, 200);
  assert.equal(sink.applied.length, 3);
});

test('isOrderedBy tells whether applied seq values increase within each location', async (t) => {
  const sink = await startSink(t);
  const event = (id: string, location: string, seq: number) => ({ idempotencyKey: id, id, location, seq });
  await post(sink, {
    events: [event('a', 'S1', 1), event('b', 'S2', 1), event('c', 'S1', 3), event('d', 'S2', 2)],
  });
  assert.equal(sink.isOrderedBy('seq'), true, 'interleaved locations, each in order');
  await post(sink, { events: [event('e', 'S1', 2)] });
  assert.equal(sink.isOrderedBy('seq'), false);
  assert.deepEqual(sink.orderViolations(), [{ group: 'S1', key: 'e', previous: 3, value: 2 }]);
  assert.equal(sink.isOrderedBy('seq', 'id'), true, 'grouped by another field, every group has one event');
});

test('waitFor resolves once the predicate holds and rejects when the deadline passes', async (t) => {
  const sink = await startSink(t, { latencyMs: 100 });
  const delivery = sendEvent(sink, 'e-1');
  await sink.waitFor((s) => s.applied.length === 1, 2000);
  await delivery;
  const started = performance.now();
  await assert.rejects(
    sink.waitFor((s) => s.applied.length === 2, 150),
    /not met within 150 ms/,
  );
  const waited = performance.now() - started;
  assert.ok(waited >= 140 && waited < 1000, `waited ${waited} ms`);
});

test('counters split requests by status, outcome and path; other methods get 405', async (t) => {
  const sink = await startSink(t);
  await post(sink, { id: 'a' }, { 'idempotency-key': 'k-a' }, '/one');
  await post(sink, { id: 'a' }, { 'idempotency-key': 'k-a' }, '/one');
  await post(sink, { id: 'b' }, { 'idempotency-key': 'k-b' }, '/two?x=1');
  await post(sink, 'not json', { 'idempotency-key': 'k-c' }, '/two');
  const get = await fetch(`${sink.url}/one`);
  assert.equal(get.status, 405);
  await get.text();
  assert.deepEqual(sink.requests, {
    total: 5,
    byStatus: { 200: 3, 400: 1, 405: 1 },
    byOutcome: { applied: 2, duplicate: 1, bad_request: 1, method_not_allowed: 1 },
    byPath: { '/one': 3, '/two': 2 },
  });
});

test('invalid fault settings are refused with a RangeError and change nothing', async (t) => {
  const sink = await startSink(t, { rate5xx: 0.5 });
  assert.throws(() => sink.setFaults({ rate429: 0.6 }), RangeError, 'request-level rates over 1 in sum');
  assert.throws(() => sink.setFaults({ rate422: 2 }), RangeError);
  assert.throws(() => sink.setFaults({ latencyMs: { min: 10, max: 5 } }), RangeError);
  assert.throws(() => sink.setFaults({ retryAfterSeconds: 1.5 }), RangeError);
  assert.throws(() => sink.setFaults({ rateLimit: { perSecond: 0, burst: 1 } }), RangeError);
  assert.equal(sink.faults.rate429, 0);
  assert.equal(sink.faults.rate5xx, 0.5);
  await assert.rejects(FaultSink.start({ rateHang: -0.1 }), RangeError);
});

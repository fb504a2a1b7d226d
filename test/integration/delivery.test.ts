import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Agent } from '../../src-main/agent/agent.js';
import { parseConfig } from '../../src-main/agent/config-loader.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

type Received = { key: string; body: Record<string, unknown>; at: number; signature: string; raw: string };

/** A webhook receiver that applies each idempotency key once and answers what `answer` says. */
async function receiver(
  answer: (r: Received, n: number) => { status: number; headers?: Record<string, string> },
) {
  const applied = new Map<string, Received>();
  const requests: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const r: Received = {
        key: String(req.headers['idempotency-key']),
        body: JSON.parse(raw) as Record<string, unknown>,
        at: Date.now(),
        signature: String(req.headers['x-backroom-signature']),
        raw,
      };
      requests.push(r);
      const { status, headers } = answer(r, requests.length);
      if (status >= 200 && status < 300 && !applied.has(r.key)) applied.set(r.key, r);
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return {
    url,
    applied,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function agentWith(url: string, t: { after: (fn: () => unknown) => void }): Promise<TestAgent> {
  const dir = tempDir();
  t.after(dir.cleanup);
  const agent = await startAgent(
    testConfig(dir.path, {
      destinations: [{ id: 'hq', type: 'webhook', url, secret: 'hmac-secret', requestsPerSecond: 1000 }],
      delivery: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 50, maxAgeHours: 1 },
    }),
  );
  t.after(() => agent.stop());
  return agent;
}

test('every captured event reaches the webhook once, signed, in capture order per location', async (t) => {
  const sink = await receiver(() => ({ status: 200 }));
  t.after(sink.close);
  const a = await agentWith(sink.url, t);
  const events = Array.from({ length: 40 }, (_, i) =>
    makeEvent({ id: `e${i}`, location: i % 2 ? 'S1' : 'S2' }),
  );
  await a.post({ events });
  await until(() => sink.applied.size === 40);
  assert.equal(sink.requests.length, 40);
  for (const location of ['S1', 'S2']) {
    const seqs = sink.requests.filter((r) => r.body.location === location).map((r) => r.body.seq as number);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
  }
  const first = sink.requests[0]!;
  assert.equal(first.key, `store-test:pos-1:${String(first.body.id)}`);
  assert.equal(
    first.signature,
    `sha256=${createHmac('sha256', 'hmac-secret').update(first.raw).digest('hex')}`,
  );
});

test('a rejected item becomes an exception while the rest of its lane flows', async (t) => {
  const sink = await receiver((r) => ({ status: r.body.id === 'bad' ? 422 : 200 }));
  t.after(sink.close);
  const a = await agentWith(sink.url, t);
  await a.post({ events: [makeEvent({ id: 'ok1' }), makeEvent({ id: 'bad' }), makeEvent({ id: 'ok2' })] });
  await until(() => sink.applied.size === 2);
  assert.deepEqual(
    [...sink.applied.keys()].map((k) => k.split(':').at(-1)),
    ['ok1', 'ok2'],
  );
  const open = a.agent.exceptions.list({ status: 'open', kind: 'delivery_rejected' });
  assert.equal(open.length, 1);
  assert.match(open[0]!.message, /Sale bad was not accepted by hq: HTTP 422/);
});

test('after a 429 no request is sent before Retry-After has elapsed', async (t) => {
  let throttledAt = 0;
  const sink = await receiver((_r, n) => {
    if (n === 1) {
      throttledAt = Date.now();
      return { status: 429, headers: { 'retry-after': '1' } };
    }
    return { status: 200 };
  });
  t.after(sink.close);
  const a = await agentWith(sink.url, t);
  await a.post(makeEvent({ id: 'x' }));
  await until(() => sink.applied.size === 1);
  assert.equal(sink.requests.length, 2);
  assert.ok(
    sink.requests[1]!.at - throttledAt >= 1000,
    `retried after ${sink.requests[1]!.at - throttledAt} ms`,
  );
});

test('an auth failure pauses the destination with one exception and no retry storm', async (t) => {
  const sink = await receiver(() => ({ status: 401 }));
  t.after(sink.close);
  const a = await agentWith(sink.url, t);
  await a.post({ events: [makeEvent({ id: 'a1' }), makeEvent({ id: 'a2' })] });
  await until(() => a.agent.exceptions.list({ kind: 'destination_auth_failed' }).length === 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sink.requests.length, 1);
  assert.equal(a.agent.dispatchers[0]!.state, 'paused');
});

test('an item held back in its lane names the item it waits for and that item’s error', async (t) => {
  const sink = await receiver((r) => ({ status: r.body.id === 'first' ? 503 : 200 }));
  t.after(sink.close);
  const a = await agentWith(sink.url, t);
  await a.post({ events: [makeEvent({ id: 'first' }), makeEvent({ id: 'second' })] });
  await until(() => sink.requests.length >= 2);
  // The first item is being retried, so at any moment it is either pending or in flight.
  const items = a.agent.outboxOperations
    .list({})
    .filter((i) => i.state === 'pending' || i.state === 'in_flight');
  const first = items.find((i) => i.eventId === 'first');
  const second = items.find((i) => i.eventId === 'second');
  assert.ok(first && second, 'both are still waiting');
  assert.equal(first.blockedBy, null);
  assert.equal(second.blockedBy?.id, first.id);
  assert.match(second.blockedBy?.lastError ?? '', /HTTP 503/);
  assert.equal(sink.applied.size, 0);
});

test('an item queued by a newer Backroom (unknown payload version) becomes an exception and its lane flows on', async (t) => {
  const sink = await receiver(() => ({ status: 200 }));
  t.after(sink.close);
  const dir = tempDir();
  t.after(dir.cleanup);
  const config = testConfig(dir.path, {
    destinations: [
      { id: 'hq', type: 'webhook', url: sink.url, secret: 'hmac-secret', requestsPerSecond: 1000 },
    ],
  });
  // Queue three events without delivering them, then mark the middle one as written by a newer version.
  const offline = await Agent.start({
    config: parseConfig(config, dir.path),
    logger: createLogger({ level: 'silent' }),
    isServing: false,
  });
  await offline.capture.capture(
    'pos-1',
    ['v1', 'v2', 'v3'].map((id) => makeEvent({ id })),
  );
  const v2 = offline.db.sqlite
    .prepare(`SELECT o.id FROM outbox o JOIN events e ON e.seq = o.event_seq WHERE e.event_id = 'v2'`)
    .get() as { id: number };
  offline.db.sqlite.prepare('UPDATE outbox SET payload_version = 99 WHERE id = ?').run(v2.id);
  await offline.stop();

  const a = await startAgent(config);
  t.after(() => a.stop());
  await until(() => sink.applied.size === 2);
  assert.deepEqual(
    [...sink.applied.keys()].map((k) => k.split(':').at(-1)),
    ['v1', 'v3'],
  );
  const open = a.agent.exceptions.list({ status: 'open', kind: 'delivery_rejected' });
  assert.equal(open.length, 1);
  assert.match(open[0]!.message, /queued by a newer Backroom \(payload version 99/);
  assert.equal(a.agent.outboxOperations.list({ state: 'rejected' })[0]?.id, v2.id);
});

test('a count reaches the webhook with levelsAfter: the level it left in the ledger, keeping a sale rung up after counting', async (t) => {
  const hq = await receiver(() => ({ status: 200 }));
  t.after(hq.close);
  const a = await agentWith(hq.url, t);
  const at = (id: string, type: string, qty: number, meta?: Record<string, unknown>) =>
    makeEvent({ id, type, lines: [{ sku: 'SKU-9', qty }], ...(meta ? { meta } : {}) });
  const receipt = (await a.post(at('lv-receipt', 'receipt', 10))).body.results[0] as { seq: number };
  await a.post(at('lv-sale', 'sale', 2));
  await a.post(at('lv-till-count', 'count', 7, { countedAt: { 'SKU-9': receipt.seq } }));
  await until(() => hq.applied.size === 3);
  const count = [...hq.applied.values()].find((r) => r.body['id'] === 'lv-till-count')!;
  assert.deepEqual(count.body['levelsAfter'], { 'SKU-9': 5 }, 'counted 7, 2 sold since');
  const sale = [...hq.applied.values()].find((r) => r.body['id'] === 'lv-sale')!;
  assert.equal(sale.body['levelsAfter'], undefined, 'only a count carries it');
});

// The ingest API's edges (issue 2, CONTRACT.md "Ingest API"): per-event answers, bad bodies, size limits, auth,
// health, metrics and stock. Each test runs a real agent on 127.0.0.1 with its own SQLite file, and checks what
// was stored by reading that file through a second, read-only connection.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import type { ApiError, IngestResponse, IngestResult, StockLevel } from '../../shared/api.js';
import type { ConfigInput } from '../../shared/config.js';
import { EVENT_TYPES, MAX_META_DEPTH } from '../../shared/events.js';
import { DATABASE_FILE } from '../../src-main/agent/agent.js';
import { makeEvent, startAgent, tempDir, testConfig, TOKEN, type TestAgent } from '../support/harness.js';

type Stored = { events: number; movements: number; outbox: number; exceptions: number };

/** Counts what capture writes, read from the database file by a separate read-only connection. */
function stored(dataDir: string): Stored {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    const count = (table: string) =>
      (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      events: count('events'),
      movements: count('movements'),
      outbox: count('outbox'),
      exceptions: count('exceptions'),
    };
  } finally {
    db.close();
  }
}

/** Event ids stored under `source`, in capture order. */
function storedIds(dataDir: string, source = 'pos-1'): string[] {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT event_id FROM events WHERE source = ? ORDER BY seq').all(source) as {
      event_id: string;
    }[];
    return rows.map((r) => r.event_id);
  } finally {
    db.close();
  }
}

type Raw = { status: number; contentType: string; text: string };

/** POSTs `body` to the ingest API as it is (no JSON encoding), with the headers given. */
async function rawPost(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
): Promise<Raw> {
  const response = await fetch(`${url}/api/v1/events`, { method: 'POST', headers, body });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

function errorBody(raw: Raw): ApiError {
  return JSON.parse(raw.text) as ApiError;
}

/** JSON text of objects and lists nested `depth` levels deep, alternating `{"a": ...}` and `[...]`. */
function nestedJson(depth: number): string {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < depth; i += 1) {
    open.push(i % 2 === 0 ? '{"a":' : '[');
    close.push(i % 2 === 0 ? '}' : ']');
  }
  return `${open.join('')}1${close.reverse().join('')}`;
}

/** Stands in for a deep meta until the event is turned into text (see `toJson`). */
const DEEP_MARK = '@@deep-meta@@';

/** JSON text of `event` with `metaJson` as its meta. */
function withMeta(event: Record<string, unknown>, metaJson: string): string {
  return JSON.stringify({ ...event, meta: DEEP_MARK }).replace(`"${DEEP_MARK}"`, metaJson);
}

/** JSON text of an event or body, with each `@@deep-meta@@:N` string replaced by meta nested N levels deep. */
function toJson(value: unknown): string {
  return JSON.stringify(value).replace(/"@@deep-meta@@:(\d+)"/g, (_, depth: string) =>
    nestedJson(Number(depth)),
  );
}

/** Starts an agent in a fresh temp folder; both are cleaned up after the test. */
async function agentFor(
  t: TestContext,
  overrides: Partial<ConfigInput> = {},
): Promise<{ a: TestAgent; dataDir: string }> {
  const dir = tempDir();
  t.after(dir.cleanup);
  const dataDir = join(dir.path, 'data');
  const a = await startAgent(testConfig(dataDir, overrides));
  t.after(() => a.stop());
  return { a, dataDir };
}

const NOTHING: Stored = { events: 0, movements: 0, outbox: 0, exceptions: 0 };

test('a batch is answered per event in request order, and only its valid events are stored', async (t) => {
  const { a, dataDir } = await agentFor(t);
  const first = makeEvent({ id: 'b-1', lines: [{ sku: 'SKU-1', qty: 1 }] });
  const seeded = await a.post(first);
  assert.equal(seeded.status, 200);
  assert.deepEqual(seeded.body.results, [{ id: 'b-1', status: 'accepted', seq: 1 }]);

  const res = await a.post({
    events: [
      makeEvent({ id: 'b-2', type: 'receipt', lines: [{ sku: 'SKU-2', qty: 5 }] }),
      makeEvent({ id: 'b-3', lines: [{ sku: 'SKU-1', qty: 0 }] }),
      first,
      makeEvent({ id: 'b-1', lines: [{ sku: 'SKU-1', qty: 7 }] }),
      { type: 'sale', location: 'S1' },
      makeEvent({
        id: 'b-4',
        occurredAt: '2026-02-30T10:00:00Z',
        lines: [{ sku: 'SKU-1', qty: 1, currency: 'eur' }],
      }),
      makeEvent({ id: 'b-5', type: 'return' }),
    ],
  });
  assert.equal(res.status, 200);
  const results: IngestResult[] = res.body.results;
  assert.deepEqual(
    results.map((r) => [r.id, r.status]),
    [
      ['b-2', 'accepted'],
      ['b-3', 'rejected'],
      ['b-1', 'duplicate'],
      ['b-1', 'rejected'],
      [null, 'rejected'],
      ['b-4', 'rejected'],
      ['b-5', 'accepted'],
    ],
  );
  const paths = (r: IngestResult | undefined) =>
    r?.status === 'rejected' ? r.errors.map((e) => e.path) : [];
  assert.deepEqual(paths(results[1]), ['lines.0.qty']);
  assert.deepEqual(paths(results[3]), ['id']);
  assert.match(results[3]?.status === 'rejected' ? results[3].errors[0]!.message : '', /conflict/);
  assert.deepEqual(paths(results[4]).sort(), ['id', 'lines', 'occurredAt']);
  assert.deepEqual(paths(results[5]).sort(), ['lines.0.currency', 'occurredAt']);
  for (const r of results) {
    if (r.status === 'rejected')
      for (const e of r.errors) assert.ok(e.message.length > 0, `a message for ${e.path}`);
  }
  // The duplicate names the seq of the event it repeats; accepted ones get the next seqs in request order.
  assert.deepEqual(
    results.filter((r) => r.status !== 'rejected').map((r) => ('seq' in r ? r.seq : null)),
    [2, 1, 3],
  );
  assert.deepEqual(storedIds(dataDir), ['b-1', 'b-2', 'b-5']);
  assert.equal(stored(dataDir).movements, 3);
});

test('an event whose meta nests deeper than the limit is rejected at meta, and the rest of its batch is stored', async (t) => {
  const { a, dataDir } = await agentFor(t);
  // Deep enough to overflow the stack of a recursive walk (JSON.stringify included, so the text is built by hand):
  // it must be answered per event, not fail the whole request.
  const events = [
    withMeta(makeEvent({ id: 'deep-ok' }), nestedJson(MAX_META_DEPTH)),
    withMeta(makeEvent({ id: 'deep-1' }), nestedJson(MAX_META_DEPTH + 1)),
    withMeta(makeEvent({ id: 'deep-2' }), nestedJson(20_000)),
    JSON.stringify(makeEvent({ id: 'deep-after' })),
  ];
  const res = await rawPost(a.url, `{"events":[${events.join(',')}]}`);
  assert.equal(res.status, 200, res.text);
  const { results } = JSON.parse(res.text) as IngestResponse;
  assert.deepEqual(
    results.map((r) => [r.id, r.status, r.status === 'rejected' ? r.errors.map((e) => e.path) : []]),
    [
      ['deep-ok', 'accepted', []],
      ['deep-1', 'rejected', ['meta']],
      ['deep-2', 'rejected', ['meta']],
      ['deep-after', 'accepted', []],
    ],
  );
  assert.deepEqual(storedIds(dataDir), ['deep-ok', 'deep-after']);
});

test('a body that is not JSON is answered 400 bad_json and stores nothing', async (t) => {
  const { a, dataDir } = await agentFor(t);
  for (const body of ['{"id": "x", ', 'not json at all', '{"events": [}', '']) {
    const res = await rawPost(a.url, body);
    assert.equal(res.status, 400, `status for ${JSON.stringify(body)}`);
    assert.match(res.contentType, /application\/json/);
    const error = errorBody(res);
    assert.equal(error.type, 'error');
    assert.equal(error.reason, 'bad_json', `reason for ${JSON.stringify(body)}`);
    assert.match(error.message, /JSON/);
  }
  assert.deepEqual(stored(dataDir), NOTHING);
});

test('a JSON body that is neither an event nor { events: [...] } is answered 400 bad_shape and stores nothing', async (t) => {
  const { a, dataDir } = await agentFor(t);
  const cases: [string, unknown, RegExp][] = [
    ['an array body', [makeEvent(), makeEvent()], /one event object or/],
    ['a number', 42, /one event object or/],
    ['a string', 'sale', /one event object or/],
    ['null', null, /one event object or/],
    ['events as an object', { events: { 0: makeEvent() } }, /"events" must be a list/],
    ['events as a string', { events: 'all of them' }, /"events" must be a list/],
    ['events null', { events: null }, /"events" must be a list/],
    ['an empty list', { events: [] }, /at least one event/],
  ];
  for (const [what, body, message] of cases) {
    const res = await rawPost(a.url, JSON.stringify(body));
    assert.equal(res.status, 400, `status for ${what}`);
    const error = errorBody(res);
    assert.equal(error.reason, 'bad_shape', `reason for ${what}`);
    assert.match(error.message, message, `message for ${what}`);
  }
  assert.deepEqual(stored(dataDir), NOTHING);
});

test('a batch of more than 1000 events is answered 413 and none of it is stored', async (t) => {
  const { a, dataDir } = await agentFor(t);
  const events = Array.from({ length: 1001 }, (_, i) => makeEvent({ id: `big-${i}` }));
  const res = await rawPost(a.url, JSON.stringify({ events }));
  assert.equal(res.status, 413);
  const error = errorBody(res);
  assert.equal(error.reason, 'too_large');
  assert.match(error.message, /1001 events; at most 1000/);
  assert.deepEqual(stored(dataDir), NOTHING);

  // 1000 is still taken, which shows the limit is where the contract puts it.
  const ok = await a.post({ events: events.slice(0, 1000) });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.results.filter((r) => r.status === 'accepted').length, 1000);
  assert.equal(stored(dataDir).events, 1000);
});

test('a 10 MB body is answered 413 too_large and stores nothing, with or without a content length', async (t) => {
  const { a, dataDir } = await agentFor(t);
  // A valid event whose meta makes the body 10 MB: only its size is wrong.
  const body = JSON.stringify({
    events: [makeEvent({ id: 'huge', meta: { pad: 'x'.repeat(10 * 1024 * 1024) } })],
  });
  assert.ok(body.length > 10 * 1024 * 1024);
  const sized = await rawPost(a.url, body);
  assert.equal(sized.status, 413);
  assert.equal(errorBody(sized).reason, 'too_large');
  assert.match(errorBody(sized).message, /larger than the limit/);

  // Streamed in chunks (chunked transfer encoding): the limit holds without a content-length header too.
  const bytes = new TextEncoder().encode(body);
  const chunk = 1024 * 1024;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.subarray(i, i + chunk));
      controller.close();
    },
  });
  const init = {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } satisfies RequestInit & { duplex: 'half' };
  // The agent answers 413 as soon as the limit is passed; a client still uploading may then see the connection
  // end before it reads the answer (undici does, under load). Either way nothing may be stored.
  try {
    const streamed = await fetch(`${a.url}/api/v1/events`, init);
    assert.equal(streamed.status, 413);
    assert.equal(((await streamed.json()) as ApiError).reason, 'too_large');
  } catch (error) {
    assert.match(
      String((error as Error).cause ?? error),
      /other side closed|socket|ECONNRESET|EPIPE|terminated/i,
    );
  }

  assert.deepEqual(stored(dataDir), NOTHING);
  const health = await a.get('/api/v1/health');
  assert.equal(health.body.status, 'ok');
});

test('events without a valid source token are answered 401 and nothing is stored', async (t) => {
  const { a, dataDir } = await agentFor(t);
  const body = JSON.stringify(makeEvent({ id: 'auth-1' }));
  const cases: [string, Record<string, string>][] = [
    ['no authorization header', { 'content-type': 'application/json' }],
    ['a wrong token', { authorization: 'Bearer not-the-token', 'content-type': 'application/json' }],
    ['an empty bearer', { authorization: 'Bearer ', 'content-type': 'application/json' }],
    [
      'basic auth',
      {
        authorization: `Basic ${Buffer.from(`pos-1:${TOKEN}`).toString('base64')}`,
        'content-type': 'application/json',
      },
    ],
    ['the token without "Bearer"', { authorization: TOKEN, 'content-type': 'application/json' }],
    // The local CLI's control token may read status and import, but is no POS source.
    [
      'the control token',
      { authorization: `Bearer ${a.agent.controlToken}`, 'content-type': 'application/json' },
    ],
  ];
  for (const [what, headers] of cases) {
    const res = await rawPost(a.url, body, headers);
    assert.equal(res.status, 401, `status with ${what}`);
    const error = errorBody(res);
    assert.equal(error.reason, 'unauthorized', `reason with ${what}`);
    assert.match(error.message, /token/);
  }
  // The token is checked before the body is read: a body that is also bad, or larger than the limit, is
  // refused for its missing token, and stores nothing.
  const garbage = await rawPost(a.url, 'not json', { 'content-type': 'application/json' });
  assert.equal(garbage.status, 401);
  const huge = await rawPost(a.url, 'x'.repeat(6 * 1024 * 1024), { 'content-type': 'application/json' });
  assert.equal(huge.status, 401);
  assert.deepEqual(stored(dataDir), NOTHING);
});

test('JSON sent as text/plain, or with no content type, is still accepted', async (t) => {
  const { a, dataDir } = await agentFor(t);
  const plain = await rawPost(a.url, JSON.stringify(makeEvent({ id: 'plain-1' })), {
    authorization: `Bearer ${TOKEN}`,
    'content-type': 'text/plain; charset=utf-8',
  });
  assert.equal(plain.status, 200);
  assert.deepEqual((JSON.parse(plain.text) as IngestResponse).results, [
    { id: 'plain-1', status: 'accepted', seq: 1 },
  ]);

  const bytes = new TextEncoder().encode(JSON.stringify(makeEvent({ id: 'untyped-1' })));
  const untyped = await rawPost(a.url, bytes, { authorization: `Bearer ${TOKEN}` });
  assert.equal(untyped.status, 200);
  assert.deepEqual((JSON.parse(untyped.text) as IngestResponse).results, [
    { id: 'untyped-1', status: 'accepted', seq: 2 },
  ]);
  assert.deepEqual(storedIds(dataDir), ['plain-1', 'untyped-1']);
});

test('GET /api/v1/health answers ok with the agent id and version without a token', async (t) => {
  const { a } = await agentFor(t);
  const response = await fetch(`${a.url}/api/v1/health`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.status, 'ok');
  assert.equal(body.agentId, 'store-test');
  assert.equal(typeof body.version, 'string');
  assert.match(String(body.version), /^\d+\.\d+\.\d+/);
});

test('GET /metrics needs a token and reports queue depth and oldest pending age per destination', async (t) => {
  const { a } = await agentFor(t, {
    // Nothing listens on port 1: whatever delivers these, they stay pending.
    destinations: [
      { id: 'hq', type: 'webhook', url: 'http://127.0.0.1:1/events', secret: 'hmac-secret' },
      {
        id: 'hq-receipts',
        type: 'webhook',
        url: 'http://127.0.0.1:1/receipts',
        secret: 'hmac-secret',
        eventTypes: ['receipt'],
      },
      { id: 'shop', type: 'shopify', url: 'http://127.0.0.1:1/shop', accessToken: 'shpat-test' },
    ],
  });
  const anonymous = await fetch(`${a.url}/metrics`);
  assert.equal(anonymous.status, 401);
  assert.equal(((await anonymous.json()) as ApiError).reason, 'unauthorized');

  const posted = await a.post({
    events: [
      makeEvent({ id: 'm-1', lines: [{ sku: 'SKU-1', qty: 1 }] }),
      makeEvent({
        id: 'm-2',
        lines: [
          { sku: 'SKU-1', qty: 1 },
          { sku: 'SKU-2', qty: 1 },
        ],
      }),
      makeEvent({ id: 'm-3', location: 'S2', lines: [{ sku: 'SKU-1', qty: 1 }] }),
    ],
  });
  assert.deepEqual(
    posted.body.results.map((r) => r.status),
    ['accepted', 'accepted', 'accepted'],
  );

  const metric = (text: string, name: string, destination: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{destination="${destination}"}`));
    assert.ok(line, `${name} for ${destination} in:\n${text}`);
    return Number(line.split(' ').at(-1));
  };
  const scrape = async (): Promise<string> => {
    const response = await fetch(`${a.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    return response.text();
  };
  let text = await scrape();
  // Ledger destinations: one row per routed event. Level destinations: one mark per (sku, location) touched.
  assert.equal(metric(text, 'backroom_outbox_queue_depth', 'hq'), 3);
  assert.equal(metric(text, 'backroom_outbox_queue_depth', 'hq-receipts'), 0);
  assert.equal(metric(text, 'backroom_outbox_queue_depth', 'shop'), 3);
  assert.equal(metric(text, 'backroom_outbox_oldest_pending_age_seconds', 'hq-receipts'), 0);
  // The age grows from the first pending item's capture; wait (bounded) until the clock has moved on.
  const deadline = Date.now() + 5000;
  while (metric(text, 'backroom_outbox_oldest_pending_age_seconds', 'hq') === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    text = await scrape();
  }
  for (const destination of ['hq', 'shop']) {
    const age = metric(text, 'backroom_outbox_oldest_pending_age_seconds', destination);
    assert.ok(age > 0 && age < 60, `age of ${destination} is ${age}`);
  }
  assert.match(text, /# TYPE backroom_outbox_queue_depth gauge/);
});

test('GET /api/v1/stock answers on hand, reserved and available per channel with safety stock and buffers', async (t) => {
  const { a } = await agentFor(t, {
    stock: { safetyStock: 1, safetyStockBySku: { 'SKU-B': 3 } },
    channels: [
      { id: 'web', buffer: 2 },
      { id: 'shop', buffer: 1 },
    ],
    destinations: [
      {
        id: 'shopify-main',
        type: 'shopify',
        url: 'http://127.0.0.1:1/shop',
        accessToken: 'shpat-test',
        channel: 'shop',
      },
    ],
  });
  const res = await a.post({
    events: [
      makeEvent({
        id: 's-1',
        type: 'receipt',
        lines: [
          { sku: 'SKU-A', qty: 10 },
          { sku: 'SKU-B', qty: 4 },
        ],
      }),
      makeEvent({ id: 's-2', type: 'sale', lines: [{ sku: 'SKU-A', qty: 2 }] }),
      makeEvent({ id: 's-3', type: 'receipt', location: 'S2', lines: [{ sku: 'SKU-A', qty: 1 }] }),
      makeEvent({ id: 's-4', type: 'sale', lines: [{ sku: 'SKU-C', qty: 2 }] }),
    ],
  });
  assert.deepEqual(
    res.body.results.map((r) => r.status),
    ['accepted', 'accepted', 'accepted', 'accepted'],
  );

  const level = async (query: string): Promise<StockLevel[]> => {
    const stock = await a.get(`/api/v1/stock?${query}`);
    assert.equal(stock.status, 200);
    return stock.body.levels as StockLevel[];
  };
  const [skuA] = await level('sku=SKU-A&location=S1');
  assert.deepEqual(skuA, {
    sku: 'SKU-A',
    location: 'S1',
    onHand: 8,
    reserved: 0,
    safetyStock: 1,
    available: 8,
    // on hand − reserved − safety stock − the channel's buffer
    channels: [
      { channel: 'web', buffer: 2, available: 5 },
      { channel: 'shop', buffer: 1, available: 6 },
    ],
    updatedSeq: 2,
  });
  // The per-SKU safety stock overrides the default; available never goes below 0.
  const [skuB] = await level('sku=SKU-B');
  assert.equal(skuB?.safetyStock, 3);
  assert.deepEqual(skuB?.channels, [
    { channel: 'web', buffer: 2, available: 0 },
    { channel: 'shop', buffer: 1, available: 0 },
  ]);
  const [skuC] = await level('sku=SKU-C&location=S1');
  assert.equal(skuC?.onHand, -2);
  assert.equal(skuC?.available, 0);
  assert.ok(skuC?.channels.every((c) => c.available === 0));
  // Filters: by SKU across locations, by location, and none.
  assert.deepEqual(
    (await level('sku=SKU-A')).map((l) => l.location),
    ['S1', 'S2'],
  );
  assert.deepEqual(
    (await level('location=S2')).map((l) => l.sku),
    ['SKU-A'],
  );
  assert.equal((await level('')).length, 4);
  assert.deepEqual(await level('sku=NOPE'), []);
});

test('GET /api/v1/stock answers 400 bad_shape to a bad query and 401 without a token', async (t) => {
  const { a } = await agentFor(t);
  for (const query of [
    'limit=abc',
    'limit=0',
    'limit=1.5',
    'limit=100000',
    'sku=',
    'location=',
    'sku=A&sku=B',
  ]) {
    const res = await a.get(`/api/v1/stock?${query}`);
    assert.equal(res.status, 400, `status for ${query}`);
    assert.equal(res.body.reason, 'bad_shape', `reason for ${query}`);
    assert.match(String(res.body.message), /^Bad query: (limit|sku|location):/, `message for ${query}`);
  }
  const anonymous = await fetch(`${a.url}/api/v1/stock?sku=SKU-1`);
  assert.equal(anonymous.status, 401);
});

// ---- property: random malformed input never stores anything and never crashes the server ----

/** JSON values that are not strings (for fields that must be strings). */
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({}),
);
const notANumber = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([1]),
  fc.constant({}),
);

/**
 * One change that makes a valid event invalid, whatever else the event holds. The arbitraries do not ask the
 * code under test what is valid: each breaks a rule of CONTRACT.md directly.
 */
const breakEvent: fc.Arbitrary<(e: Record<string, unknown>) => Record<string, unknown>> = fc.oneof(
  fc
    .constantFrom('id', 'type', 'location', 'occurredAt', 'lines')
    .map((key) => (e: Record<string, unknown>) => {
      const copy = { ...e };
      delete copy[key];
      return copy;
    }),
  fc
    .oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 200 }), notAString)
    .map((id) => (e: Record<string, unknown>) => ({ ...e, id })),
  fc
    .oneof(
      fc.string({ maxLength: 20 }).filter((s) => !(EVENT_TYPES as readonly string[]).includes(s)),
      notAString,
    )
    .map((type) => (e: Record<string, unknown>) => ({ ...e, type })),
  fc
    .oneof(fc.constant(''), fc.string({ minLength: 65, maxLength: 100 }), notAString)
    .map((location) => (e: Record<string, unknown>) => ({ ...e, location })),
  fc
    .oneof(
      // Anything that does not start like a date-time, a date-time without an offset, or a day that does not exist.
      fc.string({ maxLength: 30 }).filter((s) => !/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}/.test(s)),
      fc.constantFrom(
        '2026-11-24T10:15:00',
        '2026-02-30T10:00:00Z',
        '2025-02-29T00:00:00Z',
        '2026-13-01T00:00:00Z',
        '2026-11-24T24:00:00Z',
        '2026-11-24 10:15:00+01:00',
      ),
      notAString,
    )
    .map((occurredAt) => (e: Record<string, unknown>) => ({ ...e, occurredAt })),
  fc
    .oneof(fc.constant([]), fc.constant({}), fc.string({ maxLength: 5 }), fc.integer())
    .map((lines) => (e: Record<string, unknown>) => ({ ...e, lines })),
  fc
    .oneof(
      fc.record({
        sku: fc.oneof(fc.constant(''), fc.string({ minLength: 256, maxLength: 300 }), notAString),
        qty: fc.constant(1),
      }),
      fc.record({
        sku: fc.constant('SKU-1'),
        qty: fc.oneof(
          notANumber,
          fc.integer({ min: 1_000_001 }),
          fc.integer({ max: -1_000_001 }),
          fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
        ),
      }),
      fc.record({
        sku: fc.constant('SKU-1'),
        qty: fc.constant(1),
        unitPrice: fc.oneof(
          fc.double({ max: -0.001, noNaN: true, noDefaultInfinity: true }),
          fc.constantFrom('abc', '-1', '1e5', '1,5', '', '.5'),
          fc.constant(true),
        ),
      }),
      fc.record({
        sku: fc.constant('SKU-1'),
        qty: fc.constant(1),
        currency: fc.oneof(fc.constantFrom('eur', 'EU', 'EURO', '', '€€€'), notAString),
      }),
      fc.record({ qty: fc.constant(1) }),
      fc.record({ sku: fc.constant('SKU-1') }),
    )
    .chain((bad) =>
      fc.nat({ max: 2 }).map((at) => (e: Record<string, unknown>) => {
        const lines = [
          { sku: 'SKU-1', qty: 1 },
          { sku: 'SKU-2', qty: 2 },
        ];
        lines.splice(at, 0, bad as { sku: string; qty: number });
        return { ...e, type: 'sale', lines };
      }),
    ),
  // Quantities that break the rule of their type.
  fc
    .constantFrom<[string, number]>(
      ['sale', 0],
      ['sale', -1],
      ['return', 0],
      ['receipt', -5],
      ['transfer_out', 0],
      ['transfer_in', -2],
      ['adjustment', 0],
      ['count', -1],
    )
    .map(([type, qty]) => (e: Record<string, unknown>) => ({ ...e, type, lines: [{ sku: 'SKU-1', qty }] })),
  fc
    .oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.array(fc.integer(), { maxLength: 2 }), fc.boolean())
    .map((meta) => (e: Record<string, unknown>) => ({ ...e, meta })),
  // meta nested deeper than the limit (deep enough, at times, to overflow a recursive walk).
  fc
    .integer({ min: MAX_META_DEPTH + 1, max: 20_000 })
    .map((depth) => (e: Record<string, unknown>) => ({ ...e, meta: `${DEEP_MARK}:${depth}` })),
  fc
    .oneof(
      notAString.filter((v) => v !== null),
      fc.string({ minLength: 256, maxLength: 300 }),
    )
    .map((reference) => (e: Record<string, unknown>) => ({ ...e, reference })),
);

/** A valid event with random ids, SKUs, extra keys and meta, then broken once or more. */
const malformedEvent = fc
  .tuple(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.constantFrom(...EVENT_TYPES),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    fc.array(breakEvent, { minLength: 1, maxLength: 3 }),
  )
  .map(([id, type, extra, breaks]) => {
    const valid: Record<string, unknown> = {
      ...extra,
      ...makeEvent({ id: `prop:${id}`, type, lines: [{ sku: 'SKU-1', qty: 3 }] }),
    };
    return breaks.reduce((event, breakIt) => breakIt(event), valid);
  });

type Body = { kind: string; payload: string | Uint8Array; contentType: string | null };

const bodies: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 4,
    arbitrary: malformedEvent.map((e): Body => ({
      kind: 'event',
      payload: toJson(e),
      contentType: 'application/json',
    })),
  },
  {
    weight: 4,
    arbitrary: fc.array(malformedEvent, { minLength: 1, maxLength: 8 }).map((events): Body => ({
      kind: 'batch',
      payload: toJson({ events }),
      contentType: 'application/json',
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .jsonValue({ maxDepth: 4 })
      .map((v): Body => ({ kind: 'json', payload: JSON.stringify(v), contentType: 'application/json' })),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 200 })
      .map((s): Body => ({ kind: 'text', payload: s, contentType: 'text/plain' })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 300 })
      .map((b): Body => ({ kind: 'bytes', payload: b, contentType: null })),
  },
  {
    weight: 1,
    // Valid JSON prefixes cut short, and deep nesting.
    arbitrary: fc
      .oneof(
        malformedEvent.chain((e) => {
          const text = toJson(e);
          return fc.nat({ max: text.length - 1 }).map((n) => text.slice(0, n));
        }),
        fc.nat({ max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
        fc.nat({ max: 5000 }).map((depth) => `{"events":[${'{"meta":'.repeat(depth)}1${'}'.repeat(depth)}]}`),
      )
      .map((payload): Body => ({ kind: 'cut', payload, contentType: 'application/json' })),
  },
);

test('random malformed bodies and events never get a 5xx, never crash the agent and never store anything', async (t) => {
  const { a, dataDir } = await agentFor(t);
  // A valid event first, so "unchanged" is checked against a database that holds something.
  const seed = await a.post(makeEvent({ id: 'seed-1' }));
  assert.equal(seed.body.results[0]?.status, 'accepted');
  const before = stored(dataDir);

  await fc.assert(
    fc.asyncProperty(bodies, async (body) => {
      // Compared per request, so that once something is stored, shrinking still reports the body that stored it.
      const beforeThis = stored(dataDir);
      const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
      if (body.contentType !== null) headers['content-type'] = body.contentType;
      const res = await rawPost(a.url, body.payload, headers);
      assert.ok(res.status < 500, `${body.kind} body answered ${res.status}: ${res.text}`);
      if (res.status === 200) {
        const { results } = JSON.parse(res.text) as IngestResponse;
        for (const r of results) {
          assert.equal(r.status, 'rejected', `${body.kind}: ${JSON.stringify(r)}`);
          if (r.status === 'rejected')
            assert.ok(
              r.errors.length > 0 &&
                r.errors.every((e) => typeof e.path === 'string' && e.message.length > 0),
            );
        }
      } else {
        assert.ok([400, 413].includes(res.status), `${body.kind} body answered ${res.status}: ${res.text}`);
        assert.ok(['bad_json', 'bad_shape', 'too_large'].includes(errorBody(res).reason));
      }
      assert.deepEqual(stored(dataDir), beforeThis, `${body.kind} body stored something`);
    }),
    { numRuns: 150 },
  );

  assert.deepEqual(stored(dataDir), before);
  const health = await a.get('/api/v1/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  // And it still captures: the property did not leave it unable to write.
  const after = await a.post(makeEvent({ id: 'after-1' }));
  assert.equal(after.body.results[0]?.status, 'accepted');
  assert.deepEqual(storedIds(dataDir), ['seed-1', 'after-1']);
});

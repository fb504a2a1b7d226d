import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { classifyStatus, parseRetryAfter } from '../../src-main/connectors/http/classify-status.js';
import { pruneDelivered } from '../../src-main/outbox/retention.js';
import { backoffDelay, type RetryPolicy } from '../../src-main/outbox/retry-policy.js';
import { TokenBucket } from '../../src-main/outbox/token-bucket.js';
import { tempDir } from '../support/harness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

// ---- retention ----

/** A migrated database in a temp folder, closed and removed when the test ends. */
function openDatabase(t: TestContext): AgentDatabase {
  const dir = tempDir();
  const db = AgentDatabase.open(join(dir.path, 'backroom.db'));
  t.after(() => {
    db.close();
    dir.cleanup();
  });
  return db;
}

function insertEvent(db: AgentDatabase, seq: number, receivedAt: number): void {
  db.prepare(
    `INSERT INTO events (seq, source, event_id, type, location, occurred_at, received_at, body, content_hash, prev_hash, hash)
     VALUES (?, 'pos-1', ?, 'sale', 'S1', '2026-11-24T10:15:00+01:00', ?, '{}', ?, ?, ?)`,
  ).run(seq, `e${seq}`, receivedAt, `c${seq}`, `p${seq}`, `h${seq}`);
  db.prepare(
    `INSERT INTO movements (event_seq, line_no, sku, location, delta, on_hand_after) VALUES (?, 0, 'SKU-1', 'S1', -1, ?)`,
  ).run(seq, -seq);
}

function insertOutbox(
  db: AgentDatabase,
  row: { seq: number; state: string; createdAt: number; deliveredAt: number | null },
): number {
  return Number(
    db
      .prepare(
        `INSERT INTO outbox (destination_id, event_seq, location, idempotency_key, state, attempts, next_attempt_at, created_at, delivered_at)
         VALUES ('hq', ?, 'S1', ?, ?, 1, 0, ?, ?)`,
      )
      .run(row.seq, `store:pos-1:e${row.seq}`, row.state, row.createdAt, row.deliveredAt).lastInsertRowid,
  );
}

function insertAttempt(db: AgentDatabase, outboxId: number, at: number): number {
  return Number(
    db
      .prepare(
        `INSERT INTO delivery_attempts (outbox_id, destination_id, at, result, detail) VALUES (?, 'hq', ?, 'retry', NULL)`,
      )
      .run(outboxId, at).lastInsertRowid,
  );
}

const ids = (db: AgentDatabase, table: 'outbox' | 'delivery_attempts') =>
  (db.prepare(`SELECT id FROM ${table} ORDER BY id`).all() as { id: number }[]).map((r) => r.id);

const count = (db: AgentDatabase, table: string) =>
  (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

test('pruneDelivered deletes delivered outbox rows older than the age and keeps every other row', (t) => {
  const db = openDatabase(t);
  const old = NOW - 10 * DAY;
  for (let seq = 1; seq <= 8; seq += 1) insertEvent(db, seq, old);
  const oldDelivered = insertOutbox(db, { seq: 1, state: 'delivered', createdAt: old, deliveredAt: old });
  const recentDelivered = insertOutbox(db, {
    seq: 2,
    state: 'delivered',
    createdAt: old,
    deliveredAt: NOW - 6 * DAY,
  });
  // Old rows in every other state stay, however old: they still need delivery or a person.
  const kept = ['pending', 'in_flight', 'rejected', 'dead', 'discarded'].map((state, i) =>
    insertOutbox(db, { seq: 3 + i, state, createdAt: old, deliveredAt: null }),
  );

  const pruned = pruneDelivered(db, { deliveredMaxAgeMs: 7 * DAY, attemptsMaxAgeMs: 30 * DAY }, NOW);

  assert.deepEqual(pruned, { outbox: 1, attempts: 0 });
  assert.deepEqual(
    ids(db, 'outbox'),
    [recentDelivered, ...kept].sort((a, b) => a - b),
  );
  assert.ok(!ids(db, 'outbox').includes(oldDelivered));
});

test('pruneDelivered deletes delivery attempts older than their age and never an event or movement', (t) => {
  const db = openDatabase(t);
  const old = NOW - 40 * DAY;
  for (let seq = 1; seq <= 3; seq += 1) insertEvent(db, seq, old);
  const item = insertOutbox(db, { seq: 1, state: 'pending', createdAt: old, deliveredAt: null });
  insertAttempt(db, item, old);
  insertAttempt(db, item, NOW - 31 * DAY);
  const recent = insertAttempt(db, item, NOW - 29 * DAY);
  insertOutbox(db, { seq: 2, state: 'delivered', createdAt: old, deliveredAt: old });

  const pruned = pruneDelivered(db, { deliveredMaxAgeMs: 7 * DAY, attemptsMaxAgeMs: 30 * DAY }, NOW);

  assert.deepEqual(pruned, { outbox: 1, attempts: 2 });
  assert.deepEqual(ids(db, 'delivery_attempts'), [recent]);
  assert.equal(count(db, 'events'), 3, 'events are the ledger: never pruned');
  assert.equal(count(db, 'movements'), 3, 'movements are the ledger: never pruned');
});

test('pruneDelivered works through more rows than one slice', (t) => {
  const db = openDatabase(t);
  const old = NOW - 30 * DAY;
  for (let seq = 1; seq <= 23; seq += 1) {
    insertEvent(db, seq, old);
    const id = insertOutbox(db, { seq, state: 'delivered', createdAt: old, deliveredAt: old });
    insertAttempt(db, id, old);
  }
  const fresh = insertOutbox(db, { seq: 23, state: 'delivered', createdAt: NOW, deliveredAt: NOW - 1000 });

  const pruned = pruneDelivered(db, { deliveredMaxAgeMs: DAY, attemptsMaxAgeMs: DAY }, NOW, 5);

  assert.deepEqual(pruned, { outbox: 23, attempts: 23 });
  assert.deepEqual(ids(db, 'outbox'), [fresh]);
  assert.equal(count(db, 'delivery_attempts'), 0);
});

// ---- backoff ----

const POLICY: RetryPolicy = { baseDelayMs: 100, maxDelayMs: 5000, maxAttempts: 10, maxAgeMs: DAY };

test('backoffDelay spans the whole full-jitter range [0, base · 2^(attempt−1)) for the early attempts', () => {
  const lowest = () => 0;
  const highest = () => 1 - Number.EPSILON;
  for (const [attempt, ceiling] of [
    [1, 100],
    [2, 200],
    [3, 400],
    [5, 1600],
  ] as const) {
    assert.equal(backoffDelay(POLICY, attempt, lowest), 0, `attempt ${attempt} may retry at once`);
    assert.equal(
      backoffDelay(POLICY, attempt, highest),
      ceiling - 1,
      `attempt ${attempt} waits < ${ceiling}`,
    );
    assert.equal(
      backoffDelay(POLICY, attempt, () => 0.5),
      ceiling / 2,
    );
  }
});

test('backoffDelay never waits longer than the cap, however many attempts failed', () => {
  for (const attempt of [7, 8, 31, 1000, Number.MAX_SAFE_INTEGER]) {
    const delay = backoffDelay(POLICY, attempt, () => 1 - Number.EPSILON);
    assert.equal(delay, POLICY.maxDelayMs - 1, `attempt ${attempt}`);
  }
});

test('property: backoffDelay is a whole number of ms in [0, min(cap, base · 2^(attempt−1)))', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60_000 }),
      fc.integer({ min: 1, max: 600_000 }),
      fc.integer({ min: 0, max: 200 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (baseDelayMs, maxDelayMs, attempt, u) => {
        const policy = { ...POLICY, baseDelayMs, maxDelayMs };
        const delay = backoffDelay(policy, attempt, () => u);
        const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
        assert.ok(Number.isInteger(delay), `${delay} is not whole`);
        assert.ok(delay >= 0 && delay < ceiling, `${delay} outside [0, ${ceiling})`);
      },
    ),
    { numRuns: 2000 },
  );
});

// ---- token bucket ----

/** A bucket on a clock the test moves by hand. */
function bucketOnClock(ratePerSecond: number, capacity: number) {
  let now = 1_000;
  const bucket = new TokenBucket(ratePerSecond, capacity, () => now);
  return { bucket, advance: (ms: number) => (now += ms) };
}

test('a token bucket starts full and allows its capacity as a burst', () => {
  const { bucket } = bucketOnClock(2, 4);
  for (let i = 0; i < 4; i += 1) {
    assert.equal(bucket.waitTime(1), 0, `token ${i + 1}`);
    bucket.take(1);
  }
  assert.equal(bucket.waitTime(1), 500, 'the fifth token comes after 1/rate');
});

test('a token bucket refills at its rate and never above its capacity', () => {
  const { bucket, advance } = bucketOnClock(2, 4);
  bucket.take(4);
  advance(250);
  assert.equal(bucket.waitTime(1), 250);
  advance(250);
  assert.equal(bucket.waitTime(1), 0);
  advance(60_000);
  bucket.take(4);
  assert.equal(bucket.waitTime(1), 500, 'a long idle time refilled only up to the capacity');
  assert.equal(bucket.waitTime(3), 1500);
});

test('a token bucket re-sized from a response takes the new rate and trims its burst', () => {
  const { bucket, advance } = bucketOnClock(10, 10);
  bucket.adjust({ perSecond: 1 });
  assert.equal(bucket.ratePerSecond, 1);
  // The burst is now two seconds of the new rate: a third request in the same instant waits a second.
  for (let i = 0; i < 2; i += 1) {
    assert.equal(bucket.waitTime(1), 0, `token ${i + 1}`);
    bucket.take(1);
  }
  assert.equal(bucket.waitTime(1), 1000);
  advance(60_000);
  assert.equal(bucket.waitTime(2), 0);
  assert.equal(bucket.waitTime(3), 1000, 'refilled only up to the trimmed capacity of 2');
});

test('a token bucket told how many calls remain holds no more tokens than that', () => {
  const { bucket } = bucketOnClock(5, 5);
  bucket.adjust({ remaining: 0 });
  assert.equal(bucket.waitTime(1), 200);
  bucket.adjust({ remaining: 10 });
  assert.equal(bucket.waitTime(1), 200, 'remaining never adds tokens');
});

test('a paused token bucket gives no token before the pause has elapsed', () => {
  const { bucket, advance } = bucketOnClock(4, 4);
  bucket.pause(2000);
  const wait = bucket.waitTime(1);
  assert.ok(wait >= 2000 && wait <= 2000 + 250, `waits ${wait} ms`);
  advance(1999);
  assert.ok(bucket.waitTime(1) > 0, 'still paused 1 ms before the end');
  advance(wait - 1999);
  assert.equal(bucket.waitTime(1), 0);
});

// ---- Retry-After and status classes (CONTRACT.md, "Webhook destination") ----

test('parseRetryAfter reads delay-seconds', () => {
  assert.equal(parseRetryAfter('0', NOW), 0);
  assert.equal(parseRetryAfter('1', NOW), 1000);
  assert.equal(parseRetryAfter('120', NOW), 120_000);
  assert.equal(parseRetryAfter(' 30 ', NOW), 30_000);
});

test('parseRetryAfter reads an HTTP date as the time left until it, 0 once it has passed', () => {
  assert.equal(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW), 5000);
  assert.equal(parseRetryAfter('Tue, 24 Nov 2026 12:01:00 GMT', NOW), 60_000);
  assert.equal(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW), 0);
});

test('parseRetryAfter gives null for an absent or unreadable value', () => {
  for (const value of [undefined, '', '   ', 'soon', 'later, please', '-5', '-1', '0x10', '1e3', 'Infinity'])
    assert.equal(parseRetryAfter(value, NOW), null, JSON.stringify(value));
});

test('classifyStatus: 2xx is delivered and 409 is already applied', () => {
  for (const status of [200, 201, 202, 204, 299])
    assert.deepEqual(classifyStatus(status, undefined, 'x'), { kind: 'delivered' });
  assert.deepEqual(classifyStatus(409, undefined, 'x'), { kind: 'already_applied' });
});

test('classifyStatus: 408, 425, 5xx are retried later', () => {
  for (const status of [408, 425, 500, 502, 503, 504, 599])
    assert.deepEqual(classifyStatus(status, '7', `HTTP ${status}`), {
      kind: 'retry',
      detail: `HTTP ${status}`,
    });
});

test('classifyStatus: 429 is rate limited with Retry-After in seconds, as a date, or absent', () => {
  assert.deepEqual(classifyStatus(429, '3', 'HTTP 429'), {
    kind: 'rate_limited',
    retryAfterMs: 3000,
    detail: 'HTTP 429',
  });
  const dated = classifyStatus(429, new Date(Date.now() + 10_000).toUTCString(), 'HTTP 429');
  assert.equal(dated.kind, 'rate_limited');
  const ms = dated.kind === 'rate_limited' ? dated.retryAfterMs : null;
  // The date has whole seconds: it can say up to 1 s less than was meant.
  assert.ok(ms !== null && ms > 8000 && ms <= 10_000, `${ms} ms`);
  assert.deepEqual(classifyStatus(429, undefined, 'HTTP 429'), {
    kind: 'rate_limited',
    retryAfterMs: null,
    detail: 'HTTP 429',
  });
});

test('classifyStatus: 401 and 403 are auth failures', () => {
  for (const status of [401, 403])
    assert.deepEqual(classifyStatus(status, undefined, 'no'), { kind: 'auth_failed', detail: 'no' });
});

test('classifyStatus: every other 4xx is a rejection', () => {
  for (const status of [400, 402, 404, 405, 410, 413, 415, 422, 451, 499])
    assert.deepEqual(classifyStatus(status, '5', 'bad'), { kind: 'rejected', detail: 'bad' });
});

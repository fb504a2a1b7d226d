import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { migrations } from '../../migrations/index.js';
import { DATABASE_FILE } from '../../src-main/agent/agent.js';
import { GENESIS_HASH, linkHash, sha256, verifyChain } from '../../src-main/capture/hash-chain.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { FaultSink } from '../simulators/fault-sink.js';
import { startAgent, tempDir, testConfig } from '../support/harness.js';

const SECRET = 'upgrade-secret-0123456789';

/**
 * Events as Backroom at schema version 1 stored them: the canonical event JSON of that version (fixed key order
 * id, type, location, occurredAt, lines, reference), written here literally so that a later change of the
 * canonical form cannot silently rewrite the fixture.
 */
const V1_EVENTS = [
  {
    source: 'pos-1',
    body: '{"id":"r-1","type":"receipt","location":"S1","occurredAt":"2026-11-24T08:00:00+01:00","lines":[{"sku":"SKU-1","qty":10}]}',
    delta: 10,
  },
  {
    source: 'pos-1',
    body: '{"id":"s-1","type":"sale","location":"S1","occurredAt":"2026-11-24T10:15:00+01:00","lines":[{"sku":"SKU-1","qty":2,"unitPrice":"9.99","currency":"EUR"}],"reference":"R-1"}',
    delta: -2,
  },
  {
    source: 'pos-2',
    body: '{"id":"s-2","type":"sale","location":"S2","occurredAt":"2026-11-24T10:16:00+01:00","lines":[{"sku":"SKU-1","qty":1}]}',
    delta: -1,
  },
  {
    source: 'pos-1',
    body: '{"id":"s-3","type":"sale","location":"S1","occurredAt":"2026-11-24T10:17:00+01:00","lines":[{"sku":"SKU-1","qty":1}]}',
    delta: -1,
  },
] as const;

/** The outbox row of each event as version 1 left it (an agent stopped with a queue, one send cut by a crash). */
const V1_OUTBOX = [
  { state: 'delivered', attempts: 1, leaseUntil: null, lastError: null },
  { state: 'pending', attempts: 3, leaseUntil: null, lastError: 'HTTP 503' },
  { state: 'in_flight', attempts: 0, leaseUntil: Date.now() + 3600_000, lastError: null },
  { state: 'pending', attempts: 0, leaseUntil: null, lastError: null },
] as const;

test('outbox items queued by schema version 1 are all delivered after the upgrade, each once, in order per location', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const dataDir = join(dir.path, 'data');
  mkdirSync(dataDir);
  const file = join(dataDir, DATABASE_FILE);
  // Received an hour ago: the fixture must stay inside every retention window whatever today's date is (a fixed
  // day in the past let retention prune the delivered row once that day was more than `deliveredDays` behind).
  const received0 = Date.now() - 3600_000;

  const v1 = AgentDatabase.open(file, { migrations: migrations.slice(0, 1) });
  const insertEvent = v1.sqlite.prepare(
    `INSERT INTO events (seq, source, event_id, type, location, occurred_at, received_at, body, content_hash, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertMovement = v1.sqlite.prepare(
    'INSERT INTO movements (event_seq, line_no, sku, location, delta, on_hand_after) VALUES (?, 0, ?, ?, ?, ?)',
  );
  const insertOutbox = v1.sqlite.prepare(
    `INSERT INTO outbox (destination_id, event_seq, location, idempotency_key, state, attempts, next_attempt_at,
                         lease_until, last_error, created_at, delivered_at)
     VALUES ('hq', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  v1.transaction(() => {
    let prev = GENESIS_HASH;
    const onHand = new Map<string, number>();
    V1_EVENTS.forEach((e, i) => {
      const seq = i + 1;
      const parsed = JSON.parse(e.body) as { id: string; type: string; location: string; occurredAt: string };
      const receivedAt = received0 + i * 1000;
      const hash = linkHash(prev, { seq, source: e.source, receivedAt, body: e.body });
      insertEvent.run(
        seq,
        e.source,
        parsed.id,
        parsed.type,
        parsed.location,
        parsed.occurredAt,
        receivedAt,
        e.body,
        sha256(e.body),
        prev,
        hash,
      );
      prev = hash;
      const after = (onHand.get(parsed.location) ?? 0) + e.delta;
      onHand.set(parsed.location, after);
      insertMovement.run(seq, 'SKU-1', parsed.location, e.delta, after);
      const row = V1_OUTBOX[i]!;
      insertOutbox.run(
        seq,
        parsed.location,
        `store-test:${e.source}:${parsed.id}`,
        row.state,
        row.attempts,
        receivedAt,
        row.leaseUntil,
        row.lastError,
        receivedAt,
        row.state === 'delivered' ? receivedAt + 500 : null,
      );
    });
    for (const [location, qty] of onHand)
      v1.sqlite
        .prepare(
          "INSERT INTO stock_levels (sku, location, on_hand, reserved, updated_seq) VALUES ('SKU-1', ?, ?, 0, ?)",
        )
        .run(location, qty, V1_EVENTS.length);
    v1.sqlite.prepare('INSERT INTO chain_head (id, seq, hash) VALUES (1, ?, ?)').run(V1_EVENTS.length, prev);
  });
  assert.deepEqual(verifyChain(v1).problems, [], 'the version 1 fixture is a consistent database');
  v1.close();

  const sink = await FaultSink.start({ secret: SECRET });
  t.after(() => sink.stop());
  const agent = await startAgent(
    testConfig(dataDir, {
      destinations: [{ id: 'hq', type: 'webhook', url: `${sink.url}/events`, secret: SECRET }],
      delivery: { baseDelayMs: 10, maxDelayMs: 100 },
    }),
  );
  t.after(() => agent.stop());

  const expected = ['store-test:pos-1:s-1', 'store-test:pos-2:s-2', 'store-test:pos-1:s-3'];
  await sink.waitFor((s) => expected.every((k) => s.appliedCount(k) === 1), 10_000);
  assert.equal(
    sink.receivedCount('store-test:pos-1:r-1'),
    0,
    'an item delivered before the upgrade is not sent again',
  );
  assert.ok(sink.isOrderedBy(), JSON.stringify(sink.orderViolations()));
  const s1 = sink.applied.find((a) => a.key === 'store-test:pos-1:s-1')!.body;
  assert.deepEqual(s1, {
    id: 's-1',
    type: 'sale',
    location: 'S1',
    occurredAt: '2026-11-24T10:15:00+01:00',
    lines: [{ sku: 'SKU-1', qty: 2, unitPrice: '9.99', currency: 'EUR' }],
    reference: 'R-1',
    agentId: 'store-test',
    seq: 2,
  });

  const db = agent.agent.db;
  assert.deepEqual(
    (
      db.sqlite.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
        version: number;
      }[]
    ).map((r) => r.version),
    migrations.map((m) => m.version),
  );
  for (let i = 0; i < 100; i += 1) {
    const states = db.sqlite.prepare('SELECT state FROM outbox ORDER BY event_seq').all() as {
      state: string;
    }[];
    if (states.every((s) => s.state === 'delivered')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(
    db.sqlite.prepare('SELECT event_seq, state FROM outbox ORDER BY event_seq').all(),
    [1, 2, 3, 4].map((seq) => ({ event_seq: seq, state: 'delivered' })),
  );
  assert.deepEqual(verifyChain(db).problems, []);

  // And the upgraded agent goes on capturing after the old events, on the same chain.
  const more = await agent.post({
    id: 's-4',
    type: 'sale',
    location: 'S1',
    occurredAt: '2026-11-24T11:00:00+01:00',
    lines: [{ sku: 'SKU-1', qty: 1 }],
  });
  assert.deepEqual(more.body.results, [{ id: 's-4', status: 'accepted', seq: 5 }]);
  await sink.waitFor((s) => s.appliedCount('store-test:pos-1:s-4') === 1, 10_000);
  assert.deepEqual(verifyChain(db).problems, []);
});

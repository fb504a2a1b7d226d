import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { IngestResult } from '../../shared/api.js';
import type { ConfigInput } from '../../shared/config.js';
import { Agent } from '../../src-main/agent/agent.js';
import { parseConfig } from '../../src-main/agent/config-loader.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { verifyChain } from '../../src-main/capture/hash-chain.js';
import type {
  ExceptionsTable,
  LevelDirtyTable,
  MovementsTable,
  OutboxTable,
} from '../../src-main/db/schema.js';
import { makeEvent, tempDir, testConfig } from '../support/harness.js';

type Row<T> = { [K in keyof T]: T[K] extends { __select__: infer S } ? S : T[K] };
type ExceptionRow = Row<ExceptionsTable>;
type OutboxRow = Row<OutboxTable>;
type MovementRow = Row<MovementsTable>;

/**
 * Starts an agent that captures but does not serve: no HTTP server and no dispatchers, so the outbox and dirty
 * marks stay exactly as capture wrote them.
 */
function startAgent(config: ConfigInput): Promise<Agent> {
  return Agent.start({
    config: parseConfig(config, process.cwd(), {}),
    logger: createLogger({ level: 'silent' }),
    isServing: false,
  });
}

/** Starts a capturing agent on a fresh data folder; stopped and removed after the test. */
async function start(
  t: TestContext,
  overrides: (dir: string) => Partial<ConfigInput> = () => ({}),
): Promise<Agent> {
  const dir = tempDir();
  const config = testConfig(join(dir.path, 'data'), overrides(dir.path));
  const agent = await startAgent(config).catch((error: unknown) => {
    dir.cleanup();
    throw error;
  });
  t.after(async () => {
    await agent.stop();
    dir.cleanup();
  });
  return agent;
}

/** Writes a catalog CSV knowing SKU-1 and SKU-2 and returns the config block for it. */
function catalogIn(dir: string): { catalog: { path: string } } {
  const path = join(dir, 'items.csv');
  writeFileSync(path, 'sku,name,barcode\nSKU-1,Blue shirt,4006381333931\nSKU-2,Red hat,\n');
  return { catalog: { path } };
}

function all<T>(agent: Agent, sql: string, ...params: unknown[]): T[] {
  return agent.db.sqlite.prepare(sql).all(...params) as T[];
}

function count(agent: Agent, table: string): number {
  return (agent.db.sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function onHand(agent: Agent, sku: string, location = 'S1'): number | undefined {
  const row = agent.db.sqlite
    .prepare('SELECT on_hand FROM stock_levels WHERE sku = ? AND location = ?')
    .get(sku, location) as { on_hand: number } | undefined;
  return row?.on_hand;
}

function exceptions(agent: Agent, kind?: string): ExceptionRow[] {
  return kind === undefined
    ? all<ExceptionRow>(agent, 'SELECT * FROM exceptions ORDER BY id')
    : all<ExceptionRow>(agent, 'SELECT * FROM exceptions WHERE kind = ? ORDER BY id', kind);
}

/** Every row of every capture table, order-independent: what "nothing changes" compares. */
function snapshot(agent: Agent): Record<string, string[]> {
  const tables = ['events', 'chain_head', 'movements', 'stock_levels', 'outbox', 'level_dirty', 'exceptions'];
  return Object.fromEntries(
    tables.map((table) => [
      table,
      all<unknown>(agent, `SELECT * FROM ${table}`)
        .map((r) => JSON.stringify(r))
        .sort(),
    ]),
  );
}

/** Captures `events` from `source`, asserting each is accepted; returns their seqs. */
async function captureOk(agent: Agent, events: readonly unknown[], source = 'pos-1'): Promise<number[]> {
  const results = await agent.capture.capture(source, events);
  return results.map((r) => {
    assert.equal(r.status, 'accepted', JSON.stringify(r));
    return r.seq;
  });
}

const line = (sku: string, qty: number) => ({ sku, qty });

const destinations = {
  webhook: (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'webhook' as const,
    url: 'http://127.0.0.1:9/events',
    secret: 'hmac-secret',
    ...extra,
  }),
  shopify: (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'shopify' as const,
    url: 'http://127.0.0.1:9',
    accessToken: 'shpat_x',
    ...extra,
  }),
};

describe('idempotency per (source, id)', () => {
  test('the same event again is a duplicate with the original seq and changes nothing', async (t) => {
    const agent = await start(t, (dir) => ({
      ...catalogIn(dir),
      destinations: [destinations.webhook('hq'), destinations.shopify('shop')],
    }));
    const event = makeEvent({ id: 'sale-1', lines: [line('UNKNOWN-SKU', 2)], location: 'S9' });
    await captureOk(agent, [makeEvent({ id: 'first' })]);
    const [seq] = await captureOk(agent, [event]);
    const prior = snapshot(agent);
    const results = await agent.capture.capture('pos-1', [event]);
    assert.deepEqual(results, [{ id: 'sale-1', status: 'duplicate', seq }]);
    assert.deepEqual(snapshot(agent), prior);
  });

  test('the same content with keys in another order and the price as a number is still a duplicate', async (t) => {
    const agent = await start(t);
    const [seq] = await captureOk(agent, [
      makeEvent({
        id: 'e1',
        lines: [{ sku: 'A', qty: 1, unitPrice: '2.5', currency: 'EUR' }],
        meta: { a: 1, b: 2 },
      }),
    ]);
    const reordered = {
      meta: { b: 2, a: 1 },
      lines: [{ currency: 'EUR', unitPrice: 2.5, qty: 1, sku: 'A' }],
      occurredAt: '2026-11-24T10:15:00+01:00',
      location: 'S1',
      type: 'sale',
      id: 'e1',
      ignoredKey: true,
    };
    assert.deepEqual(await agent.capture.capture('pos-1', [reordered]), [
      { id: 'e1', status: 'duplicate', seq },
    ]);
    assert.equal(count(agent, 'events'), 1);
  });

  test('the same id twice in one batch is accepted once, then a duplicate', async (t) => {
    const agent = await start(t);
    const event = makeEvent({ id: 'twice', lines: [line('A', 3)] });
    const results = await agent.capture.capture('pos-1', [event, event]);
    assert.equal(results[0]!.status, 'accepted');
    assert.deepEqual(results[1], {
      id: 'twice',
      status: 'duplicate',
      seq: (results[0] as { seq: number }).seq,
    });
    assert.equal(count(agent, 'events'), 1);
    assert.equal(onHand(agent, 'A'), -3);
  });

  test('the same id with other content is rejected at path "id" as a conflict, and nothing changes', async (t) => {
    const agent = await start(t, () => ({
      destinations: [destinations.webhook('hq'), destinations.shopify('shop')],
    }));
    const [seq] = await captureOk(agent, [makeEvent({ id: 'r-1', lines: [line('A', 2)] })]);
    const prior = snapshot(agent);
    const results = await agent.capture.capture('pos-1', [makeEvent({ id: 'r-1', lines: [line('A', 5)] })]);
    assert.equal(results.length, 1);
    const [result] = results;
    assert.ok(result?.status === 'rejected', JSON.stringify(result));
    assert.equal(result.id, 'r-1');
    assert.deepEqual(
      result.errors.map((e) => e.path),
      ['id'],
    );
    assert.match(result.errors[0]!.message, /conflict/);
    assert.ok(result.errors[0]!.message.includes(`seq ${seq}`), result.errors[0]!.message);
    assert.deepEqual(snapshot(agent), prior);
  });

  test('a conflict inside one batch rejects only the second event', async (t) => {
    const agent = await start(t);
    const results = await agent.capture.capture('pos-1', [
      makeEvent({ id: 'x', lines: [line('A', 1)] }),
      makeEvent({ id: 'x', lines: [line('A', 9)] }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['accepted', 'rejected'],
    );
    assert.equal(onHand(agent, 'A'), -1);
    assert.equal(count(agent, 'events'), 1);
  });

  test('the same id from two different sources is two events', async (t) => {
    const agent = await start(t, () => ({ destinations: [destinations.webhook('hq')] }));
    const event = makeEvent({ id: 'receipt:0001', lines: [line('A', 1)] });
    const [seq1] = await captureOk(agent, [event], 'pos-1');
    const [seq2] = await captureOk(agent, [event], 'pos-2');
    assert.notEqual(seq1, seq2);
    assert.deepEqual(
      all<{ source: string; event_id: string }>(agent, 'SELECT source, event_id FROM events ORDER BY seq'),
      [
        { source: 'pos-1', event_id: 'receipt:0001' },
        { source: 'pos-2', event_id: 'receipt:0001' },
      ],
    );
    assert.equal(onHand(agent, 'A'), -2);
    assert.deepEqual(
      all<{ idempotency_key: string }>(agent, 'SELECT idempotency_key FROM outbox ORDER BY id').map(
        (r) => r.idempotency_key,
      ),
      ['store-test:pos-1:receipt:0001', 'store-test:pos-2:receipt:0001'],
    );
  });
});

describe('effect of each event type on levels', () => {
  let agent: Agent;
  let cleanup: () => void;
  before(async () => {
    const dir = tempDir();
    cleanup = dir.cleanup;
    agent = await startAgent(testConfig(join(dir.path, 'data')));
  });
  after(async () => {
    await agent.stop();
    cleanup();
  });

  /** Puts `sku` at `level` with a receipt, then captures one `type` event of `qty`; returns the new level. */
  async function apply(sku: string, level: number, type: string, qty: number): Promise<number | undefined> {
    if (level !== 0) await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line(sku, level)] })]);
    const [seq] = await captureOk(agent, [makeEvent({ type, lines: [line(sku, qty)] })]);
    const moves = all<MovementRow>(agent, 'SELECT * FROM movements WHERE event_seq = ?', seq);
    assert.equal(moves.length, 1);
    assert.equal(moves[0]!.on_hand_after, onHand(agent, sku), 'the movement records the level after it');
    const level_ = all<{ updated_seq: number }>(
      agent,
      'SELECT updated_seq FROM stock_levels WHERE sku = ? AND location = ?',
      sku,
      'S1',
    );
    assert.equal(level_[0]!.updated_seq, seq, 'the level records the event that last moved it');
    return onHand(agent, sku);
  }

  const cases: [type: string, qty: number, expected: number][] = [
    ['sale', 3, 7],
    ['return', 3, 13],
    ['receipt', 3, 13],
    ['adjustment', 3, 13],
    ['adjustment', -3, 7],
    ['transfer_out', 3, 7],
    ['transfer_in', 3, 13],
  ];
  for (const [type, qty, expected] of cases) {
    test(`a ${type} of ${qty} takes on hand from 10 to ${expected}`, async () => {
      assert.equal(await apply(`${type}${qty}`, 10, type, qty), expected);
    });
  }

  test('a sale of an item never received takes it below zero', async () => {
    assert.equal(await apply('never-received', 0, 'sale', 2), -2);
  });

  test('a count sets the level to the counted quantity by recording the difference', async () => {
    assert.equal(await apply('count-down', 10, 'count', 4), 4);
    const [move] = all<MovementRow>(
      agent,
      "SELECT * FROM movements WHERE sku = 'count-down' ORDER BY id DESC LIMIT 1",
    );
    assert.equal(move!.delta, -6);
    assert.equal(await apply('count-up', 10, 'count', 25), 25);
    const [up] = all<MovementRow>(
      agent,
      "SELECT * FROM movements WHERE sku = 'count-up' ORDER BY id DESC LIMIT 1",
    );
    assert.equal(up!.delta, 15);
  });

  test('a count of zero empties the shelf', async () => {
    assert.equal(await apply('count-zero', 10, 'count', 0), 0);
  });

  test('a count of an item never seen records the whole counted quantity', async () => {
    assert.equal(await apply('count-new', 0, 'count', 8), 8);
    const [move] = all<MovementRow>(agent, "SELECT * FROM movements WHERE sku = 'count-new'");
    assert.equal(move!.delta, 8);
  });

  test('a count after a negative level brings it up to the counted quantity', async () => {
    await captureOk(agent, [makeEvent({ type: 'sale', lines: [line('count-neg', 5)] })]);
    await captureOk(agent, [makeEvent({ type: 'count', lines: [line('count-neg', 2)] })]);
    assert.equal(onHand(agent, 'count-neg'), 2);
  });

  test('each line of an event moves its own item, with one movement per line', async () => {
    const [seq] = await captureOk(agent, [
      makeEvent({ type: 'receipt', lines: [line('multi-a', 4), line('multi-b', 6), line('multi-a', 1)] }),
    ]);
    assert.equal(onHand(agent, 'multi-a'), 5);
    assert.equal(onHand(agent, 'multi-b'), 6);
    assert.deepEqual(
      all<Pick<MovementRow, 'line_no' | 'sku' | 'delta' | 'on_hand_after'>>(
        agent,
        'SELECT line_no, sku, delta, on_hand_after FROM movements WHERE event_seq = ? ORDER BY line_no',
        seq,
      ),
      [
        { line_no: 0, sku: 'multi-a', delta: 4, on_hand_after: 4 },
        { line_no: 1, sku: 'multi-b', delta: 6, on_hand_after: 6 },
        { line_no: 2, sku: 'multi-a', delta: 1, on_hand_after: 5 },
      ],
    );
  });

  test('a count with the same item on two lines ends at the last counted quantity', async () => {
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('count-twice', 10)] })]);
    await captureOk(agent, [
      makeEvent({ type: 'count', lines: [line('count-twice', 3), line('count-twice', 7)] }),
    ]);
    assert.equal(onHand(agent, 'count-twice'), 7);
  });

  test('a transfer out of one location and into another moves stock between them', async () => {
    await captureOk(agent, [makeEvent({ type: 'receipt', location: 'S1', lines: [line('moving', 10)] })]);
    await captureOk(agent, [
      makeEvent({ type: 'transfer_out', location: 'S1', lines: [line('moving', 4)] }),
      makeEvent({ type: 'transfer_in', location: 'S2', lines: [line('moving', 4)] }),
    ]);
    assert.equal(onHand(agent, 'moving', 'S1'), 6);
    assert.equal(onHand(agent, 'moving', 'S2'), 4);
  });

  test('levels are per location: a sale at S2 leaves S1 alone', async () => {
    await captureOk(agent, [makeEvent({ type: 'receipt', location: 'S1', lines: [line('per-loc', 5)] })]);
    await captureOk(agent, [makeEvent({ type: 'sale', location: 'S2', lines: [line('per-loc', 1)] })]);
    assert.equal(onHand(agent, 'per-loc', 'S1'), 5);
    assert.equal(onHand(agent, 'per-loc', 'S2'), -1);
  });

  test('after all of the above, every level equals the sum of its movements', () => {
    const report = verifyChain(agent.db);
    assert.deepEqual(report.problems, []);
    assert.ok(report.isOk);
  });
});

describe('a batch with invalid events', () => {
  test('stores exactly the valid events, their movements, outbox rows and dirty marks', async (t) => {
    const agent = await start(t, (dir) => ({
      ...catalogIn(dir),
      destinations: [destinations.webhook('hq'), destinations.shopify('shop')],
    }));
    const batch = [
      makeEvent({ id: 'ok-1', type: 'receipt', lines: [line('SKU-1', 5)] }),
      makeEvent({ id: 'bad-qty', lines: [line('SKU-1', 0)] }),
      makeEvent({ id: 'ok-2', type: 'return', lines: [line('SKU-2', 1)] }),
      // invalid and at an unknown location with an unknown SKU: it must not raise exceptions either
      makeEvent({
        id: 'bad-date',
        location: 'S9',
        occurredAt: '2026-02-30T10:00:00Z',
        lines: [line('NOPE', 1)],
      }),
      { type: 'sale' },
      makeEvent({ id: 'ok-3', type: 'adjustment', location: 'S2', lines: [line('SKU-1', 2)] }),
    ];
    const results = await agent.capture.capture('pos-1', batch);
    assert.deepEqual(
      results.map((r) => [r.id, r.status]),
      [
        ['ok-1', 'accepted'],
        ['bad-qty', 'rejected'],
        ['ok-2', 'accepted'],
        ['bad-date', 'rejected'],
        [null, 'rejected'],
        ['ok-3', 'accepted'],
      ],
    );
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.deepEqual(
      rejected.map((r) => r.errors[0]!.path),
      ['lines.0.qty', 'occurredAt', 'id'],
    );

    const events = all<{ seq: number; event_id: string }>(
      agent,
      'SELECT seq, event_id FROM events ORDER BY seq',
    );
    assert.deepEqual(events, [
      { seq: 1, event_id: 'ok-1' },
      { seq: 2, event_id: 'ok-2' },
      { seq: 3, event_id: 'ok-3' },
    ]);
    assert.deepEqual(
      results.filter((r) => r.status === 'accepted').map((r) => r.seq),
      [1, 2, 3],
    );
    assert.deepEqual(
      all<{ event_seq: number; sku: string; delta: number }>(
        agent,
        'SELECT event_seq, sku, delta FROM movements ORDER BY id',
      ),
      [
        { event_seq: 1, sku: 'SKU-1', delta: 5 },
        { event_seq: 2, sku: 'SKU-2', delta: 1 },
        { event_seq: 3, sku: 'SKU-1', delta: 2 },
      ],
    );
    assert.deepEqual(
      all<Pick<OutboxRow, 'destination_id' | 'event_seq'>>(
        agent,
        'SELECT destination_id, event_seq FROM outbox ORDER BY id',
      ),
      [
        { destination_id: 'hq', event_seq: 1 },
        { destination_id: 'hq', event_seq: 2 },
        { destination_id: 'hq', event_seq: 3 },
      ],
    );
    assert.deepEqual(
      all<Pick<LevelDirtyTable, 'sku' | 'location'>>(
        agent,
        'SELECT sku, location FROM level_dirty ORDER BY sku, location',
      ),
      [
        { sku: 'SKU-1', location: 'S1' },
        { sku: 'SKU-1', location: 'S2' },
        { sku: 'SKU-2', location: 'S1' },
      ],
    );
    assert.equal(onHand(agent, 'NOPE', 'S9'), undefined);
    assert.deepEqual(exceptions(agent), [], 'the rejected events raised no exceptions');
    assert.ok(verifyChain(agent.db).isOk);
  });

  test('a batch of only invalid events stores nothing at all', async (t) => {
    const agent = await start(t, () => ({ destinations: [destinations.webhook('hq')] }));
    const results = await agent.capture.capture('pos-1', [
      makeEvent({ type: 'count', lines: [line('A', -1)] }),
      makeEvent({ lines: [] }),
      'not an event',
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    for (const table of ['events', 'chain_head', 'movements', 'stock_levels', 'outbox', 'exceptions'])
      assert.equal(count(agent, table), 0, table);
  });

  test('a rejected event does not use up a seq: the next accepted one follows on', async (t) => {
    const agent = await start(t);
    const [first] = await captureOk(agent, [makeEvent()]);
    await agent.capture.capture('pos-1', [makeEvent({ type: 'nope' })]);
    const [next] = await captureOk(agent, [makeEvent()]);
    assert.equal(next, first! + 1);
  });
});

describe('restart', () => {
  test('stopping and starting on the same data folder keeps everything, and seq continues', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const config = testConfig(join(dir.path, 'data'), {
      ...catalogIn(dir.path),
      destinations: [destinations.webhook('hq'), destinations.shopify('shop')],
    });
    const first = await startAgent(config);
    const original = makeEvent({ id: 'kept', type: 'receipt', lines: [line('SKU-1', 10)] });
    let seqs: number[];
    let prior: Record<string, string[]>;
    try {
      seqs = await captureOk(first, [
        original,
        makeEvent({ id: 's1', lines: [line('SKU-1', 3)] }),
        makeEvent({ id: 's2', lines: [line('GHOST', 1)] }),
        makeEvent({ id: 's3', location: 'S2', lines: [line('SKU-2', 1)] }),
      ]);
      prior = snapshot(first);
    } finally {
      await first.stop();
    }

    const second = await startAgent(config);
    t.after(() => second.stop());
    assert.deepEqual(snapshot(second), prior, 'every row survived the restart');
    assert.equal(onHand(second, 'SKU-1'), 7);
    assert.deepEqual(await second.capture.capture('pos-1', [original]), [
      { id: 'kept', status: 'duplicate', seq: seqs[0] },
    ]);
    const [next] = await captureOk(second, [makeEvent({ id: 'after-restart', lines: [line('SKU-1', 1)] })]);
    assert.equal(next, seqs.at(-1)! + 1);
    assert.equal(onHand(second, 'SKU-1'), 6);
    const report = verifyChain(second.db);
    assert.deepEqual(report.problems, []);
    assert.equal(report.lastSeq, next);
  });
});

describe('exceptions raised by capture', () => {
  test('an unknown SKU is captured and raises one open exception; repeats count up occurrences', async (t) => {
    const agent = await start(t, (dir) => catalogIn(dir));
    const [seq] = await captureOk(agent, [makeEvent({ lines: [line('SKU-404', 2)] })]);
    assert.equal(onHand(agent, 'SKU-404'), -2, 'the sale moved stock all the same');
    await captureOk(agent, [makeEvent({ lines: [line('SKU-404', 1)] })]);
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('SKU-404', 1)] })], 'pos-2');
    const rows = exceptions(agent, 'unknown_sku');
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.equal(row!.status, 'open');
    assert.equal(row!.sku, 'SKU-404');
    assert.equal(row!.location, 'S1');
    assert.equal(row!.event_seq, seq);
    assert.equal(row!.occurrences, 3);
    assert.match(row!.message, /SKU-404/);
  });

  test('a SKU in the catalog raises no exception', async (t) => {
    const agent = await start(t, (dir) => catalogIn(dir));
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('SKU-1', 2), line('SKU-2', 1)] })]);
    assert.deepEqual(exceptions(agent), []);
  });

  test('without a catalog every SKU counts as known', async (t) => {
    const agent = await start(t);
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('ANYTHING', 2)] })]);
    assert.deepEqual(exceptions(agent), []);
  });

  test('two different unknown SKUs raise one exception each', async (t) => {
    const agent = await start(t, (dir) => catalogIn(dir));
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('X-1', 1), line('X-2', 1)] })]);
    assert.deepEqual(
      exceptions(agent, 'unknown_sku').map((e) => [e.sku, e.occurrences]),
      [
        ['X-1', 1],
        ['X-2', 1],
      ],
    );
  });

  test('an unknown location is captured and raises one open exception; repeats count up occurrences', async (t) => {
    const agent = await start(t);
    const [seq] = await captureOk(agent, [
      makeEvent({ type: 'receipt', location: 'S9', lines: [line('A', 4)] }),
    ]);
    assert.equal(onHand(agent, 'A', 'S9'), 4);
    await captureOk(agent, [makeEvent({ location: 'S9', lines: [line('A', 1)] })]);
    const rows = exceptions(agent, 'unknown_location');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'open');
    assert.equal(rows[0]!.location, 'S9');
    assert.equal(rows[0]!.event_seq, seq);
    assert.equal(rows[0]!.occurrences, 2);
    assert.match(rows[0]!.message, /S9/);
    assert.deepEqual(exceptions(agent, 'unknown_sku'), []);
  });

  test('an unknown SKU at an unknown location raises one exception of each kind', async (t) => {
    const agent = await start(t, (dir) => catalogIn(dir));
    await captureOk(agent, [makeEvent({ location: 'NOWHERE', lines: [line('NOTHING', 1)] })]);
    assert.deepEqual(
      exceptions(agent)
        .map((e) => e.kind)
        .sort(),
      ['negative_stock', 'unknown_location', 'unknown_sku'],
    );
  });

  test('stock going negative raises an exception that resolves itself when a count brings it back', async (t) => {
    const agent = await start(t);
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('A', 1)] })]);
    assert.deepEqual(exceptions(agent), []);
    const [seq] = await captureOk(agent, [makeEvent({ lines: [line('A', 3)] })]);
    let rows = exceptions(agent, 'negative_stock');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'open');
    assert.equal(rows[0]!.sku, 'A');
    assert.equal(rows[0]!.location, 'S1');
    assert.equal(rows[0]!.event_seq, seq);
    assert.match(rows[0]!.message, /-2/);

    await captureOk(agent, [makeEvent({ lines: [line('A', 1)] })]);
    rows = exceptions(agent, 'negative_stock');
    assert.equal(rows.length, 1, 'going further below zero does not add another');
    assert.equal(rows[0]!.status, 'open');

    await captureOk(agent, [makeEvent({ type: 'count', lines: [line('A', 5)] })]);
    rows = exceptions(agent, 'negative_stock');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'resolved');
    assert.notEqual(rows[0]!.resolved_at, null);
    assert.ok(rows[0]!.resolution !== null && rows[0]!.resolution.length > 0);
  });

  test('a receipt that brings stock back to exactly zero resolves the negative stock exception', async (t) => {
    const agent = await start(t);
    await captureOk(agent, [makeEvent({ lines: [line('A', 2)] })]);
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('A', 1)] })]);
    assert.equal(exceptions(agent, 'negative_stock')[0]!.status, 'open', 'still at -1');
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('A', 1)] })]);
    assert.equal(exceptions(agent, 'negative_stock')[0]!.status, 'resolved');
  });

  test('going negative again after a resolution raises a new exception', async (t) => {
    const agent = await start(t);
    await captureOk(agent, [makeEvent({ lines: [line('A', 1)] })]);
    await captureOk(agent, [makeEvent({ type: 'count', lines: [line('A', 0)] })]);
    await captureOk(agent, [makeEvent({ type: 'adjustment', lines: [line('A', -1)] })]);
    assert.deepEqual(
      exceptions(agent, 'negative_stock').map((e) => e.status),
      ['resolved', 'open'],
    );
  });

  test('negative stock is tracked per (sku, location)', async (t) => {
    const agent = await start(t);
    await captureOk(agent, [makeEvent({ location: 'S1', lines: [line('A', 1)] })]);
    await captureOk(agent, [makeEvent({ location: 'S2', lines: [line('A', 1)] })]);
    await captureOk(agent, [makeEvent({ type: 'receipt', location: 'S1', lines: [line('A', 1)] })]);
    assert.deepEqual(
      exceptions(agent, 'negative_stock').map((e) => [e.location, e.status]),
      [
        ['S1', 'resolved'],
        ['S2', 'open'],
      ],
    );
  });
});

describe('outbox', () => {
  const routed = () => ({
    destinations: [
      destinations.webhook('hq'),
      destinations.webhook('sales', { eventTypes: ['sale', 'return'] }),
      {
        id: 'erp',
        type: 'tryton' as const,
        url: 'http://127.0.0.1:9',
        database: 'db',
        username: 'u',
        password: 'p',
        locations: ['S2'],
      },
      {
        id: 'bus',
        type: 'nats' as const,
        servers: ['nats://127.0.0.1:4222'],
        subject: 'stock',
        stream: 'STOCK',
        eventTypes: ['receipt' as const],
        locations: ['S1'],
      },
      destinations.shopify('shop', { locations: ['S1'] }),
      destinations.shopify('shop-all'),
    ],
  });

  test('each event gets one outbox row per ledger destination that routes it, by type and location', async (t) => {
    const agent = await start(t, routed);
    const events = [
      makeEvent({ id: 'sale-S1', type: 'sale', location: 'S1', lines: [line('A', 1), line('B', 1)] }),
      makeEvent({ id: 'receipt-S1', type: 'receipt', location: 'S1' }),
      makeEvent({ id: 'receipt-S2', type: 'receipt', location: 'S2' }),
      makeEvent({ id: 'count-S2', type: 'count', location: 'S2', lines: [line('A', 3)] }),
      makeEvent({ id: 'return-S1', type: 'return', location: 'S1' }),
      makeEvent({ id: 'adjust-S9', type: 'adjustment', location: 'S9', lines: [line('A', 2)] }),
    ];
    const seqs = await captureOk(agent, events);
    const rows = all<OutboxRow>(agent, 'SELECT * FROM outbox ORDER BY event_seq, destination_id');
    const byEvent = (seq: number) => rows.filter((r) => r.event_seq === seq).map((r) => r.destination_id);
    assert.deepEqual(seqs.map(byEvent), [
      ['hq', 'sales'],
      ['bus', 'hq'],
      ['erp', 'hq'],
      ['erp', 'hq'],
      ['hq', 'sales'],
      ['hq'],
    ]);
    for (const row of rows) {
      const event = events[seqs.indexOf(row.event_seq)]!;
      assert.equal(row.state, 'pending');
      assert.equal(row.attempts, 0);
      assert.equal(row.location, event.location);
      assert.equal(row.idempotency_key, `store-test:pos-1:${String(event.id)}`);
      assert.equal(row.lease_until, null);
      assert.equal(row.delivered_at, null);
    }
  });

  test('level destinations get dirty marks, not outbox rows; ledger destinations get no dirty marks', async (t) => {
    const agent = await start(t, routed);
    await captureOk(agent, [
      makeEvent({ type: 'receipt', location: 'S1', lines: [line('A', 5), line('B', 2)] }),
      makeEvent({ type: 'receipt', location: 'S2', lines: [line('A', 5)] }),
    ]);
    const outboxDestinations = all<{ destination_id: string }>(
      agent,
      'SELECT DISTINCT destination_id FROM outbox ORDER BY 1',
    ).map((r) => r.destination_id);
    assert.deepEqual(outboxDestinations, ['bus', 'erp', 'hq']);
    assert.deepEqual(
      all<Pick<LevelDirtyTable, 'destination_id' | 'sku' | 'location' | 'version' | 'sent_version'>>(
        agent,
        'SELECT destination_id, sku, location, version, sent_version FROM level_dirty ORDER BY 1, 2, 3',
      ),
      [
        { destination_id: 'shop', sku: 'A', location: 'S1', version: 1, sent_version: 0 },
        { destination_id: 'shop', sku: 'B', location: 'S1', version: 1, sent_version: 0 },
        { destination_id: 'shop-all', sku: 'A', location: 'S1', version: 1, sent_version: 0 },
        { destination_id: 'shop-all', sku: 'A', location: 'S2', version: 1, sent_version: 0 },
        { destination_id: 'shop-all', sku: 'B', location: 'S1', version: 1, sent_version: 0 },
      ],
    );
  });

  test('changes to one (sku, location) coalesce into one dirty mark whose version counts the changes', async (t) => {
    const agent = await start(t, () => ({ destinations: [destinations.shopify('shop')] }));
    await captureOk(agent, [makeEvent({ type: 'receipt', lines: [line('A', 10)] })]);
    const [first] = all<LevelDirtyTable>(agent, 'SELECT * FROM level_dirty');
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 4; i += 1) await captureOk(agent, [makeEvent({ lines: [line('A', 1)] })]);
    await captureOk(agent, [makeEvent({ type: 'count', lines: [line('A', 3), line('A', 2)] })]);
    const rows = all<LevelDirtyTable>(agent, 'SELECT * FROM level_dirty');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.version, 7, 'one receipt, four sales and two count lines');
    assert.equal(rows[0]!.sent_version, 0);
    assert.equal(rows[0]!.marked_at, first!.marked_at, 'marked_at keeps the oldest unsent change');
  });

  test('a duplicate or rejected event neither adds outbox rows nor bumps a dirty mark', async (t) => {
    const agent = await start(t, () => ({
      destinations: [destinations.webhook('hq'), destinations.shopify('shop')],
    }));
    const event = makeEvent({ id: 'once', lines: [line('A', 1)] });
    await captureOk(agent, [event]);
    await agent.capture.capture('pos-1', [event, makeEvent({ id: 'once', lines: [line('A', 2)] })]);
    await agent.capture.capture('pos-1', [makeEvent({ lines: [line('A', 0)] })]);
    assert.equal(count(agent, 'outbox'), 1);
    assert.deepEqual(all<{ version: number }>(agent, 'SELECT version FROM level_dirty'), [{ version: 1 }]);
  });
});

describe('concurrent captures', () => {
  test('many parallel captures get distinct, contiguous seqs and the hash chain verifies', async (t) => {
    const agent = await start(t, () => ({ destinations: [destinations.webhook('hq')] }));
    /** Request `i` of client `c`: 1 to 3 events from one of two sources at one of two locations. */
    const request = (c: number, i: number) =>
      Array.from({ length: ((c + i) % 3) + 1 }, (_, j) =>
        makeEvent({
          id: `c${c}-${i}-${j}`,
          type: j === 0 ? 'receipt' : 'sale',
          location: (c + i) % 4 < 2 ? 'S1' : 'S2',
          lines: [line(`SKU-${(c * 31 + i) % 7}`, j + 1)],
        }),
      );
    const source = (c: number) => (c % 2 === 0 ? 'pos-1' : 'pos-2');
    // 100 requests fired at once, and 8 clients that each send 25 requests one after the other, so requests
    // arrive both together and while earlier commits are under way.
    const burst = Array.from({ length: 100 }, (_, i) =>
      agent.capture.capture(source(i), request(100 + i, 0)),
    );
    const clients = Array.from({ length: 8 }, async (_, c) => {
      const results: IngestResult[] = [];
      for (let i = 0; i < 25; i += 1)
        results.push(...(await agent.capture.capture(source(c), request(c, i))));
      return results;
    });
    const results = [...(await Promise.all(burst)), ...(await Promise.all(clients))].flat();
    const total =
      Array.from({ length: 100 }, (_, i) => request(100 + i, 0).length).reduce((x, y) => x + y, 0) +
      Array.from({ length: 8 * 25 }, (_, k) => request(Math.floor(k / 25), k % 25).length).reduce(
        (x, y) => x + y,
        0,
      );
    assert.equal(results.length, total);
    assert.ok(
      results.every((r) => r.status === 'accepted'),
      JSON.stringify(results.find((r) => r.status !== 'accepted')),
    );
    const seqs = results.map((r) => (r as { seq: number }).seq).sort((x, y) => x - y);
    assert.deepEqual(
      seqs,
      Array.from({ length: total }, (_, i) => i + 1),
    );
    assert.equal(count(agent, 'events'), total);
    assert.equal(count(agent, 'outbox'), total);
    const report = verifyChain(agent.db);
    assert.deepEqual(report.problems, []);
    assert.equal(report.lastSeq, total);
  });

  test('the same event sent by many parallel calls is accepted once, every other answer a duplicate of it', async (t) => {
    const agent = await start(t);
    const event = makeEvent({ id: 'hot', lines: [line('A', 1)] });
    const results = (
      await Promise.all(Array.from({ length: 50 }, () => agent.capture.capture('pos-1', [event])))
    ).flat();
    const accepted = results.filter((r) => r.status === 'accepted');
    assert.equal(accepted.length, 1);
    const seq = accepted[0]!.seq;
    assert.ok(results.every((r) => r.status !== 'rejected' && r.seq === seq));
    assert.equal(onHand(agent, 'A'), -1);
  });
});

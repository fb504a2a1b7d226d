import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import type { PosEvent } from '../../shared/events.js';
import { trytonDateSchema } from '../../src-main/connectors/tryton/tryton-rpc.js';
import { RECONCILE_SOURCE } from '../../src-main/reconcile/reconciler.js';
import { FaultSink } from '../simulators/fault-sink.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import {
  figures,
  MANAGER,
  OPERATORS,
  operatorApi,
  until,
  type OperatorApi,
} from '../support/reconcile-support.js';
import { missingBinary } from '../support/require-binary.js';
import { startTrytonServer, trytonOnHand, type TrytonServer } from '../support/tryton-server.js';

/*
 * Reconciliation of an ERP against a real trytond (seeded template, one server for the file): Tryton's on hand
 * per product and storage location read back and compared with the ledger after delivery, after stock moves
 * posted in Tryton directly, and after adopting Tryton's level. A webhook destination beside it is the other
 * ledger destination an adoption must reach. The tests run in order, each from where the last left off.
 */

const skip = missingBinary('trytond');
const ERP = 'erp';
const HQ = 'hq';
const SECRET = 'reconcile-hq-secret-0123456789';
const idSchema = z.number().int();

describe('reconciliation with Tryton', { skip }, () => {
  let server: TrytonServer;
  let sink: FaultSink;
  let agent: TestAgent;
  let api: OperatorApi;
  const cleanups: (() => unknown)[] = [];

  before(async () => {
    server = await startTrytonServer();
    cleanups.push(() => server.stop());
    sink = await FaultSink.start({ secret: SECRET });
    cleanups.push(() => sink.stop());
    const dir = tempDir('backroom-reconcile-tryton-');
    cleanups.push(dir.cleanup);
    agent = await startAgent(
      testConfig(dir.path, {
        operators: OPERATORS,
        destinations: [
          {
            id: ERP,
            type: 'tryton',
            url: server.url,
            database: server.database,
            username: server.username,
            password: server.password,
            customerParty: 'WALKIN',
            supplierParty: 'SUPPLIER',
          },
          { id: HQ, type: 'webhook', url: `${sink.url}/events`, secret: SECRET },
        ],
        delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 100, maxAgeHours: 1 },
        reconcile: { everyMinutes: 0 },
      }),
    );
    cleanups.push(() => agent.stop());
    api = operatorApi(agent.url);
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const db = () => agent.agent.db.sqlite;
  const onHand = (sku: string, location: string) =>
    agent.agent.stock.levels({ sku, location })[0]?.onHand ?? 0;

  async function capture(events: Record<string, unknown>[]): Promise<void> {
    const { status, body } = await agent.post({ events: events.map((e) => makeEvent(e)) });
    assert.equal(status, 200);
    assert.ok(
      body.results.every((r) => r.status === 'accepted'),
      JSON.stringify(body.results),
    );
  }

  /** Resolves once every event queued for Tryton is delivered. */
  async function delivered(): Promise<void> {
    const rows = () =>
      db()
        .prepare(
          `SELECT state, last_error AS error FROM outbox WHERE destination_id = ? AND state != 'delivered'`,
        )
        .all(ERP) as { state: string; error: string | null }[];
    await until(
      'every event to reach Tryton',
      () => rows().length === 0,
      120_000,
      () => JSON.stringify(rows()),
    );
  }

  /** Tryton's on hand of a seeded product at S1 or S2, read without the connector. */
  async function trytonLevel(sku: string, location: 'S1' | 'S2'): Promise<number> {
    const product = server.seed.products[sku]!;
    return (await trytonOnHand(server.rpc, server.seed.storage[location], [product])).get(product) ?? 0;
  }

  /**
   * Posts a stock move in Tryton directly, as someone working in the ERP would: `qty` > 0 comes into the store's
   * storage from lost and found, < 0 goes out to it; the move is done at once (today).
   */
  async function postMoveInTryton(sku: string, location: 'S1' | 'S2', qty: number): Promise<void> {
    const options = { signal: AbortSignal.timeout(30_000), isWrite: true };
    const read = { ...options, isWrite: false };
    const [lostFound] = await server.rpc.call(
      z.array(idSchema),
      'stock.location',
      'search',
      [[['type', '=', 'lost_found']], 0, 1, null],
      read,
    );
    const product = server.seed.products[sku]!;
    const [uom] = await server.rpc.call(
      z.array(z.object({ default_uom: idSchema })),
      'product.product',
      'read',
      [[product], ['default_uom']],
      read,
    );
    const storage = server.seed.storage[location];
    const today = await server.rpc.call(trytonDateSchema, 'ir.date', 'today', [], read);
    const moves = await server.rpc.call(
      z.array(idSchema),
      'stock.move',
      'create',
      [
        [
          {
            product,
            uom: uom!.default_uom,
            quantity: Math.abs(qty),
            from_location: qty > 0 ? lostFound : storage,
            to_location: qty > 0 ? storage : lostFound,
            company: server.seed.company,
            planned_date: today,
            effective_date: today,
          },
        ],
      ],
      options,
    );
    await server.rpc.call(z.unknown(), 'stock.move', 'do', [moves], options);
  }

  test('in_sync: once the captured movements are delivered, Tryton’s on hand per product and storage location equals the ledger’s', async () => {
    await capture([
      {
        id: 'r1',
        type: 'receipt',
        location: 'S1',
        lines: [
          { sku: 'SKU-1', qty: 10 },
          { sku: 'SKU-2', qty: 6 },
        ],
      },
      { id: 's1', type: 'sale', location: 'S1', lines: [{ sku: 'SKU-1', qty: 2 }] },
      { id: 'r2', type: 'receipt', location: 'S2', lines: [{ sku: 'SKU-3', qty: 4 }] },
    ]);
    await delivered();
    const report = await api.run(ERP);
    assert.equal(report.measures, 'on_hand');
    const byItem = Object.fromEntries(report.rows.map((r) => [`${r.sku}@${r.location}`, figures(r)]));
    assert.deepEqual(byItem, {
      'SKU-1@S1': { cause: 'in_sync', expected: 8, expectedNow: 8, remote: 8, drift: 0 },
      'SKU-2@S1': { cause: 'in_sync', expected: 6, expectedNow: 6, remote: 6, drift: 0 },
      'SKU-3@S2': { cause: 'in_sync', expected: 4, expectedNow: 4, remote: 4, drift: 0 },
    });
    assert.equal(await trytonLevel('SKU-1', 'S1'), 8, 'read independently of the connector');
    assert.deepEqual(report.summary, { items: 3, inSync: 3, drifting: 0, pending: 0, unknown: 0 });
  });

  test('remote_higher and remote_lower: stock moves posted in Tryton directly show as more or fewer there', async () => {
    await postMoveInTryton('SKU-1', 'S1', 3);
    await postMoveInTryton('SKU-3', 'S2', -1);
    assert.equal(await trytonLevel('SKU-1', 'S1'), 11);
    const higher = await api.row(ERP, 'SKU-1', 'S1');
    assert.deepEqual(figures(higher), {
      cause: 'remote_higher',
      expected: 8,
      expectedNow: 8,
      remote: 11,
      drift: 3,
    });
    assert.deepEqual(
      higher.fixes,
      ['accept_remote', 'ignore'],
      'an ERP takes movements: nothing to republish',
    );
    assert.match(higher.explanation, /erp holds 3 more than Backroom's ledger/);
    const lower = await api.row(ERP, 'SKU-3', 'S2');
    assert.deepEqual(figures(lower), {
      cause: 'remote_lower',
      expected: 4,
      expectedNow: 4,
      remote: 3,
      drift: -1,
    });
    assert.match(lower.explanation, /erp holds 1 fewer/);
    // Republishing has no meaning for an ERP: refused, nothing changed.
    const republish = await api.call('reconcile.fix', {
      destination: ERP,
      sku: 'SKU-1',
      location: 'S1',
      action: 'republish',
      reason: 'push it',
    });
    assert.equal(republish.status, 400, JSON.stringify(republish.body));
    assert.match(String(republish.body['message']), /receives movements, not levels/);
  });

  test('accept_remote: an adjustment from backroom:reconcile brings local on hand to Tryton’s; it goes to the webhook, never back to Tryton; audited', async () => {
    const reason = 'a receipt was booked in the ERP only';
    const detail = await api.fix({
      destination: ERP,
      sku: 'SKU-1',
      location: 'S1',
      action: 'accept_remote',
      reason,
    });
    assert.match(detail, /adjustment of \+3 for SKU-1 at S1/);
    assert.equal(onHand('SKU-1', 'S1'), 11);
    const events = (
      db().prepare('SELECT seq, body FROM events WHERE source = ?').all(RECONCILE_SOURCE) as {
        seq: number;
        body: string;
      }[]
    ).map((r) => ({ seq: r.seq, event: JSON.parse(r.body) as PosEvent }));
    assert.equal(events.length, 1);
    const [{ seq, event }] = events as [(typeof events)[number]];
    assert.equal(event.type, 'adjustment');
    assert.deepEqual(
      event.lines.map((l) => [l.sku, l.qty]),
      [['SKU-1', 3]],
    );
    assert.equal(event.meta?.['adoptedFrom'], ERP);
    assert.equal(event.meta?.['remote'], 11);
    const queued = (
      db().prepare('SELECT destination_id AS d FROM outbox WHERE event_seq = ?').all(seq) as { d: string }[]
    ).map((r) => r.d);
    assert.deepEqual(queued, [HQ], 'queued for the webhook only, not back to Tryton');
    await until('the webhook to receive the adjustment', () =>
      sink.applied.some((a) => JSON.stringify(a.body).includes(event.id)),
    );
    await delivered();
    assert.equal(await trytonLevel('SKU-1', 'S1'), 11, 'Tryton was not moved a second time');
    assert.deepEqual(figures(await api.row(ERP, 'SKU-1', 'S1')), {
      cause: 'in_sync',
      expected: 11,
      expectedNow: 11,
      remote: 11,
      drift: 0,
    });
    const [entry] = await api.audit('reconcile.accept_remote');
    assert.equal(entry?.operator, MANAGER.name);
    assert.equal(entry?.reason, reason);
    assert.deepEqual(JSON.parse(entry?.after ?? 'null'), { adjustment: 3, eventSeq: seq });

    // Later movements of the adopted item reach Tryton as usual, from the adopted level.
    await capture([{ id: 's2', type: 'sale', location: 'S1', lines: [{ sku: 'SKU-1', qty: 1 }] }]);
    await delivered();
    assert.equal(await trytonLevel('SKU-1', 'S1'), 10);
    assert.equal((await api.row(ERP, 'SKU-1', 'S1')).cause, 'in_sync');
  });

  test('a movement Tryton refused is still queued for it: the run explains the difference by the queue; discarded, it is drift', async () => {
    await capture([{ id: 's-svc', type: 'sale', location: 'S1', lines: [{ sku: 'SKU-SVC', qty: 1 }] }]);
    const outboxRow = () =>
      db()
        .prepare(
          `SELECT o.id, o.state FROM outbox o JOIN events e ON e.seq = o.event_seq
           WHERE o.destination_id = ? AND e.event_id = 's-svc'`,
        )
        .get(ERP) as { id: number; state: string } | undefined;
    await until('Tryton to refuse the sale of a service', () => outboxRow()?.state === 'rejected');
    const queued = await api.row(ERP, 'SKU-SVC', 'S1');
    assert.deepEqual(figures(queued), {
      cause: 'in_sync',
      expected: -1,
      expectedNow: 0,
      remote: 0,
      drift: 0,
    });
    assert.equal(queued.explanation, 'Matches, with 1 still queued for erp.');
    const discarded = await api.call('outbox.discard', {
      ids: [outboxRow()!.id],
      reason: 'not a stock item',
    });
    assert.equal(discarded.status, 200, JSON.stringify(discarded.body));
    const drift = await api.row(ERP, 'SKU-SVC', 'S1');
    assert.deepEqual(figures(drift), {
      cause: 'remote_higher',
      expected: -1,
      expectedNow: -1,
      remote: 0,
      drift: 1,
    });
  });

  test('not_mapped: a SKU Tryton has no product for has no remote level', async () => {
    await capture([{ id: 'r3', type: 'receipt', location: 'S1', lines: [{ sku: 'SKU-UNKNOWN', qty: 2 }] }]);
    const row = await api.row(ERP, 'SKU-UNKNOWN', 'S1');
    assert.deepEqual(figures(row), {
      cause: 'not_mapped',
      expected: 2,
      expectedNow: 0,
      remote: null,
      drift: null,
    });
    assert.deepEqual(row.fixes, ['ignore']);
  });
});

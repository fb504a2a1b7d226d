import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Agent as HttpAgent } from 'undici';
import { z } from 'zod';
import type { ConfigInput } from '../../shared/config.js';
import { trytonDateSchema, type TrytonRpc } from '../../src-main/connectors/tryton/tryton-rpc.js';
import { AgentLives } from '../support/agent-lives.js';
import { makeEvent, startAgent, tempDir, testConfig, TOKEN, writeConfig } from '../support/harness.js';
import { missingBinary } from '../support/require-binary.js';
import { seededRandom } from '../support/seeded-random.js';
import {
  shipmentsByReference,
  startTrytonServer,
  TRYTON_GOODS,
  trytonOnHand,
  type TrytonServer,
} from '../support/tryton-server.js';

/*
 * The `sales` posting mode of the Tryton connector against a real trytond 6.0 (stock, sale and accounting set up
 * in the harness's template): each POS sale or return becomes one Tryton sale, processed, its shipment done and
 * its invoice made.
 */

const skip = missingBinary('trytond');
const DESTINATION = 'erp';
const LOCATIONS = ['S1', 'S2'] as const;

function salesDestination(server: TrytonServer) {
  return {
    id: DESTINATION,
    type: 'tryton' as const,
    url: server.url,
    database: server.database,
    username: server.username,
    password: server.password,
    customerParty: 'WALKIN',
    supplierParty: 'SUPPLIER',
    postingMode: 'sales' as const,
  };
}

function agentConfig(dataDir: string, server: TrytonServer): ConfigInput {
  return testConfig(dataDir, {
    destinations: [salesDestination(server)] as ConfigInput['destinations'],
    delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 100, maxAgeHours: 1 },
  });
}

/** `YYYY-MM-DD` of today plus `days` (UTC, as the harness's Tryton company runs in UTC). */
function day(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

async function until(what: string, predicate: () => boolean, timeoutMs: number, detail = () => '') {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what} ${detail()}`.trim());
    await sleep(100);
  }
}

type OutboxRow = { state: string; key: string; eventId: string; lastError: string | null };

function outboxOf(db: BetterSqlite3.Database): OutboxRow[] {
  return db
    .prepare(
      `SELECT o.state, o.idempotency_key AS key, e.event_id AS eventId, o.last_error AS lastError
       FROM outbox o JOIN events e ON e.seq = o.event_seq WHERE o.destination_id = ? ORDER BY o.id`,
    )
    .all(DESTINATION) as OutboxRow[];
}

const undelivered = (db: BetterSqlite3.Database) =>
  outboxOf(db)
    .filter((r) => r.state !== 'delivered')
    .slice(0, 5)
    .map((r) => `${r.eventId} ${r.state} ${r.lastError ?? ''}`)
    .join('; ');

type TrytonSale = {
  id: number;
  reference: string;
  state: string;
  day: string;
  warehouse: number;
  invoices: number[];
  shipments: number[];
  returns: number[];
  /** Per product id: quantity and amount (quantity × unit price, in cents). */
  lines: { product: number; quantity: number; cents: number }[];
};

/** Every sale whose reference starts with `prefix`, with its lines, read independently of the connector. */
async function salesByReference(rpc: TrytonRpc, prefix: string): Promise<TrytonSale[]> {
  const options = { signal: AbortSignal.timeout(30_000), isWrite: false };
  const sales = await rpc.call(
    z.array(
      z.object({
        id: z.number(),
        reference: z.string(),
        state: z.string(),
        sale_date: trytonDateSchema,
        warehouse: z.number(),
        invoices: z.array(z.number()),
        shipments: z.array(z.number()),
        shipment_returns: z.array(z.number()),
        lines: z.array(z.number()),
      }),
    ),
    'sale.sale',
    'search_read',
    [
      [['reference', 'like', `${prefix}%`]],
      0,
      null,
      null,
      ['reference', 'state', 'sale_date', 'warehouse', 'invoices', 'shipments', 'shipment_returns', 'lines'],
    ],
    options,
  );
  const lines = await rpc.call(
    z.array(
      z.object({
        id: z.number(),
        sale: z.number(),
        product: z.number(),
        quantity: z.number(),
        unit_price: z.object({ decimal: z.string() }),
      }),
    ),
    'sale.line',
    'read',
    [sales.flatMap((s) => s.lines), ['sale', 'product', 'quantity', 'unit_price']],
    options,
  );
  const pad = (n: number) => String(n).padStart(2, '0');
  return sales.map((s) => ({
    id: s.id,
    reference: s.reference,
    state: s.state,
    day: `${s.sale_date.year}-${pad(s.sale_date.month)}-${pad(s.sale_date.day)}`,
    warehouse: s.warehouse,
    invoices: s.invoices,
    shipments: s.shipments,
    returns: s.shipment_returns,
    lines: lines
      .filter((l) => l.sale === s.id)
      .map((l) => ({
        product: l.product,
        quantity: l.quantity,
        cents: Math.round(l.quantity * Number(l.unit_price.decimal) * 100),
      })),
  }));
}

/** The warehouse id of each seeded location code. */
async function warehouses(server: TrytonServer): Promise<Map<number, string>> {
  const rows = await server.rpc.call(
    z.array(z.object({ id: z.number(), code: z.string() })),
    'stock.location',
    'search_read',
    [[['code', 'in', ['WH-S1', 'WH-S2']]], 0, null, null, ['code']],
    { signal: AbortSignal.timeout(30_000), isWrite: false },
  );
  return new Map(rows.map((r) => [r.id, r.code.replace('WH-', '')]));
}

type Line = { sku: string; qty: number; unitPrice?: string; currency?: string };

/** Sums per `day|location|sku`: units (returns negative) and value in cents. */
function eventSums(
  events: readonly Record<string, unknown>[],
): Map<string, { units: number; cents: number }> {
  const sums = new Map<string, { units: number; cents: number }>();
  for (const event of events) {
    if (event.type !== 'sale' && event.type !== 'return') continue;
    const sign = event.type === 'return' ? -1 : 1;
    for (const line of event.lines as Line[]) {
      const key = `${String(event.occurredAt).slice(0, 10)}|${String(event.location)}|${line.sku}`;
      const sum = sums.get(key) ?? { units: 0, cents: 0 };
      sum.units += sign * line.qty;
      sum.cents += Math.round(sign * line.qty * Number(line.unitPrice) * 100);
      sums.set(key, sum);
    }
  }
  return sums;
}

/** The same sums read from Tryton's sales. */
function trytonSums(
  sales: readonly TrytonSale[],
  server: TrytonServer,
  warehouseCodes: ReadonlyMap<number, string>,
): Map<string, { units: number; cents: number }> {
  const skuOf = new Map(Object.entries(server.seed.products).map(([sku, id]) => [id, sku]));
  const sums = new Map<string, { units: number; cents: number }>();
  for (const sale of sales)
    for (const line of sale.lines) {
      const key = `${sale.day}|${warehouseCodes.get(sale.warehouse)}|${skuOf.get(line.product)}`;
      const sum = sums.get(key) ?? { units: 0, cents: 0 };
      sum.units += line.quantity;
      sum.cents += line.cents;
      sums.set(key, sum);
    }
  return sums;
}

const sorted = <V>(map: ReadonlyMap<string, V>) => Object.fromEntries([...map].sort());

/** The state and effective day (`YYYY-MM-DD`) of each shipment. */
async function shipmentStates(rpc: TrytonRpc, model: string, ids: number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await rpc.call(
    z.array(z.object({ state: z.string(), effective_date: trytonDateSchema.nullable() })),
    model,
    'read',
    [ids, ['state', 'effective_date']],
    { signal: AbortSignal.timeout(30_000), isWrite: false },
  );
  const pad = (n: number) => String(n).padStart(2, '0');
  return rows.map(
    (r) =>
      `${r.state} ${r.effective_date === null ? '-' : `${r.effective_date.year}-${pad(r.effective_date.month)}-${pad(r.effective_date.day)}`}`,
  );
}

/** A store's days of sales and returns at S1 and S2 over two days, with receipts first. */
function salesDays(random: () => number, count: number): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const location of LOCATIONS)
    events.push(
      makeEvent({
        id: `receipt-${location}`,
        type: 'receipt',
        location,
        occurredAt: `${day(-2)}T08:00:00+00:00`,
        lines: TRYTON_GOODS.map((sku) => ({ sku, qty: 50 })),
      }),
    );
  for (let i = 0; i < count; i += 1) {
    const location = LOCATIONS[i % 2]!;
    const type = random() < 0.2 ? 'return' : 'sale';
    const lines = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
      sku: TRYTON_GOODS[Math.floor(random() * TRYTON_GOODS.length)]!,
      qty: 1 + Math.floor(random() * 3),
      unitPrice: (1 + Math.floor(random() * 2000) / 100).toFixed(2),
      currency: 'EUR',
    }));
    const hour = String(9 + (Math.floor(i / 4) % 10)).padStart(2, '0');
    events.push(
      makeEvent({
        id: `${type}-${String(i).padStart(3, '0')}`,
        type,
        location,
        occurredAt: `${day(i < count / 2 ? -2 : -1)}T${hour}:15:00+00:00`,
        lines,
        reference: `R-${i}`,
      }),
    );
  }
  return events;
}

test(
  'sales mode: each POS sale and return is one Tryton sale, processed with its shipment done and its invoice made; totals per day, location and item equal the events’ sums',
  { skip, timeout: 300_000 },
  async (t) => {
    const server = await startTrytonServer();
    t.after(() => server.stop());
    const dir = tempDir('backroom-tryton-sales-');
    t.after(dir.cleanup);
    const a = await startAgent(agentConfig(dir.path, server));
    t.after(() => a.stop());
    const db = a.agent.db.sqlite;
    const events = salesDays(seededRandom(14), 40);
    assert.equal((await a.post({ events })).status, 200);
    await until(
      'every event is delivered',
      () => {
        const rows = outboxOf(db);
        return rows.length === events.length && rows.every((r) => r.state === 'delivered');
      },
      120_000,
      () => undelivered(db),
    );

    const sales = await salesByReference(server.rpc, 'store-test:');
    const saleEvents = events.filter((e) => e.type === 'sale' || e.type === 'return');
    assert.equal(sales.length, saleEvents.length, 'one Tryton sale per POS sale or return');
    assert.equal(new Set(sales.map((s) => s.reference)).size, sales.length, 'no reference twice');
    assert.deepEqual(
      sorted(trytonSums(sales, server, await warehouses(server))),
      sorted(eventSums(events)),
      'units and value per day, location and SKU equal the events’ sums',
    );
    for (const sale of sales) {
      assert.equal(
        sale.state,
        'processing',
        `${sale.reference} is processed (its invoice waits for payment)`,
      );
      assert.equal(sale.invoices.length, 1, `${sale.reference} has its invoice`);
      assert.deepEqual(
        [
          ...(await shipmentStates(server.rpc, 'stock.shipment.out', sale.shipments)),
          ...(await shipmentStates(server.rpc, 'stock.shipment.out.return', sale.returns)),
        ],
        [`done ${sale.day}`],
        `${sale.reference} has one shipment (or return), done on the sale's day`,
      );
    }
    // Receipts still go as supplier shipments; Tryton's stock follows the local ledger.
    const receipts = await shipmentsByReference(server.rpc, 'store-test:pos-1:receipt-');
    assert.equal(receipts.length, 2);
    for (const location of LOCATIONS) {
      const ids = TRYTON_GOODS.map((sku) => server.seed.products[sku]!);
      const tryton = await trytonOnHand(server.rpc, server.seed.storage[location], ids);
      for (const sku of TRYTON_GOODS) {
        const local = db
          .prepare('SELECT on_hand FROM stock_levels WHERE sku = ? AND location = ?')
          .get(sku, location) as { on_hand: number } | undefined;
        assert.equal(tryton.get(server.seed.products[sku]!), local?.on_hand ?? 0, `${sku}@${location}`);
      }
    }
  },
);

test(
  'sales mode: a line without a unit price, a currency Tryton does not know and an inactive product are each rejected naming it; the other sales post and nothing is lost',
  { skip, timeout: 300_000 },
  async (t) => {
    const server = await startTrytonServer();
    t.after(() => server.stop());
    const dir = tempDir('backroom-tryton-sales-bad-');
    t.after(dir.cleanup);
    const a = await startAgent(agentConfig(dir.path, server));
    t.after(() => a.stop());
    const db = a.agent.db.sqlite;
    const at = `${day(-1)}T10:00:00+00:00`;
    const sale = (id: string, lines: Line[]) =>
      makeEvent({ id, type: 'sale', location: 'S1', occurredAt: at, lines });
    const stateOf = (id: string) => outboxOf(db).find((r) => r.eventId === id)?.state;
    // SKU-4 sells (and so is mapped), then is withdrawn in Tryton (its product made inactive).
    assert.equal(
      (await a.post({ events: [sale('before', [{ sku: 'SKU-4', qty: 1, unitPrice: '7.00' }])] })).status,
      200,
    );
    await until(
      'the first sale of SKU-4 is delivered',
      () => stateOf('before') === 'delivered',
      60_000,
      () => undelivered(db),
    );
    await server.rpc.call(
      z.unknown(),
      'product.product',
      'write',
      [[server.seed.products['SKU-4']], { active: false }],
      { signal: AbortSignal.timeout(30_000), isWrite: true },
    );
    const events = [
      sale('good-1', [{ sku: 'SKU-1', qty: 1, unitPrice: '2.50', currency: 'EUR' }]),
      sale('no-price', [
        { sku: 'SKU-1', qty: 1, unitPrice: '2.50' },
        { sku: 'SKU-2', qty: 1 },
      ]),
      sale('good-2', [{ sku: 'SKU-2', qty: 2, unitPrice: '4.00' }]),
      sale('dollars', [{ sku: 'SKU-3', qty: 1, unitPrice: '3.00', currency: 'USD' }]),
      sale('withdrawn', [
        { sku: 'SKU-3', qty: 1, unitPrice: '3.00' },
        { sku: 'SKU-4', qty: 1, unitPrice: '7.00' },
      ]),
      sale('good-3', [{ sku: 'SKU-3', qty: 1, unitPrice: '3.00' }]),
    ];
    assert.equal((await a.post({ events })).status, 200);
    await until(
      'the good sales are delivered and the bad ones rejected',
      () =>
        ['good-1', 'good-2', 'good-3'].every((id) => stateOf(id) === 'delivered') &&
        ['no-price', 'dollars', 'withdrawn'].every((id) => stateOf(id) === 'rejected'),
      120_000,
      () => JSON.stringify(outboxOf(db)),
    );
    const messages = db
      .prepare("SELECT message FROM exceptions WHERE kind = 'delivery_rejected' ORDER BY id")
      .all() as { message: string }[];
    const about = (id: string) => messages.find((m) => m.message.includes(` ${id} `))?.message ?? '';
    assert.match(about('no-price'), /line 2 \(SKU SKU-2\) has no unit price/);
    assert.match(about('dollars'), /Tryton does not know the currency USD/);
    assert.match(about('withdrawn'), /SKU SKU-4 is withdrawn in Tryton \(its product is inactive\)/);
    for (const m of messages) assert.doesNotMatch(m.message, /Traceback|\[\[|__class__/, 'plain words');

    const sales = await salesByReference(server.rpc, 'store-test:');
    assert.deepEqual(
      sales.map((s) => s.reference.split(':').pop()).sort(),
      ['before', 'good-1', 'good-2', 'good-3'],
      'only the good sales are in Tryton',
    );
    // Nothing is lost: every event is still stored, and the rejected ones wait as exceptions to be acted on.
    const stored = db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number };
    assert.equal(stored.n, events.length + 1);
  },
);

test(
  'sales mode: with backroom serve SIGKILLed while posting and restarted, each sale is in Tryton once, processed and shipped',
  { skip, timeout: 400_000 },
  async (t) => {
    const random = seededRandom(1414);
    const server = await startTrytonServer();
    t.after(() => server.stop());
    const dir = tempDir('backroom-tryton-sales-crash-');
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const configFile = writeConfig(dir.path, agentConfig(dataDir, server));
    const lives = new AgentLives(configFile);
    t.after(() => lives.current?.serve.proc.kill('SIGKILL'));
    const events = salesDays(random, 60);
    await lives.start();
    const dispatcher = new HttpAgent({ connections: 1 });
    t.after(() => dispatcher.close());
    const post = (batch: unknown[]) =>
      lives.postEvents(TOKEN, JSON.stringify({ events: batch }), {
        dispatcher,
        timeoutMs: 15_000,
        maxAttempts: 10,
        label: 'pos',
      });
    await post(events.slice(0, 30));
    const open = () => {
      const db = new BetterSqlite3(join(dataDir, 'backroom.db'), { readonly: true, fileMustExist: true });
      try {
        return outboxOf(db);
      } finally {
        db.close();
      }
    };
    let killsDuringSync = 0;
    for (let i = 0; i < 3; i += 1) {
      await sleep(500 + Math.floor(random() * 1200));
      if (open().some((r) => r.state !== 'delivered')) killsDuringSync += 1;
      await lives.kill();
      await lives.start();
      if (i === 0) await post(events.slice(30));
    }
    await until(
      'every event is delivered',
      () => {
        const rows = open();
        return rows.length === events.length && rows.every((r) => r.state === 'delivered');
      },
      200_000,
    );
    assert.ok(killsDuringSync >= 1, 'at least one kill landed while the agent was posting');
    const final = lives.current!;
    final.serve.proc.kill('SIGTERM');
    assert.deepEqual(await final.serve.exited, { code: 0, signal: null }, final.serve.stderr());

    const sales = await salesByReference(server.rpc, 'store-test:');
    const saleEvents = events.filter((e) => e.type === 'sale' || e.type === 'return');
    assert.equal(sales.length, saleEvents.length, 'one Tryton sale per POS sale or return');
    assert.equal(new Set(sales.map((s) => s.reference)).size, sales.length, 'no reference on two sales');
    for (const sale of sales) {
      assert.equal(sale.state, 'processing', sale.reference);
      assert.equal(sale.shipments.length + sale.returns.length, 1, `${sale.reference}: one shipment`);
      assert.equal(sale.invoices.length, 1, `${sale.reference}: one invoice`);
    }
    assert.deepEqual(
      sorted(trytonSums(sales, server, await warehouses(server))),
      sorted(eventSums(events)),
      'units and value per day, location and SKU equal the events’ sums',
    );
  },
);

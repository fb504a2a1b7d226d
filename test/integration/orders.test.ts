import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createLogger } from '../../src-main/platform/logger.js';
import { OrderPuller, orderSourceId } from '../../src-main/capture/order-puller.js';
import type { OrderSource, RemoteOrder } from '../../src-main/connectors/port/connector-bundle.js';
import { ConnectorError } from '../../src-main/connectors/port/connector-error.js';
import { StockRepo } from '../../src-main/ledger/stock-repo.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

/**
 * A marketplace's order list as its API pages it: orders sorted by update time, `pageSize` a page, and the
 * `since` and cursors each pull asked with (what the real Shopify, Amazon and Vendure fakes also serve).
 */
class OrderBook implements OrderSource {
  orders = new Map<string, RemoteOrder>();
  asked: { since: string | null; cursor: string | null }[] = [];
  failWith: ConnectorError | null = null;
  #clock = Date.parse('2026-11-24T09:00:00Z');

  constructor(readonly pageSize = 2) {}

  put(order: Omit<RemoteOrder, 'updatedAt'>): void {
    this.#clock += 60_000;
    this.orders.set(order.orderId, { ...order, updatedAt: new Date(this.#clock).toISOString() });
  }

  pullOrders = async (
    since: string | null,
    cursor: string | null,
  ): Promise<{ orders: RemoteOrder[]; nextCursor: string | null }> => {
    this.asked.push({ since, cursor });
    if (this.failWith) throw this.failWith;
    const all = [...this.orders.values()]
      .filter((o) => since === null || Date.parse(o.updatedAt) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt));
    const start = cursor === null ? 0 : Number(cursor);
    const end = start + this.pageSize;
    return { orders: all.slice(start, end), nextCursor: end < all.length ? String(end) : null };
  };
}

const MANAGER_TOKEN = 'orders-test-manager-token-0123456789';

describe('marketplace orders become reservations', () => {
  let dir: ReturnType<typeof tempDir>;
  let t: TestAgent;
  let book: OrderBook;
  let puller: OrderPuller;
  let stock: StockRepo;

  before(async () => {
    dir = tempDir();
    t = await startAgent(
      testConfig(dir.path, {
        channels: [{ id: 'web', buffer: 1 }],
        operators: [{ name: 'Maria', token: MANAGER_TOKEN, role: 'manager' }],
      }),
    );
    stock = new StockRepo(t.agent.db);
  });
  after(async () => {
    await t.stop();
    dir.cleanup();
  });
  let run = 0;
  beforeEach(async () => {
    run += 1;
    book = new OrderBook();
    puller = new OrderPuller({
      destinationId: `shop-${run}`,
      source: book,
      db: t.agent.db,
      capture: t.agent.capture,
      stock,
      exceptions: t.agent.exceptions,
      logger: createLogger({ level: 'silent' }),
      defaultLocation: 'S1',
      pollSeconds: 3600,
      overlapSeconds: 300,
    });
    // Each test starts from 10 on hand of its own SKU.
    const res = await t.post(
      makeEvent({ id: `receipt-${run}`, type: 'receipt', lines: [{ sku: `SKU-${run}`, qty: 10 }] }),
    );
    assert.equal(res.body.results[0]!.status, 'accepted');
  });
  const level = () => t.agent.stock.levels({ sku: `SKU-${run}`, location: 'S1' })[0]!;
  const eventCount = () =>
    (t.agent.db.sqlite.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;

  test('an open order reserves its lines and lowers available-to-sell; pulling again changes nothing', async () => {
    book.put({ orderId: 'A1', status: 'open', location: null, lines: [{ sku: `SKU-${run}`, qty: 3 }] });
    const first = await puller.pullNow();
    assert.equal(first.reserved, 1);
    assert.equal(level().reserved, 3);
    assert.equal(level().onHand, 10);
    assert.equal(t.agent.stock.available(`SKU-${run}`, 'S1', 'web'), 10 - 3 - 1);
    const events = eventCount();
    const again = await puller.pullNow();
    assert.deepEqual({ ...again, pages: 0 }, { orders: 1, reserved: 0, released: 0, shipped: 0, pages: 0 });
    assert.equal(eventCount(), events, 'no new event');
    assert.equal(level().reserved, 3);
  });

  test('a cancelled order releases its reservation; a shipped one lowers on hand and closes it', async () => {
    book.put({ orderId: 'B1', status: 'open', location: null, lines: [{ sku: `SKU-${run}`, qty: 2 }] });
    book.put({ orderId: 'B2', status: 'open', location: null, lines: [{ sku: `SKU-${run}`, qty: 4 }] });
    await puller.pullNow();
    assert.equal(level().reserved, 6);
    book.put({ ...book.orders.get('B1')!, status: 'cancelled' });
    book.put({ ...book.orders.get('B2')!, status: 'fulfilled' });
    const report = await puller.pullNow();
    assert.equal(report.released, 1);
    assert.equal(report.shipped, 1);
    assert.equal(level().reserved, 0);
    assert.equal(level().onHand, 6, 'the shipped 4 left the store');
    const rows = t.agent.db.sqlite
      .prepare('SELECT order_id, state FROM reservations WHERE channel = ? ORDER BY order_id')
      .all(orderSourceId(`shop-${run}`));
    assert.deepEqual(rows, [
      { order_id: 'B1', state: 'released' },
      { order_id: 'B2', state: 'shipped' },
    ]);
  });

  test('an order shipped short releases what it did not ship', async () => {
    book.put({ orderId: 'H1', status: 'open', location: null, lines: [{ sku: `SKU-${run}`, qty: 5 }] });
    await puller.pullNow();
    assert.equal(level().reserved, 5);
    book.put({ ...book.orders.get('H1')!, status: 'fulfilled', lines: [{ sku: `SKU-${run}`, qty: 3 }] });
    await puller.pullNow();
    assert.deepEqual([level().onHand, level().reserved], [7, 0]);
  });

  test('the first pull leaves orders already shipped or cancelled alone; a later pull ships one seen only shipped', async () => {
    book.put({ orderId: 'C1', status: 'fulfilled', location: null, lines: [{ sku: `SKU-${run}`, qty: 5 }] });
    book.put({ orderId: 'C2', status: 'cancelled', location: null, lines: [{ sku: `SKU-${run}`, qty: 5 }] });
    const first = await puller.pullNow();
    assert.deepEqual([first.reserved, first.released, first.shipped], [0, 0, 0]);
    assert.equal(level().onHand, 10);
    book.put({ orderId: 'C3', status: 'fulfilled', location: null, lines: [{ sku: `SKU-${run}`, qty: 1 }] });
    const second = await puller.pullNow();
    assert.equal(second.shipped, 1);
    assert.equal(level().onHand, 9);
  });

  test('each pull starts the overlap before the newest update it read, and pages through cursors', async () => {
    for (let i = 0; i < 5; i += 1)
      book.put({ orderId: `D${i}`, status: 'open', location: null, lines: [{ sku: `SKU-${run}`, qty: 1 }] });
    const first = await puller.pullNow();
    assert.equal(first.pages, 3, '5 orders at 2 a page');
    assert.equal(level().reserved, 5);
    const newest = book.orders.get('D4')!.updatedAt;
    book.asked = [];
    await puller.pullNow();
    assert.equal(book.asked[0]!.since, new Date(Date.parse(newest) - 300_000).toISOString());
  });

  test('an edited open order re-reserves its new quantity', async () => {
    book.put({ orderId: 'E1', status: 'open', location: null, lines: [{ sku: `SKU-${run}`, qty: 2 }] });
    await puller.pullNow();
    book.put({ ...book.orders.get('E1')!, lines: [{ sku: `SKU-${run}`, qty: 5 }] });
    await puller.pullNow();
    assert.equal(level().reserved, 5);
  });

  test('an edited open order releases a SKU it no longer has, and an edit back to earlier lines reserves them again', async () => {
    const [a, b] = [`SKU-${run}`, `SKU-${run}-B`];
    const reservedOf = (sku: string) => t.agent.stock.levels({ sku, location: 'S1' })[0]?.reserved ?? 0;
    const first = [
      { sku: a, qty: 2 },
      { sku: b, qty: 3 },
    ];
    book.put({ orderId: 'E2', status: 'open', location: null, lines: first });
    await puller.pullNow();
    assert.deepEqual([reservedOf(a), reservedOf(b)], [2, 3]);
    book.put({ ...book.orders.get('E2')!, lines: [{ sku: a, qty: 2 }] });
    const edited = await puller.pullNow();
    assert.equal(edited.reserved, 1);
    assert.deepEqual([reservedOf(a), reservedOf(b)], [2, 0], 'the dropped SKU is released');
    book.put({ ...book.orders.get('E2')!, lines: first });
    await puller.pullNow();
    assert.deepEqual(
      [reservedOf(a), reservedOf(b)],
      [2, 3],
      'the same lines as the first version reserve again',
    );
    const events = eventCount();
    const again = await puller.pullNow();
    assert.equal(again.reserved, 0);
    assert.equal(eventCount(), events, 'an order read again unchanged captures nothing');
  });

  test('an order moved to another location releases what it held where it was, and reserves where it is', async () => {
    const sku = `SKU-${run}`;
    const at = (location: string) => t.agent.stock.levels({ sku, location })[0]?.reserved ?? 0;
    book.put({ orderId: 'M1', status: 'open', location: 'S1', lines: [{ sku, qty: 3 }] });
    await puller.pullNow();
    assert.deepEqual([at('S1'), at('S2')], [3, 0]);
    book.put({ ...book.orders.get('M1')!, location: 'S2' });
    await puller.pullNow();
    assert.deepEqual([at('S1'), at('S2')], [0, 3], 'moved, not doubled');
    book.put({ ...book.orders.get('M1')!, status: 'cancelled' });
    await puller.pullNow();
    assert.deepEqual([at('S1'), at('S2')], [0, 0]);
  });

  test('a cancelled order that is reopened reserves again, and a second cancel releases again', async () => {
    book.put({ orderId: 'R1', status: 'open', location: null, lines: [{ sku: `SKU-${run}`, qty: 4 }] });
    await puller.pullNow();
    book.put({ ...book.orders.get('R1')!, status: 'cancelled' });
    await puller.pullNow();
    assert.equal(level().reserved, 0);
    book.put({ ...book.orders.get('R1')!, status: 'open' });
    await puller.pullNow();
    assert.equal(level().reserved, 4);
    book.put({ ...book.orders.get('R1')!, status: 'cancelled' });
    await puller.pullNow();
    assert.equal(level().reserved, 0);
  });

  test('a failed pull raises one exception and moves no checkpoint; the next good pull resolves it', async () => {
    book.put({ orderId: 'F1', status: 'open', location: null, lines: [{ sku: `SKU-${run}`, qty: 1 }] });
    book.failWith = new ConnectorError('unreachable', 'connection refused');
    await assert.rejects(puller.pullNow(), /connection refused/);
    await assert.rejects(puller.pullNow(), /connection refused/);
    const open = t.agent.exceptions.list({ status: 'open', kind: 'order_pull_failed' });
    const mine = open.filter((e) => e.destination_id === `shop-${run}`);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.occurrences, 2);
    assert.match(mine[0]!.message, /connection refused/);
    book.failWith = null;
    await puller.pullNow();
    assert.equal(level().reserved, 1);
    const still = t.agent.exceptions.list({ status: 'open', kind: 'order_pull_failed' });
    assert.equal(still.filter((e) => e.destination_id === `shop-${run}`).length, 0);
  });

  test('an order line mapped to no SKU raises an exception naming the item, and the rest is reserved', async () => {
    book.put({
      orderId: 'G1',
      name: '#1007',
      status: 'open',
      location: null,
      lines: [{ sku: `SKU-${run}`, qty: 1 }],
      unmappedItems: ['gid://shopify/InventoryItem/999'],
    });
    await puller.pullNow();
    assert.equal(level().reserved, 1);
    const open = t.agent.exceptions.list({ status: 'open', kind: 'order_unmapped_item' });
    assert.ok(open.some((e) => e.message.includes('#1007') && e.message.includes('InventoryItem/999')));
  });

  test('a rejected order closed by a person stays closed when the same order is read again; an edit of it raises again', async () => {
    const tooMany = { orderId: 'R1', name: '#2001', status: 'open' as const, location: null };
    book.put({ ...tooMany, lines: [{ sku: `SKU-${run}`, qty: 2_000_000 }] });
    await puller.pullNow();
    const mine = () =>
      t.agent.exceptions.list({ kind: 'order_rejected' }).filter((e) => e.destination_id === `shop-${run}`);
    assert.equal(mine().length, 1);
    assert.equal(mine()[0]!.status, 'open');
    const closed = await fetch(`${t.url}/api/v1/exceptions/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MANAGER_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [mine()[0]!.id], reason: 'the shop refunds it' }),
    });
    assert.equal(closed.status, 200);
    await puller.pullNow(); // the overlap reads R1 again, unchanged
    assert.deepEqual(
      mine().map((e) => e.status),
      ['discarded'],
      'the same order, read again, is not raised again',
    );
    book.put({ ...tooMany, lines: [{ sku: `SKU-${run}`, qty: 3_000_000 }] });
    await puller.pullNow();
    assert.deepEqual(
      mine().map((e) => e.status),
      ['open', 'discarded'],
      'an edited order that still fails is a new problem',
    );
  });

  test('a web shop may send reserve, release and ship events through the ingest API', async () => {
    const sku = `SKU-${run}`;
    await t.post(makeEvent({ id: 'web-1:r', type: 'reserve', reference: 'W1', lines: [{ sku, qty: 4 }] }));
    assert.equal(level().reserved, 4);
    await t.post(makeEvent({ id: 'web-1:s', type: 'ship', reference: 'W1', lines: [{ sku, qty: 3 }] }));
    assert.deepEqual([level().onHand, level().reserved], [7, 1]);
    await t.post(makeEvent({ id: 'web-1:c', type: 'release', reference: 'W1', lines: [{ sku, qty: 9 }] }));
    assert.equal(level().reserved, 0, 'a release never takes reserved below what the order held');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OrderPuller, orderSourceId } from '../../src-main/capture/order-puller.js';
import { FakeMarketplace } from '../support/fake-marketplace.js';
import { StockRepo } from '../../src-main/ledger/stock-repo.js';
import { createLogger } from '../../src-main/platform/logger.js';
import {
  makeEvent,
  startAgent,
  tempDir,
  testConfig,
  TOKEN,
  TOKEN_2,
  type TestAgent,
} from '../support/harness.js';

const TOKEN_3 = 'test-token-wms-3-0123456789abcdef';

describe('ship events: carrier, tracking and partial shipments', () => {
  let dir: ReturnType<typeof tempDir>;
  let t: TestAgent;
  before(async () => {
    dir = tempDir();
    t = await startAgent(
      testConfig(dir.path, {
        sources: [
          { id: 'pos-1', token: TOKEN },
          { id: 'pos-2', token: TOKEN_2 },
          { id: 'wms', token: TOKEN_3 },
        ],
      }),
    );
  });
  after(async () => {
    await t.stop();
    dir.cleanup();
  });

  const level = (sku: string) => {
    const row = t.agent.stock.levels({ sku, location: 'S1' })[0];
    return { onHand: row?.onHand ?? 0, reserved: row?.reserved ?? 0 };
  };
  const eventCount = () =>
    (t.agent.db.sqlite.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  const shipments = () =>
    t.agent.db.sqlite
      .prepare(
        'SELECT channel, order_id, carrier, tracking_number, tracking_url FROM shipments ORDER BY event_seq',
      )
      .all();
  /** A web shop (pos-1) reserves an order; 10 of each SKU are on hand first. */
  async function reserved(order: string, lines: { sku: string; qty: number }[]): Promise<void> {
    const receipt = await t.post(
      makeEvent({ id: `in-${order}`, type: 'receipt', lines: lines.map((l) => ({ sku: l.sku, qty: 10 })) }),
    );
    assert.equal(receipt.body.results[0]!.status, 'accepted');
    const res = await t.post(makeEvent({ id: `res-${order}`, type: 'reserve', reference: order, lines }));
    assert.equal(res.body.results[0]!.status, 'accepted');
  }
  /** The warehouse system (pos-2) ships. */
  const ship = (fields: Record<string, unknown>) => t.post(makeEvent({ type: 'ship', ...fields }), TOKEN_2);

  test('a ship event carries carrier, tracking number and tracking URL, kept with the order; a resend is a duplicate', async () => {
    await reserved('W-1', [{ sku: 'T-A', qty: 2 }]);
    const event = {
      id: 'wms-ship-1',
      reference: 'W-1',
      lines: [{ sku: 'T-A', qty: 2 }],
      carrier: 'DHL',
      trackingNumber: 'JD0146-0000123',
      trackingUrl: 'https://track.carrier.test/JD0146-0000123',
    };
    const first = await ship(event);
    assert.equal(first.body.results[0]!.status, 'accepted');
    assert.deepEqual(shipments(), [
      {
        channel: 'pos-1',
        order_id: 'W-1',
        carrier: 'DHL',
        tracking_number: 'JD0146-0000123',
        tracking_url: 'https://track.carrier.test/JD0146-0000123',
      },
    ]);
    assert.deepEqual(level('T-A'), { onHand: 8, reserved: 0 }, 'shipped from the web shop reservation');
    const again = await ship(event);
    assert.equal(again.body.results[0]!.status, 'duplicate');
    const changed = await ship({ ...event, trackingNumber: 'JD0146-0000999' });
    assert.equal(changed.body.results[0]!.status, 'rejected', 'same id, other tracking: a conflict');
    assert.equal(shipments().length, 1);
  });

  test('bad carrier, tracking number or URL is refused naming the field, and nothing is stored', async () => {
    await reserved('W-2', [{ sku: 'T-B', qty: 1 }]);
    const before = { events: eventCount(), level: level('T-B') };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ trackingNumber: '1Z 999 AA1' }, 'trackingNumber', /without spaces/],
      [{ trackingNumber: 'X'.repeat(200) }, 'trackingNumber', /at most 64/],
      [{ trackingNumber: '' }, 'trackingNumber', /must not be empty/],
      [{ carrier: 'C'.repeat(65) }, 'carrier', /at most 64/],
      [{ carrier: '' }, 'carrier', /must not be empty/],
      [{ trackingUrl: 'ftp://track.carrier.test/1' }, 'trackingUrl', /http or https/],
      [{ trackingUrl: 'track me' }, 'trackingUrl', /http or https/],
    ];
    for (const [fields, path, message] of cases) {
      const res = await ship({ reference: 'W-2', lines: [{ sku: 'T-B', qty: 1 }], ...fields });
      const result = res.body.results[0]!;
      assert.equal(result.status, 'rejected', JSON.stringify(fields));
      assert.ok(
        result.status === 'rejected' && result.errors.some((e) => e.path === path && message.test(e.message)),
        `${JSON.stringify(fields)}: ${JSON.stringify(result)}`,
      );
    }
    const sale = await t.post(makeEvent({ type: 'sale', lines: [{ sku: 'T-B', qty: 1 }], carrier: 'DHL' }));
    const saleResult = sale.body.results[0]!;
    assert.ok(
      saleResult.status === 'rejected' && saleResult.errors[0]!.path === 'carrier',
      JSON.stringify(saleResult),
    );
    assert.equal(eventCount(), before.events);
    assert.deepEqual(level('T-B'), before.level);
  });

  test('a partial shipment closes only its lines: the rest of the order stays reserved until shipped', async () => {
    await reserved('W-3', [
      { sku: 'T-C', qty: 3 },
      { sku: 'T-D', qty: 2 },
    ]);
    assert.deepEqual(
      [level('T-C'), level('T-D')],
      [
        { onHand: 10, reserved: 3 },
        { onHand: 10, reserved: 2 },
      ],
    );
    const first = await ship({
      id: 'wms-3a',
      reference: 'W-3',
      lines: [{ sku: 'T-C', qty: 1 }],
      carrier: 'UPS',
      trackingNumber: '1Z999AA10123456784',
    });
    assert.equal(first.body.results[0]!.status, 'accepted');
    assert.deepEqual(
      [level('T-C'), level('T-D')],
      [
        { onHand: 9, reserved: 2 },
        { onHand: 10, reserved: 2 },
      ],
    );
    const rest = await ship({
      id: 'wms-3b',
      reference: 'W-3',
      lines: [
        { sku: 'T-C', qty: 2 },
        { sku: 'T-D', qty: 2 },
      ],
      carrier: 'UPS',
      trackingNumber: '1Z999AA10123456785',
    });
    assert.equal(rest.body.results[0]!.status, 'accepted');
    assert.deepEqual(
      [level('T-C'), level('T-D')],
      [
        { onHand: 7, reserved: 0 },
        { onHand: 8, reserved: 0 },
      ],
    );
    const states = t.agent.db.sqlite
      .prepare("SELECT sku, qty, shipped, state FROM reservations WHERE order_id = 'W-3' ORDER BY sku")
      .all();
    assert.deepEqual(states, [
      { sku: 'T-C', qty: 0, shipped: 3, state: 'shipped' },
      { sku: 'T-D', qty: 0, shipped: 2, state: 'shipped' },
    ]);
  });

  test('shipping an item not on the order, or more than is left, is refused naming the line; nothing is captured', async () => {
    await reserved('W-4', [{ sku: 'T-E', qty: 2 }]);
    const before = { events: eventCount(), e: level('T-E'), x: level('T-X') };
    const wrong = await ship({
      reference: 'W-4',
      lines: [
        { sku: 'T-E', qty: 1 },
        { sku: 'T-X', qty: 1 },
      ],
    });
    assert.deepEqual(wrong.body.results[0]!.status === 'rejected' && wrong.body.results[0]!.errors, [
      { path: 'lines.1.sku', message: 'T-X is not on order W-4' },
    ]);
    const over = await ship({
      reference: 'W-4',
      lines: [
        { sku: 'T-E', qty: 2 },
        { sku: 'T-E', qty: 1 },
      ],
    });
    assert.deepEqual(over.body.results[0]!.status === 'rejected' && over.body.results[0]!.errors, [
      { path: 'lines.1.qty', message: '3 × T-E is more than order W-4 has left to ship (2)' },
    ]);
    const elsewhere = await ship({ reference: 'W-4', location: 'S2', lines: [{ sku: 'T-E', qty: 1 }] });
    assert.deepEqual(elsewhere.body.results[0]!.status === 'rejected' && elsewhere.body.results[0]!.errors, [
      { path: 'location', message: 'order W-4 ships from S1, not S2' },
    ]);
    assert.equal(eventCount(), before.events);
    assert.deepEqual([level('T-E'), level('T-X')], [before.e, before.x]);
  });

  test('a reference two channels share is refused until meta.channel says which', async () => {
    await reserved('W-5', [{ sku: 'T-F', qty: 1 }]);
    const other = await t.post(
      makeEvent({ id: 'res-W-5-other', type: 'reserve', reference: 'W-5', lines: [{ sku: 'T-F', qty: 2 }] }),
      TOKEN_2,
    );
    assert.equal(other.body.results[0]!.status, 'accepted');
    assert.deepEqual(level('T-F'), { onHand: 10, reserved: 3 });
    const before = eventCount();
    const wms = (fields: Record<string, unknown>) =>
      t.post(
        makeEvent({ type: 'ship', reference: 'W-5', lines: [{ sku: 'T-F', qty: 2 }], ...fields }),
        TOKEN_3,
      );
    const unsure = await wms({});
    const result = unsure.body.results[0]!;
    assert.ok(
      result.status === 'rejected' &&
        result.errors[0]!.path === 'reference' &&
        /2 channels \(pos-1, pos-2\).*meta\.channel/.test(result.errors[0]!.message),
      JSON.stringify(result),
    );
    assert.equal(eventCount(), before);
    const sure = await wms({ meta: { channel: 'pos-2' } });
    assert.equal(sure.body.results[0]!.status, 'accepted');
    assert.deepEqual(level('T-F'), { onHand: 8, reserved: 1 }, "pos-2's order shipped, pos-1's still held");
  });

  test('a marketplace order partly shipped by the warehouse: re-read open it reserves only the rest; "fulfilled" ships only the rest', async () => {
    const market = new FakeMarketplace();
    const puller = new OrderPuller({
      destinationId: 'shop',
      source: market,
      db: t.agent.db,
      capture: t.agent.capture,
      stock: new StockRepo(t.agent.db),
      exceptions: t.agent.exceptions,
      logger: createLogger({ level: 'silent' }),
      defaultLocation: 'S1',
      pollSeconds: 3600,
      overlapSeconds: 300,
    });
    market.put({ orderId: 'seed', status: 'open', location: null, lines: [{ sku: 'SEED', qty: 1 }] });
    await puller.pullNow(); // the first pull is the baseline: history
    const receipt = await t.post(
      makeEvent({ id: 'in-T-G', type: 'receipt', lines: [{ sku: 'T-G', qty: 10 }] }),
    );
    assert.equal(receipt.body.results[0]!.status, 'accepted');
    market.put({
      orderId: 'gid-1001',
      name: '#1001',
      status: 'open',
      location: null,
      lines: [{ sku: 'T-G', qty: 4 }],
      placedAt: '2026-11-24T08:00:00Z',
      shipBy: '2026-11-26T18:00:00Z',
    });
    await puller.pullNow();
    assert.deepEqual(level('T-G'), { onHand: 10, reserved: 4 });
    const order = t.agent.db.sqlite
      .prepare("SELECT channel, name, ship_by FROM orders WHERE order_id = 'gid-1001'")
      .get();
    assert.deepEqual(order, {
      channel: orderSourceId('shop'),
      name: '#1001',
      ship_by: '2026-11-26T18:00:00Z',
    });
    // The warehouse ships 3 by the order's number.
    const part = await ship({
      id: 'wms-1001a',
      reference: '#1001',
      lines: [{ sku: 'T-G', qty: 3 }],
      carrier: 'GLS',
      trackingNumber: 'GLS-77',
    });
    assert.equal(part.body.results[0]!.status, 'accepted');
    assert.deepEqual(level('T-G'), { onHand: 7, reserved: 1 });
    // The shop edits the order (still open, 4 ordered): only the 1 left is reserved.
    market.put({ ...market.orders.get('gid-1001')!, lines: [{ sku: 'T-G', qty: 4 }] });
    await puller.pullNow();
    assert.deepEqual(level('T-G'), { onHand: 7, reserved: 1 });
    // The shop marks it fulfilled (someone shipped the last one from the shop's admin): only that one leaves.
    market.put({ ...market.orders.get('gid-1001')!, status: 'fulfilled' });
    const report = await puller.pullNow();
    assert.equal(report.shipped, 1);
    assert.deepEqual(level('T-G'), { onHand: 6, reserved: 0 });
    const shipLines = t.agent.db.sqlite
      .prepare("SELECT json_extract(body, '$.lines') AS lines FROM events WHERE event_id = 'gid-1001:ship'")
      .get() as { lines: string };
    assert.deepEqual(JSON.parse(shipLines.lines), [{ sku: 'T-G', qty: 1 }]);
    await puller.stop();
  });

  test('a marketplace order shipped whole by the warehouse is neither reserved again nor shipped twice', async () => {
    const market = new FakeMarketplace();
    const puller = new OrderPuller({
      destinationId: 'shop2',
      source: market,
      db: t.agent.db,
      capture: t.agent.capture,
      stock: new StockRepo(t.agent.db),
      exceptions: t.agent.exceptions,
      logger: createLogger({ level: 'silent' }),
      defaultLocation: 'S1',
      pollSeconds: 3600,
      overlapSeconds: 300,
    });
    market.put({ orderId: 'seed2', status: 'open', location: null, lines: [{ sku: 'SEED', qty: 1 }] });
    await puller.pullNow();
    await t.post(makeEvent({ id: 'in-T-H', type: 'receipt', lines: [{ sku: 'T-H', qty: 10 }] }));
    market.put({ orderId: 'A-9', status: 'open', location: null, lines: [{ sku: 'T-H', qty: 2 }] });
    await puller.pullNow();
    const whole = await ship({ id: 'wms-A-9', reference: 'A-9', lines: [{ sku: 'T-H', qty: 2 }] });
    assert.equal(whole.body.results[0]!.status, 'accepted');
    assert.deepEqual(level('T-H'), { onHand: 8, reserved: 0 });
    market.put({ ...market.orders.get('A-9')! });
    await puller.pullNow();
    assert.deepEqual(
      level('T-H'),
      { onHand: 8, reserved: 0 },
      'still open on the channel: nothing reserved again',
    );
    market.put({ ...market.orders.get('A-9')!, status: 'fulfilled' });
    const report = await puller.pullNow();
    assert.equal(report.shipped, 0);
    assert.deepEqual(level('T-H'), { onHand: 8, reserved: 0 }, 'not shipped twice');
    await puller.stop();
  });
});

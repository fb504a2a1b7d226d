import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiName } from '../../shared/agent-api.js';
import { OrderPuller } from '../../src-main/capture/order-puller.js';
import { FakeMarketplace } from '../support/fake-marketplace.js';
import { StockRepo } from '../../src-main/ledger/stock-repo.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { makeEvent, startAgent, tempDir, testConfig, TOKEN_2, type TestAgent } from '../support/harness.js';
import { callRoute } from '../support/rpc-client.js';

const CLERK = { name: 'Robin', token: 'clerk-token-returns-0123456789' };

describe('an order cancelled after it shipped, and its goods coming back', () => {
  let dir: ReturnType<typeof tempDir>;
  let t: TestAgent;
  let market: FakeMarketplace;
  let puller: OrderPuller;

  before(async () => {
    dir = tempDir();
    t = await startAgent(
      testConfig(dir.path, { operators: [{ name: CLERK.name, token: CLERK.token, role: 'clerk' }] }),
    );
    market = new FakeMarketplace();
    puller = new OrderPuller({
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
    await puller.pullNow(); // the baseline
    const stocked = await t.post(
      makeEvent({
        id: 'in-1',
        type: 'receipt',
        lines: [
          { sku: 'R-1', qty: 10 },
          { sku: 'R-2', qty: 10 },
        ],
      }),
    );
    assert.equal(stocked.body.results[0]!.status, 'accepted');
    market.put({
      orderId: 'gid-7',
      name: '#1007',
      status: 'open',
      location: null,
      lines: [{ sku: 'R-1', qty: 2 }],
    });
    await puller.pullNow();
    const shipped = await t.post(
      makeEvent({
        id: 'wms-7',
        type: 'ship',
        reference: '#1007',
        lines: [{ sku: 'R-1', qty: 2 }],
        carrier: 'DHL',
        trackingNumber: 'JJD0007',
      }),
      TOKEN_2,
    );
    assert.equal(shipped.body.results[0]!.status, 'accepted');
  });
  after(async () => {
    await puller.stop();
    await t.stop();
    dir.cleanup();
  });

  const onHand = (sku: string) => t.agent.stock.levels({ sku, location: 'S1' })[0]!.onHand;
  const eventCount = () =>
    (t.agent.db.sqlite.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  const openOfKind = () =>
    t.agent.db.sqlite
      .prepare("SELECT message FROM exceptions WHERE kind = 'order_cancelled_shipped' AND status = 'open'")
      .all() as { message: string }[];
  const call = async (name: ApiName, input: Record<string, unknown>) => {
    return callRoute(t.url, name, input, CLERK.token);
  };

  test('cancelled on the marketplace after shipping: an exception in business words, nothing released', async () => {
    assert.equal(onHand('R-1'), 8);
    market.put({ ...market.orders.get('gid-7')!, status: 'cancelled' });
    const report = await puller.pullNow();
    assert.equal(report.released, 0);
    assert.equal(onHand('R-1'), 8);
    const open = openOfKind();
    assert.equal(open.length, 1);
    assert.equal(
      open[0]!.message,
      'Order #1007 was cancelled on shop after 2 × R-1 shipped from S1. If the parcel comes back, receive it as a return of the order on the Fulfil page (resellable goes back on hand, damaged is written off); if it does not, settle it with the customer and close this.',
    );
  });

  test('a return of more than shipped, of an item not shipped, or of an unknown order is refused naming it; nothing is captured', async () => {
    const before = eventCount();
    const base = { id: 'wb-return-refused-1', location: 'S1', order: '#1007', condition: 'resellable' };
    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [
        { lines: [{ sku: 'R-1', qty: 3 }] },
        400,
        'lines.0.qty',
        /3 × R-1 is more than came back of order #1007 could be \(2 shipped, 0 returned already\)/,
      ],
      [{ lines: [{ sku: 'R-2', qty: 1 }] }, 400, 'lines.0.sku', /R-2 was not shipped from S1 on order #1007/],
      [
        { order: '#9999', lines: [{ sku: 'R-1', qty: 1 }] },
        404,
        'order',
        /no order #9999 was shipped from here/,
      ],
      [{ lines: [{ sku: 'R-1', qty: 1 }], condition: 'broken' }, 400, 'condition', /resellable or damaged/],
    ];
    for (const [fields, status, path, message] of cases) {
      const res = await call('fulfil.return', { ...base, ...fields });
      assert.equal(res.status, status, JSON.stringify(res.body));
      const errors = res.body['errors'] as { path: string; message: string }[];
      assert.ok(
        errors.some((e) => e.path === path && message.test(e.message)),
        JSON.stringify(res.body),
      );
    }
    assert.equal(eventCount(), before);
  });

  test('one resellable unit goes back on hand and resolves the exception; a damaged one is written off with that reason', async () => {
    const resellable = await call('fulfil.return', {
      id: 'wb-return-0000001',
      location: 'S1',
      order: '#1007',
      lines: [{ sku: 'R-1', qty: 1 }],
      condition: 'resellable',
    });
    assert.equal(resellable.status, 200, JSON.stringify(resellable.body));
    assert.equal(onHand('R-1'), 9);
    assert.deepEqual(openOfKind(), [], 'the cancelled-after-shipping exception is resolved');

    const damaged = await call('fulfil.return', {
      id: 'wb-return-0000002',
      location: 'S1',
      order: '#1007',
      lines: [{ sku: 'R-1', qty: 1 }],
      condition: 'damaged',
      note: 'crushed box',
    });
    assert.equal(damaged.status, 200, JSON.stringify(damaged.body));
    assert.equal(onHand('R-1'), 9, 'back in and written off');
    const writeOff = t.agent.db.sqlite
      .prepare(
        "SELECT body FROM events WHERE type = 'adjustment' AND event_id = 'wb-return-0000002:written-off'",
      )
      .get() as { body: string };
    const event = JSON.parse(writeOff.body) as { lines: unknown; meta: Record<string, unknown> };
    assert.deepEqual(event.lines, [{ sku: 'R-1', qty: -1 }]);
    assert.equal(event.meta['reason'], 'damaged');

    const again = await call('fulfil.return', {
      id: 'wb-return-0000003',
      location: 'S1',
      order: '#1007',
      lines: [{ sku: 'R-1', qty: 1 }],
      condition: 'resellable',
    });
    assert.equal(again.status, 400, 'both shipped units came back already');
    const resent = await call('fulfil.return', {
      id: 'wb-return-0000001',
      location: 'S1',
      order: '#1007',
      lines: [{ sku: 'R-1', qty: 1 }],
      condition: 'resellable',
    });
    assert.equal(resent.body['status'], 'duplicate');
    assert.equal(onHand('R-1'), 9);
  });
});

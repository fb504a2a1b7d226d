import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConfigInput } from '../../shared/config.js';
import { makeEvent, startAgent, tempDir, testConfig, TOKEN_2, type TestAgent } from '../support/harness.js';
import { AmazonFake } from '../simulators/amazon-fake.js';

/*
 * Shipments out to Amazon (Orders v0 confirmShipment) against the SP-API fake, which validates every request
 * against the official models in ../shared/contracts/amazon: a merchant-fulfilled order is pulled and reserved,
 * the warehouse ships it in two parcels (a `ship` from its system, pos-2), and Amazon holds each package with its
 * carrier and tracking number. A lost answer is read back without a second confirmation; a cancelled order's
 * shipment is an exception naming it.
 */

const DESTINATION = 'amazon';

describe('shipments out to Amazon', () => {
  let fake: AmazonFake;
  let dir: ReturnType<typeof tempDir>;
  let agent: TestAgent;

  before(async () => {
    fake = await AmazonFake.start({ feedProcessingMs: 100 });
    dir = tempDir();
    const destination: NonNullable<ConfigInput['destinations']>[number] = {
      id: DESTINATION,
      type: 'amazon',
      endpoint: fake.endpoint,
      tokenUrl: fake.tokenUrl,
      ...fake.credentials,
      requestTimeoutSeconds: 2,
      locations: ['S1'],
      orders: { location: 'S1', pollSeconds: 3600, overlapSeconds: 300 },
    };
    agent = await startAgent(testConfig(dir.path, { destinations: [destination] }));
    const stocked = await agent.post(
      makeEvent({
        id: 'in-1',
        type: 'receipt',
        lines: ['A-1', 'A-2', 'A-3', 'A-4'].map((sku) => ({ sku, qty: 20 })),
      }),
    );
    assert.equal(stocked.body.results[0]!.status, 'accepted');
  });
  after(async () => {
    await agent?.stop();
    await fake?.stop();
    dir?.cleanup();
  });

  const level = (sku: string) => {
    const row = agent.agent.stock.levels({ sku, location: 'S1' })[0]!;
    return { onHand: row.onHand, reserved: row.reserved };
  };
  const rows = (orderId: string) =>
    agent.agent.db.sqlite
      .prepare('SELECT state, is_unsure FROM fulfilments WHERE order_id = ? ORDER BY event_seq')
      .all(orderId) as { state: string; is_unsure: number }[];
  const seed = (items: { SellerSKU: string; QuantityOrdered: number }[]) =>
    fake.seedOrder({
      OrderStatus: 'Unshipped',
      LastUpdateDate: new Date(Date.now() - 180_000).toISOString(),
      items,
    });
  const ship = async (
    id: string,
    orderId: string,
    lines: { sku: string; qty: number }[],
    carrier: string,
    tracking: string,
  ) => {
    const res = await agent.post(
      makeEvent({ id, type: 'ship', reference: orderId, lines, carrier, trackingNumber: tracking }),
      TOKEN_2,
    );
    assert.equal(res.body.results[0]!.status, 'accepted', JSON.stringify(res.body));
  };

  test('placed → reserved → shipped in two parcels: Amazon holds each package with carrier and tracking, stock moves once', async () => {
    const orderId = seed([
      { SellerSKU: 'A-1', QuantityOrdered: 2 },
      { SellerSKU: 'A-2', QuantityOrdered: 1 },
    ]);
    assert.equal((await agent.agent.orders.pullNow(DESTINATION)).reserved, 1);
    assert.deepEqual(
      [level('A-1'), level('A-2')],
      [
        { onHand: 20, reserved: 2 },
        { onHand: 20, reserved: 1 },
      ],
    );

    await ship('wms-a1', orderId, [{ sku: 'A-1', qty: 2 }], 'UPS', '1Z999AA10123456784');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      fake
        .packagesOf(orderId)
        .map((p) => [p.carrierCode, p.carrierName, p.trackingNumber, p.orderItems.length]),
      [['UPS', undefined, '1Z999AA10123456784', 1]],
    );
    // Amazon says PartiallyShipped: the rest stays reserved, nothing ships twice here.
    await agent.agent.orders.pullNow(DESTINATION);
    assert.deepEqual(
      [level('A-1'), level('A-2')],
      [
        { onHand: 18, reserved: 0 },
        { onHand: 20, reserved: 1 },
      ],
    );

    await ship('wms-a2', orderId, [{ sku: 'A-2', qty: 1 }], 'Own van', 'VAN-0001');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      fake.packagesOf(orderId).map((p) => [p.carrierCode, p.carrierName ?? null, p.trackingNumber]),
      [
        ['UPS', null, '1Z999AA10123456784'],
        ['Other', 'Own van', 'VAN-0001'],
      ],
    );
    const report = await agent.agent.orders.pullNow(DESTINATION);
    assert.equal(report.shipped, 0, 'Amazon says Shipped: what the warehouse shipped is not shipped again');
    assert.deepEqual(
      [level('A-1'), level('A-2')],
      [
        { onHand: 18, reserved: 0 },
        { onHand: 19, reserved: 0 },
      ],
    );
    assert.deepEqual(
      rows(orderId).map((r) => r.state),
      ['sent', 'sent'],
    );
    assert.deepEqual(fake.invalidRequests, [], 'every request matched the official models');
    assert.deepEqual(fake.internalErrors, []);
  });

  test('a lost answer to confirmShipment is read back from the order items: one package, not two', async () => {
    const orderId = seed([{ SellerSKU: 'A-3', QuantityOrdered: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    fake.injectFaults('confirmShipment', { kind: 'apply_then_hang' });
    await ship('wms-a3', orderId, [{ sku: 'A-3', qty: 1 }], 'DHL', 'JJD0003');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(rows(orderId), [{ state: 'pending', is_unsure: 1 }]);
    assert.equal(fake.packagesOf(orderId).length, 1, 'it reached Amazon');
    agent.agent.db.sqlite.prepare('UPDATE fulfilments SET next_at = 0 WHERE order_id = ?').run(orderId);
    const confirmations = fake.requestsOf('confirmShipment').length;
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.equal(fake.requestsOf('confirmShipment').length, confirmations, 'no second confirmShipment');
    assert.deepEqual(rows(orderId), [{ state: 'sent', is_unsure: 0 }]);
    assert.equal(fake.packagesOf(orderId).length, 1);
  });

  test('an order cancelled on Amazon while it was picked: its shipment is an exception in business words', async () => {
    const orderId = seed([{ SellerSKU: 'A-4', QuantityOrdered: 1 }]);
    const other = seed([{ SellerSKU: 'A-4', QuantityOrdered: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    fake.updateOrder(orderId, { OrderStatus: 'Canceled', LastUpdateDate: new Date().toISOString() });
    await ship('wms-a4', orderId, [{ sku: 'A-4', qty: 1 }], 'DHL', 'JJD0004');
    await ship('wms-a5', other, [{ sku: 'A-4', qty: 1 }], 'DHL', 'JJD0005');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      rows(orderId).map((r) => r.state),
      ['rejected'],
    );
    assert.deepEqual(
      rows(other).map((r) => r.state),
      ['sent'],
      'the other order still went out',
    );
    const open = agent.agent.db.sqlite
      .prepare("SELECT message FROM exceptions WHERE kind = 'fulfilment_rejected' AND status = 'open'")
      .all() as { message: string }[];
    assert.equal(open.length, 1);
    assert.match(
      open[0]!.message,
      new RegExp(
        `^The shipment of order ${orderId} was not recorded at amazon: the order was cancelled there meanwhile`,
      ),
    );
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGENT_API, type ApiName } from '../../shared/agent-api.js';
import type { ConfigInput } from '../../shared/config.js';
import type { ShipmentReconcileReport } from '../../shared/rpc-views.js';
import { contractsMissing } from '../support/contracts.js';
import { makeEvent, startAgent, tempDir, testConfig, TOKEN_2, type TestAgent } from '../support/harness.js';
import { AmazonFake } from '../simulators/amazon-fake.js';

/*
 * Shipment status in reconciliation for Amazon, against the SP-API fake (every request and answer validated
 * against the official Orders v0 model in ../shared/contracts/amazon): the connector reads an order back with
 * getOrder (OrderStatus) and getOrderItems (QuantityShipped per item). An order shipped here and confirmed is in
 * step; one whose shipment is undone on Amazon, or whose confirmation Amazon acknowledged and then dropped, is
 * `not_fulfilled_remote`, and `resend` confirms it again; one shipped on Amazon but still reserved here is
 * `not_shipped_local`, and `adopt` ships it here.
 */

const DESTINATION = 'amazon';
const CLERK = { name: 'Pat', token: 'clerk-token-amazon-drift-0123456789' };
const MANAGER = { name: 'Maria', token: 'manager-token-amazon-drift-0123456789' };

describe('shipment status of Amazon orders', { skip: contractsMissing() }, () => {
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
    agent = await startAgent(
      testConfig(dir.path, {
        destinations: [destination],
        operators: [
          { name: CLERK.name, token: CLERK.token, role: 'clerk' },
          { name: MANAGER.name, token: MANAGER.token, role: 'manager' },
        ],
      }),
    );
    const stocked = await agent.post(
      makeEvent({
        id: 'in-1',
        type: 'receipt',
        lines: ['D-1', 'D-2', 'D-3'].map((sku) => ({ sku, qty: 20 })),
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
  const seed = (items: { SellerSKU: string; QuantityOrdered: number }[]) =>
    fake.seedOrder({
      OrderStatus: 'Unshipped',
      LastUpdateDate: new Date(Date.now() - 180_000).toISOString(),
      items,
    });
  const ship = async (id: string, orderId: string, lines: { sku: string; qty: number }[]) => {
    const res = await agent.post(
      makeEvent({ id, type: 'ship', reference: orderId, lines, carrier: 'UPS', trackingNumber: `1Z-${id}` }),
      TOKEN_2,
    );
    assert.equal(res.body.results[0]!.status, 'accepted', JSON.stringify(res.body));
  };
  const rpc = async (name: ApiName, input: Record<string, unknown>, token = CLERK.token) => {
    const route = AGENT_API[name];
    const response = await fetch(`${agent.url}${route.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const report = async () => {
    const res = await rpc('reconcile.shipments', { destination: DESTINATION });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as unknown as ShipmentReconcileReport;
  };
  const rowOf = async (orderId: string) => {
    const row = (await report()).rows.find((r) => r.orderId === orderId);
    return (
      row && {
        cause: row.cause,
        fixes: row.fixes,
        shippedHere: row.shippedHere,
        fulfilledThere: row.fulfilledThere,
      }
    );
  };

  test('confirmed is in step; undone on Amazon is not_fulfilled_remote fixed by resend; shipped on Amazon only is not_shipped_local fixed by adopt', async () => {
    const confirmed = seed([
      { SellerSKU: 'D-1', QuantityOrdered: 2 },
      { SellerSKU: 'D-2', QuantityOrdered: 1 },
    ]);
    const undone = seed([{ SellerSKU: 'D-2', QuantityOrdered: 1 }]);
    const elsewhere = seed([{ SellerSKU: 'D-3', QuantityOrdered: 2 }]);
    assert.equal((await agent.agent.orders.pullNow(DESTINATION)).reserved, 3);
    await ship('wms-d1', confirmed, [
      { sku: 'D-1', qty: 2 },
      { sku: 'D-2', qty: 1 },
    ]);
    await ship('wms-d2', undone, [{ sku: 'D-2', qty: 1 }]);
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.equal(fake.packagesOf(confirmed).length, 1);
    assert.equal(fake.packagesOf(undone).length, 1);

    const inStep = await report();
    assert.equal(inStep.rows.length, 0, JSON.stringify(inStep.rows));
    assert.deepEqual(inStep.summary, { orders: 3, inStep: 3, drifting: 0, pending: 0 });
    assert.ok(fake.requestsOf('getOrder').length >= 3, 'each order read with getOrder');

    // Staff take the second order's shipment back in Seller Central; the third ships from elsewhere.
    fake.undoShipments(undone);
    fake.updateOrder(elsewhere, { OrderStatus: 'Shipped', LastUpdateDate: new Date().toISOString() });
    assert.deepEqual(await rowOf(undone), {
      cause: 'not_fulfilled_remote',
      fixes: ['resend'],
      shippedHere: [{ sku: 'D-2', qty: 1 }],
      fulfilledThere: [],
    });
    assert.deepEqual(await rowOf(elsewhere), {
      cause: 'not_shipped_local',
      fixes: ['adopt'],
      shippedHere: [],
      fulfilledThere: [{ sku: 'D-3', qty: 2 }],
    });
    assert.equal(await rowOf(confirmed), undefined, 'the confirmed order is still in step');

    await agent.agent.shipmentReconciler.runScheduled();
    const drift = () =>
      agent.agent.db.sqlite
        .prepare("SELECT status, message FROM exceptions WHERE kind = 'shipment_drift'")
        .all() as { status: string; message: string }[];
    assert.deepEqual(
      drift().map((e) => e.status),
      ['open'],
    );
    assert.match(drift()[0]!.message, /^2 orders of amazon differ in shipment status/);

    const resent = await rpc(
      'reconcile.fixShipment',
      { destination: DESTINATION, orderId: undone, action: 'resend', reason: 'reversed by mistake' },
      MANAGER.token,
    );
    assert.equal(resent.status, 200, JSON.stringify(resent.body));
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      fake.packagesOf(undone).map((p) => [p.carrierCode, p.trackingNumber, p.orderItems.length]),
      [['UPS', '1Z-wms-d2', 1]],
      'confirmed again once, with the same tracking',
    );
    assert.equal(await rowOf(undone), undefined, 'in step again');

    const before = level('D-3');
    const adopted = await rpc(
      'reconcile.fixShipment',
      {
        destination: DESTINATION,
        orderId: elsewhere,
        action: 'adopt',
        reason: 'shipped from the other store',
      },
      MANAGER.token,
    );
    assert.equal(adopted.status, 200, JSON.stringify(adopted.body));
    assert.deepEqual(level('D-3'), { onHand: before.onHand - 2, reserved: before.reserved - 2 });
    assert.equal(await rowOf(elsewhere), undefined, 'in step once adopted');
    assert.equal(fake.packagesOf(elsewhere).length, 0, 'nothing confirmed back to Amazon');

    await agent.agent.shipmentReconciler.runScheduled();
    assert.deepEqual(
      drift().map((e) => e.status),
      ['resolved'],
    );
    assert.deepEqual(fake.invalidRequests, [], 'every request matched the official models');
    assert.deepEqual(fake.internalErrors, []);
  });

  test('a confirmation Amazon acknowledged but dropped is not_fulfilled_remote; resend confirms it once', async () => {
    const orderId = seed([{ SellerSKU: 'D-1', QuantityOrdered: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    fake.injectFaults('confirmShipment', { kind: 'accept_then_drop', status: 204 });
    await ship('wms-d4', orderId, [{ sku: 'D-1', qty: 1 }]);
    await agent.agent.fulfilments.sendNow(DESTINATION);
    const sent = agent.agent.db.sqlite
      .prepare('SELECT state FROM fulfilments WHERE order_id = ?')
      .all(orderId) as { state: string }[];
    assert.deepEqual(sent, [{ state: 'sent' }], 'the sender took the 204 as done');
    assert.equal(fake.packagesOf(orderId).length, 0, 'but Amazon holds no package');

    assert.deepEqual(await rowOf(orderId), {
      cause: 'not_fulfilled_remote',
      fixes: ['resend'],
      shippedHere: [{ sku: 'D-1', qty: 1 }],
      fulfilledThere: [],
    });
    const resent = await rpc(
      'reconcile.fixShipment',
      { destination: DESTINATION, orderId, action: 'resend', reason: 'lost at Amazon' },
      MANAGER.token,
    );
    assert.equal(resent.status, 200, JSON.stringify(resent.body));
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      fake.packagesOf(orderId).map((p) => p.trackingNumber),
      ['1Z-wms-d4'],
    );
    assert.equal(await rowOf(orderId), undefined, 'in step');
  });

  test('an order the fake does not know reads as absent; getOrder answers match the model', async () => {
    const orderId = seed([{ SellerSKU: 'D-1', QuantityOrdered: 1 }]);
    const read = agent.agent.connectorOf(DESTINATION)?.fulfilments?.readFulfilled;
    assert.ok(read !== undefined, 'the Amazon connector reads fulfilments back');
    const signal = AbortSignal.timeout(10_000);
    assert.deepEqual(await read('902-0000000-0000000', signal), null);
    assert.deepEqual(await read(orderId, signal), { isCancelled: false, fulfilled: [] });
    fake.updateOrder(orderId, { OrderStatus: 'Canceled', LastUpdateDate: new Date().toISOString() });
    assert.deepEqual(await read(orderId, signal), { isCancelled: true, fulfilled: [] });
    assert.deepEqual(fake.invalidRequests, []);
    assert.deepEqual(fake.internalErrors, [], 'every getOrder answer matched the official model');
  });
});

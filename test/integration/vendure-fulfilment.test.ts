import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConfigInput } from '../../shared/config.js';
import { AGENT_API } from '../../shared/agent-api.js';
import { makeEvent, startAgent, tempDir, testConfig, TOKEN_2, type TestAgent } from '../support/harness.js';
import { AdminProxy } from '../support/vendure/admin-proxy.js';
import { VendureServer } from '../support/vendure-server.js';

/*
 * Fulfilments out to a real Vendure (@vendure/core on SQLite): an order placed in Vendure is pulled and reserved,
 * the warehouse ships it (a `ship` from its system, pos-2, with carrier and tracking), and Vendure shows the
 * fulfilment with that tracking code, Shipped. Through a proxy that can swallow an answer (the request reaches
 * Vendure, no answer comes back), so a lost answer is seen to resolve without a second fulfilment.
 */

const DESTINATION = 'vendure';

type Fulfilment = {
  id: string;
  state: string;
  method: string;
  trackingCode: string;
  lines: { quantity: number }[];
};

const CLERK = { name: 'Pat', token: 'clerk-token-vendure-fulfil-0123456789' };

describe('fulfilments out to Vendure', () => {
  let vendure: VendureServer;
  let proxy: AdminProxy;
  let dir: ReturnType<typeof tempDir>;
  let agent: TestAgent;

  before(async () => {
    vendure = await VendureServer.start();
    await vendure.setUpStockLocations(['S1']);
    for (const sku of ['F-1', 'F-2', 'F-3', 'F-4']) await vendure.createProduct(sku, { S1: 50 });
    proxy = await AdminProxy.start(vendure.url);
    dir = tempDir();
    const destination: NonNullable<ConfigInput['destinations']>[number] = {
      id: DESTINATION,
      type: 'vendure',
      url: proxy.url,
      username: vendure.username,
      password: vendure.password,
      timeoutMs: 2000,
      locations: ['S1'],
      orders: { location: 'S1', pollSeconds: 3600, overlapSeconds: 300 },
    };
    agent = await startAgent(
      testConfig(dir.path, {
        locations: [{ id: 'S1', name: 'Warehouse' }],
        operators: [{ name: CLERK.name, token: CLERK.token, role: 'clerk' }],
        destinations: [destination],
        delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 50, maxAgeHours: 1 },
      }),
    );
    const stocked = await agent.post(
      makeEvent({
        id: 'in-1',
        type: 'receipt',
        lines: ['F-1', 'F-2', 'F-3', 'F-4'].map((sku) => ({ sku, qty: 20 })),
      }),
    );
    assert.equal(stocked.body.results[0]!.status, 'accepted');
    await agent.agent.orders.pullNow(DESTINATION); // the baseline
  });
  after(async () => {
    await agent?.stop();
    await proxy?.stop();
    await vendure?.stop();
    dir?.cleanup();
  });

  const level = (sku: string) => {
    const row = agent.agent.stock.levels({ sku, location: 'S1' })[0]!;
    return { onHand: row.onHand, reserved: row.reserved };
  };
  const fulfilmentsOf = async (orderId: string): Promise<Fulfilment[]> => {
    const data = await vendure.admin<{ order: { fulfillments: Fulfilment[] } }>(
      `query ($id: ID!) { order(id: $id) { fulfillments { id state method trackingCode lines { quantity } } } }`,
      { id: orderId },
    );
    return data.order.fulfillments;
  };
  const rows = (orderId: string) =>
    agent.agent.db.sqlite
      .prepare(
        'SELECT state, attempts, is_unsure, remote_id FROM fulfilments WHERE order_id = ? ORDER BY event_seq',
      )
      .all(orderId) as { state: string; attempts: number; is_unsure: number; remote_id: string | null }[];
  /** The warehouse system ships lines of the order with a carrier and tracking number. */
  const ship = async (
    id: string,
    orderId: string,
    lines: { sku: string; qty: number }[],
    tracking: string,
  ) => {
    const res = await agent.post(
      makeEvent({
        id,
        type: 'ship',
        reference: orderId,
        lines,
        carrier: 'DHL',
        trackingNumber: tracking,
        meta: { channel: DESTINATION },
      }),
      TOKEN_2,
    );
    assert.equal(res.body.results[0]!.status, 'accepted', JSON.stringify(res.body));
  };

  test('placed → reserved → partly shipped → shipped: Vendure shows each fulfilment with its tracking code, and stock moves once', async () => {
    const order = await vendure.placeOrder([
      { sku: 'F-1', qty: 2 },
      { sku: 'F-2', qty: 1 },
    ]);
    assert.equal((await agent.agent.orders.pullNow(DESTINATION)).reserved, 1);
    assert.deepEqual(
      [level('F-1'), level('F-2')],
      [
        { onHand: 20, reserved: 2 },
        { onHand: 20, reserved: 1 },
      ],
    );

    await ship('wms-v1a', order.id, [{ sku: 'F-1', qty: 2 }], 'DHL-0001');
    assert.deepEqual(
      [level('F-1'), level('F-2')],
      [
        { onHand: 18, reserved: 0 },
        { onHand: 20, reserved: 1 },
      ],
    );
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.equal(await vendure.orderState(order.id), 'PartiallyShipped');
    const first = await fulfilmentsOf(order.id);
    assert.deepEqual(
      first.map((f) => [f.method, f.trackingCode, f.state, f.lines.reduce((n, l) => n + l.quantity, 0)]),
      [['DHL', 'DHL-0001', 'Shipped', 2]],
    );
    // Read again while partly shipped: the tee left stays reserved, nothing ships twice.
    await agent.agent.orders.pullNow(DESTINATION);
    assert.deepEqual(
      [level('F-1'), level('F-2')],
      [
        { onHand: 18, reserved: 0 },
        { onHand: 20, reserved: 1 },
      ],
    );

    await ship('wms-v1b', order.id, [{ sku: 'F-2', qty: 1 }], 'DHL-0002');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.equal(await vendure.orderState(order.id), 'Shipped');
    assert.deepEqual(
      (await fulfilmentsOf(order.id)).map((f) => f.trackingCode),
      ['DHL-0001', 'DHL-0002'],
    );
    assert.deepEqual(
      rows(order.id).map((r) => r.state),
      ['sent', 'sent'],
    );
    // Vendure now says Shipped: the pull ships nothing more here.
    const report = await agent.agent.orders.pullNow(DESTINATION);
    assert.equal(report.shipped, 0);
    assert.deepEqual(
      [level('F-1'), level('F-2')],
      [
        { onHand: 18, reserved: 0 },
        { onHand: 19, reserved: 0 },
      ],
    );
  });

  test('a lost answer to addFulfillmentToOrder is read back: one fulfilment in Vendure, not two', async () => {
    const order = await vendure.placeOrder([{ sku: 'F-3', qty: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    proxy.inject('BackroomAddFulfilment', { kind: 'swallow' });
    await ship('wms-v2', order.id, [{ sku: 'F-3', qty: 1 }], 'DHL-0003');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      rows(order.id).map((r) => [r.state, r.is_unsure]),
      [['pending', 1]],
      'sent, no answer: unsure',
    );
    // Vendure did make it (the request reached it): the next attempt reads it back and sends nothing.
    agent.agent.db.sqlite.prepare('UPDATE fulfilments SET next_at = 0 WHERE order_id = ?').run(order.id);
    const adds = () => proxy.seen.filter((s) => s.operation.includes('BackroomAddFulfilment')).length;
    const before = adds();
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.equal(adds(), before, 'no second addFulfillmentToOrder');
    const found = await fulfilmentsOf(order.id);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.state, 'Shipped', 'the transition the lost answer skipped was made on read-back');
    assert.deepEqual(
      rows(order.id).map((r) => [r.state, r.remote_id]),
      [['sent', found[0]!.id]],
    );
  });

  test('an order cancelled in Vendure while being picked: the shipment is an exception in business words, other orders still go out', async () => {
    const cancelled = await vendure.placeOrder([{ sku: 'F-4', qty: 1 }]);
    const other = await vendure.placeOrder([{ sku: 'F-4', qty: 2 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    // Cancelled in Vendure before the pull sees it; the warehouse ships it anyway.
    assert.equal(await vendure.cancel(cancelled.id), 'Cancelled');
    await ship('wms-v3a', cancelled.id, [{ sku: 'F-4', qty: 1 }], 'DHL-0004');
    await ship('wms-v3b', other.id, [{ sku: 'F-4', qty: 2 }], 'DHL-0005');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      rows(cancelled.id).map((r) => r.state),
      ['rejected'],
    );
    assert.deepEqual(
      rows(other.id).map((r) => r.state),
      ['sent'],
    );
    assert.equal(await vendure.orderState(other.id), 'Shipped');
    const exception = agent.agent.db.sqlite
      .prepare("SELECT message FROM exceptions WHERE kind = 'fulfilment_rejected' AND status = 'open'")
      .all() as { message: string }[];
    assert.equal(exception.length, 1);
    assert.match(
      exception[0]!.message,
      new RegExp(
        `^The shipment of order ${cancelled.code} was not recorded at vendure: the order was cancelled there meanwhile .*stop it and return the goods to stock`,
      ),
    );
  });
  test('shipment status in reconciliation: a fulfilment cancelled in Vendure’s admin is drift, resent from here (read back first), then in step', async () => {
    const order = await vendure.placeOrder([{ sku: 'F-1', qty: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    await ship('wms-v4', order.id, [{ sku: 'F-1', qty: 1 }], 'DHL-0006');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    const [shipped] = await fulfilmentsOf(order.id);
    assert.equal(shipped?.state, 'Shipped');
    const rowOf = async () =>
      (await agent.agent.shipmentReconciler.run(DESTINATION)).rows.find((r) => r.orderId === order.id);
    assert.equal(await rowOf(), undefined, 'in step once fulfilled');

    const cancelled = await vendure.admin<{ transitionFulfillmentToState: { __typename: string } }>(
      `mutation ($id: ID!) { transitionFulfillmentToState(id: $id, state: "Cancelled") { __typename } }`,
      { id: shipped.id },
    );
    assert.equal(cancelled.transitionFulfillmentToState.__typename, 'Fulfillment');
    const drift = await rowOf();
    assert.deepEqual(drift && [drift.cause, drift.fixes, drift.shippedHere, drift.fulfilledThere], [
      'not_fulfilled_remote',
      ['resend'],
      [{ sku: 'F-1', qty: 1 }],
      [],
    ]);

    const fixed = await agent.agent.shipmentReconciler.fix({
      destinationId: DESTINATION,
      orderId: order.id,
      action: 'resend',
      reason: 'cancelled by mistake',
      operator: 'Maria',
    });
    assert.match(fixed.detail, /^1 shipment of order \S+ go to vendure again/);
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      (await fulfilmentsOf(order.id)).map((f) => [f.trackingCode, f.state]),
      [
        ['DHL-0006', 'Cancelled'],
        ['DHL-0006', 'Shipped'],
      ],
    );
    assert.equal(await rowOf(), undefined, 'in step again');
  });
  test('a refund by line on Vendure after shipping is expected back here, and received resellable it is back on hand; a refund of an amount alone expects nothing', async () => {
    const order = await vendure.placeOrder([{ sku: 'F-2', qty: 2 }]);
    const moneyOnly = await vendure.placeOrder([{ sku: 'F-3', qty: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    await ship('wms-v5a', order.id, [{ sku: 'F-2', qty: 2 }], 'DHL-0007');
    await ship('wms-v5b', moneyOnly.id, [{ sku: 'F-3', qty: 1 }], 'DHL-0008');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    const refund = async (orderId: string, input: (line: string) => Record<string, unknown>) => {
      const { order: o } = await vendure.admin<{
        order: { payments: { id: string }[]; lines: { id: string }[] };
      }>(`query ($id: ID!) { order(id: $id) { payments { id } lines { id } } }`, { id: orderId });
      const answer = await vendure.admin<{ refundOrder: { __typename: string; state?: string } }>(
        `mutation ($input: RefundOrderInput!) { refundOrder(input: $input) { __typename ... on Refund { state } } }`,
        { input: { paymentId: o.payments[0]!.id, reason: 'customer return', ...input(o.lines[0]!.id) } },
      );
      assert.equal(answer.refundOrder.__typename, 'Refund', JSON.stringify(answer));
    };
    await refund(order.id, (line: string) => ({
      lines: [{ orderLineId: line, quantity: 1 }],
      shipping: 0,
      adjustment: 0,
    }));
    await refund(moneyOnly.id, () => ({ amount: 100, shipping: 0, adjustment: 0 }));
    // Vendure 3.7 leaves an order's updatedAt as it was when it is refunded: the pull's overlap reads these orders
    // again because they shipped minutes ago (README, "Vendure's refunds").
    await agent.agent.orders.pullNow(DESTINATION);
    const expected = (orderId: string) =>
      agent.agent.db.sqlite
        .prepare(
          "SELECT status, message FROM exceptions WHERE kind = 'order_return_expected' AND json_extract(details, '$.orderId') = ?",
        )
        .all(orderId) as { status: string; message: string }[];
    assert.deepEqual(expected(moneyOnly.id), [], 'money only: nothing expected back');
    const [open] = expected(order.id);
    assert.equal(open?.status, 'open');
    assert.match(
      open.message,
      /^A return of order \S+ was recorded on vendure .*: 1 × F-2 should come back to S1\./,
    );

    const onHand = level('F-2').onHand;
    const received = await fetch(`${agent.url}${AGENT_API['fulfil.return'].path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLERK.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'vendure-return-0001',
        location: 'S1',
        channel: `orders:${DESTINATION}`,
        order: order.id,
        lines: [{ sku: 'F-2', qty: 1 }],
        condition: 'resellable',
      }),
    });
    assert.equal(received.status, 200, await received.text());
    assert.equal(level('F-2').onHand, onHand + 1);
    assert.deepEqual(
      expected(order.id).map((e) => e.status),
      ['resolved'],
    );
  });
});

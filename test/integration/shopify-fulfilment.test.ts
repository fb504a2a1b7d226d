import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGENT_API, type ApiName } from '../../shared/agent-api.js';
import type { ConfigInput } from '../../shared/config.js';
import type { ShipmentReconcileReport } from '../../shared/rpc-views.js';
import { contractsMissing } from '../support/contracts.js';
import { makeEvent, startAgent, tempDir, testConfig, TOKEN_2, type TestAgent } from '../support/harness.js';
import { ShopifyFake } from '../simulators/shopify-fake.js';

/*
 * Fulfilments out to Shopify (fulfillmentCreate against the order's fulfilment orders) on the Shopify fake, whose
 * schema is the full official Admin schema (../shared/contracts/shopify/admin_2025-01.graphql, with the 2026
 * changes): an order placed on Shopify is pulled and reserved, picked and shipped at the Fulfil page with a
 * carrier and tracking number, and Shopify then holds a fulfilment with that tracking for those lines. A partial
 * shipment leaves the rest open on both sides; a lost answer to fulfillmentCreate is read back without a second
 * fulfilment; an order cancelled on Shopify while it was picked, or fulfilled there by hand, is an exception in
 * business words and does not hold up another order.
 */

const DESTINATION = 'shop';
const CHANNEL = `orders:${DESTINATION}`;
const CLERK = { name: 'Pat', token: 'clerk-token-shopify-fulfil-0123456789' };
const MANAGER = { name: 'Maria', token: 'manager-token-shopify-fulfil-0123456789' };

describe('fulfilments out to Shopify', { skip: contractsMissing() }, () => {
  let fake: ShopifyFake;
  let store: string;
  let dir: ReturnType<typeof tempDir>;
  let agent: TestAgent;

  before(async () => {
    fake = await ShopifyFake.start();
    store = fake.addLocation('Store one');
    for (const sku of ['MUG', 'TEE', 'CAP', 'PEN', 'BAG']) fake.addItem(sku, { [store]: 20 });
    dir = tempDir();
    const destination: NonNullable<ConfigInput['destinations']>[number] = {
      id: DESTINATION,
      type: 'shopify',
      url: fake.url,
      accessToken: fake.accessToken,
      channel: 'web',
      locationNames: { S1: 'Store one' },
      // A lost answer is seen after a second, not twenty.
      timeoutMs: 1000,
      orders: { location: 'S1', pollSeconds: 3600, overlapSeconds: 300 },
    };
    agent = await startAgent(
      testConfig(dir.path, {
        channels: [{ id: 'web', buffer: 0 }],
        destinations: [destination],
        operators: [
          { name: CLERK.name, token: CLERK.token, role: 'clerk' },
          { name: MANAGER.name, token: MANAGER.token, role: 'manager' },
        ],
        carriers: [
          { id: 'DHL', name: 'DHL Parcel', trackingUrl: 'https://track.carrier.test/p/{trackingNumber}' },
          { id: 'OWN', name: 'Own van' },
        ],
      }),
    );
    const stocked = await agent.post(
      makeEvent({
        id: 'in-1',
        type: 'receipt',
        lines: ['MUG', 'TEE', 'CAP', 'PEN', 'BAG'].map((sku) => ({ sku, qty: 20 })),
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
  const place = (lines: { sku: string; quantity: number }[]) =>
    fake.placeOrder({ location: store, lines, at: new Date(Date.now() - 120_000) });
  const rpc = async (name: ApiName, input: Record<string, unknown>, token = CLERK.token) => {
    const route = AGENT_API[name];
    const response = await fetch(`${agent.url}${route.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const graphqlOf = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(fake.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': fake.accessToken },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: Record<string, unknown> | null; errors?: unknown };
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!;
  };
  const exceptionsOf = (kind: string, orderId: string) =>
    agent.agent.db.sqlite
      .prepare(
        "SELECT status, message FROM exceptions WHERE kind = ? AND json_extract(details, '$.orderId') = ? ORDER BY id",
      )
      .all(kind, orderId) as { status: string; message: string }[];
  /** Picked and shipped at the Fulfil page, as a clerk does it. */
  const shipAtFulfilPage = async (
    id: string,
    orderId: string,
    lines: { sku: string; qty: number }[],
    carrier: string,
    trackingNumber: string,
  ) => {
    const route = AGENT_API['fulfil.ship' satisfies ApiName];
    const response = await fetch(`${agent.url}${route.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLERK.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id, location: 'S1', channel: CHANNEL, orderId, lines, carrier, trackingNumber }),
    });
    assert.equal(response.status, 200, await response.text());
  };
  /** Shipped by the warehouse's own system through the ingest API. */
  const shipByIngest = async (id: string, orderId: string, lines: { sku: string; qty: number }[]) => {
    const res = await agent.post(
      makeEvent({ id, type: 'ship', reference: orderId, lines, carrier: 'DHL', trackingNumber: `JJD-${id}` }),
      TOKEN_2,
    );
    assert.equal(res.body.results[0]!.status, 'accepted', JSON.stringify(res.body));
  };
  const orderStatus = async (orderId: string) => {
    const page = await fetch(fake.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': fake.accessToken },
      body: JSON.stringify({
        query: 'query Status($id: ID!) { order(id: $id) { displayFulfillmentStatus } }',
        variables: { id: orderId },
      }),
    });
    const body = (await page.json()) as { data: { order: { displayFulfillmentStatus: string } } };
    return body.data.order.displayFulfillmentStatus;
  };

  test('placed → reserved → picked → shipped with tracking: Shopify holds the fulfilment with that tracking, stock moves once', async () => {
    const orderId = place([
      { sku: 'MUG', quantity: 2 },
      { sku: 'TEE', quantity: 1 },
    ]);
    assert.equal((await agent.agent.orders.pullNow(DESTINATION)).reserved, 1);
    assert.deepEqual(
      [level('MUG'), level('TEE')],
      [
        { onHand: 20, reserved: 2 },
        { onHand: 20, reserved: 1 },
      ],
    );

    await shipAtFulfilPage(
      'pick-order-1',
      orderId,
      [
        { sku: 'MUG', qty: 2 },
        { sku: 'TEE', qty: 1 },
      ],
      'DHL',
      'JJD000390007',
    );
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      fake.fulfilments
        .of(orderId)
        .map(({ tracking, notifyCustomer, lines }) => ({ tracking, notifyCustomer, lines })),
      [
        {
          tracking: {
            company: 'DHL',
            number: 'JJD000390007',
            url: 'https://track.carrier.test/p/JJD000390007',
          },
          notifyCustomer: true,
          lines: [
            { sku: 'MUG', quantity: 2 },
            { sku: 'TEE', quantity: 1 },
          ],
        },
      ],
    );
    assert.equal(await orderStatus(orderId), 'FULFILLED');
    assert.deepEqual(rows(orderId), [{ state: 'sent', is_unsure: 0 }]);

    // Shopify now says FULFILLED: the pull ships nothing again.
    const report = await agent.agent.orders.pullNow(DESTINATION);
    assert.equal(report.shipped, 0);
    assert.deepEqual(
      [level('MUG'), level('TEE')],
      [
        { onHand: 18, reserved: 0 },
        { onHand: 19, reserved: 0 },
      ],
    );
    assert.deepEqual(fake.invalidRequests, [], 'every request matched the official schema');
  });

  test('a partial shipment fulfils only its lines: the rest stays open on Shopify and reserved here until it ships', async () => {
    const orderId = place([
      { sku: 'CAP', quantity: 3 },
      { sku: 'PEN', quantity: 1 },
    ]);
    await agent.agent.orders.pullNow(DESTINATION);
    await shipAtFulfilPage('pick-order-2a', orderId, [{ sku: 'CAP', qty: 2 }], 'OWN', 'VAN-0001');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(fake.fulfilments.remainingOf(orderId), { CAP: 1, PEN: 1 });
    assert.equal(await orderStatus(orderId), 'PARTIALLY_FULFILLED');
    await agent.agent.orders.pullNow(DESTINATION);
    assert.deepEqual(
      [level('CAP'), level('PEN')],
      [
        { onHand: 18, reserved: 1 },
        { onHand: 20, reserved: 1 },
      ],
    );

    await shipAtFulfilPage(
      'pick-order-2b',
      orderId,
      [
        { sku: 'CAP', qty: 1 },
        { sku: 'PEN', qty: 1 },
      ],
      'OWN',
      'VAN-0002',
    );
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      fake.fulfilments
        .of(orderId)
        .map((f) => [f.tracking?.company, f.tracking?.number, f.tracking?.url, f.lines]),
      [
        ['OWN', 'VAN-0001', null, [{ sku: 'CAP', quantity: 2 }]],
        [
          'OWN',
          'VAN-0002',
          null,
          [
            { sku: 'CAP', quantity: 1 },
            { sku: 'PEN', quantity: 1 },
          ],
        ],
      ],
    );
    assert.equal(await orderStatus(orderId), 'FULFILLED');
    await agent.agent.orders.pullNow(DESTINATION);
    assert.deepEqual(
      [level('CAP'), level('PEN')],
      [
        { onHand: 17, reserved: 0 },
        { onHand: 19, reserved: 0 },
      ],
    );
    assert.deepEqual(
      rows(orderId).map((r) => r.state),
      ['sent', 'sent'],
    );
  });

  test('a lost answer to fulfillmentCreate is read back from the order: one fulfilment on Shopify, not two', async () => {
    const orderId = place([{ sku: 'BAG', quantity: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    fake.fulfilments.loseNextAnswer();
    await shipByIngest('wms-lost', orderId, [{ sku: 'BAG', qty: 1 }]);
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(rows(orderId), [{ state: 'pending', is_unsure: 1 }], 'unsure: the answer never came');
    assert.equal(fake.fulfilments.of(orderId).length, 1, 'it reached Shopify');

    agent.agent.db.sqlite.prepare('UPDATE fulfilments SET next_at = 0 WHERE order_id = ?').run(orderId);
    const created = fake.fulfilments.createdCount;
    const mutations = fake.requests.filter((r) => r.rootFields.includes('fulfillmentCreate')).length;
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(rows(orderId), [{ state: 'sent', is_unsure: 0 }]);
    assert.equal(fake.fulfilments.createdCount, created, 'no second fulfilment');
    assert.equal(
      fake.requests.filter((r) => r.rootFields.includes('fulfillmentCreate')).length,
      mutations,
      'read back, not sent again',
    );
    assert.equal(fake.fulfilments.of(orderId).length, 1);
  });

  test('an order cancelled on Shopify while it was picked, or fulfilled there by hand: an exception each in business words, the other order still goes out', async () => {
    const cancelled = place([{ sku: 'MUG', quantity: 1 }]);
    const byHand = place([{ sku: 'TEE', quantity: 1 }]);
    const fine = place([{ sku: 'MUG', quantity: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    fake.cancelOrder(cancelled);
    fake.fulfilOrder(byHand);
    await shipByIngest('wms-c1', cancelled, [{ sku: 'MUG', qty: 1 }]);
    await shipByIngest('wms-c2', byHand, [{ sku: 'TEE', qty: 1 }]);
    await shipByIngest('wms-c3', fine, [{ sku: 'MUG', qty: 1 }]);
    await agent.agent.fulfilments.sendNow(DESTINATION);

    assert.deepEqual(
      rows(cancelled).map((r) => r.state),
      ['rejected'],
    );
    assert.deepEqual(
      rows(byHand).map((r) => r.state),
      ['rejected'],
    );
    assert.deepEqual(
      rows(fine).map((r) => r.state),
      ['sent'],
      'the other order still went out',
    );
    assert.equal(fake.fulfilments.of(cancelled).length, 0);
    const messages = (
      agent.agent.db.sqlite
        .prepare(
          "SELECT message FROM exceptions WHERE kind = 'fulfilment_rejected' AND status = 'open' ORDER BY id",
        )
        .all() as { message: string }[]
    ).map((r) => r.message);
    assert.equal(messages.length, 2, JSON.stringify(messages));
    assert.match(
      messages[0]!,
      /^The shipment of order #\d+ was not recorded at shop: the order was cancelled there meanwhile \(order #\d+ was cancelled on Shopify/,
    );
    assert.match(
      messages[1]!,
      /^The shipment of order #\d+ was not recorded at shop: its lines are fulfilled there already \(order #\d+ has no TEE left to fulfil on Shopify, 1 were shipped\)/,
    );
  });

  test('a return after shipping: asked for on Shopify it is expected here, then received resellable (back on hand) or damaged (written off), which resolves it; a refund of money only expects nothing', async () => {
    const returned = place([{ sku: 'BAG', quantity: 2 }]);
    const refunded = place([{ sku: 'CAP', quantity: 1 }]);
    const moneyOnly = place([{ sku: 'PEN', quantity: 1 }]);
    await agent.agent.orders.pullNow(DESTINATION);
    await shipAtFulfilPage('pick-ret-1', returned, [{ sku: 'BAG', qty: 2 }], 'DHL', 'JJD-RET-1');
    await shipAtFulfilPage('pick-ret-2', refunded, [{ sku: 'CAP', qty: 1 }], 'DHL', 'JJD-RET-2');
    await shipAtFulfilPage('pick-ret-3', moneyOnly, [{ sku: 'PEN', qty: 1 }], 'DHL', 'JJD-RET-3');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    const before = { bag: level('BAG').onHand, cap: level('CAP').onHand, pen: level('PEN').onHand };

    fake.fulfilments.requestReturn(returned, [{ sku: 'BAG', quantity: 1 }]);
    fake.fulfilments.refund(refunded, [{ sku: 'CAP', quantity: 1 }], 'RETURN');
    fake.fulfilments.refund(moneyOnly, [{ sku: 'PEN', quantity: 1 }], 'NO_RESTOCK');
    await agent.agent.orders.pullNow(DESTINATION);
    const [expected] = exceptionsOf('order_return_expected', returned);
    assert.equal(expected?.status, 'open');
    assert.match(
      expected.message,
      /^A return of order #\d+ was recorded on shop \(a return or a refund that restocks\): 1 × BAG should come back to S1\. When the parcel arrives, receive it/,
    );
    assert.equal(exceptionsOf('order_return_expected', refunded)[0]?.status, 'open');
    assert.deepEqual(exceptionsOf('order_return_expected', moneyOnly), [], 'money only: no goods expected');
    // Read again (the pull's overlap): still one exception each.
    await agent.agent.orders.pullNow(DESTINATION);
    assert.equal(exceptionsOf('order_return_expected', returned).length, 1);

    const received = await rpc('fulfil.return', {
      id: 'return-bag-0001',
      location: 'S1',
      channel: CHANNEL,
      order: returned,
      lines: [{ sku: 'BAG', qty: 1 }],
      condition: 'resellable',
    });
    assert.equal(received.status, 200, JSON.stringify(received.body));
    const damaged = await rpc('fulfil.return', {
      id: 'return-cap-0001',
      location: 'S1',
      channel: CHANNEL,
      order: refunded,
      lines: [{ sku: 'CAP', qty: 1 }],
      condition: 'damaged',
    });
    assert.equal(damaged.status, 200, JSON.stringify(damaged.body));
    assert.deepEqual(
      [
        exceptionsOf('order_return_expected', returned)[0]?.status,
        exceptionsOf('order_return_expected', refunded)[0]?.status,
      ],
      ['resolved', 'resolved'],
    );
    assert.deepEqual(
      { bag: level('BAG').onHand, cap: level('CAP').onHand, pen: level('PEN').onHand },
      { bag: before.bag + 1, cap: before.cap, pen: before.pen },
      'the resellable bag is back on hand, the damaged cap written off, nothing came back of the pen',
    );
    // Read again (the pull's overlap) with the return still on Shopify: what came back covers it, nothing is raised.
    await agent.agent.orders.pullNow(DESTINATION);
    assert.deepEqual(
      exceptionsOf('order_return_expected', returned).map((e) => e.status),
      ['resolved'],
    );
    assert.deepEqual(fake.invalidRequests, [], 'every request matched the official schema');
  });

  test('shipment status in reconciliation: a fulfilment undone on Shopify is drift fixed by resending it (read back first); units fulfilled there but reserved here are adopted as shipped', async () => {
    const undone = place([{ sku: 'TEE', quantity: 1 }]);
    const byAdmin = place([
      { sku: 'MUG', quantity: 1 },
      { sku: 'PEN', quantity: 1 },
    ]);
    await agent.agent.orders.pullNow(DESTINATION);
    await shipAtFulfilPage('pick-rec-1', undone, [{ sku: 'TEE', qty: 1 }], 'DHL', 'JJD-REC-1');
    await agent.agent.fulfilments.sendNow(DESTINATION);
    const report = async () => {
      const res = await rpc('reconcile.shipments', { destination: DESTINATION });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as unknown as ShipmentReconcileReport;
    };
    const rowOf = async (orderId: string) => (await report()).rows.find((r) => r.orderId === orderId);
    assert.equal(await rowOf(undone), undefined, 'in step once fulfilled');

    // Staff undo the fulfilment in Shopify's admin; another order is partly fulfilled there by hand.
    fake.fulfilments.cancelFulfilment(fake.fulfilments.of(undone)[0]!.id);
    const lines = await graphqlOf(
      'query L($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id lineItems(first: 5) { nodes { id sku } } } } } }',
      { id: byAdmin },
    );
    const fo = (
      lines['order'] as {
        fulfillmentOrders: { nodes: { id: string; lineItems: { nodes: { id: string; sku: string }[] } }[] };
      }
    ).fulfillmentOrders.nodes[0]!;
    await graphqlOf(
      'mutation F($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id } userErrors { message } } }',
      {
        f: {
          lineItemsByFulfillmentOrder: [
            {
              fulfillmentOrderId: fo.id,
              fulfillmentOrderLineItems: [
                { id: fo.lineItems.nodes.find((l) => l.sku === 'MUG')!.id, quantity: 1 },
              ],
            },
          ],
        },
      },
    );
    // The staff's admin spent points of the shop's bucket that the agent's view of it does not know of; full
    // again, as after a pause, so the pull is not throttled (a throttled pull would simply run later).
    fake.setThrottle({});
    await agent.agent.orders.pullNow(DESTINATION);
    assert.equal(level('MUG').reserved > 0, true, 'partly fulfilled on Shopify: still reserved here');

    const undoneRow = await rowOf(undone);
    assert.deepEqual(
      undoneRow && {
        cause: undoneRow.cause,
        fixes: undoneRow.fixes,
        shippedHere: undoneRow.shippedHere,
        fulfilledThere: undoneRow.fulfilledThere,
      },
      {
        cause: 'not_fulfilled_remote',
        fixes: ['resend'],
        shippedHere: [{ sku: 'TEE', qty: 1 }],
        fulfilledThere: [],
      },
    );
    assert.match(undoneRow!.explanation, /^1 × TEE shipped from S1 but shop shows it unfulfilled/);
    const adminRow = await rowOf(byAdmin);
    assert.deepEqual(
      adminRow && { cause: adminRow.cause, fixes: adminRow.fixes, fulfilledThere: adminRow.fulfilledThere },
      { cause: 'not_shipped_local', fixes: ['adopt'], fulfilledThere: [{ sku: 'MUG', qty: 1 }] },
    );

    // The scheduled pass raises one exception for the shop, naming how many orders and one of them.
    await agent.agent.shipmentReconciler.runScheduled();
    const drift = () =>
      agent.agent.db.sqlite
        .prepare("SELECT status, message FROM exceptions WHERE kind = 'shipment_drift'")
        .all() as { status: string; message: string }[];
    assert.deepEqual(
      drift().map((e) => e.status),
      ['open'],
    );
    assert.match(
      drift()[0]!.message,
      /^2 orders of shop differ in shipment status from what was shipped here \(for example order #\d+: .*\)\. Open Reconciliation, Shipment status, to resend the fulfilment or adopt shop's state\.$/,
    );

    const clerkTry = await rpc('reconcile.fixShipment', {
      destination: DESTINATION,
      orderId: undone,
      action: 'resend',
      reason: 'undone by mistake',
    });
    assert.equal(clerkTry.status, 403, 'a fix is a manager’s');
    const resent = await rpc(
      'reconcile.fixShipment',
      {
        destination: DESTINATION,
        orderId: undone,
        action: 'resend',
        reason: 'undone by mistake in the admin',
      },
      MANAGER.token,
    );
    assert.equal(resent.status, 200, JSON.stringify(resent.body));
    await agent.agent.fulfilments.sendNow(DESTINATION);
    assert.deepEqual(
      fake.fulfilments.of(undone).map((f) => [f.tracking?.number, f.lines]),
      [
        ['JJD-REC-1', [{ sku: 'TEE', quantity: 1 }]],
        ['JJD-REC-1', [{ sku: 'TEE', quantity: 1 }]],
      ],
      'the undone fulfilment stays cancelled; one new fulfilment with the same tracking',
    );
    assert.equal(await rowOf(undone), undefined, 'in step again');

    const mugBefore = level('MUG');
    const adopted = await rpc(
      'reconcile.fixShipment',
      {
        destination: DESTINATION,
        orderId: byAdmin,
        action: 'adopt',
        reason: 'shipped from the other warehouse',
      },
      MANAGER.token,
    );
    assert.equal(adopted.status, 200, JSON.stringify(adopted.body));
    assert.deepEqual(level('MUG'), { onHand: mugBefore.onHand - 1, reserved: mugBefore.reserved - 1 });
    assert.deepEqual(rows(byAdmin), [], 'adopted from Shopify: nothing is sent back to it');
    assert.equal(await rowOf(byAdmin), undefined, 'in step: the pen is still to ship on both sides');
    await agent.agent.shipmentReconciler.runScheduled();
    assert.deepEqual(
      drift().map((e) => e.status),
      ['resolved'],
      'a pass finding every order in step resolves it',
    );
    const again = await rpc(
      'reconcile.fixShipment',
      { destination: DESTINATION, orderId: byAdmin, action: 'adopt', reason: 'twice' },
      MANAGER.token,
    );
    assert.equal(again.status, 400, 'nothing left to adopt');
  });

  test('the fake refuses an over-fulfilment and a cancelled order with Shopify’s user errors, applying nothing', async () => {
    const orderId = place([{ sku: 'PEN', quantity: 1 }]);
    const cancelled = place([{ sku: 'PEN', quantity: 1 }]);
    fake.cancelOrder(cancelled);
    const graphql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(fake.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-access-token': fake.accessToken },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data: Record<string, unknown> | null; errors?: unknown };
    };
    const lines = async (id: string) => {
      const body = await graphql(
        'query Lines($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id lineItems(first: 5) { nodes { id remainingQuantity } } } } } }',
        { id },
      );
      const fo = (
        body.data!['order'] as {
          fulfillmentOrders: { nodes: { id: string; lineItems: { nodes: { id: string }[] } }[] };
        }
      ).fulfillmentOrders.nodes[0]!;
      return { fo: fo.id, line: fo.lineItems.nodes[0]!.id };
    };
    const create = async (fo: string, line: string, quantity: number) =>
      (
        await graphql(
          'mutation F($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id } userErrors { field message } } }',
          {
            f: {
              lineItemsByFulfillmentOrder: [
                { fulfillmentOrderId: fo, fulfillmentOrderLineItems: [{ id: line, quantity }] },
              ],
            },
          },
        )
      ).data!['fulfillmentCreate'] as {
        fulfillment: unknown;
        userErrors: { field: string[]; message: string }[];
      };

    const open = await lines(orderId);
    const over = await create(open.fo, open.line, 2);
    assert.equal(over.fulfillment, null);
    assert.deepEqual(
      over.userErrors.map((e) => e.message),
      ['Invalid fulfillment order line item quantity requested.'],
    );
    const gone = await lines(cancelled);
    const refused = await create(gone.fo, gone.line, 1);
    assert.equal(refused.fulfillment, null);
    assert.match(refused.userErrors[0]!.message, /unfulfillable status= cancelled/);
    assert.equal(
      fake.fulfilments.of(orderId).length + fake.fulfilments.of(cancelled).length,
      0,
      'nothing applied',
    );
  });
});

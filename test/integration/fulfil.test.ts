import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ApiName } from '../../shared/agent-api.js';
import type { FulfilOrdersView } from '../../shared/rpc-views.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { callRoute } from '../support/rpc-client.js';

const CLERK = { name: 'Pat', token: 'clerk-token-fulfil-0123456789' };

type Answer = { status: number; body: Record<string, unknown> };

/**
 * An agent with a catalog (MUG with a barcode, TEE), a clerk, a carrier with a tracking page, and three orders of
 * a web shop (pos-1) at S1: 3 mugs on the shelf for 4 ordered across them.
 */
async function setUp(t: TestContext) {
  const dir = tempDir();
  t.after(dir.cleanup);
  const catalog = join(dir.path, 'items.csv');
  writeFileSync(catalog, 'sku,name,barcode\nMUG,Mug,4006381333931\nTEE,Tee,\n');
  const agent = await startAgent(
    testConfig(join(dir.path, 'data'), {
      catalog: { path: catalog },
      operators: [{ name: CLERK.name, token: CLERK.token, role: 'clerk' }],
      carriers: [
        { id: 'DHL', name: 'DHL Parcel', trackingUrl: 'https://track.carrier.test/p/{trackingNumber}' },
        { id: 'OWN', name: 'Own van' },
      ],
    }),
  );
  t.after(() => agent.stop());
  const post = async (event: Record<string, unknown>) => {
    const res = await agent.post(makeEvent(event));
    assert.equal(res.body.results[0]!.status, 'accepted', JSON.stringify(res.body));
  };
  await post({
    id: 'in',
    type: 'receipt',
    lines: [
      { sku: 'MUG', qty: 3 },
      { sku: 'TEE', qty: 5 },
    ],
  });
  // Reserved in this order; promised otherwise: O-LATE has no ship-by, O-SOON the earliest.
  await post({
    id: 'r1',
    type: 'reserve',
    reference: 'O-LATE',
    lines: [{ sku: 'MUG', qty: 1 }],
    meta: { order: '#1003' },
  });
  await post({
    id: 'r2',
    type: 'reserve',
    reference: 'O-NEXT',
    lines: [
      { sku: 'MUG', qty: 2 },
      { sku: 'TEE', qty: 1 },
    ],
    meta: { order: '#1002', shipBy: '2026-11-27T17:00:00Z' },
  });
  await post({
    id: 'r3',
    type: 'reserve',
    reference: 'O-SOON',
    lines: [{ sku: 'MUG', qty: 1 }],
    meta: { order: '#1001', shipBy: '2026-11-26T17:00:00Z' },
  });
  const call = async (name: ApiName, input: Record<string, unknown>): Promise<Answer> => {
    return callRoute(agent.url, name, input, CLERK.token);
  };
  return { agent, call };
}

const eventCount = (agent: TestAgent) =>
  (agent.agent.db.sqlite.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;

test('open orders are listed oldest promise first, with reserved, short and ship-by per line', async (t) => {
  const { call } = await setUp(t);
  const { status, body } = await call('fulfil.orders', { location: 'S1' });
  assert.equal(status, 200);
  const view = body as unknown as FulfilOrdersView;
  assert.deepEqual(
    view.orders.map((o) => [o.name, o.shipBy]),
    [
      ['#1001', '2026-11-26T17:00:00Z'],
      ['#1002', '2026-11-27T17:00:00Z'],
      ['#1003', null],
    ],
  );
  // 3 mugs: #1001 takes 1, #1002 the other 2, #1003 finds none left.
  assert.deepEqual(
    view.orders.map((o) => o.lines.map((l) => [l.sku, l.reserved, l.short])),
    [
      [['MUG', 1, 0]],
      [
        ['MUG', 2, 0],
        ['TEE', 1, 0],
      ],
      [['MUG', 1, 1]],
    ],
  );
  assert.equal(view.orders[0]!.lines[0]!.barcode, '4006381333931');
  assert.deepEqual(
    view.carriers.map((c) => [c.id, c.hasTrackingPage]),
    [
      ['DHL', true],
      ['OWN', false],
    ],
  );
});

test('a picked order ships with its carrier and tracking page; a partial shipment leaves the rest to fulfil', async (t) => {
  const { agent, call } = await setUp(t);
  const shipped = await call('fulfil.ship', {
    id: 'wb-ship-0000000001',
    location: 'S1',
    channel: 'pos-1',
    orderId: 'O-NEXT',
    lines: [{ sku: 'MUG', qty: 2 }],
    carrier: 'dhl parcel',
    trackingNumber: 'JJD0001',
  });
  assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
  assert.equal(shipped.body['status'], 'accepted');
  assert.equal(shipped.body['trackingUrl'], 'https://track.carrier.test/p/JJD0001');
  assert.equal(shipped.body['left'], 1, 'the tee is still to ship');
  const body = agent.agent.db.sqlite
    .prepare("SELECT body FROM events WHERE event_id = 'wb-ship-0000000001'")
    .get() as { body: string };
  const event = JSON.parse(body.body) as Record<string, unknown>;
  assert.deepEqual(
    [event['type'], event['reference'], event['carrier'], event['trackingNumber'], event['trackingUrl']],
    ['ship', 'O-NEXT', 'DHL', 'JJD0001', 'https://track.carrier.test/p/JJD0001'],
  );
  const view = (await call('fulfil.orders', { location: 'S1' })).body as unknown as FulfilOrdersView;
  const next = view.orders.find((o) => o.name === '#1002')!;
  assert.deepEqual(
    next.lines.map((l) => [l.sku, l.ordered, l.shipped, l.reserved]),
    [
      ['MUG', 2, 2, 0],
      ['TEE', 1, 0, 1],
    ],
  );
  const again = await call('fulfil.ship', {
    id: 'wb-ship-0000000001',
    location: 'S1',
    channel: 'pos-1',
    orderId: 'O-NEXT',
    lines: [{ sku: 'MUG', qty: 2 }],
    carrier: 'DHL',
    trackingNumber: 'JJD0001',
  });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body['status'], 'duplicate', 'a resend after the order moved on ships nothing twice');
  const other = await call('fulfil.ship', {
    id: 'wb-ship-0000000001',
    location: 'S1',
    channel: 'pos-1',
    orderId: 'O-NEXT',
    lines: [{ sku: 'TEE', qty: 1 }],
    carrier: 'DHL',
    trackingNumber: 'JJD0001',
  });
  assert.equal(other.status, 400);
  assert.match(JSON.stringify(other.body['errors']), /already captured .* with other content/);
  const { on_hand } = agent.agent.db.sqlite
    .prepare("SELECT on_hand FROM stock_levels WHERE sku = 'MUG' AND location = 'S1'")
    .get() as { on_hand: number };
  assert.equal(on_hand, 1);
});

test('a wrong pick, an unknown carrier or a bad tracking number is refused naming it, and nothing is captured', async (t) => {
  const { agent, call } = await setUp(t);
  const before = eventCount(agent);
  const ship = (fields: Record<string, unknown>) =>
    call('fulfil.ship', {
      id: `wb-bad-${Math.random().toString(16).slice(2, 12)}`,
      location: 'S1',
      channel: 'pos-1',
      orderId: 'O-SOON',
      lines: [{ sku: 'MUG', qty: 1 }],
      carrier: 'DHL',
      trackingNumber: 'JJD0002',
      ...fields,
    });
  const cases: [Record<string, unknown>, number, string, RegExp][] = [
    [{ lines: [{ sku: 'TEE', qty: 1 }] }, 400, 'lines.0.sku', /TEE is not on order #1001/],
    [
      { lines: [{ sku: 'MUG', qty: 2 }] },
      400,
      'lines.0.qty',
      /2 × MUG is more than order #1001 has left to ship \(1\)/,
    ],
    [
      { carrier: 'Snail Mail' },
      400,
      'carrier',
      /"Snail Mail" is no carrier of this store; choose one of DHL Parcel, Own van/,
    ],
    [{ trackingNumber: 'JJD 0002' }, 400, 'trackingNumber', /without spaces/],
    [{ trackingNumber: '9'.repeat(200) }, 400, 'trackingNumber', /at most 64/],
    [{ orderId: 'O-NONE' }, 404, 'orderId', /no order O-NONE is open to ship at S1/],
  ];
  for (const [fields, status, path, message] of cases) {
    const res = await ship(fields);
    assert.equal(res.status, status, JSON.stringify(fields));
    const errors = res.body['errors'] as { path: string; message: string }[];
    assert.ok(
      errors.some((e) => e.path === path && message.test(e.message)),
      `${JSON.stringify(fields)}: ${JSON.stringify(res.body)}`,
    );
  }
  assert.equal(eventCount(agent), before, 'nothing captured');
});

test('an order cancelled while it is picked cannot be shipped: refused naming the order, nothing captured', async (t) => {
  const { agent, call } = await setUp(t);
  // The shop cancels #1001 while the picker holds its mug.
  const cancelled = await agent.post(
    makeEvent({ id: 'x1', type: 'release', reference: 'O-SOON', lines: [{ sku: 'MUG', qty: 1 }] }),
  );
  assert.equal(cancelled.body.results[0]!.status, 'accepted');
  const before = eventCount(agent);
  const res = await call('fulfil.ship', {
    id: 'wb-ship-cancelled-01',
    location: 'S1',
    channel: 'pos-1',
    orderId: 'O-SOON',
    lines: [{ sku: 'MUG', qty: 1 }],
    carrier: 'DHL',
    trackingNumber: 'JJD0009',
  });
  assert.equal(res.status, 404);
  assert.deepEqual(res.body['errors'], [
    { path: 'orderId', message: 'no order O-SOON is open to ship at S1' },
  ]);
  assert.equal(eventCount(agent), before);
  const view = (await call('fulfil.orders', { location: 'S1' })).body as unknown as FulfilOrdersView;
  assert.deepEqual(
    view.orders.map((o) => o.name),
    ['#1002', '#1003'],
  );
});

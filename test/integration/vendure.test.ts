import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { destinationSchema, type ConfigInput } from '../../shared/config.js';
import type { ConnectorBundle, RemoteOrder } from '../../src-main/connectors/port/connector-bundle.js';
import { ConnectorError } from '../../src-main/connectors/port/connector-error.js';
import {
  createVendureConnector,
  type VendureDestination,
  type VendureConnectorOptions,
} from '../../src-main/connectors/vendure/vendure-connector.js';
import type { DeliveryResult, LevelItem } from '../../src-main/connectors/port/connector.js';
import { connectorContext, type TestConnectorContext } from '../support/connector-context.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { freePort } from '../support/server-process.js';
import { AdminProxy } from '../support/vendure/admin-proxy.js';
import { VendureServer } from '../support/vendure-server.js';

/*
 * The Vendure connector against a real Vendure (@vendure/core on SQLite, one server for the file). Must show:
 * 1. levels match: what the agent captures ends up as Vendure's saleable stock per variant and stock location,
 *    equal to the agent's available-to-sell;
 * 2. orders placed in Vendure become reservations that lower available-to-sell, and pulling again changes
 *    nothing.
 * The agent's tests run first, so its first order pull sees only its own orders.
 */

const DESTINATION = 'vendure';
const SIGNAL = new AbortController().signal;

let vendure: VendureServer;

before(async () => {
  vendure = await VendureServer.start();
  console.log(`Vendure booted in ${vendure.bootMs} ms`);
  await vendure.setUpStockLocations(['S1', 'S2']);
});
after(() => vendure?.stop());

/** The `vendure` destination at `url` (default: the server) as the agent resolves it. */
function destination(overrides: Partial<Record<string, unknown>> = {}): VendureDestination {
  return destinationSchema.parse({
    id: DESTINATION,
    type: 'vendure',
    url: vendure.url,
    username: vendure.username,
    password: vendure.password,
    ...overrides,
  }) as VendureDestination;
}

/** A connector over a fresh test database, closed when the test ends. */
function connect(
  t: TestContext,
  overrides: Partial<Record<string, unknown>> = {},
  options: VendureConnectorOptions = {},
): {
  ctx: TestConnectorContext;
  bundle: ConnectorBundle;
  send: (items: LevelItem[]) => Promise<readonly DeliveryResult[]>;
} {
  const ctx = connectorContext(DESTINATION);
  t.after(() => ctx.cleanup());
  const bundle = createVendureConnector(destination(overrides), ctx.context, options);
  const connector = bundle.connector;
  assert.equal(connector.mode, 'level');
  return {
    ctx,
    bundle,
    send: async (items) => (connector.mode === 'level' ? (await connector.send(items, SIGNAL)).results : []),
  };
}

const level = (sku: string, location: string, quantity: number, version = 1): LevelItem => ({
  sku,
  location,
  quantity,
  version,
});

/** Stock adjustments Vendure recorded for a variant (each write that changed on hand makes one). */
async function adjustments(variantId: string): Promise<number> {
  const data = await vendure.admin<{ productVariant: { stockMovements: { totalItems: number } } }>(
    `query ($id: ID!) { productVariant(id: $id) { stockMovements(options: { type: ADJUSTMENT }) { totalItems } } }`,
    { id: variantId },
  );
  return data.productVariant.stockMovements.totalItems;
}

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the agent with a Vendure destination', () => {
  const CHANNEL = 'vendure';
  let dir: ReturnType<typeof tempDir>;
  let agent: TestAgent;

  before(async () => {
    // Vendure starts with stale numbers that publishing must replace; L-4 holds 2 back by its own threshold.
    await vendure.createProduct('L-1', { S1: 40, S2: 7 });
    await vendure.createProduct('L-2', { S1: 3 });
    await vendure.createProduct('L-3');
    await vendure.createProduct('L-4', { S1: 5 }, { outOfStockThreshold: 2 });
    dir = tempDir();
    const vendureDestination: NonNullable<ConfigInput['destinations']>[number] = {
      id: DESTINATION,
      type: 'vendure',
      url: vendure.url,
      username: vendure.username,
      password: vendure.password,
      channel: CHANNEL,
      locations: ['S1', 'S2'],
      orders: { location: 'S1', pollSeconds: 3600, overlapSeconds: 300 },
    };
    agent = await startAgent(
      testConfig(dir.path, {
        channels: [{ id: CHANNEL, buffer: 1 }],
        stock: { safetyStock: 1, safetyStockBySku: {} },
        destinations: [vendureDestination],
        delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 50, maxAgeHours: 1 },
      }),
    );
  });
  after(async () => {
    await agent?.stop();
    dir?.cleanup();
  });

  const dispatcher = () => {
    const found = agent.agent.dispatchers.find((d) => d.destinationId === DESTINATION);
    assert.ok(
      found,
      'src-main/connectors/registry.ts has no `vendure` case: add `case "vendure": return createVendureConnector(destination, context);`',
    );
    return found;
  };
  const available = (sku: string, location: string) => agent.agent.stock.available(sku, location, CHANNEL);

  /** Asserts that Vendure sells exactly the agent's available-to-sell for every level of these SKUs. */
  async function assertLevelsMatch(skus: readonly string[]): Promise<void> {
    const levels = agent.agent.stock.levels({}).filter((l) => skus.includes(l.sku));
    assert.ok(levels.length > 0);
    for (const { sku, location } of levels)
      assert.equal(
        await vendure.saleable(sku, location),
        available(sku, location),
        `Vendure's saleable ${sku} at ${location} is the agent's available-to-sell`,
      );
  }

  test('levels match: once the dispatcher is idle, Vendure sells per variant and stock location exactly the agent’s available-to-sell', async () => {
    dispatcher();
    const sent = await agent.post({
      events: [
        makeEvent({
          id: 'lv-r1',
          type: 'receipt',
          lines: [
            { sku: 'L-1', qty: 20 },
            { sku: 'L-2', qty: 8 },
            { sku: 'L-3', qty: 5 },
            { sku: 'L-4', qty: 6 },
          ],
        }),
        makeEvent({
          id: 'lv-r2',
          type: 'receipt',
          location: 'S2',
          lines: [
            { sku: 'L-1', qty: 4 },
            { sku: 'L-3', qty: 9 },
          ],
        }),
        makeEvent({
          id: 'lv-s1',
          type: 'sale',
          lines: [
            { sku: 'L-1', qty: 3 },
            { sku: 'L-2', qty: 1 },
          ],
        }),
        makeEvent({ id: 'lv-c1', type: 'count', location: 'S2', lines: [{ sku: 'L-3', qty: 2 }] }),
        makeEvent({ id: 'lv-a1', type: 'adjustment', lines: [{ sku: 'L-4', qty: -1 }] }),
        makeEvent({ id: 'lv-s2', type: 'sale', location: 'S2', lines: [{ sku: 'L-1', qty: 4 }] }),
      ],
    });
    assert.ok(
      sent.body.results.every((r) => r.status === 'accepted'),
      JSON.stringify(sent.body),
    );
    await dispatcher().waitForIdle();

    assert.equal(available('L-1', 'S1'), 20 - 3 - 1 - 1, 'on hand − safety stock − buffer');
    assert.equal(available('L-1', 'S2'), 0, 'sold out at S2');
    await assertLevelsMatch(['L-1', 'L-2', 'L-3', 'L-4']);
    const l4 = await vendure.variant('L-4');
    assert.equal(
      l4.levels.find((l) => l.location === 'S1')!.stockOnHand,
      available('L-4', 'S1') + 2,
      'its threshold is added back',
    );
    assert.deepEqual(
      agent.agent.exceptions.list({ status: 'open' }).map((e) => e.kind),
      [],
      'nothing went wrong',
    );
    const mapped = agent.agent.mappings.list({ destinationId: DESTINATION });
    assert.deepEqual(
      mapped.map((m) => `${m.kind}:${m.localId}:${m.origin}`).sort(),
      ['item:L-1', 'item:L-2', 'item:L-3', 'item:L-4', 'location:S1', 'location:S2'].map(
        (m) => `${m}:discovered`,
      ),
    );
  });

  test('orders placed in Vendure become reservations that lower available-to-sell once; pulling again changes nothing', async () => {
    dispatcher();
    const before = available('L-1', 'S1');
    assert.ok(before > 2);
    const order = await vendure.placeOrder([{ sku: 'L-1', qty: 2 }]);
    assert.equal(order.state, 'PaymentSettled');
    assert.equal(await vendure.saleable('L-1', 'S1'), before - 2, 'Vendure allocated its own order at S1');

    const first = await agent.agent.orders.pullNow(DESTINATION);
    assert.equal(first.reserved, 1);
    const row = () => agent.agent.stock.levels({ sku: 'L-1', location: 'S1' })[0]!;
    assert.equal(row().reserved, 2);
    assert.equal(available('L-1', 'S1'), before - 2);
    await dispatcher().waitForIdle();
    assert.equal(await vendure.saleable('L-1', 'S1'), before - 2, 'the order is taken off once, not twice');
    await assertLevelsMatch(['L-1']);

    const events = () =>
      (agent.agent.db.sqlite.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const count = events();
    const again = await agent.agent.orders.pullNow(DESTINATION);
    assert.deepEqual(
      { reserved: again.reserved, released: again.released, shipped: again.shipped },
      { reserved: 0, released: 0, shipped: 0 },
    );
    assert.ok(again.orders >= 1, 'the order was read again');
    assert.equal(events(), count, 'no new event');
    assert.equal(row().reserved, 2);
    await dispatcher().waitForIdle();
    assert.equal(await vendure.saleable('L-1', 'S1'), before - 2);

    // Shipped in Vendure: on hand falls by 2 here, the reservation closes; Vendure still sells the same.
    const onHand = row().onHand;
    assert.equal(await vendure.ship(order.id), 'Shipped');
    const shipped = await agent.agent.orders.pullNow(DESTINATION);
    assert.equal(shipped.shipped, 1);
    assert.deepEqual({ onHand: row().onHand, reserved: row().reserved }, { onHand: onHand - 2, reserved: 0 });
    await dispatcher().waitForIdle();
    await assertLevelsMatch(['L-1']);

    // Cancelled in Vendure: the reservation is released and the units are for sale again.
    const l2 = available('L-2', 'S1');
    const cancelled = await vendure.placeOrder([{ sku: 'L-2', qty: 1 }]);
    assert.equal((await agent.agent.orders.pullNow(DESTINATION)).reserved, 1);
    assert.equal(available('L-2', 'S1'), l2 - 1);
    assert.equal(await vendure.cancel(cancelled.id), 'Cancelled');
    assert.equal((await agent.agent.orders.pullNow(DESTINATION)).released, 1);
    assert.equal(available('L-2', 'S1'), l2);
    await dispatcher().waitForIdle();
    await assertLevelsMatch(['L-1', 'L-2', 'L-3', 'L-4']);
  });
});

describe('the Vendure connector', () => {
  test('publishing writes on hand = level + allocated + threshold, so Vendure sells exactly the level; a resend changes nothing', async (t) => {
    await vendure.createProduct('A-1', { S1: 10 });
    await vendure.createProduct('A-2', { S1: 4 }, { outOfStockThreshold: 2 });
    await vendure.placeOrder([{ sku: 'A-1', qty: 2 }]);
    const { ctx, bundle, send } = connect(t);
    const items = [level('A-1', 'S1', 5), level('A-1', 'S2', 3), level('A-2', 'S1', 1)];

    assert.deepEqual(
      await send(items),
      items.map(() => ({ kind: 'delivered' })),
    );
    assert.equal(await vendure.saleable('A-1', 'S1'), 5);
    assert.equal(await vendure.saleable('A-1', 'S2'), 3);
    assert.equal(await vendure.saleable('A-2', 'S1'), 1);
    const a1 = await vendure.variant('A-1');
    assert.deepEqual(
      a1.levels.map((l) => [l.location, l.stockOnHand, l.stockAllocated]),
      [
        ['S1', 7, 2],
        ['S2', 3, 0],
      ],
    );
    const mappings = ctx.mappings.list({ destinationId: DESTINATION });
    assert.deepEqual(
      mappings.map((m) => [m.kind, m.localId, m.remoteId, m.origin]),
      [
        ['item', 'A-1', a1.id, 'discovered'],
        ['item', 'A-2', (await vendure.variant('A-2')).id, 'discovered'],
        ['location', 'S1', a1.levels[0]!.stockLocationId, 'discovered'],
        ['location', 'S2', a1.levels[1]!.stockLocationId, 'discovered'],
      ],
    );

    const movements = await adjustments(a1.id);
    assert.deepEqual(
      await send(items),
      items.map(() => ({ kind: 'delivered' })),
      'a retry of the same levels',
    );
    assert.equal(
      await adjustments(a1.id),
      movements,
      'Vendure recorded no new adjustment: the same absolute value',
    );
    assert.equal(await vendure.saleable('A-1', 'S1'), 5);

    assert.deepEqual(
      await bundle.levels!.readLevels(
        [
          { sku: 'A-1', location: 'S1' },
          { sku: 'A-1', location: 'S2' },
          { sku: 'A-2', location: 'S1' },
        ],
        SIGNAL,
      ),
      [
        { sku: 'A-1', location: 'S1', quantity: 5 },
        { sku: 'A-1', location: 'S2', quantity: 3 },
        { sku: 'A-2', location: 'S1', quantity: 1 },
      ],
    );
    assert.equal(bundle.levels!.measures, 'available');
  });

  test('a SKU or stock location Vendure lacks is unmapped while the rest is delivered; a variant gone is looked up again by SKU', async (t) => {
    await vendure.createProduct('B-1', { S1: 1 });
    const { ctx, bundle, send } = connect(t);
    const results = await send([level('B-1', 'S1', 4), level('B-404', 'S1', 1), level('B-1', 'S9', 1)]);
    assert.deepEqual(results[0], { kind: 'delivered' });
    assert.deepEqual(results[1], {
      kind: 'unmapped',
      mapping: 'item',
      localId: 'B-404',
      detail: 'Vendure has no product variant with SKU "B-404"',
    });
    assert.deepEqual(results[2], {
      kind: 'unmapped',
      mapping: 'location',
      localId: 'S9',
      detail: 'Vendure has no stock location named "S9" (it has: S1, S2)',
    });
    assert.deepEqual(
      await bundle.levels!.readLevels(
        [
          { sku: 'B-404', location: 'S1' },
          { sku: 'B-1', location: 'S9' },
        ],
        SIGNAL,
      ),
      [
        { sku: 'B-404', location: 'S1', quantity: null },
        { sku: 'B-1', location: 'S9', quantity: null },
      ],
    );

    // A mapping to a variant Vendure no longer has is replaced by the one with the SKU.
    ctx.mappings.set({
      destinationId: DESTINATION,
      kind: 'item',
      localId: 'B-1',
      remoteId: '999999',
      origin: 'staff',
    });
    assert.deepEqual(await send([level('B-1', 'S1', 6, 2)]), [{ kind: 'delivered' }]);
    assert.equal(ctx.context.mappings.item('B-1'), (await vendure.variant('B-1')).id);
    assert.equal(await vendure.saleable('B-1', 'S1'), 6);
  });

  test('a write Vendure refuses is rejected for its own variant alone', async (t) => {
    await vendure.createProduct('C-1', { S1: 1 });
    await vendure.createProduct('C-2', { S1: 1 });
    const { ctx, send } = connect(t);
    ctx.mappings.set({
      destinationId: DESTINATION,
      kind: 'location',
      localId: 'S3',
      remoteId: '999999',
      origin: 'staff',
    });
    const [bad, good] = await send([level('C-1', 'S3', 5), level('C-2', 'S1', 2)]);
    assert.equal(bad!.kind, 'rejected');
    assert.match(
      (bad as { detail: string }).detail,
      /^Vendure refused the stock of C-1 at S3 \(variant \d+, stock location 999999\)/,
    );
    assert.deepEqual(good, { kind: 'delivered' });
    assert.equal(await vendure.saleable('C-2', 'S1'), 2);
  });

  test('refused credentials are auth_failed for sends, pulls and reads', async (t) => {
    const { send, bundle } = connect(t, { password: 'not-the-password' });
    const [result] = await send([level('A-1', 'S1', 1)]);
    assert.equal(result!.kind, 'auth_failed');
    assert.match((result as { detail: string }).detail, /^Vendure refused the login of "superadmin": /);
    await assert.rejects(
      bundle.orders!.pullOrders(null, null, SIGNAL),
      (e) => e instanceof ConnectorError && e.reason === 'auth_failed',
    );
    await assert.rejects(
      bundle.levels!.readLevels([{ sku: 'A-1', location: 'S1' }], SIGNAL),
      (e) => e instanceof ConnectorError && e.reason === 'auth_failed',
    );
  });

  test('the connection test logs in and names the administrator and channel; a wrong password is auth_failed, no server unreachable', async (t) => {
    const ok = await connect(t).bundle.probe!(AbortSignal.timeout(20_000));
    assert.ok(ok.ok, ok.detail);
    assert.match(
      ok.detail,
      /^Vendure accepted the login of "superadmin" \(.+\); channel "__default_channel__"$/,
    );

    const refused = await connect(t, { password: 'not-the-password' }).bundle.probe!(
      AbortSignal.timeout(20_000),
    );
    assert.ok(!refused.ok && refused.reason === 'auth_failed', JSON.stringify(refused));
    assert.match(refused.detail, /^Vendure refused the login of "superadmin": /);

    const nobody = await connect(t, { url: `http://127.0.0.1:${await freePort()}` }).bundle.probe!(
      AbortSignal.timeout(20_000),
    );
    assert.ok(!nobody.ok && nobody.reason === 'unreachable', JSON.stringify(nobody));
    // Node's words for a refused connection differ with the platform and address family: any socket error code.
    assert.match(nobody.detail, /\bE[A-Z]{4,}\b/);
  });

  test('a session Vendure ended is renewed with one login; refused after it, the result is auth_failed without a login storm', async (t) => {
    await vendure.createProduct('D-1', { S1: 1 });
    // Its own administrator with what the README asks for (Vendure's logout ends all sessions of a user).
    await vendure.createAdministrator('backroom@example.test', 'backroom-password', [
      'ReadCatalog',
      'UpdateCatalog',
      'ReadOrder',
    ]);
    const proxy = await AdminProxy.start(vendure.url);
    t.after(() => proxy.stop());
    const { send } = connect(t, {
      url: proxy.url,
      username: 'backroom@example.test',
      password: 'backroom-password',
    });
    assert.deepEqual(await send([level('D-1', 'S1', 3)]), [{ kind: 'delivered' }]);
    assert.equal(proxy.logins, 1);
    await vendure.logout(proxy.tokens.at(-1)!);
    assert.deepEqual(await send([level('D-1', 'S1', 4, 2)]), [{ kind: 'delivered' }], 'after a fresh login');
    assert.equal(proxy.logins, 2);
    assert.equal(await vendure.saleable('D-1', 'S1'), 4);

    // An administrator who may read but not update the catalogue: refused, logged in again, refused again.
    await vendure.createAdministrator('reader@example.test', 'reader-password', ['ReadCatalog', 'ReadOrder']);
    const reader = await AdminProxy.start(vendure.url);
    t.after(() => reader.stop());
    const { send: sendAsReader } = connect(t, {
      url: reader.url,
      username: 'reader@example.test',
      password: 'reader-password',
    });
    const [result] = await sendAsReader([level('D-1', 'S1', 9, 3)]);
    assert.equal(result!.kind, 'auth_failed');
    assert.match(
      (result as { detail: string }).detail,
      /refused updateProductVariants for user "reader@example\.test" after a fresh login/,
    );
    assert.equal(reader.logins, 2, 'one login, one re-login, no more');
    assert.equal(await vendure.saleable('D-1', 'S1'), 4, 'nothing written');
  });

  test('no connection is retry, 503 retry, 429 rate_limited with its Retry-After; a write with no answer is unknown and its resend writes the same value', async (t) => {
    await vendure.createProduct('E-1', { S1: 1 });
    const closed = connect(t, { url: `http://127.0.0.1:${await freePort()}` });
    const [down] = await closed.send([level('E-1', 'S1', 2)]);
    assert.equal(down!.kind, 'retry');
    await assert.rejects(
      closed.bundle.orders!.pullOrders(null, null, SIGNAL),
      (e) => e instanceof ConnectorError && e.reason === 'unreachable',
    );

    const proxy = await AdminProxy.start(vendure.url);
    t.after(() => proxy.stop());
    const { send } = connect(t, { url: proxy.url, timeoutMs: 1000 });
    proxy.inject('BackroomSetStock', { kind: 'status', status: 503, body: 'upstream unavailable' });
    assert.equal((await send([level('E-1', 'S1', 2)]))[0]!.kind, 'retry');
    proxy.inject('BackroomSetStock', { kind: 'status', status: 429, headers: { 'retry-after': '2' } });
    assert.deepEqual(await send([level('E-1', 'S1', 2)]), [
      { kind: 'rate_limited', retryAfterMs: 2000, detail: 'updateProductVariants: HTTP 429' },
    ]);

    const variantId = (await vendure.variant('E-1')).id;
    proxy.inject('BackroomSetStock', { kind: 'swallow' });
    const [lost] = await send([level('E-1', 'S1', 7)]);
    assert.equal(lost!.kind, 'unknown');
    await until(
      'Vendure to apply the swallowed write',
      async () => (await vendure.saleable('E-1', 'S1')) === 7,
    );
    const movements = await adjustments(variantId);
    assert.deepEqual(await send([level('E-1', 'S1', 7)]), [{ kind: 'delivered' }], 'the engine resends it');
    assert.equal(await vendure.saleable('E-1', 'S1'), 7);
    assert.equal(await adjustments(variantId), movements, 'the resend changed nothing');
  });

  test('orders: paid ones are open, shipped ones fulfilled, cancelled ones cancelled with what they held; carts are skipped; pages follow the cursor', async (t) => {
    await vendure.createProduct('O-1', { S1: 50 });
    await vendure.createProduct('O-2', { S1: 50 });
    const since = new Date(Date.now() - 1000).toISOString();
    const open = await vendure.placeOrder([
      { sku: 'O-1', qty: 2 },
      { sku: 'O-2', qty: 1 },
    ]);
    const shipped = await vendure.placeOrder([{ sku: 'O-1', qty: 1 }]);
    const cancelled = await vendure.placeOrder([{ sku: 'O-2', qty: 3 }]);
    const cart = await vendure.startCart([{ sku: 'O-1', qty: 5 }]);
    assert.equal(await vendure.ship(shipped.id), 'Shipped');
    assert.equal(await vendure.cancel(cancelled.id), 'Cancelled');

    const { bundle } = connect(t, {}, { orderPageSize: 2 });
    const pulled: RemoteOrder[] = [];
    const cursors: (string | null)[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page += 1) {
      const result = await bundle.orders!.pullOrders(since, cursor, SIGNAL);
      assert.ok(result.orders.length <= 2);
      pulled.push(...result.orders);
      cursor = result.nextCursor;
      cursors.push(cursor);
      if (cursor === null) break;
    }
    assert.equal(cursor, null, 'the pages end');
    assert.ok(cursors.length >= 2, `paged (${cursors.join(', ')})`);
    const times = pulled.map((o) => Date.parse(o.updatedAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'oldest change first',
    );
    const byId = new Map(pulled.map((o) => [o.orderId, o]));
    assert.equal(byId.has(cart), false, 'a cart is not an order');
    const pick = (id: string) => {
      const o = byId.get(id);
      assert.ok(o, `order ${id} pulled`);
      return { name: o.name, status: o.status, location: o.location, lines: o.lines };
    };
    assert.deepEqual(pick(open.id), {
      name: open.code,
      status: 'open',
      location: null,
      lines: [
        { sku: 'O-1', qty: 2 },
        { sku: 'O-2', qty: 1 },
      ],
    });
    assert.deepEqual(pick(shipped.id), {
      name: shipped.code,
      status: 'fulfilled',
      location: null,
      lines: [{ sku: 'O-1', qty: 1 }],
    });
    assert.deepEqual(pick(cancelled.id), {
      name: cancelled.code,
      status: 'cancelled',
      location: null,
      lines: [{ sku: 'O-2', qty: 3 }],
    });

    // `since` is inclusive: from the newest change read, that order comes back. Several orders can share its
    // updatedAt (Vendure's SQLite keeps whole seconds) and this bundle reads 2 a page, so follow the pages.
    const newest = pulled.at(-1)!;
    const tail: RemoteOrder[] = [];
    cursor = null;
    for (let page = 0; page < 20; page += 1) {
      const result = await bundle.orders!.pullOrders(newest.updatedAt, cursor, SIGNAL);
      tail.push(...result.orders);
      cursor = result.nextCursor;
      if (cursor === null) break;
    }
    assert.ok(
      tail.some((o) => o.orderId === newest.orderId),
      `order ${newest.orderId} (updated ${newest.updatedAt}) is among those pulled from that time: ${tail.map((o) => `${o.orderId}@${o.updatedAt}`).join(', ')}`,
    );
  });
  test('a location is found by its configured Vendure name, else its local name, else its id', async (t) => {
    await vendure.createProduct('F-1', { S1: 1 });
    const created = await vendure.admin<{ createStockLocation: { id: string } }>(
      `mutation { createStockLocation(input: { name: "Store seven" }) { id } }`,
    );
    const { ctx, send } = connect(
      t,
      { locationNames: { X8: 'Store seven' } },
      {
        localLocations: [
          { id: 'S7', name: 'store SEVEN' },
          { id: 'S1', name: 'Store one' },
        ],
      },
    );
    assert.deepEqual(await send([level('F-1', 'S7', 1), level('F-1', 'S1', 2), level('F-1', 'X8', 3)]), [
      { kind: 'delivered' },
      { kind: 'delivered' },
      { kind: 'delivered' },
    ]);
    const s1 = (await vendure.variant('F-1')).levels.find((l) => l.location === 'S1')!.stockLocationId;
    assert.deepEqual(
      ctx.mappings.list({ destinationId: DESTINATION, kind: 'location' }).map((m) => [m.localId, m.remoteId]),
      [
        ['S1', s1],
        ['S7', created.createStockLocation.id],
        ['X8', created.createStockLocation.id],
      ],
    );
    assert.equal(
      await vendure.saleable('F-1', 'Store seven'),
      3,
      'S7 and X8 are the same stock location; the later level wins',
    );
  });
});

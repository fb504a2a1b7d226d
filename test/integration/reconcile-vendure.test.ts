import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import {
  figures,
  MANAGER,
  OPERATORS,
  operatorApi,
  until,
  type OperatorApi,
} from '../support/reconcile-support.js';
import { VendureServer } from '../support/vendure-server.js';

/*
 * Reconciliation of a marketplace against a real Vendure (@vendure/core on SQLite, one server for the file): what
 * Vendure would still sell per variant and stock location read back and compared with the agent's
 * available-to-sell, after publishing, after a product is deleted in Vendure, after stock is edited in Vendure's
 * admin, and after a republish. The tests run in order, each from where the last left off.
 */

const VENDURE = 'vendure';
const CHANNEL = 'vendure';

describe('reconciliation with Vendure', () => {
  let vendure: VendureServer;
  let agent: TestAgent;
  let api: OperatorApi;
  let dir: ReturnType<typeof tempDir>;

  before(async () => {
    vendure = await VendureServer.start();
    await vendure.setUpStockLocations(['S1', 'S2']);
    await vendure.createProduct('V-1', { S1: 0, S2: 0 });
    await vendure.createProduct('V-2', { S1: 0 });
    dir = tempDir('backroom-reconcile-vendure-');
    agent = await startAgent(
      testConfig(dir.path, {
        operators: OPERATORS,
        channels: [{ id: CHANNEL, buffer: 1 }],
        destinations: [
          {
            id: VENDURE,
            type: 'vendure',
            url: vendure.url,
            username: vendure.username,
            password: vendure.password,
            channel: CHANNEL,
            locations: ['S1', 'S2'],
          },
        ],
        delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 100, maxAgeHours: 1 },
        reconcile: { everyMinutes: 0 },
      }),
    );
    api = operatorApi(agent.url);
  });
  after(async () => {
    await agent?.stop();
    dir?.cleanup();
    await vendure?.stop();
  });

  const available = (sku: string, location: string) => agent.agent.stock.available(sku, location, CHANNEL);

  /** Resolves once every level is published to Vendure. */
  async function settled(): Promise<void> {
    const unsent = () =>
      agent.agent.db.sqlite
        .prepare('SELECT sku, location FROM level_dirty WHERE destination_id = ? AND version > sent_version')
        .all(VENDURE);
    await until(
      'every level to be published to Vendure',
      () => unsent().length === 0,
      30_000,
      () => JSON.stringify(unsent()),
    );
  }

  /** Sets a variant's stock on hand at a stock location in Vendure's admin, as staff would. */
  async function editStockInVendure(sku: string, location: string, stockOnHand: number): Promise<void> {
    const variant = await vendure.variant(sku);
    const level = variant.levels.find((l) => l.location === location);
    assert.ok(level, `${sku} has a stock level at ${location}`);
    await vendure.admin(
      `mutation ($input: [UpdateProductVariantInput!]!) { updateProductVariants(input: $input) { id } }`,
      { input: [{ id: variant.id, stockLevels: [{ stockLocationId: level.stockLocationId, stockOnHand }] }] },
    );
  }

  test('in_sync: once captured receipts are published, Vendure sells the available-to-sell and the run says so', async () => {
    const { status, body } = await agent.post({
      events: [
        makeEvent({
          id: 'r1',
          type: 'receipt',
          location: 'S1',
          lines: [
            { sku: 'V-1', qty: 10 },
            { sku: 'V-2', qty: 5 },
          ],
        }),
        makeEvent({ id: 'r2', type: 'receipt', location: 'S2', lines: [{ sku: 'V-1', qty: 4 }] }),
      ],
    });
    assert.equal(status, 200);
    assert.ok(
      body.results.every((r) => r.status === 'accepted'),
      JSON.stringify(body.results),
    );
    await settled();
    const report = await api.run(VENDURE);
    assert.equal(report.measures, 'available');
    assert.deepEqual(Object.fromEntries(report.rows.map((r) => [`${r.sku}@${r.location}`, figures(r)])), {
      'V-1@S1': { cause: 'in_sync', expected: 9, expectedNow: 9, remote: 9, drift: 0 },
      'V-2@S1': { cause: 'in_sync', expected: 4, expectedNow: 4, remote: 4, drift: 0 },
      'V-1@S2': { cause: 'in_sync', expected: 3, expectedNow: 3, remote: 3, drift: 0 },
    });
    assert.equal(await vendure.saleable('V-1', 'S1'), 9, 'read independently of the connector');
  });

  test('remote_lower and remote_higher: stock edited in Vendure’s admin shows as fewer or more there', async () => {
    await editStockInVendure('V-1', 'S1', 6);
    await editStockInVendure('V-1', 'S2', 8);
    const lower = await api.row(VENDURE, 'V-1', 'S1');
    assert.deepEqual(figures(lower), {
      cause: 'remote_lower',
      expected: 9,
      expectedNow: 9,
      remote: 6,
      drift: -3,
    });
    assert.deepEqual(lower.fixes, ['republish', 'accept_remote', 'ignore']);
    const higher = await api.row(VENDURE, 'V-1', 'S2');
    assert.deepEqual(figures(higher), {
      cause: 'remote_higher',
      expected: 3,
      expectedNow: 3,
      remote: 8,
      drift: 5,
    });
  });

  test('republish: the dispatcher sends the local available-to-sell again, and Vendure sells it; audited', async () => {
    for (const location of ['S1', 'S2'])
      await api.fix({
        destination: VENDURE,
        sku: 'V-1',
        location,
        action: 'republish',
        reason: 'edited in Vendure by mistake',
      });
    await until(
      'Vendure to sell the local levels again',
      async () => (await vendure.saleable('V-1', 'S1')) === 9,
    );
    await settled();
    assert.equal(await vendure.saleable('V-1', 'S1'), available('V-1', 'S1'));
    assert.equal(await vendure.saleable('V-1', 'S2'), available('V-1', 'S2'));
    const report = await api.run(VENDURE, { sku: 'V-1' });
    assert.deepEqual(
      report.rows.map((r) => [r.location, r.cause, r.remote]),
      [
        ['S1', 'in_sync', 9],
        ['S2', 'in_sync', 3],
      ],
    );
    const entries = await api.audit('reconcile.republish');
    assert.equal(entries.length, 2);
    assert.ok(
      entries.every((e) => e.operator === MANAGER.name && e.reason === 'edited in Vendure by mistake'),
    );
  });

  test('accept_remote: a count booked in Vendure’s admin is adopted: local available-to-sell becomes Vendure’s, which keeps its level', async () => {
    await editStockInVendure('V-1', 'S1', 7);
    assert.equal((await api.row(VENDURE, 'V-1', 'S1')).cause, 'remote_lower');
    const detail = await api.fix({
      destination: VENDURE,
      sku: 'V-1',
      location: 'S1',
      action: 'accept_remote',
      reason: 'Vendure was counted',
    });
    assert.match(detail, /adjustment of -2 for V-1 at S1/);
    assert.equal(agent.agent.stock.levels({ sku: 'V-1', location: 'S1' })[0]?.onHand, 8);
    assert.equal(available('V-1', 'S1'), 7, 'on hand 8 less the buffer of 1: Vendure’s level');
    await settled();
    assert.equal(await vendure.saleable('V-1', 'S1'), 7);
    assert.deepEqual(figures(await api.row(VENDURE, 'V-1', 'S1')), {
      cause: 'in_sync',
      expected: 7,
      expectedNow: 7,
      remote: 7,
      drift: 0,
    });
    const [entry] = await api.audit('reconcile.accept_remote');
    assert.equal(entry?.operator, MANAGER.name);
    assert.equal(entry?.reason, 'Vendure was counted');
  });

  test('missing_remote: a product deleted in Vendure leaves its mapped SKU with no remote level', async () => {
    const { id } = await vendure.variant('V-2');
    const product = await vendure.admin<{ productVariant: { product: { id: string } } }>(
      `query ($id: ID!) { productVariant(id: $id) { product { id } } }`,
      { id },
    );
    await vendure.admin(`mutation ($id: ID!) { deleteProduct(id: $id) { result } }`, {
      id: product.productVariant.product.id,
    });
    const row = await api.row(VENDURE, 'V-2', 'S1');
    assert.deepEqual(figures(row), {
      cause: 'missing_remote',
      expected: 4,
      expectedNow: 4,
      remote: null,
      drift: null,
    });
    assert.deepEqual(row.fixes, ['republish', 'ignore']);
    assert.match(row.explanation, /vendure has no level of V-2 at S1/);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import type { ConfigInput } from '../../shared/config.js';
import type { ItemsPage, ItemView } from '../../shared/items.js';
import { trytonDecimal } from '../../src-main/connectors/tryton/tryton-rpc.js';
import { startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { missingBinary } from '../support/require-binary.js';
import {
  startTrytonServer,
  TRYTON_GOODS,
  TRYTON_SERVICE,
  type TrytonServer,
} from '../support/tryton-server.js';

/*
 * The catalog pull's sale price list (issue 12, part 2), against a real trytond 6.0 with sale_price_list: each
 * product's price on the configured Tryton price list is stored under the local list `tryton:<name>`.
 */

const skip = missingBinary('trytond');
const ERP = 'erp';
const LIST = 'Members';
/** Every seeded product: salable, at a list price of 10. */
const SKUS = [...TRYTON_GOODS, TRYTON_SERVICE];

function agentConfig(dataDir: string, server: TrytonServer, priceList?: string): ConfigInput {
  return testConfig(dataDir, {
    destinations: [
      {
        id: ERP,
        type: 'tryton',
        url: server.url,
        database: server.database,
        username: server.username,
        password: server.password,
        catalog: { pollSeconds: 3600, overlapSeconds: 5, pageSize: 2, ...(priceList ? { priceList } : {}) },
      },
    ] as ConfigInput['destinations'],
  });
}

const write = () => ({ signal: AbortSignal.timeout(120_000), isWrite: true });
const read = () => ({ signal: AbortSignal.timeout(60_000), isWrite: false });

/** Creates a sale price list in Tryton with one line of `formula` for every product; returns its line's id. */
async function createPriceList(server: TrytonServer, name: string, formula: string): Promise<number> {
  const [list] = await server.rpc.call(
    z.array(z.number()),
    'product.price_list',
    'create',
    [[{ name, lines: [['create', [{ formula }]]] }]],
    write(),
  );
  const [line] = await server.rpc.call(
    z.array(z.number()),
    'product.price_list.line',
    'search',
    [[['price_list', '=', list!]]],
    read(),
  );
  return line!;
}

async function items(agent: TestAgent): Promise<readonly ItemView[]> {
  const { status, body } = await agent.get('/api/v1/items?limit=1000');
  assert.equal(status, 200);
  return (body as unknown as ItemsPage).items;
}

const pricesOf = (all: readonly ItemView[], sku: string) => all.find((i) => i.sku === sku)?.prices;

describe('the sale price list pulled from Tryton', { skip }, () => {
  test('a 10% discount list gives the discounted price; a changed formula reprices at the next pull', async (t) => {
    const server = await startTrytonServer();
    t.after(() => server.stop());
    const line = await createPriceList(server, LIST, 'unit_price * 0.9');
    const dir = tempDir('backroom-tryton-price-list-');
    t.after(dir.cleanup);
    const agent = await startAgent(agentConfig(dir.path, server, LIST));
    t.after(() => agent.stop());
    const puller = agent.agent.catalogPullers[0]!;
    await puller.pullNow();
    const first = await items(agent);
    for (const sku of SKUS)
      assert.deepEqual(pricesOf(first, sku), [
        { list: 'retail', amount: '10', currency: 'EUR' },
        { list: `tryton:${LIST}`, amount: '9', currency: 'EUR' },
      ]);

    // Nothing changed in Tryton: the next pull reads nothing new.
    const again = await puller.pullNow();
    assert.equal(again.stored, 0);

    // The line's formula changes (only the line's write_date moves): every product is read again and repriced.
    await server.rpc.call(
      z.null(),
      'product.price_list.line',
      'write',
      [[line], { formula: 'unit_price * 0.75' }],
      write(),
    );
    const repriced = await puller.pullNow();
    assert.equal(repriced.stored, SKUS.length);
    const second = await items(agent);
    for (const sku of SKUS)
      assert.deepEqual(pricesOf(second, sku), [
        { list: 'retail', amount: '10', currency: 'EUR' },
        { list: `tryton:${LIST}`, amount: '7.5', currency: 'EUR' },
      ]);
    const [history] = agent.agent.db.sqlite
      .prepare('SELECT changes FROM item_history WHERE sku = ? ORDER BY id DESC LIMIT 1')
      .all(TRYTON_GOODS[0]) as { changes: string }[];
    assert.deepEqual(JSON.parse(history!.changes), { [`price:tryton:${LIST}`]: ['9 EUR', '7.5 EUR'] });

    // A list price change in Tryton moves both prices of that product, and only of that one.
    const [template] = await server.rpc.call(
      z.array(z.object({ template: z.number() })),
      'product.product',
      'search_read',
      [[['code', '=', TRYTON_GOODS[0]]], 0, 1, null, ['template']],
      read(),
    );
    await server.rpc.call(
      z.null(),
      'product.template',
      'write',
      [[template!.template], { list_price: trytonDecimal('20') }],
      write(),
    );
    const third = await puller.pullNow();
    assert.equal(third.stored, 1);
    assert.deepEqual(pricesOf(await items(agent), TRYTON_GOODS[0]), [
      { list: 'retail', amount: '20', currency: 'EUR' },
      { list: `tryton:${LIST}`, amount: '15', currency: 'EUR' },
    ]);
  });

  test('a price list configured after the first pulls prices every product at the next pull', async (t) => {
    const server = await startTrytonServer();
    t.after(() => server.stop());
    await createPriceList(server, LIST, 'unit_price * 0.9');
    const dir = tempDir('backroom-tryton-price-list-');
    t.after(dir.cleanup);
    const before = await startAgent(agentConfig(dir.path, server));
    try {
      await before.agent.catalogPullers[0]!.pullNow();
      assert.deepEqual(pricesOf(await items(before), 'SKU-2'), [
        { list: 'retail', amount: '10', currency: 'EUR' },
      ]);
    } finally {
      await before.stop();
    }

    // Nothing changed in Tryton since that pull, but the list is new to this store: every product is read again.
    const agent = await startAgent(agentConfig(dir.path, server, LIST));
    t.after(() => agent.stop());
    const report = await agent.agent.catalogPullers[0]!.pullNow();
    assert.equal(report.stored, SKUS.length);
    for (const sku of SKUS)
      assert.deepEqual(pricesOf(await items(agent), sku), [
        { list: 'retail', amount: '10', currency: 'EUR' },
        { list: `tryton:${LIST}`, amount: '9', currency: 'EUR' },
      ]);
    // And the pull after reads nothing again.
    assert.equal((await agent.agent.catalogPullers[0]!.pullNow()).stored, 0);
  });

  test('a price list name Tryton does not have fails the pull naming it, and nothing stored changes', async (t) => {
    const server = await startTrytonServer();
    t.after(() => server.stop());
    await createPriceList(server, LIST, 'unit_price * 0.9');
    const dir = tempDir('backroom-tryton-price-list-');
    t.after(dir.cleanup);
    const agent = await startAgent(agentConfig(dir.path, server, LIST));
    t.after(() => agent.stop());
    const puller = agent.agent.catalogPullers[0]!;
    await puller.pullNow();
    const before = await items(agent);
    const checkpoint = puller.checkpoint();

    // The list is renamed in Tryton (and a product repriced): the configured name is no more.
    const [list] = await server.rpc.call(
      z.array(z.number()),
      'product.price_list',
      'search',
      [[['name', '=', LIST]]],
      read(),
    );
    await server.rpc.call(z.null(), 'product.price_list', 'write', [[list!], { name: 'Staff' }], write());
    const [template] = await server.rpc.call(
      z.array(z.object({ template: z.number() })),
      'product.product',
      'search_read',
      [[['code', '=', TRYTON_GOODS[0]]], 0, 1, null, ['template']],
      read(),
    );
    await server.rpc.call(
      z.null(),
      'product.template',
      'write',
      [[template!.template], { list_price: trytonDecimal('30') }],
      write(),
    );
    await assert.rejects(puller.pullNow(), /no sale price list named "Members"/);
    const [failed] = agent.agent.exceptions.openOfKind('catalog_pull_failed');
    assert.ok(failed);
    assert.match(failed.message, /The item master could not be read from erp \(.*"Members".*\)/);
    assert.deepEqual(await items(agent), before, 'nothing stored changed');
    const after = puller.checkpoint();
    assert.deepEqual(
      { since: after.since, mark: after.mark, phase: after.phase, afterId: after.afterId },
      {
        since: checkpoint.since,
        mark: checkpoint.mark,
        phase: checkpoint.phase,
        afterId: checkpoint.afterId,
      },
      'the checkpoint did not move',
    );
  });
});

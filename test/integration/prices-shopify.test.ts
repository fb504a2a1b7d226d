import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { ConfigInput } from '../../shared/config.js';
import { ShopifyFake } from '../simulators/shopify-fake.js';
import { contractsMissing } from '../support/contracts.js';
import { startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

/*
 * Prices out to Shopify (issue 12, part 4), end to end through the agent: item master changes → price marks →
 * productVariantsBulkUpdate on the Shopify fake (built from the full Admin 2025-01 schema plus the 2026 changes,
 * so every request is validated against Shopify's own types).
 */

const skip = contractsMissing();
const SHOP = 'shop';

async function setup(
  t: TestContext,
  prices: Record<string, unknown> = { list: 'sale', compareAtList: 'retail' },
): Promise<{ agent: TestAgent; fake: ShopifyFake }> {
  const fake = await ShopifyFake.start();
  t.after(() => fake.stop());
  fake.addLocation('Store one');
  for (const sku of ['MUG', 'CUP', 'TEE']) fake.addItem(sku);
  const dir = tempDir();
  t.after(dir.cleanup);
  const config: ConfigInput = testConfig(dir.path, {
    destinations: [
      { id: SHOP, type: 'shopify', url: fake.url, accessToken: fake.accessToken, locations: ['S1'], prices },
    ],
  });
  const agent = await startAgent(config);
  t.after(() => agent.stop());
  return { agent, fake };
}

const price = (list: string, amount: string, currency = 'USD') => ({ list, amount, currency });

test('prices to Shopify', { skip }, async (t) => {
  await t.test(
    'ten changes of one price before a send reach Shopify as one update of the last',
    async (t) => {
      const { agent, fake } = await setup(t);
      const catalog = agent.agent.catalog;
      for (let i = 1; i <= 10; i += 1)
        catalog.apply([{ sku: 'MUG', name: 'Mug', prices: [price('sale', `${10 + i}.50`)] }], 'erp');
      catalog.apply([{ sku: 'CUP', name: 'Cup', prices: [price('sale', '4.00')] }], 'erp');
      await agent.agent.prices.sendNow(SHOP);
      assert.equal(fake.prices.updatesOf('MUG'), 1);
      assert.deepEqual(fake.prices.priceOf('MUG'), { price: '20.50', compareAtPrice: null });
      assert.deepEqual(fake.prices.priceOf('CUP'), { price: '4.00', compareAtPrice: null });
      assert.deepEqual(fake.invalidRequests, []);
      assert.equal(fake.throttledCount, 0);
      const mark = agent.agent.prices.marks.get(SHOP, 'MUG');
      assert.equal(mark?.sent_amount, '20.50');
      assert.equal(mark?.version, mark?.sent_version);
    },
  );

  await t.test(
    'a list price above the sale price goes as compareAtPrice, and is cleared when it is not',
    async (t) => {
      const { agent, fake } = await setup(t);
      const catalog = agent.agent.catalog;
      catalog.apply([{ sku: 'MUG', prices: [price('sale', '8.00'), price('retail', '10.00')] }], 'erp');
      await agent.agent.prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('MUG'), { price: '8.00', compareAtPrice: '10.00' });
      catalog.apply([{ sku: 'MUG', prices: [price('sale', '10.00')] }], 'erp');
      await agent.agent.prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('MUG'), { price: '10.00', compareAtPrice: null });
      assert.deepEqual(fake.invalidRequests, []);
    },
  );

  await t.test(
    'a SKU with no Shopify item holds only its own price, and goes once it is mapped',
    async (t) => {
      const { agent, fake } = await setup(t);
      const catalog = agent.agent.catalog;
      catalog.apply(
        [
          { sku: 'NEW', prices: [price('sale', '3.00')] },
          { sku: 'CUP', prices: [price('sale', '4.00')] },
        ],
        'erp',
      );
      await agent.agent.prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('CUP'), { price: '4.00', compareAtPrice: null });
      assert.equal(agent.agent.prices.marks.get(SHOP, 'NEW')?.held, 'unmapped');
      const open = agent.agent.exceptions.list({ status: 'open' }).filter((e) => e.kind === 'unmapped_sku');
      assert.equal(open.length, 1);
      assert.match(open[0]!.message, /SKU NEW \(its price 3\.00 USD waits for it\)/);
      // The item appears in Shopify and is mapped: its price goes by itself.
      const item = fake.addItem('NEW');
      agent.agent.mappings.set({
        destinationId: SHOP,
        kind: 'item',
        localId: 'NEW',
        remoteId: item,
        origin: 'ops',
      });
      await agent.agent.prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('NEW'), { price: '3.00', compareAtPrice: null });
      assert.equal(agent.agent.prices.marks.get(SHOP, 'NEW')?.held, null);
    },
  );

  await t.test(
    'a price more than 50% under the last one sent is held for a person, then confirmed or kept',
    async (t) => {
      const { agent, fake } = await setup(t);
      const catalog = agent.agent.catalog;
      const prices = agent.agent.prices;
      catalog.apply(
        [
          { sku: 'MUG', prices: [price('sale', '12.00')] },
          { sku: 'CUP', prices: [price('sale', '40.00')] },
        ],
        'erp',
      );
      await prices.sendNow(SHOP);
      // A misplaced decimal point in the ERP: 12.00 becomes 1.20, 40.00 becomes 4.00; and a fair cut of TEE.
      catalog.apply(
        [
          { sku: 'MUG', prices: [price('sale', '1.20')] },
          { sku: 'CUP', prices: [price('sale', '4.00')] },
        ],
        'erp',
      );
      await prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('MUG'), { price: '12.00', compareAtPrice: null }, 'not sent');
      assert.equal(fake.prices.updatesOf('MUG'), 1);
      assert.equal(prices.marks.get(SHOP, 'MUG')?.held, 'floor');
      assert.equal(prices.marks.get(SHOP, 'MUG')?.held_amount, '1.20');
      const held = agent.agent.exceptions
        .list({ status: 'open' })
        .filter((e) => e.kind === 'price_below_floor');
      assert.deepEqual(held.map((e) => e.sku).sort(), ['CUP', 'MUG']);
      assert.match(
        held.find((e) => e.sku === 'MUG')!.message,
        /new price of MUG \(1\.20 USD\) is more than 50% under .* \(12\.00 USD\)/,
      );

      // Confirmed: sent as it is, and the exception is resolved.
      assert.equal(prices.marks.confirm(SHOP, 'MUG'), '1.20');
      await prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('MUG'), { price: '1.20', compareAtPrice: null });
      assert.equal(agent.agent.exceptions.list({ status: 'open' }).filter((e) => e.sku === 'MUG').length, 0);
      // Kept: not sent, not even when the same price is read again; a later change is judged afresh.
      assert.equal(prices.marks.keep(SHOP, 'CUP'), '4.00');
      await prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('CUP'), { price: '40.00', compareAtPrice: null });
      catalog.apply([{ sku: 'CUP', prices: [price('sale', '38.00')] }], 'erp');
      await prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('CUP'), { price: '38.00', compareAtPrice: null });
      assert.deepEqual(fake.invalidRequests, []);
    },
  );

  await t.test(
    'a price in another currency than the shop is refused naming the item; the rest go',
    async (t) => {
      const { agent, fake } = await setup(t);
      agent.agent.catalog.apply(
        [
          { sku: 'MUG', prices: [price('sale', '9.00', 'EUR')] },
          { sku: 'CUP', prices: [price('sale', '4.00')] },
        ],
        'erp',
      );
      await agent.agent.prices.sendNow(SHOP);
      assert.deepEqual(fake.prices.priceOf('CUP'), { price: '4.00', compareAtPrice: null });
      assert.deepEqual(fake.prices.priceOf('MUG'), { price: '0.00', compareAtPrice: null });
      const refused = agent.agent.exceptions
        .list({ status: 'open' })
        .filter((e) => e.kind === 'delivery_rejected');
      assert.equal(refused.length, 1);
      assert.match(refused[0]!.message, /price of MUG \(9\.00 EUR\).*sells in USD/);
    },
  );

  await t.test('a destination given a prices section later gets every priced item once', async (t) => {
    const fake = await ShopifyFake.start();
    t.after(() => fake.stop());
    fake.addLocation('Store one');
    for (const sku of ['MUG', 'CUP']) fake.addItem(sku);
    const dir = tempDir();
    t.after(dir.cleanup);
    const shop = {
      id: SHOP,
      type: 'shopify' as const,
      url: fake.url,
      accessToken: fake.accessToken,
      locations: ['S1'],
    };
    const before = await startAgent(testConfig(dir.path, { destinations: [shop] }));
    before.agent.catalog.apply(
      [
        { sku: 'MUG', prices: [price('retail', '9.00')] },
        { sku: 'CUP', prices: [price('retail', '4.00')] },
      ],
      'erp',
    );
    await before.stop();
    assert.equal(fake.prices.applied.length, 0, 'no prices section: no price sent');
    const after = await startAgent(
      testConfig(dir.path, { destinations: [{ ...shop, prices: { list: 'retail' } }] }),
    );
    t.after(() => after.stop());
    await after.agent.prices.sendNow(SHOP);
    assert.deepEqual(fake.prices.priceOf('MUG'), { price: '9.00', compareAtPrice: null });
    assert.deepEqual(fake.prices.priceOf('CUP'), { price: '4.00', compareAtPrice: null });
    await after.agent.prices.sendNow(SHOP);
    assert.equal(fake.prices.applied.length, 2, 'once each');
  });
  await t.test(
    'bad prices from a source are refused naming item and field: nothing is stored or sent',
    async (t) => {
      const { agent, fake } = await setup(t);
      const catalog = agent.agent.catalog;
      catalog.apply([{ sku: 'MUG', prices: [price('sale', '9.00')] }], 'erp');
      await agent.agent.prices.sendNow(SHOP);
      const report = catalog.apply(
        [
          { sku: 'MUG', prices: [price('sale', 'abc')] },
          { sku: 'CUP', prices: [price('sale', '-2.00')] },
          { sku: 'TEE', prices: [price('sale', '2.00', 'EUE')] },
        ],
        'erp',
      );
      assert.deepEqual(
        report.refused.map((r) => [r.sku, r.field]),
        [
          ['MUG', 'price'],
          ['CUP', 'price'],
          ['TEE', 'currency'],
        ],
      );
      assert.match(report.refused[0]!.message, /item MUG: price must be a decimal/);
      assert.match(report.refused[1]!.message, /item CUP: price must not be negative/);
      assert.match(report.refused[2]!.message, /item TEE: currency "EUE" is not an ISO 4217/);
      await agent.agent.prices.sendNow(SHOP);
      assert.deepEqual(catalog.price('MUG', 'sale'), { list: 'sale', amount: '9.00', currency: 'USD' });
      assert.equal(agent.agent.prices.marks.get(SHOP, 'CUP'), undefined);
      assert.equal(fake.prices.applied.length, 1);
    },
  );
});

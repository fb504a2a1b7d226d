import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { minorDigits, toMinorUnits } from '../../src-main/connectors/vendure/vendure-prices.js';
import { startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { VendureServer } from '../support/vendure-server.js';

/*
 * Prices out to a real Vendure server (issue 12, part 4): `updateProductVariants` with the variant's price in the
 * channel's currency, as whole minor units, coalesced per SKU.
 */

const VENDURE = 'vendure';
let vendure: VendureServer;
let currency = '';

before(async () => {
  vendure = await VendureServer.start();
  console.log(`Vendure booted in ${vendure.bootMs} ms`);
  await vendure.setUpStockLocations(['S1']);
  for (const sku of ['V-MUG', 'V-CUP', 'V-TEE']) await vendure.createProduct(sku, { S1: 0 });
  const data = await vendure.admin<{ activeChannel: { defaultCurrencyCode: string } }>(
    'query { activeChannel { defaultCurrencyCode } }',
  );
  currency = data.activeChannel.defaultCurrencyCode;
});
after(() => vendure?.stop());

async function startWithPrices(t: TestContext): Promise<TestAgent> {
  const dir = tempDir();
  t.after(dir.cleanup);
  const agent = await startAgent(
    testConfig(dir.path, {
      destinations: [
        {
          id: VENDURE,
          type: 'vendure',
          url: vendure.url,
          username: vendure.username,
          password: vendure.password,
          locations: ['S1'],
          prices: { list: 'retail' },
        },
      ],
    }),
  );
  t.after(() => agent.stop());
  return agent;
}

/** The variant's prices as Vendure holds them (minor units per currency). */
async function pricesOf(sku: string): Promise<{ currencyCode: string; price: number }[]> {
  const data = await vendure.admin<{
    productVariants: { items: { prices: { currencyCode: string; price: number }[] }[] };
  }>(
    `query ($sku: String!) { productVariants(options: { filter: { sku: { eq: $sku } } }) { items { prices { currencyCode price } } } }`,
    { sku },
  );
  return data.productVariants.items[0]?.prices ?? [];
}

test('minor units follow the currency and never round', () => {
  assert.equal(minorDigits('EUR'), 2);
  assert.equal(minorDigits('JPY'), 0);
  assert.equal(minorDigits('BHD'), 3);
  assert.equal(toMinorUnits('9.99', 2), 999);
  assert.equal(toMinorUnits('10', 2), 1000);
  assert.equal(toMinorUnits('9.990', 2), 999);
  assert.equal(toMinorUnits('9.999', 2), null);
  assert.equal(toMinorUnits('1200', 0), 1200);
});

test('prices reach Vendure in the channel currency, one update per SKU however many changes', async (t) => {
  const agent = await startWithPrices(t);
  const catalog = agent.agent.catalog;
  for (let i = 1; i <= 5; i += 1)
    catalog.apply([{ sku: 'V-MUG', prices: [{ list: 'retail', amount: `${i}2.50`, currency }] }], 'erp');
  catalog.apply([{ sku: 'V-CUP', prices: [{ list: 'retail', amount: '7', currency }] }], 'erp');
  await agent.agent.prices.sendNow(VENDURE);
  assert.deepEqual(await pricesOf('V-MUG'), [{ currencyCode: currency, price: 5250 }]);
  assert.deepEqual(await pricesOf('V-CUP'), [{ currencyCode: currency, price: 700 }]);
  const mark = agent.agent.prices.marks.get(VENDURE, 'V-MUG');
  assert.equal(mark?.sent_amount, '52.50');
  assert.equal(mark?.version, 5);
  assert.equal(mark?.sent_version, 5);
  const read = await agent.agent.connectorOf(VENDURE)!.prices!.readPrices!(
    ['V-MUG', 'V-NONE'],
    AbortSignal.timeout(10_000),
  );
  assert.deepEqual(read, [
    { sku: 'V-MUG', amount: '52.50', currency, compareAt: null },
    { sku: 'V-NONE', amount: null, currency: null, compareAt: null },
  ]);
});

test('a price in a currency the channel does not sell, or with too many decimals, is refused naming the item', async (t) => {
  const agent = await startWithPrices(t);
  const other = currency === 'EUR' ? 'GBP' : 'EUR';
  agent.agent.catalog.apply(
    [
      { sku: 'V-TEE', prices: [{ list: 'retail', amount: '3.00', currency: other }] },
      { sku: 'V-CUP', prices: [{ list: 'retail', amount: '3.001', currency }] },
      { sku: 'V-NEW', prices: [{ list: 'retail', amount: '3.00', currency }] },
    ],
    'erp',
  );
  const before = await pricesOf('V-TEE');
  await agent.agent.prices.sendNow(VENDURE);
  assert.deepEqual(await pricesOf('V-TEE'), before);
  const open = agent.agent.exceptions.list({ status: 'open' });
  const tee = open.find((e) => e.kind === 'delivery_rejected' && e.sku === 'V-TEE');
  assert.match(
    tee?.message ?? '',
    new RegExp(`price of V-TEE \\(3\\.00 ${other}\\).*does not sell in ${other}`),
  );
  const cup = open.find((e) => e.kind === 'delivery_rejected' && e.sku === 'V-CUP');
  assert.match(cup?.message ?? '', /3\.001 .* has more decimals than/);
  assert.equal(agent.agent.prices.marks.get(VENDURE, 'V-NEW')?.held, 'unmapped');
  assert.ok(open.some((e) => e.kind === 'unmapped_sku' && e.sku === 'V-NEW'));
});

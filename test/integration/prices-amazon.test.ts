import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { ConfigInput } from '../../shared/config.js';
import { AmazonFake } from '../simulators/amazon-fake.js';
import { contractsMissing } from '../support/contracts.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

/*
 * Prices out to Amazon (issue 12, part 4) through the agent: a `patchListingsItem` of `purchasable_offer` per SKU,
 * validated by the fake against the Listings Items 2021-08-01 model, through the same `patchListingsItem` usage
 * plan as the quantity patches (the fake counts every request over it).
 */

const skip = contractsMissing();
const AMAZON = 'amazon';

async function setup(t: TestContext): Promise<{ agent: TestAgent; fake: AmazonFake }> {
  const fake = await AmazonFake.start({ feedProcessingMs: 100 });
  t.after(() => fake.stop());
  for (const sku of ['MUG', 'CUP', 'TEE']) fake.seedListing({ sku, quantity: 0 });
  const dir = tempDir();
  t.after(dir.cleanup);
  const config: ConfigInput = testConfig(dir.path, {
    destinations: [
      {
        id: AMAZON,
        type: 'amazon',
        endpoint: fake.endpoint,
        tokenUrl: fake.tokenUrl,
        ...fake.credentials,
        locations: ['S1'],
        prices: { list: 'retail' },
      },
    ],
  });
  const agent = await startAgent(config);
  t.after(() => agent.stop());
  return { agent, fake };
}

const retail = (amount: string, currency = 'USD') => [{ list: 'retail', amount, currency }];

function assertContract(fake: AmazonFake): void {
  assert.deepEqual(
    fake.invalidRequests.map((r) => `${r.method} ${r.path}: ${r.problems.join('; ')}`),
    [],
  );
  assert.deepEqual(fake.quotaExceeded, []);
  assert.deepEqual(fake.earlyRequests, []);
}

test('prices to Amazon', { skip }, async (t) => {
  await t.test(
    'many changes reach each listing as one purchasable_offer patch of the last price',
    async (t) => {
      const { agent, fake } = await setup(t);
      const catalog = agent.agent.catalog;
      for (let i = 1; i <= 6; i += 1) {
        catalog.apply([{ sku: 'MUG', prices: retail(`${i}.25`) }], 'erp');
        catalog.apply([{ sku: 'CUP', prices: retail(`${i + 10}.00`) }], 'erp');
      }
      await agent.agent.prices.sendNow(AMAZON);
      assert.deepEqual(fake.prices.offerOf('MUG'), { amount: 6.25, currency: 'USD' });
      assert.deepEqual(fake.prices.offerOf('CUP'), { amount: 16, currency: 'USD' });
      assert.equal(fake.prices.updatesOf('MUG'), 1);
      assert.equal(fake.prices.updatesOf('CUP'), 1);
      assertContract(fake);
    },
  );

  await t.test('prices and quantities share the patch usage plan without a 429', async (t) => {
    const { agent, fake } = await setup(t);
    // More patches than the plan's burst of 5: quantities of three SKUs and their prices, twice over.
    for (let round = 0; round < 2; round += 1) {
      agent.agent.catalog.apply(
        ['MUG', 'CUP', 'TEE'].map((sku) => ({ sku, prices: retail(`${round + 2}.00`) })),
        'erp',
      );
      await agent.post({
        events: ['MUG', 'CUP', 'TEE'].map((sku) =>
          makeEvent({ type: 'receipt', lines: [{ sku, qty: 3 + round }] }),
        ),
      });
      await Promise.all([
        agent.agent.prices.sendNow(AMAZON),
        agent.agent.dispatchers.find((d) => d.destinationId === AMAZON)!.waitForIdle(),
      ]);
    }
    await agent.agent.prices.sendNow(AMAZON);
    for (const sku of ['MUG', 'CUP', 'TEE'])
      assert.deepEqual(fake.prices.offerOf(sku), { amount: 3, currency: 'USD' });
    assert.ok(fake.applied.length >= 3, 'the quantities went too');
    assertContract(fake);
  });

  await t.test(
    'a SKU without a listing holds only its own price; a price Amazon refuses names its SKU',
    async (t) => {
      const { agent, fake } = await setup(t);
      agent.agent.catalog.apply(
        [
          { sku: 'GONE', prices: retail('5.00') },
          { sku: 'TEE', prices: retail('7.00', 'EUR') },
          { sku: 'CUP', prices: retail('9.00') },
        ],
        'erp',
      );
      await agent.agent.prices.sendNow(AMAZON);
      assert.deepEqual(fake.prices.offerOf('CUP'), { amount: 9, currency: 'USD' });
      assert.equal(fake.prices.offerOf('TEE'), null);
      assert.equal(agent.agent.prices.marks.get(AMAZON, 'GONE')?.held, 'unmapped');
      const open = agent.agent.exceptions.list({ status: 'open' });
      assert.ok(open.some((e) => e.kind === 'unmapped_sku' && e.sku === 'GONE'));
      const refused = open.find((e) => e.kind === 'delivery_rejected' && e.sku === 'TEE');
      assert.match(
        refused?.message ?? '',
        /price of TEE \(7\.00 EUR\).*Amazon refused price 7\.00 EUR for seller SKU TEE/,
      );
      assertContract(fake);
    },
  );

  await t.test('prices are read back from the listing attributes', async (t) => {
    const { agent, fake } = await setup(t);
    agent.agent.catalog.apply([{ sku: 'MUG', prices: retail('4.50') }], 'erp');
    await agent.agent.prices.sendNow(AMAZON);
    fake.prices.setOffer('CUP', 3.3);
    agent.agent.mappings.set({
      destinationId: AMAZON,
      kind: 'item',
      localId: 'CUP',
      remoteId: 'CUP',
      origin: 'ops',
    });
    const read = await agent.agent.connectorOf(AMAZON)!.prices!.readPrices!(
      ['MUG', 'CUP', 'NONE'],
      AbortSignal.timeout(10_000),
    );
    assert.deepEqual(read, [
      { sku: 'MUG', amount: '4.5', currency: 'USD', compareAt: null },
      { sku: 'CUP', amount: '3.3', currency: 'USD', compareAt: null },
      { sku: 'NONE', amount: null, currency: null, compareAt: null },
    ]);
    assertContract(fake);
  });
});

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { PriceDriftReport, PriceDriftRow } from '../../shared/rpc-views.js';
import { ShopifyFake } from '../simulators/shopify-fake.js';
import { contractsMissing } from '../support/contracts.js';
import { startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { CLERK, MANAGER, OPERATORS, operatorApi, type OperatorApi } from '../support/reconcile-support.js';

/*
 * Price drift in reconciliation (issue 12, part 5), against the Shopify fake: each channel's price read back,
 * each difference with its cause (pending, not mapped, changed on the channel by hand), and the fixes (push ours,
 * adopt theirs into a local override, ignore with a reason), over the operator API with roles.
 */

const skip = contractsMissing();
const SHOP = 'shop';
const usd = (amount: string) => [{ list: 'retail', amount, currency: 'USD' }];

async function setup(t: TestContext): Promise<{ agent: TestAgent; fake: ShopifyFake; api: OperatorApi }> {
  const fake = await ShopifyFake.start();
  t.after(() => fake.stop());
  fake.addLocation('Store one');
  for (const sku of ['MUG', 'CUP', 'TEE']) fake.addItem(sku);
  const dir = tempDir();
  t.after(dir.cleanup);
  const agent = await startAgent(
    testConfig(dir.path, {
      operators: OPERATORS,
      destinations: [
        {
          id: SHOP,
          type: 'shopify',
          url: fake.url,
          accessToken: fake.accessToken,
          locations: ['S1'],
          prices: { list: 'retail' },
        },
      ],
    }),
  );
  t.after(() => agent.stop());
  agent.agent.catalog.apply(
    [
      { sku: 'MUG', prices: usd('12.00') },
      { sku: 'CUP', prices: usd('4.00') },
      { sku: 'TEE', prices: usd('20.00') },
      { sku: 'HAT', prices: usd('15.00') },
    ],
    'erp',
  );
  await agent.agent.prices.sendNow(SHOP);
  return { agent, fake, api: operatorApi(agent.url) };
}

async function run(api: OperatorApi, sku?: string): Promise<PriceDriftReport> {
  const answer = await api.call('reconcile.prices', { destination: SHOP, ...(sku ? { sku } : {}) });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as PriceDriftReport;
}
const rowOf = (report: PriceDriftReport, sku: string): PriceDriftRow =>
  report.rows.find((r) => r.sku === sku)!;

test('price drift', { skip }, async (t) => {
  await t.test(
    'each difference has its cause: in sync, pending, not mapped, changed on the channel by hand',
    async (t) => {
      const { agent, fake, api } = await setup(t);
      fake.prices.setPrice('CUP', '3.50');
      // A misplaced decimal point waits under the floor: the channel still has the old price.
      agent.agent.catalog.apply([{ sku: 'TEE', prices: usd('2.00') }], 'erp');
      await agent.agent.prices.sendNow(SHOP);
      const report = await run(api);
      assert.deepEqual(
        report.rows.map((r) => [r.sku, r.cause, r.local, r.remote]),
        [
          ['CUP', 'changed_remote', '4.00', '3.50'],
          ['HAT', 'not_mapped', '15.00', null],
          ['MUG', 'in_sync', '12.00', '12.00'],
          ['TEE', 'pending', '2.00', '20.00'],
        ],
      );
      assert.deepEqual(rowOf(report, 'CUP').fixes, ['push', 'adopt', 'ignore']);
      assert.deepEqual(report.summary, { items: 4, inSync: 1, pending: 1, notMapped: 1, changedRemote: 1 });
    },
  );

  await t.test(
    'push sends ours again; adopt keeps theirs as a local override; ignore needs a reason',
    async (t) => {
      const { agent, fake, api } = await setup(t);
      fake.prices.setPrice('CUP', '3.50');
      fake.prices.setPrice('MUG', '11.00');
      fake.prices.setPrice('TEE', '19.00');

      // A clerk may look, not fix.
      const refused = await api.call(
        'reconcile.priceFix',
        { destination: SHOP, sku: 'MUG', action: 'push', reason: 'typo at the shop' },
        CLERK.token,
      );
      assert.equal(refused.status, 403);

      const pushed = await api.call('reconcile.priceFix', {
        destination: SHOP,
        sku: 'MUG',
        action: 'push',
        reason: 'typo at the shop',
      });
      assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
      await agent.agent.prices.sendNow(SHOP);
      assert.equal(fake.prices.priceOf('MUG')?.price, '12.00');
      assert.equal(rowOf(await run(api, 'MUG'), 'MUG').cause, 'in_sync');

      const adopted = await api.call('reconcile.priceFix', {
        destination: SHOP,
        sku: 'CUP',
        action: 'adopt',
        reason: 'marketing cut it there on purpose',
      });
      assert.equal(adopted.status, 200, JSON.stringify(adopted.body));
      assert.deepEqual(agent.agent.catalog.price('CUP', 'override:shop'), {
        list: 'override:shop',
        amount: '3.50',
        currency: 'USD',
      });
      assert.deepEqual(agent.agent.catalog.price('CUP', 'retail')?.amount, '4.00', 'the ERP price stays');
      await agent.agent.prices.sendNow(SHOP);
      assert.equal(fake.prices.priceOf('CUP')?.price, '3.50');
      assert.equal(rowOf(await run(api, 'CUP'), 'CUP').cause, 'in_sync');
      // A later ERP change of the list does not undo the channel's override.
      agent.agent.catalog.apply([{ sku: 'CUP', prices: usd('4.20') }], 'erp');
      await agent.agent.prices.sendNow(SHOP);
      assert.equal(fake.prices.priceOf('CUP')?.price, '3.50');

      const noReason = await api.call('reconcile.priceFix', {
        destination: SHOP,
        sku: 'TEE',
        action: 'ignore',
        reason: '',
      });
      assert.equal(noReason.status, 400);
      assert.match(JSON.stringify(noReason.body), /reason/);
      const ignored = await api.call('reconcile.priceFix', {
        destination: SHOP,
        sku: 'TEE',
        action: 'ignore',
        reason: 'clearance at the shop until Friday',
      });
      assert.equal(ignored.status, 200);
      const tee = rowOf(await run(api, 'TEE'), 'TEE');
      assert.equal(tee.cause, 'changed_remote');
      assert.equal(tee.ignored?.operator, MANAGER.name);
      assert.equal((await run(api)).summary.changedRemote, 0, 'an ignored difference is not counted');
      // Another price at the shop shows again.
      fake.prices.setPrice('TEE', '18.00');
      assert.equal(rowOf(await run(api, 'TEE'), 'TEE').ignored, null);

      const audit = (await api.audit('prices.adopt'))[0];
      assert.equal(audit?.operator, MANAGER.name);
      assert.equal(audit?.reason, 'marketing cut it there on purpose');
      assert.deepEqual(fake.invalidRequests, []);
    },
  );

  await t.test(
    'a fix that does not fit the cause, or a destination without prices, is refused naming the field',
    async (t) => {
      const { api } = await setup(t);
      const wrong = await api.call('reconcile.priceFix', {
        destination: SHOP,
        sku: 'MUG',
        action: 'adopt',
        reason: 'why not',
      });
      assert.equal(wrong.status, 400);
      assert.match(JSON.stringify(wrong.body), /"path":"action".*adopt does not fit MUG at shop \(in_sync\)/);
      const none = await api.call('reconcile.prices', { destination: 'nowhere' });
      assert.equal(none.status, 400);
      assert.match(JSON.stringify(none.body), /"path":"destination"/);
    },
  );
});

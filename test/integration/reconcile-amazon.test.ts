import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AmazonFake } from '../simulators/amazon-fake.js';
import { contractsMissing } from '../support/contracts.js';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';
import { figures, OPERATORS, operatorApi, until } from '../support/reconcile-support.js';

/*
 * Reconciliation against the SP-API fake (requests checked against the official models in ../shared/contracts):
 * Amazon keeps one quantity per SKU and no locations, so a listing it no longer has must read as missing, not as
 * a location without a mapping.
 */

const skip = contractsMissing();
const AMAZON = 'amz';

test('a listing deleted on Amazon is missing_remote; one in step is in_sync', { skip }, async (t) => {
  const fake = await AmazonFake.start({ feedProcessingMs: 50 });
  t.after(() => fake.stop());
  fake.seedListing({ sku: 'A-1', quantity: 0 });
  fake.seedListing({ sku: 'A-2', quantity: 0 });
  const dir = tempDir('backroom-reconcile-amazon-');
  t.after(dir.cleanup);
  const agent = await startAgent(
    testConfig(dir.path, {
      operators: OPERATORS,
      channels: [{ id: 'amazon', buffer: 1 }],
      destinations: [
        {
          id: AMAZON,
          type: 'amazon',
          endpoint: fake.endpoint,
          tokenUrl: fake.tokenUrl,
          ...fake.credentials,
          channel: 'amazon',
          locations: ['S1'],
        },
      ],
      delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 50, maxAgeHours: 1 },
      reconcile: { everyMinutes: 0 },
    }),
  );
  t.after(() => agent.stop());
  const api = operatorApi(agent.url);
  const { status } = await agent.post({
    events: [
      makeEvent({
        id: 'r1',
        type: 'receipt',
        location: 'S1',
        lines: [
          { sku: 'A-1', qty: 10 },
          { sku: 'A-2', qty: 5 },
        ],
      }),
    ],
  });
  assert.equal(status, 200);
  await until(
    'Amazon to take the levels',
    () => fake.quantityOf('A-1') === 9 && fake.quantityOf('A-2') === 4,
    30_000,
  );
  assert.deepEqual(figures(await api.row(AMAZON, 'A-1', 'S1')), {
    cause: 'in_sync',
    expected: 9,
    expectedNow: 9,
    remote: 9,
    drift: 0,
  });
  fake.deleteListing('A-2');
  const row = await api.row(AMAZON, 'A-2', 'S1');
  assert.deepEqual(figures(row), {
    cause: 'missing_remote',
    expected: 4,
    expectedNow: 4,
    remote: null,
    drift: null,
  });
  assert.deepEqual(row.fixes, ['republish', 'ignore']);
  assert.deepEqual(fake.invalidRequests, [], 'every request passed the official models');
});

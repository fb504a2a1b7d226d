import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';

test('an accepted sale lowers on hand at its location', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const a = await startAgent(testConfig(dir.path));
  t.after(() => a.stop());
  const res = await a.post({
    events: [
      makeEvent({ id: 'r', type: 'receipt', lines: [{ sku: 'X', qty: 5 }] }),
      makeEvent({ id: 's', lines: [{ sku: 'X', qty: 2 }] }),
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.body.results.map((r) => r.status),
    ['accepted', 'accepted'],
  );
  const stock = await a.get('/api/v1/stock?sku=X&location=S1');
  assert.equal((stock.body.levels as { onHand: number }[])[0]?.onHand, 3);
});

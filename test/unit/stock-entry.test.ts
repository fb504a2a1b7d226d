import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { configSchema } from '../../shared/config.js';
import { RPC } from '../../shared/rpc.js';
import { WORKBENCH_SOURCE } from '../../shared/stock-entry.js';
import { countedAtSeqs } from '../../src-main/capture/capture-writer.js';
import { parseShelfList } from '../../src-main/capture/count-entry.js';
import { InputRefusal } from '../../src-main/platform/errors.js';
import { multiplyDecimal } from '../../src-main/ledger/count-sessions.js';

test('a value is the unit price times the difference, exactly, with at least two decimals', () => {
  assert.equal(multiplyDecimal('9.99', -2), '-19.98');
  assert.equal(multiplyDecimal('4.5', 5), '22.50');
  assert.equal(multiplyDecimal('12', 0), '0.00');
  assert.equal(multiplyDecimal('0.125', 3), '0.375');
  assert.equal(multiplyDecimal('0.10', -1), '-0.10');
});

test('a value matches integer cents arithmetic for any price in cents and any difference', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10_000_000 }),
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      (cents, qty) => {
        const price = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
        const total = BigInt(cents) * BigInt(qty);
        const sign = total < 0n ? '-' : '';
        const abs = total < 0n ? -total : total;
        const expected = `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
        assert.equal(multiplyDecimal(price, qty), expected);
      },
    ),
  );
});

test('a shelf list is a CSV with a sku column or one code per line; an unreadable line is named', () => {
  assert.deepEqual(parseShelfList('sku;shelf\nA-1;1\nB-2;1\n'), ['A-1', 'B-2']);
  assert.deepEqual(parseShelfList('\uFEFFA-1\r\n\r\n4006381333931\n'), ['A-1', '4006381333931']);
  assert.throws(
    () => parseShelfList('A-1\nB-2,3\n'),
    (error: unknown) => error instanceof InputRefusal && /line 2/.test(error.message),
  );
  assert.throws(
    () => parseShelfList('sku,shelf\nA-1,1\n,2\n'),
    (error: unknown) => error instanceof InputRefusal && /line 3/.test(error.message),
  );
});

test('countedAt keeps only whole, non-negative seqs, and ignores anything that is not an object of them', () => {
  assert.deepEqual(
    [...countedAtSeqs({ countedAt: { A: 3, B: -1, C: 1.5, D: '4', E: 0 } })],
    [
      ['A', 3],
      ['E', 0],
    ],
  );
  for (const meta of [undefined, {}, { countedAt: null }, { countedAt: [1, 2] }, { countedAt: 'A' }])
    assert.equal(countedAtSeqs(meta).size, 0);
});

test('no till may be configured under the workbench’s source, nor get a token for it', () => {
  const config = {
    agentId: 'a',
    dataDir: 'd',
    sources: [{ id: WORKBENCH_SOURCE, token: 't' }],
    locations: [{ id: 'S1', name: 'One' }],
  };
  const parsed = configSchema.safeParse(config);
  assert.equal(parsed.success, false);
  assert.deepEqual(
    parsed.error?.issues.map((i) => i.path.join('.')),
    ['sources.0.id'],
  );
  assert.equal(
    RPC['sources.createToken'].input.safeParse({ source: WORKBENCH_SOURCE, label: 'x' }).success,
    false,
  );
});

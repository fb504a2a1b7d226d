import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Money } from '../../shared/money.js';

test('Money sums qty × unit price per currency exactly, where binary floating point would round', () => {
  const m = new Money();
  for (let i = 0; i < 1000; i += 1) m.add('EUR', '0.10', 3);
  m.add('EUR', '9.99', -2);
  m.add('', '0.125', 1);
  assert.equal(0.1 * 3 * 1000 === 300, false, 'floating point would not give 300 here');
  assert.deepEqual(m.list(), [
    { currency: '', amount: '0.125' },
    { currency: 'EUR', amount: '280.02' },
  ]);
});

test('Money formats negatives and keeps two decimals at least', () => {
  assert.equal(Money.format(Money.scaled('-3.5')), '-3.50');
  assert.equal(Money.format(Money.scaled('0')), '0.00');
  assert.equal(Money.format(Money.scaled('12.3456789012')), '12.3456789012');
});

test('Money.normalize spells one price one way, so 9.9 and 9.90 are one statement line', () => {
  assert.equal(Money.normalize('9.9'), Money.normalize('9.90'));
  assert.equal(Money.normalize(9.9), '9.90');
});

test('Money refuses text that is not a decimal amount, naming it', () => {
  assert.throws(() => Money.scaled('1,50'), /"1,50" is not a decimal amount/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBelowFloor } from '../../src-main/outbox/price-sender.js';

/*
 * The price floor (issue 12, part 4): a new price more than `percent` under the last one the channel took is held.
 * Exact decimal arithmetic: no float rounding decides whether a price reaches every marketplace.
 */

test('a price more than the floor under the last one is below it; at the floor or above it is not', () => {
  assert.equal(isBelowFloor('4.99', '10.00', 50), true);
  assert.equal(isBelowFloor('5.00', '10.00', 50), false, 'exactly 50% under is at the floor');
  assert.equal(isBelowFloor('5.01', '10.00', 50), false);
  assert.equal(isBelowFloor('1.20', '12.00', 50), true, 'a misplaced decimal point');
  assert.equal(isBelowFloor('12.00', '1.20', 50), false, 'a rise is never held');
});

test('amounts of different scales compare exactly', () => {
  assert.equal(isBelowFloor('5', '10.000', 50), false);
  assert.equal(isBelowFloor('4.999999', '10', 50), true);
  assert.equal(isBelowFloor('0.1', '0.3', 66.5), true, '0.1 is 66.67% under 0.3: more than 66.5%');
  assert.equal(isBelowFloor('0.1', '0.3', 66.7), false, 'and not more than 66.7%');
});

test('the floor percent may carry decimals', () => {
  assert.equal(isBelowFloor('7.49', '10.00', 25.1), false);
  assert.equal(isBelowFloor('7.48', '10.00', 25.1), true);
  assert.equal(isBelowFloor('0.00', '10.00', 100), false, 'at 100% nothing is below the floor');
  assert.equal(isBelowFloor('0.00', '10.00', 99), true);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { availableToSell } from '../../src-main/ledger/availability.js';

test('available is on hand minus reserved, safety stock and the channel buffer', () => {
  assert.equal(availableToSell({ onHand: 10, reserved: 2, safetyStock: 1, buffer: 3 }), 4);
  assert.equal(availableToSell({ onHand: 10, reserved: 0, safetyStock: 0, buffer: 0 }), 10);
});

test('available is 0 when what is held back exceeds on hand', () => {
  assert.equal(availableToSell({ onHand: 5, reserved: 3, safetyStock: 2, buffer: 1 }), 0);
  assert.equal(availableToSell({ onHand: 5, reserved: 5, safetyStock: 0, buffer: 0 }), 0);
});

test('available is 0 when on hand is negative (stock sold before it was received)', () => {
  assert.equal(availableToSell({ onHand: -3, reserved: 0, safetyStock: 0, buffer: 0 }), 0);
});

const level = fc.record({
  onHand: fc.integer({ min: -1_000_000, max: 1_000_000 }),
  reserved: fc.integer({ min: 0, max: 1_000_000 }),
  safetyStock: fc.integer({ min: 0, max: 1_000_000 }),
  buffer: fc.integer({ min: 0, max: 1_000_000 }),
});

test('property: available is never negative and never above on hand minus reserved', () => {
  fc.assert(
    fc.property(level, (l) => {
      const available = availableToSell(l);
      assert.ok(Number.isInteger(available));
      assert.ok(available >= 0, `negative: ${available}`);
      assert.ok(
        available <= Math.max(0, l.onHand - l.reserved),
        `${available} is above on hand ${l.onHand} − reserved ${l.reserved}`,
      );
    }),
    { numRuns: 1000 },
  );
});

test('property: selling what a channel shows as available never takes on hand below reserved + safety stock', () => {
  fc.assert(
    fc.property(level, (l) => {
      const available = availableToSell(l);
      if (available > 0) assert.ok(l.onHand - available >= l.reserved + l.safetyStock + l.buffer);
    }),
    { numRuns: 1000 },
  );
});

test('property: a larger buffer, safety stock or reservation never makes more available', () => {
  fc.assert(
    fc.property(
      level,
      fc.constantFrom('reserved', 'safetyStock', 'buffer'),
      fc.integer({ min: 1, max: 1000 }),
      (l, key, more) => {
        assert.ok(availableToSell({ ...l, [key]: l[key] + more }) <= availableToSell(l));
      },
    ),
    { numRuns: 1000 },
  );
});

test('property: one more unit on hand makes at most one more unit available', () => {
  fc.assert(
    fc.property(level, (l) => {
      const delta = availableToSell({ ...l, onHand: l.onHand + 1 }) - availableToSell(l);
      assert.ok(delta === 0 || delta === 1, `delta ${delta}`);
    }),
    { numRuns: 1000 },
  );
});

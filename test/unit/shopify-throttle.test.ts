import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ShopifyThrottle } from '../../src-main/connectors/shopify/shopify-throttle.js';
import { TokenBucket } from '../../src-main/outbox/token-bucket.js';

/** A throttle on a clock the test moves. */
function throttle() {
  let now = 0;
  return { throttle: new ShopifyThrottle(() => now), advance: (ms: number) => (now += ms) };
}

const status = (currentlyAvailable: number, maximumAvailable = 1000, restoreRate = 50) => ({
  maximumAvailable,
  currentlyAvailable,
  restoreRate,
});

test('before Shopify has said anything about its bucket, every request may go', () => {
  const { throttle: t } = throttle();
  assert.equal(t.waitMs(1000), 0);
  assert.equal(t.available(), Number.POSITIVE_INFINITY);
  assert.deepEqual(t.rateHint(10), { perSecond: 5 });
});

test('a request the bucket cannot hold waits for the missing points at the restore rate', () => {
  const { throttle: t, advance } = throttle();
  t.begin(10);
  t.end(10, status(30));
  assert.equal(t.waitMs(30), 0);
  assert.equal(t.waitMs(80), 1000, '50 missing points at 50 a second');
  advance(400);
  assert.equal(t.waitMs(80), 600, 'restored meanwhile');
  advance(60_000);
  assert.equal(t.available(), 1000, 'never above the bucket size');
});

test('a request sent is charged until its answer, and an answer leaves requests still in flight charged', () => {
  const { throttle: t } = throttle();
  t.begin(10);
  t.end(10, status(100));
  t.begin(60);
  assert.equal(t.available(), 40);
  t.begin(30);
  t.end(30, status(70)); // counts the 30, maybe not the 60 still in flight
  assert.equal(t.available(), 10);
  t.end(60, status(40));
  assert.equal(t.available(), 40);
});

test('a request costing more than the whole bucket never fits, and is not charged while Shopify refuses it', () => {
  const { throttle: t } = throttle();
  t.begin(10);
  t.end(10, status(90, 100, 10));
  assert.equal(t.waitMs(101), Number.POSITIVE_INFINITY);
  t.begin(762);
  assert.equal(t.available(), 90);
  t.begin(5);
  t.end(5, status(85, 100, 10));
  assert.equal(t.available(), 85, 'the oversized request in flight is not charged again');
});

test('the rate hint gives the engine sends per second at the restore rate, sends that fit now, and the wait when none does', () => {
  const { throttle: t } = throttle();
  t.begin(10);
  t.end(10, status(60, 1000, 50));
  assert.deepEqual(t.rateHint(25), { perSecond: 2, remaining: 2 });
  t.begin(50);
  assert.deepEqual(t.rateHint(25), { perSecond: 2, remaining: 0, resetAfterMs: 300 });
});

test('an engine bucket following the hint never lets a send through that the shop bucket cannot hold', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 10, max: 200 }),
      fc.integer({ min: 10, max: 200 }),
      (available, restore, cost) => {
        const { throttle: t } = throttle();
        t.begin(1);
        t.end(1, status(available, 1000, restore));
        let clock = 0;
        const bucket = new TokenBucket(2, 2, () => clock);
        bucket.adjust(t.rateHint(cost));
        // Whenever the engine's bucket allows a send, the shop's bucket holds its cost (1 ms of slack).
        const allowedAt = bucket.waitTime(1);
        clock += allowedAt;
        return allowedAt === 0 ? available >= cost : t.waitMs(cost) <= allowedAt + 1;
      },
    ),
  );
});

test('THROTTLED asks for the time the missing points take to restore', () => {
  assert.equal(ShopifyThrottle.throttledWaitMs(100, status(40, 1000, 50)), 1200);
  assert.equal(ShopifyThrottle.throttledWaitMs(10, status(40, 1000, 50)), 20, 'at least one point');
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { DeliveryPacing } from '../../src-main/outbox/delivery-pacing.js';
import { DeliveryRepo } from '../../src-main/outbox/delivery-repo.js';
import { RetryBudget } from '../../src-main/outbox/retry-budget.js';
import { retryDelay, type RetryPolicy } from '../../src-main/outbox/retry-policy.js';
import { TokenBucket } from '../../src-main/outbox/token-bucket.js';
import { tempDir } from '../support/harness.js';

const POLICY: RetryPolicy = {
  baseDelayMs: 1000,
  maxDelayMs: 300_000,
  maxAttempts: 50,
  maxAgeMs: 3600_000,
  quickRetries: 3,
  quickDelayMs: 100,
};
/** `random()` at the top of its range, so a delay is its ceiling (less a rounding). */
const HIGH = () => 0.999_999;

// ---- retry budget ----

test('a full retry budget allows `capacity` quick retries, then refuses until successes earn tokens back', () => {
  const budget = new RetryBudget(10, 0.5);
  for (let i = 0; i < 10; i += 1) assert.equal(budget.trySpend(), true, `retry ${i + 1}`);
  assert.equal(budget.trySpend(), false, 'empty');
  budget.onSuccess();
  assert.equal(budget.trySpend(), false, 'half a token is not a retry');
  budget.onSuccess();
  assert.equal(budget.trySpend(), true, 'two successes earn one retry');
});

test('successes never fill the retry budget beyond its capacity', () => {
  const budget = new RetryBudget(4, 0.5);
  for (let i = 0; i < 100; i += 1) budget.onSuccess();
  assert.equal(budget.tokens, 4);
});

test('whatever the mix of successes and failures, quick retries stay within capacity + half the successes', () => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { maxLength: 500 }), (outcomes) => {
      const budget = new RetryBudget(10, 0.5);
      let quick = 0;
      let successes = 0;
      for (const isSuccess of outcomes) {
        if (isSuccess) {
          successes += 1;
          budget.onSuccess();
        } else if (budget.trySpend()) quick += 1;
      }
      return quick <= 10 + successes * 0.5;
    }),
  );
});

// ---- retry delay ----

test('a transient failure is retried within quickDelayMs while the budget has tokens', () => {
  const budget = new RetryBudget(10, 0.5);
  for (const attempts of [1, 2, 3]) {
    const { delayMs, isQuick } = retryDelay(POLICY, attempts, budget, HIGH);
    assert.equal(isQuick, true);
    assert.ok(delayMs < 100, `attempt ${attempts} waits ${delayMs} ms`);
  }
  assert.equal(budget.tokens, 7, 'each quick retry spent a token');
});

test('an item that keeps failing backs off after its quick retries, starting from the base delay', () => {
  const budget = new RetryBudget(10, 0.5);
  const fourth = retryDelay(POLICY, 4, budget, HIGH);
  assert.equal(fourth.isQuick, false);
  assert.equal(fourth.delayMs, 999, 'the first backoff waits up to baseDelayMs');
  assert.equal(retryDelay(POLICY, 5, budget, HIGH).delayMs, 1999, 'then doubles');
  assert.equal(budget.tokens, 10, 'backoffs spend nothing');
});

test('with the budget empty (failure dominates) the first retry backs off as before', () => {
  const budget = new RetryBudget(1, 0.5);
  assert.equal(budget.trySpend(), true);
  const { delayMs, isQuick } = retryDelay(POLICY, 1, budget, HIGH);
  assert.equal(isQuick, false);
  assert.equal(delayMs, 999);
});

test('quickRetries 0 turns quick retries off', () => {
  const budget = new RetryBudget(10, 0.5);
  const { isQuick } = retryDelay({ ...POLICY, quickRetries: 0 }, 1, budget, HIGH);
  assert.equal(isQuick, false);
  assert.equal(budget.tokens, 10);
});

// ---- AIMD ----

test('a 429 halves the rate down to a 32nd of the ceiling; successes add a 100th of it back, up to the ceiling', () => {
  const bucket = new TokenBucket(20, 20, () => 0);
  assert.equal(bucket.decrease(), 10);
  assert.equal(bucket.decrease(), 5);
  for (let i = 0; i < 10; i += 1) bucket.decrease();
  assert.equal(bucket.ratePerSecond, 20 / 32, 'never below the floor');
  bucket.restoreRate(10);
  assert.equal(bucket.increase(), 10.2);
  for (let i = 0; i < 100; i += 1) bucket.increase();
  assert.equal(bucket.ratePerSecond, 20, 'never above the configured rate');
});

test('a lowered rate sends fewer requests a second, with a smaller burst', () => {
  let clock = 0;
  const bucket = new TokenBucket(20, 20, () => clock);
  bucket.decrease(); // 10/s, burst 10
  let sent = 0;
  while (bucket.waitTime(1) === 0) {
    bucket.take(1);
    sent += 1;
  }
  assert.equal(sent, 10, 'the burst shrank with the rate');
  clock += 1000;
  sent = 0;
  while (bucket.waitTime(1) === 0) {
    bucket.take(1);
    sent += 1;
  }
  assert.equal(sent, 10, 'one second refills 10 tokens, not 20');
});

test('an announced rate becomes the ceiling, and a rate lowered by a 429 stays lowered under it', () => {
  const bucket = new TokenBucket(20, 20, () => 0);
  bucket.adjust({ perSecond: 8 });
  assert.equal(bucket.ratePerSecond, 8);
  assert.equal(bucket.ceiling, 8);
  bucket.decrease();
  bucket.adjust({ perSecond: 8 });
  assert.equal(bucket.ratePerSecond, 4, 'the header does not undo the decrease');
});

// ---- pacing: what the dispatcher keeps across a restart ----

function openRepo(t: TestContext): { repo: DeliveryRepo; db: AgentDatabase } {
  const dir = tempDir();
  const db = AgentDatabase.open(join(dir.path, 'backroom.db'));
  t.after(() => {
    db.close();
    dir.cleanup();
  });
  return { repo: new DeliveryRepo(db), db };
}

test('a 429 pause and the lowered rate are saved, and a new pacing restores both', (t) => {
  const { repo } = openRepo(t);
  const now = Date.now();
  const first = new DeliveryPacing({
    destinationId: 'hq',
    repo,
    bucket: new TokenBucket(20, 20),
    policy: POLICY,
  });
  first.restore(now);
  first.onThrottled(1000, now);
  first.onThrottled(30_000, now);
  assert.deepEqual(repo.pacing('hq'), {
    rateLimitedUntil: now + 30_000,
    pacedRate: 10,
    lastDeliveryAt: null,
  });

  const bucket = new TokenBucket(20, 20);
  const second = new DeliveryPacing({ destinationId: 'hq', repo, bucket, policy: POLICY });
  second.restore(now);
  assert.equal(bucket.ratePerSecond, 10, 'the learned rate');
  assert.ok(bucket.waitTime(1) >= 29_000, `the pause holds: next send in ${bucket.waitTime(1)} ms`);
});

test('a pause already over is not restored, and a rate back at the ceiling is saved as the configured rate', (t) => {
  const { repo } = openRepo(t);
  const now = Date.now();
  const bucket = new TokenBucket(20, 20);
  const pacing = new DeliveryPacing({ destinationId: 'hq', repo, bucket, policy: POLICY });
  pacing.onThrottled(1000, now - 6000);
  pacing.onThrottled(1000, now - 5000);
  assert.equal(bucket.ratePerSecond, 10);
  for (let i = 0; i < 60; i += 1) pacing.onSuccess();
  assert.equal(bucket.ratePerSecond, 20);
  assert.deepEqual(repo.pacing('hq'), { rateLimitedUntil: null, pacedRate: null, lastDeliveryAt: null });

  const fresh = new TokenBucket(20, 20);
  new DeliveryPacing({ destinationId: 'hq', repo, bucket: fresh, policy: POLICY }).restore(now);
  assert.equal(fresh.waitTime(1), 0);
  assert.equal(fresh.ratePerSecond, 20);
});

test('a batch that fails spends one retry token for all its items', (t) => {
  const { repo } = openRepo(t);
  const budget = new RetryBudget(10, 0.5);
  const pacing = new DeliveryPacing({
    destinationId: 'hq',
    repo,
    bucket: new TokenBucket(20, 20),
    policy: POLICY,
    budget,
  });
  const request = pacing.forRequest();
  for (let i = 0; i < 250; i += 1) assert.ok(request.delayFor(1).delayMs < 100);
  assert.equal(budget.tokens, 9);
});

test('after a restart moments after a delivery the bucket holds only what refilled since, not a full burst', (t) => {
  const { repo } = openRepo(t);
  const now = Date.now();
  repo.recordDelivery('hq', now - 250);
  let clock = 0;
  const bucket = new TokenBucket(20, 20, () => clock);
  new DeliveryPacing({ destinationId: 'hq', repo, bucket, policy: POLICY }).restore(now);
  let sent = 0;
  while (bucket.waitTime(1) === 0) {
    bucket.take(1);
    sent += 1;
  }
  assert.equal(sent, 5, '250 ms at 20/s');
  clock += 60_000;
  assert.equal(bucket.waitTime(20), 0, 'then it fills as usual');
});

test('an isolated 429 pauses without lowering the rate; a 429 within 100 successes of the last halves it', (t) => {
  const { repo } = openRepo(t);
  const bucket = new TokenBucket(20, 20);
  const pacing = new DeliveryPacing({ destinationId: 'hq', repo, bucket, policy: POLICY });
  pacing.onThrottled(1000);
  assert.equal(bucket.ratePerSecond, 20, 'the first 429 only pauses');
  assert.ok(bucket.waitTime(1) > 900, 'for its Retry-After');
  for (let i = 0; i < 99; i += 1) pacing.onSuccess();
  pacing.onThrottled(1000);
  assert.equal(bucket.ratePerSecond, 10, 'recurring: halved');
  pacing.onThrottled(1000);
  assert.equal(bucket.ratePerSecond, 5, 'and again');
  for (let i = 0; i < 100; i += 1) pacing.onSuccess();
  assert.equal(bucket.ratePerSecond, 20, 'successes climbed back to the configured rate');
  pacing.onThrottled(1000);
  assert.equal(bucket.ratePerSecond, 20, 'a 429 long after the last is isolated again');
});

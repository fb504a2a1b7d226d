import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeAnswer, readRateHeaders } from '../../src-main/connectors/webhook/signed-poster.js';
import { TokenBucket } from '../../src-main/outbox/token-bucket.js';

test('RateLimit-Remaining and RateLimit-Reset (seconds) become a rate hint', () => {
  assert.deepEqual(readRateHeaders({ 'ratelimit-remaining': '3', 'ratelimit-reset': '2' }), {
    remaining: 3,
    resetAfterMs: 2000,
  });
});

test('X-RateLimit-Reset given as an epoch time is read relative to now', () => {
  const now = 1_800_000_000_000;
  assert.deepEqual(
    readRateHeaders({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 5) }, now),
    {
      remaining: 0,
      resetAfterMs: 5000,
    },
  );
});

test('no or unreadable rate headers give no hint', () => {
  assert.equal(readRateHeaders({}), undefined);
  assert.equal(readRateHeaders({ 'ratelimit-remaining': 'soon' }), undefined);
});

test('a bucket told nothing remains until the reset waits for the reset', () => {
  let clock = 0;
  const bucket = new TokenBucket(10, 10, () => clock);
  assert.equal(bucket.waitTime(1), 0);
  bucket.adjust({ remaining: 0, resetAfterMs: 3000 });
  assert.ok(bucket.waitTime(1) >= 3000, `waits ${bucket.waitTime(1)} ms`);
  clock = 3200;
  assert.equal(bucket.waitTime(1), 0);
});

test("a receiver's JSON message is what the exception quotes, not the raw body", () => {
  assert.equal(
    describeAnswer(422, '{"type":"error","message":"unknown product SKU-4711","rejected":[{"index":0}]}'),
    'HTTP 422: unknown product SKU-4711',
  );
  assert.equal(describeAnswer(503, 'Service Unavailable'), 'HTTP 503: Service Unavailable');
  assert.equal(describeAnswer(500, ''), 'HTTP 500');
});

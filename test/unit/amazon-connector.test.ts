import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { amazonTimestamp, orderStatus } from '../../src-main/connectors/amazon/amazon-orders.js';
import { buildListingsFeed, resultsFromReport } from '../../src-main/connectors/amazon/listings-feed.js';
import {
  DOCUMENTED_PLANS,
  OperationBucket,
  type SpOperation,
} from '../../src-main/connectors/amazon/rate-limits.js';
import { describeSpError, readRateLimitHeader } from '../../src-main/connectors/amazon/sp-api-client.js';
import type { ProcessingReport } from '../../src-main/connectors/amazon/sp-api-schemas.js';
import { SpApiModels } from '../simulators/amazon/sp-api-models.js';
import { CONTRACTS_DIR, contractsMissing } from '../support/contracts.js';

describe('Amazon usage plans', () => {
  test(
    'the connector paces each operation by the usage plan its official model states',
    { skip: contractsMissing() },
    () => {
      const models = SpApiModels.load(CONTRACTS_DIR);
      for (const [op, plan] of Object.entries(DOCUMENTED_PLANS))
        assert.deepEqual(
          models.operation(op as SpOperation).plan,
          plan,
          `${op}: the model's "Usage Plan" table`,
        );
    },
  );

  test('a bucket keeps its burst when Amazon announces a new rate, and paces a little under it', () => {
    let clock = 0;
    const bucket = new OperationBucket({ rate: 0.5, burst: 3 }, () => clock);
    for (let i = 0; i < 3; i += 1) {
      assert.equal(bucket.waitTime(), 0);
      bucket.take();
    }
    assert.ok(bucket.waitTime() > 2000, 'the burst is used: the next token comes at under 0.5 a second');
    bucket.setAnnouncedRate(10);
    assert.equal(bucket.waitTime(), 112, '1 / (10 × 0.9) s');
    clock = 60_000;
    assert.equal(bucket.available(), 3, 'refilled to the documented burst, not to twice the rate');
  });

  test('after a 429 a bucket gives nothing until the wait Amazon asked for has passed', () => {
    let clock = 0;
    const bucket = new OperationBucket({ rate: 5, burst: 5 }, () => clock);
    bucket.holdFor(2000);
    assert.equal(bucket.waitTime(), 2000);
    clock = 1999;
    assert.ok(bucket.waitTime() > 0, 'still waiting');
    clock = 2000;
    assert.equal(bucket.waitTime(), 0);
  });

  test('429s in a row without Retry-After hold a bucket twice as long each time, until an answer comes', () => {
    const bucket = new OperationBucket({ rate: 5, burst: 5 }, () => 0);
    assert.equal(bucket.throttled(null), 223, 'one token at 4.5 a second');
    assert.equal(bucket.throttled(null), 446);
    assert.equal(bucket.throttled(1500), 1500, 'a Retry-After is taken as given');
    bucket.answered();
    assert.equal(bucket.throttled(null), 223);
  });

  test('x-amzn-RateLimit-Limit is read as requests per second; anything else is ignored', () => {
    assert.equal(readRateLimitHeader({ 'x-amzn-ratelimit-limit': '0.0167' }), 0.0167);
    assert.equal(readRateLimitHeader({ 'x-amzn-ratelimit-limit': '5.0' }), 5);
    assert.equal(readRateLimitHeader({ 'x-amzn-ratelimit-limit': 'fast' }), null);
    assert.equal(readRateLimitHeader({ 'x-amzn-ratelimit-limit': '0' }), null);
    assert.equal(readRateLimitHeader({}), null);
  });
});

describe('JSON_LISTINGS_FEED', () => {
  const updates = [
    { sellerSku: 'A-1', quantity: 4 },
    { sellerSku: 'B-2', quantity: 0 },
    { sellerSku: 'C-3', quantity: 9 },
  ];

  test(
    'the feed holds one PATCH message per SKU that the official feed and message schemas accept',
    { skip: contractsMissing() },
    () => {
      const feed = buildListingsFeed('SELLER', 'PRODUCT', updates);
      assert.deepEqual(SpApiModels.load(CONTRACTS_DIR).validateFeedDocument(feed), []);
      assert.deepEqual(
        feed.messages.map((m) => [m.messageId, m.sku]),
        [
          [1, 'A-1'],
          [2, 'B-2'],
          [3, 'C-3'],
        ],
      );
      assert.deepEqual(feed.messages[0]!.patches, [
        {
          op: 'replace',
          path: '/attributes/fulfillment_availability',
          value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 4 }],
        },
      ]);
    },
  );

  test('a SKU appears in a feed at most once', () => {
    assert.throws(
      () => buildListingsFeed('S', 'PRODUCT', [updates[0]!, updates[0]!]),
      /one message per seller SKU/,
    );
  });

  const report = (issues: ProcessingReport['issues']): ProcessingReport => ({
    header: { sellerId: 'SELLER', version: '2.0', feedId: '501' },
    issues,
    summary: { errors: 0, warnings: 0, messagesProcessed: 3, messagesAccepted: 3, messagesInvalid: 0 },
  });

  test('an ERROR issue rejects its message with Amazon’s words; warnings and silence are delivered', () => {
    const results = resultsFromReport(
      report([
        { messageId: 2, sku: 'B-2', code: '90244', severity: 'ERROR', message: 'quantity is not valid' },
        { messageId: 3, severity: 'WARNING', message: 'slow down' },
        { sku: 'C-3', severity: 'INFO', message: 'fyi' },
      ]),
      updates,
    );
    assert.deepEqual(results[0], { kind: 'delivered' });
    assert.equal(results[1]!.kind, 'rejected');
    assert.match(
      'detail' in results[1]! ? results[1].detail : '',
      /B-2 \(feed 501\): 90244: quantity is not valid/,
    );
    assert.deepEqual(results[2], { kind: 'delivered' });
  });

  test('an issue naming a SKU but no message is matched by SKU', () => {
    const results = resultsFromReport(
      report([{ sku: 'C-3', severity: 'ERROR', message: 'no such listing' }]),
      updates,
    );
    assert.deepEqual(
      results.map((r) => r.kind),
      ['delivered', 'delivered', 'rejected'],
    );
  });

  test('an ERROR about the feed itself rejects every message', () => {
    const results = resultsFromReport(
      report([{ severity: 'ERROR', message: 'the feed is malformed' }]),
      updates,
    );
    assert.deepEqual(
      results.map((r) => r.kind),
      ['rejected', 'rejected', 'rejected'],
    );
  });
});

describe('Orders v0', () => {
  const now = Date.parse('2026-11-24T12:00:00Z');

  test('since becomes an ISO 8601 time in whole UTC seconds, never within two minutes of now', () => {
    assert.equal(amazonTimestamp('2026-11-24T10:15:30.900+01:00', now), '2026-11-24T09:15:30Z');
    assert.equal(amazonTimestamp('2026-11-24T11:59:00Z', now), '2026-11-24T11:58:00Z');
    assert.equal(amazonTimestamp(null, now), '2000-01-01T00:00:00Z');
    assert.throws(() => amazonTimestamp('yesterday', now), /RFC 3339/);
  });

  test('Amazon order statuses map to open, fulfilled and cancelled', () => {
    assert.deepEqual(
      (['Pending', 'Unshipped', 'PartiallyShipped', 'Shipped', 'Canceled'] as const).map(orderStatus),
      ['open', 'open', 'open', 'fulfilled', 'cancelled'],
    );
    assert.deepEqual(
      (['PendingAvailability', 'InvoiceUnconfirmed', 'Unfulfillable'] as const).map(orderStatus),
      ['open', 'fulfilled', 'cancelled'],
    );
  });

  test('an SP-API error list is quoted for staff: code, message and details', () => {
    assert.equal(
      describeSpError(
        400,
        JSON.stringify({
          errors: [{ code: 'InvalidInput', message: 'Invalid input', details: 'MarketplaceIds is required' }],
        }),
      ),
      'HTTP 400 InvalidInput: Invalid input (MarketplaceIds is required)',
    );
    assert.equal(describeSpError(503, 'Service Unavailable'), 'HTTP 503: Service Unavailable');
  });
});

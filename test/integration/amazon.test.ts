import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { destinationSchema, type ConfigInput } from '../../shared/config.js';
import { createLogger } from '../../src-main/platform/logger.js';
import {
  createAmazonConnector,
  type AmazonDestination,
} from '../../src-main/connectors/amazon/amazon-connector.js';
import {
  PENDING_FEED_KEY,
  type PendingFeed,
} from '../../src-main/connectors/amazon/listings-feed-submitter.js';
import type { ConnectorBundle, RemoteOrder } from '../../src-main/connectors/port/connector-bundle.js';
import type { DeliveryResult, LevelItem } from '../../src-main/connectors/port/connector.js';
import { DeliveryRepo } from '../../src-main/outbox/delivery-repo.js';
import { Dispatcher } from '../../src-main/outbox/dispatcher.js';
import { OutboxRepo } from '../../src-main/outbox/outbox-repo.js';
import { TokenBucket } from '../../src-main/outbox/token-bucket.js';
import { AmazonFake, type AmazonFakeOptions } from '../simulators/amazon-fake.js';
import { connectorContext, type TestConnectorContext } from '../support/connector-context.js';
import { contractsMissing } from '../support/contracts.js';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';

/*
 * The Amazon connector against the SP-API fake, which validates every request against the official models in
 * ../shared/contracts/amazon (skipped, with the reason printed, when they are absent).
 */

const DESTINATION = 'amz';

type Setup = {
  fake: AmazonFake;
  ctx: TestConnectorContext;
  config: AmazonDestination;
  bundle: ConnectorBundle;
  /** Runs `stop` when the test ends, before what was set up earlier is stopped (last in, first out). */
  defer: (stop: () => unknown) => void;
};

/** A `defer` for a test: its stops run when the test ends, the last registered first. */
function deferrer(t: TestContext): (stop: () => unknown) => void {
  const stops: (() => unknown)[] = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
  });
  return (stop) => stops.push(stop);
}

/** A resolved `amazon` destination at the fake (secrets inline), with `overrides` (e.g. `patchMaxItems`). */
function amazonDestination(fake: AmazonFake, overrides: Record<string, unknown> = {}): AmazonDestination {
  const parsed = destinationSchema.parse({
    id: DESTINATION,
    type: 'amazon',
    endpoint: fake.endpoint,
    tokenUrl: fake.tokenUrl,
    ...fake.credentials,
    locations: ['S1'],
    ...overrides,
  });
  assert.ok(parsed.type === 'amazon', 'an amazon destination');
  assert.ok(
    typeof parsed.clientSecret === 'string' && typeof parsed.refreshToken === 'string',
    'secrets given inline',
  );
  return { ...parsed, clientSecret: parsed.clientSecret, refreshToken: parsed.refreshToken };
}

/** A fake and a connector for it over a fresh database; all stopped when the test ends. */
async function setup(
  t: TestContext,
  fakeOptions: AmazonFakeOptions = {},
  overrides: Record<string, unknown> = {},
): Promise<Setup> {
  const defer = deferrer(t);
  const fake = await AmazonFake.start({ feedProcessingMs: 100, ...fakeOptions });
  defer(() => fake.stop());
  const ctx = connectorContext(DESTINATION);
  defer(ctx.cleanup);
  const config = amazonDestination(fake, overrides);
  return { fake, ctx, config, bundle: createAmazonConnector(config, ctx.context), defer };
}

/** The fake saw nothing the models forbid, and answered only what the models allow. */
function assertContract(fake: AmazonFake): void {
  assert.deepEqual(
    fake.invalidRequests.map((r) => `${r.method} ${r.path}${r.query}: ${r.problems.join('; ')}`),
    [],
    'every request conforms to the SP-API models',
  );
  assert.deepEqual(fake.internalErrors, [], 'every answer of the fake conforms to the models');
}

const sku = (i: number) => `SKU-${String(i).padStart(3, '0')}`;
const level = (s: string, quantity: number, version = 1): LevelItem => ({
  sku: s,
  location: 'S1',
  version,
  quantity,
});

async function send(
  bundle: ConnectorBundle,
  items: readonly LevelItem[],
  timeoutMs = 30_000,
): Promise<DeliveryResult[]> {
  const connector = bundle.connector;
  assert.ok(connector.mode === 'level', 'a level connector');
  const outcome = await connector.send(items, AbortSignal.timeout(timeoutMs));
  assert.equal(outcome.results.length, items.length, 'one result per item');
  return [...outcome.results];
}

/** Maps each SKU to the seller SKU of the same name, as a mapping CSV would. */
function mapAll(ctx: TestConnectorContext, skus: readonly string[]): void {
  for (const s of skus)
    ctx.mappings.set({ destinationId: DESTINATION, kind: 'item', localId: s, remoteId: s, origin: 'csv' });
}

async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

describe('Amazon SP-API connector', { skip: contractsMissing() }, () => {
  test('a small batch patches each listing, discovering the seller SKU of an unmapped SKU and holding one Amazon does not list', async (t) => {
    const { fake, ctx, bundle } = await setup(t);
    for (const s of [sku(1), sku(2), 'SKU WITH SPACE/1']) fake.seedListing({ sku: s, quantity: 0 });

    const results = await send(bundle, [
      level(sku(1), 7),
      level(sku(2), 0),
      level('SKU WITH SPACE/1', 3),
      level('NOT-ON-AMAZON', 4),
    ]);

    assert.deepEqual(results.slice(0, 3), [
      { kind: 'delivered' },
      { kind: 'delivered' },
      { kind: 'delivered' },
    ]);
    assert.equal(results[3]!.kind, 'unmapped');
    assert.deepEqual(results[3], { ...results[3], mapping: 'item', localId: 'NOT-ON-AMAZON' });
    assert.deepEqual(
      [fake.quantityOf(sku(1)), fake.quantityOf(sku(2)), fake.quantityOf('SKU WITH SPACE/1')],
      [7, 0, 3],
    );
    assert.equal(
      ctx.context.mappings.item(sku(1)),
      sku(1),
      'the discovered seller SKU is saved as the mapping',
    );
    assert.equal(ctx.context.mappings.item('NOT-ON-AMAZON'), null, 'no mapping is invented');
    assert.equal(fake.requestsOf('patchListingsItem').length, 3);
    assert.equal(fake.requestsOf('createFeed').length, 0);

    // Mapped now: the next send patches without looking the listings up again.
    const lookups = fake.requestsOf('getListingsItem').length;
    assert.deepEqual(await send(bundle, [level(sku(1), 6, 2)]), [{ kind: 'delivered' }]);
    assert.equal(fake.requestsOf('getListingsItem').length, lookups);
    assert.equal(fake.requestsOf('lwaToken').length, 1, 'the access token is cached');
    assertContract(fake);
  });

  test('a large batch goes as one JSON_LISTINGS_FEED and its processing report rejects only the SKU Amazon refused', async (t) => {
    const { fake, ctx, bundle } = await setup(t, { isReportGzipped: true });
    const skus = Array.from({ length: 24 }, (_, i) => sku(i));
    for (const s of skus) fake.seedListing({ sku: s, quantity: 1 });
    // Mapped (by CSV, say) to a seller SKU that Amazon no longer lists: only the feed's report can say so.
    ctx.mappings.set({
      destinationId: DESTINATION,
      kind: 'item',
      localId: 'SKU-GONE',
      remoteId: 'AMZ-GONE',
      origin: 'csv',
    });
    mapAll(ctx, skus);

    const items = [...skus.map((s, i) => level(s, 100 + i)), level('SKU-GONE', 5)];
    const results = await send(bundle, items);

    assert.deepEqual(
      results.slice(0, 24),
      skus.map(() => ({ kind: 'delivered' })),
    );
    const gone = results[24]!;
    assert.equal(gone.kind, 'rejected');
    assert.match('detail' in gone ? gone.detail : '', /AMZ-GONE.*does not match any listing/);
    assert.deepEqual(
      skus.map((s) => fake.quantityOf(s)),
      skus.map((_, i) => 100 + i),
    );
    for (const op of [
      'createFeedDocument',
      'uploadFeedDocument',
      'createFeed',
      'getFeedDocument',
      'downloadDocument',
    ])
      assert.equal(fake.requestsOf(op).length, 1, `one ${op}`);
    assert.equal(fake.requestsOf('patchListingsItem').length, 0);
    assert.equal(
      ctx.context.state.get(PENDING_FEED_KEY),
      undefined,
      'the feed is forgotten once its report is read',
    );
    assertContract(fake);
  });

  test('a refused SKU of a feed becomes one delivery exception through the dispatcher, the rest are sent', async (t) => {
    const { fake, ctx, bundle, defer } = await setup(t);
    const skus = Array.from({ length: 14 }, (_, i) => sku(i));
    for (const s of skus) fake.seedListing({ sku: s, quantity: 0 });
    mapAll(ctx, skus);
    fake.deleteListing(sku(3));
    const { dispatcher, markAll, isAllSent } = levelDispatcher(defer, ctx, bundle, (s) =>
      s === sku(3) ? 9 : 20,
    );
    markAll(skus);
    dispatcher.start();
    await until('every level to be sent', isAllSent, 20_000);

    const rejected = ctx.exceptions.list({ kind: 'delivery_rejected' });
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]!.sku, sku(3));
    assert.match(rejected[0]!.message, /does not match any listing/);
    assert.deepEqual(
      skus.filter((s) => s !== sku(3)).map((s) => fake.quantityOf(s)),
      Array(13).fill(20),
    );
    assert.equal(fake.requestsOf('createFeed').length, 1);
    assertContract(fake);
  });

  test('a feed still processing when the send stops waiting is read, not submitted again, by the next send, also after a restart', async (t) => {
    const { fake, ctx, config, bundle } = await setup(
      t,
      { feedProcessingMs: 1500 },
      { sendWaitSeconds: 0.3 },
    );
    const skus = Array.from({ length: 12 }, (_, i) => sku(i));
    for (const s of skus) fake.seedListing({ sku: s, quantity: 0 });
    mapAll(ctx, skus);
    const items = skus.map((s) => level(s, 8));

    const first = await send(bundle, items);
    assert.ok(
      first.every((r) => r.kind === 'rate_limited' && /still processing/.test(r.detail)),
      JSON.stringify(first[0]),
    );
    const pending = ctx.context.state.get<PendingFeed>(PENDING_FEED_KEY);
    assert.ok(pending !== undefined, 'the submitted feed is kept in the destination state');

    // The agent restarts: a new connector over the same state picks the same feed up.
    const restarted = createAmazonConnector(config, ctx.context);
    await until('the feed to be processed', () => fake.feeds[0]?.processingStatus === 'DONE', 5_000);
    const second = await send(restarted, items);

    assert.deepEqual(
      second,
      items.map(() => ({ kind: 'delivered' })),
    );
    assert.equal(fake.requestsOf('createFeed').length, 1, 'the feed was submitted once');
    assert.deepEqual(
      skus.map((s) => fake.appliedCount(s)),
      skus.map(() => 1),
      'each quantity applied once',
    );
    assert.equal(ctx.context.state.get(PENDING_FEED_KEY), undefined);
    assertContract(fake);
  });

  test('a newer quantity of a SKU in an unfinished feed waits for that feed, then is sent', async (t) => {
    const { fake, ctx, bundle } = await setup(t, { feedProcessingMs: 800 }, { sendWaitSeconds: 0.2 });
    const skus = Array.from({ length: 12 }, (_, i) => sku(i));
    for (const s of skus) fake.seedListing({ sku: s, quantity: 0 });
    mapAll(ctx, skus);
    await send(
      bundle,
      skus.map((s) => level(s, 5)),
    );
    assert.ok(ctx.context.state.get(PENDING_FEED_KEY) !== undefined, 'the feed is pending');

    // SKU-000 sold one meanwhile: its new level must not reach Amazon before the older feed is applied.
    const waiting = await send(bundle, [level(sku(0), 4, 2)]);
    assert.equal(waiting[0]!.kind, 'rate_limited');
    assert.equal(fake.requestsOf('patchListingsItem').length, 0);

    // A SKU the feed does not carry is not held up: one look at the feed, then its patch.
    fake.seedListing({ sku: 'OTHER', quantity: 0 });
    mapAll(ctx, ['OTHER']);
    const polls = fake.requestsOf('getFeed').length;
    assert.deepEqual(await send(bundle, [level('OTHER', 2)]), [{ kind: 'delivered' }]);
    assert.equal(fake.requestsOf('getFeed').length, polls + 1);
    assert.equal(fake.quantityOf('OTHER'), 2);

    await until('the feed to be processed', () => fake.feeds[0]?.processingStatus === 'DONE', 5_000);
    assert.deepEqual(await send(bundle, [level(sku(0), 4, 2)]), [{ kind: 'delivered' }]);
    assert.equal(fake.quantityOf(sku(0)), 4);
    assert.deepEqual(
      fake.applied.filter((u) => u.sku === sku(0)).map((u) => [u.via, u.quantity]),
      [
        ['feed', 5],
        ['patch', 4],
      ],
    );
    assert.equal(fake.requestsOf('createFeed').length, 1);
    assertContract(fake);
  });

  test('the same feed content twice leaves the same quantities: levels are absolute', async (t) => {
    const { fake, bundle } = await setup(t);
    const skus = Array.from({ length: 11 }, (_, i) => sku(i));
    for (const s of skus) fake.seedListing({ sku: s, quantity: 0 });
    const items = skus.map((s, i) => level(s, i));
    await send(bundle, items);
    const after = skus.map((s) => fake.quantityOf(s));
    await send(bundle, items);

    assert.deepEqual(
      skus.map((s) => fake.quantityOf(s)),
      after,
    );
    assert.deepEqual(
      skus.map((s) => fake.appliedCount(s)),
      skus.map(() => 2),
    );
    assert.equal(fake.requestsOf('createFeed').length, 2);
    assertContract(fake);
  });

  test('a feed Amazon could not process (FATAL) is retried as a new feed, and the pending one forgotten', async (t) => {
    const { fake, ctx, bundle } = await setup(t);
    const skus = Array.from({ length: 11 }, (_, i) => sku(i));
    for (const s of skus) fake.seedListing({ sku: s, quantity: 0 });
    mapAll(ctx, skus);
    fake.failNextFeeds('FATAL');
    const items = skus.map((s) => level(s, 3));

    const failed = await send(bundle, items);
    assert.ok(
      failed.every((r) => r.kind === 'retry' && /FATAL/.test(r.detail)),
      JSON.stringify(failed[0]),
    );
    assert.equal(ctx.context.state.get(PENDING_FEED_KEY), undefined);
    assert.deepEqual(
      await send(bundle, items),
      items.map(() => ({ kind: 'delivered' })),
    );
    assert.equal(fake.requestsOf('createFeed').length, 2);
    assert.deepEqual(
      skus.map((s) => fake.quantityOf(s)),
      skus.map(() => 3),
    );
    assertContract(fake);
  });

  test('orders are paged by NextToken, their lines read in local SKUs, statuses mapped, Amazon-fulfilled ones left out', async (t) => {
    const { fake, ctx, bundle } = await setup(t, { orderItemsPageSize: 1 }, { ordersPageSize: 2 });
    ctx.mappings.set({
      destinationId: DESTINATION,
      kind: 'item',
      localId: 'LOCAL-A',
      remoteId: 'AMZ-A',
      origin: 'csv',
    });
    const at = (minute: number) => `2026-11-24T08:${String(minute).padStart(2, '0')}:00Z`;
    const ids = [
      fake.seedOrder({
        OrderStatus: 'Unshipped',
        LastUpdateDate: at(5),
        items: [
          { SellerSKU: 'AMZ-A', QuantityOrdered: 2 },
          { SellerSKU: 'B', QuantityOrdered: 1 },
        ],
      }),
      fake.seedOrder({
        OrderStatus: 'Pending',
        LastUpdateDate: at(1),
        items: [{ SellerSKU: 'B', QuantityOrdered: 1 }],
      }),
      fake.seedOrder({
        OrderStatus: 'Shipped',
        LastUpdateDate: at(3),
        items: [{ SellerSKU: 'C', QuantityOrdered: 3 }],
      }),
      fake.seedOrder({
        OrderStatus: 'Canceled',
        LastUpdateDate: at(4),
        items: [{ SellerSKU: 'C', QuantityOrdered: 1 }],
      }),
      fake.seedOrder({
        OrderStatus: 'PartiallyShipped',
        LastUpdateDate: at(6),
        items: [{ QuantityOrdered: 1, ASIN: 'B0NOSKU' }],
      }),
    ];
    fake.seedOrder({
      OrderStatus: 'Unshipped',
      LastUpdateDate: at(2),
      FulfillmentChannel: 'AFN',
      items: [{ SellerSKU: 'B', QuantityOrdered: 9 }],
    });
    fake.seedOrder({
      OrderStatus: 'Unshipped',
      LastUpdateDate: '2026-11-24T07:00:00Z',
      items: [{ SellerSKU: 'B', QuantityOrdered: 9 }],
    });

    const orders: RemoteOrder[] = [];
    const cursors: (string | null)[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const result = await bundle.orders!.pullOrders(
        '2026-11-24T08:00:00.500+00:00',
        cursor,
        AbortSignal.timeout(30_000),
      );
      orders.push(...result.orders);
      cursors.push(result.nextCursor);
      cursor = result.nextCursor;
      if (cursor === null) break;
    }

    assert.equal(cursors.length, 3, 'five orders in pages of two');
    assert.deepEqual(
      orders.map((o) => o.orderId),
      [ids[1], ids[2], ids[3], ids[0], ids[4]],
      'oldest change first',
    );
    assert.deepEqual(
      orders.map((o) => o.status),
      ['open', 'fulfilled', 'cancelled', 'open', 'open'],
    );
    assert.deepEqual(orders[3], {
      orderId: ids[0],
      name: ids[0],
      updatedAt: '2026-11-24T08:05:00.000Z',
      status: 'open',
      location: null,
      lines: [
        { sku: 'LOCAL-A', qty: 2 },
        { sku: 'B', qty: 1 },
      ],
    });
    assert.deepEqual(orders[4]!.unmappedItems, ['B0NOSKU']);
    const asked = new URLSearchParams(fake.requestsOf('getOrders')[0]!.query);
    assert.equal(asked.get('LastUpdatedAfter'), '2026-11-24T08:00:00Z');
    assert.equal(asked.get('FulfillmentChannels'), 'MFN');
    assert.equal(fake.requestsOf('getOrderItems').length, 6, 'the two-item order took two pages of items');
    assertContract(fake);
  });

  test('levels read back the merchant-fulfilled quantity, and null for a SKU Amazon does not list', async (t) => {
    const { fake, ctx, bundle } = await setup(t);
    fake.seedListing({ sku: 'AMZ-1', quantity: 12 });
    fake.seedListing({ sku: sku(2), quantity: 0 });
    ctx.mappings.set({
      destinationId: DESTINATION,
      kind: 'item',
      localId: sku(1),
      remoteId: 'AMZ-1',
      origin: 'csv',
    });

    const levels = await bundle.levels!.readLevels(
      [
        { sku: sku(1), location: 'S1' },
        { sku: sku(2), location: 'S1' },
        { sku: 'NOPE', location: 'S1' },
      ],
      AbortSignal.timeout(30_000),
    );

    assert.equal(bundle.levels!.measures, 'available');
    assert.deepEqual(levels, [
      { sku: sku(1), location: 'S1', quantity: 12 },
      { sku: sku(2), location: 'S1', quantity: 0 },
      { sku: 'NOPE', location: 'S1', quantity: null },
    ]);
    assertContract(fake);
  });

  test('the access token is renewed shortly before it expires and once after Amazon refuses it; a revoked app is auth_failed', async (t) => {
    const { fake, bundle } = await setup(t, { tokenTtlSeconds: 1 });
    fake.seedListing({ sku: sku(1), quantity: 0 });
    assert.deepEqual(await send(bundle, [level(sku(1), 1)]), [{ kind: 'delivered' }]);
    await sleep(1000);
    assert.deepEqual(await send(bundle, [level(sku(1), 2, 2)]), [{ kind: 'delivered' }]);
    assert.equal(fake.requestsOf('lwaToken').length, 2, 'renewed before it expired');
    assert.equal(
      fake.requests.filter((r) => r.outcome === 'unauthorized').length,
      0,
      'no call with an expired token',
    );

    fake.setTokenTtl(3600);
    await send(bundle, [level(sku(1), 3, 3)]);
    fake.expireAccessTokens();
    assert.deepEqual(
      await send(bundle, [level(sku(1), 4, 4)]),
      [{ kind: 'delivered' }],
      'one refresh after the 403',
    );
    assert.equal(fake.requests.filter((r) => r.outcome === 'unauthorized').length, 1);

    fake.revokeRefreshToken();
    const [result] = await send(bundle, [level(sku(1), 5, 5)]);
    assert.equal(result!.kind, 'auth_failed');
    assert.match('detail' in result! ? result.detail : '', /invalid_grant/);
    assert.equal(fake.quantityOf(sku(1)), 4);
    await assert.rejects(bundle.orders!.pullOrders(null, null, AbortSignal.timeout(10_000)), {
      reason: 'auth_failed',
    });
    assertContract(fake);
  });

  test('the connection test gets a new access token and reads one listing; a wrong seller is rejected and a revoked app auth_failed, in Amazon’s words', async (t) => {
    const { fake, ctx, config, bundle } = await setup(t);
    const ok = await bundle.probe!(AbortSignal.timeout(10_000));
    assert.equal(ok.ok, true, ok.detail);
    assert.match(
      ok.detail,
      /Login with Amazon issued an access token, and the Listings API answered for seller/,
    );
    assert.deepEqual(
      fake.requests.map((r) => [r.operation, r.method, r.status]),
      [
        ['lwaToken', 'POST', 200],
        ['getListingsItem', 'GET', 404],
      ],
      'a token and one read, nothing written',
    );
    assertContract(fake);
    assert.equal((await bundle.probe!(AbortSignal.timeout(10_000))).ok, true);
    assert.equal(fake.requestsOf('lwaToken').length, 2, 'each test asks for a new token, not the cached one');

    const wrongSeller = createAmazonConnector({ ...config, sellerId: 'A0WRONGSELLER' }, ctx.context);
    const rejected = await wrongSeller.probe!(AbortSignal.timeout(10_000));
    assert.ok(!rejected.ok && rejected.reason === 'rejected', JSON.stringify(rejected));
    assert.match(rejected.detail, /sellerId A0WRONGSELLER is not the authorized seller/);

    fake.revokeRefreshToken();
    const refused = await bundle.probe!(AbortSignal.timeout(10_000));
    assert.ok(!refused.ok && refused.reason === 'auth_failed', JSON.stringify(refused));
    assert.match(refused.detail, /Login with Amazon refused the refresh token \(invalid_grant/);
  });

  test('a 5xx is retry, a hang is unknown, and a 429 is rate_limited with the wait Amazon gave, which the connector keeps', async (t) => {
    const { fake, bundle } = await setup(t, {}, { requestTimeoutSeconds: 0.3 });
    for (const s of [sku(1), sku(2)]) fake.seedListing({ sku: s, quantity: 0 });
    await send(bundle, [level(sku(1), 1), level(sku(2), 1)]);

    fake.injectFaults('patchListingsItem', { kind: 'status', status: 503 });
    const failed = await send(bundle, [level(sku(1), 2, 2), level(sku(2), 2, 2)]);
    assert.deepEqual(
      failed.map((r) => r.kind),
      ['retry', 'retry'],
      'the second is not tried after the first failed',
    );
    assert.equal(fake.requestsOf('patchListingsItem').length, 3);

    fake.injectFaults('patchListingsItem', { kind: 'hang' });
    assert.equal((await send(bundle, [level(sku(1), 3, 3)]))[0]!.kind, 'unknown');

    fake.injectFaults('patchListingsItem', { kind: 'throttle', retryAfterSeconds: 1 });
    const [throttled, notTried] = await send(bundle, [level(sku(1), 4, 4), level(sku(2), 4, 4)]);
    assert.deepEqual(throttled, { ...throttled, kind: 'rate_limited', retryAfterMs: 1000 });
    assert.equal(notTried!.kind, 'rate_limited');
    // The next send waits out the second (it fits in the send's wait) before it patches again.
    const started = Date.now();
    assert.deepEqual(await send(bundle, [level(sku(1), 5, 5), level(sku(2), 5, 5)]), [
      { kind: 'delivered' },
      { kind: 'delivered' },
    ]);
    assert.ok(Date.now() - started >= 900, `waited ${Date.now() - started} ms`);
    assert.deepEqual(fake.earlyRequests, [], 'nothing came before the Retry-After');
    assertContract(fake);
  });

  test('through a real dispatcher, 200 levels reach Amazon by feeds and patches without one request over any usage plan', async (t) => {
    // A faster patch plan than documented, announced in x-amzn-RateLimit-Limit, keeps the run short; the
    // documented bursts of the feed operations hold, so feeds run out and patches take over.
    const { fake, ctx, bundle, defer } = await setup(
      t,
      { rateLimits: { patchListingsItem: { rate: 25, burst: 5 }, getListingsItem: { rate: 25, burst: 10 } } },
      { batchSize: 12 },
    );
    const skus = Array.from({ length: 200 }, (_, i) => sku(i));
    for (const s of skus) fake.seedListing({ sku: s, quantity: 0 });
    // Most are mapped already; the last 50 are discovered (getListingsItem) on the way.
    mapAll(ctx, skus.slice(0, 150));
    const quantity = (s: string) => Number(s.slice(4)) % 17;
    const { dispatcher, markAll, isAllSent } = levelDispatcher(defer, ctx, bundle, quantity);
    markAll(skus);
    dispatcher.start();
    await until('every level to be sent', isAllSent, 60_000);

    assert.deepEqual(fake.quotaExceeded, [], 'no 429: the connector kept within every bucket');
    assert.deepEqual(
      skus.filter((s) => fake.quantityOf(s) !== quantity(s)),
      [],
    );
    const reports = fake.requestsOf('getFeedDocument').length;
    assert.ok(
      reports >= 10 && reports <= 11,
      `feeds until the getFeedDocument burst was used up (${reports})`,
    );
    assert.ok(fake.requestsOf('patchListingsItem').length >= 200 - 12 * 10, 'then patches');
    assertContract(fake);
  });

  test('a seller already throttled at the start: after the one 429 the dispatcher comes back when a token is due, not before', async (t) => {
    const { fake, ctx, bundle, defer } = await setup(t);
    const skus = [sku(1), sku(2), sku(3)];
    for (const s of skus) fake.seedListing({ sku: s, quantity: 0 });
    mapAll(ctx, skus);
    // The access token first, so the first patch follows the throttled start closely (the bucket at Amazon
    // refills at the documented 5 a second: a patch 175 ms later would find a token there).
    await bundle.levels!.readLevels([{ sku: sku(1), location: 'S1' }], AbortSignal.timeout(10_000));
    const { dispatcher, markAll, isAllSent } = levelDispatcher(defer, ctx, bundle, () => 5);
    markAll(skus);
    fake.setRateLimit('patchListingsItem', { rate: 5, burst: 5 }, true);
    dispatcher.start();
    await until('every level to be sent', isAllSent, 20_000);

    assert.equal(fake.quotaExceeded.length, 1, 'the one 429 of the throttled start');
    assert.deepEqual(fake.earlyRequests, [], 'no request before the bucket had a token again');
    assert.deepEqual(
      skus.map((s) => fake.quantityOf(s)),
      [5, 5, 5],
    );
    assertContract(fake);
  });

  test('the fake refuses what the models forbid, so the contract checks can fail', async (t) => {
    const { fake } = await setup(t);
    const token = await fetch(fake.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: fake.credentials.clientId,
        client_secret: fake.credentials.clientSecret,
        refresh_token: fake.credentials.refreshToken,
      }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${fake.endpoint}${path}`, {
        ...init,
        headers: {
          'x-amz-access-token': token.access_token,
          'content-type': 'application/json',
          ...init.headers,
        },
      });

    const orders = await call('/orders/v0/orders?LastUpdatedAfter=2026-11-01T00:00:00Z');
    assert.equal(orders.status, 400);
    const body = (await orders.json()) as { errors: { code: string; message: string; details?: string }[] };
    assert.equal(body.errors[0]!.code, 'InvalidInput');
    assert.match(body.errors[0]!.details ?? '', /MarketplaceIds/);

    const document = (await (
      await call('/feeds/2021-06-30/documents', {
        method: 'POST',
        body: JSON.stringify({ contentType: 'application/json; charset=UTF-8' }),
      })
    ).json()) as { url: string };
    const upload = await fetch(document.url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: JSON.stringify({
        header: { sellerId: fake.sellerId, version: '2.0' },
        messages: [{ messageId: 1, sku: 'X', operationType: 'PATCH' }],
      }),
    });
    assert.equal(upload.status, 400, 'a feed message without productType and patches');

    const patch = await call(
      `/listings/2021-08-01/items/${fake.sellerId}/X?marketplaceIds=${fake.marketplaceId}`,
      { method: 'PATCH', body: JSON.stringify({ patches: [] }) },
    );
    assert.equal(patch.status, 400, 'a patch without productType and with no operation');

    assert.deepEqual(
      fake.invalidRequests.map((r) => r.operation),
      ['getOrders', 'uploadFeedDocument', 'patchListingsItem'],
    );
    assert.throws(() => assertContract(fake), /conforms to the SP-API models/);
  });

  test("end to end: captured sales and a pulled Amazon order set the listing to the agent's available-to-sell", async (t) => {
    const defer = deferrer(t);
    const fake = await AmazonFake.start({ feedProcessingMs: 100 });
    defer(() => fake.stop());
    fake.seedListing({ sku: 'TEE-RED', quantity: 0 });
    fake.seedListing({ sku: 'TEE-BLUE', quantity: 0 });
    const orderId = fake.seedOrder({
      OrderStatus: 'Unshipped',
      LastUpdateDate: new Date(Date.now() - 600_000).toISOString(),
      items: [{ SellerSKU: 'TEE-BLUE', QuantityOrdered: 2 }],
    });
    const dir = tempDir();
    defer(dir.cleanup);
    const destination: NonNullable<ConfigInput['destinations']>[number] = {
      id: DESTINATION,
      type: 'amazon',
      endpoint: fake.endpoint,
      tokenUrl: fake.tokenUrl,
      ...fake.credentials,
      channel: 'amazon',
      locations: ['S1'],
      orders: { location: 'S1', pollSeconds: 3600, overlapSeconds: 300 },
    };
    const agent = await startAgent(
      testConfig(dir.path, {
        channels: [{ id: 'amazon', buffer: 1 }],
        destinations: [destination],
        delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 50, maxAgeHours: 1 },
      }),
    );
    defer(() => agent.stop());
    assert.ok(
      agent.agent.dispatchers.some((d) => d.destinationId === DESTINATION),
      'src-main/connectors/registry.ts has no `amazon` case: add `case "amazon": return createAmazonConnector(destination, context);`',
    );

    await agent.post({
      events: [
        makeEvent({
          id: 'r1',
          type: 'receipt',
          lines: [
            { sku: 'TEE-RED', qty: 10 },
            { sku: 'TEE-BLUE', qty: 6 },
          ],
        }),
        makeEvent({ id: 's1', type: 'sale', lines: [{ sku: 'TEE-RED', qty: 3 }] }),
        makeEvent({ id: 'r2', type: 'receipt', location: 'S2', lines: [{ sku: 'TEE-RED', qty: 50 }] }),
      ],
    });
    await agent.agent.orders.pullNow(DESTINATION);
    const available = (s: string) => agent.agent.stock.available(s, 'S1', 'amazon');
    await until(
      'Amazon to hold the available-to-sell',
      () =>
        fake.quantityOf('TEE-RED') === available('TEE-RED') &&
        fake.quantityOf('TEE-BLUE') === available('TEE-BLUE'),
      20_000,
    );

    assert.equal(available('TEE-RED'), 10 - 3 - 1, 'S2 is not published; the channel buffer is held back');
    assert.equal(available('TEE-BLUE'), 6 - 2 - 1, `order ${orderId} reserves two`);
    await agent.agent.dispatchers.find((d) => d.destinationId === DESTINATION)!.waitForIdle();
    assert.equal(fake.quantityOf('TEE-RED'), 6);
    assert.equal(fake.quantityOf('TEE-BLUE'), 3);
    assertContract(fake);
  });
});

/**
 * A dispatcher for the connector over the test database, as the agent builds one (engine bucket of 2 requests a
 * second, the registry's default), publishing `quantity(sku)` for location S1; stopped when the test ends.
 */
function levelDispatcher(
  defer: Setup['defer'],
  ctx: TestConnectorContext,
  bundle: ConnectorBundle,
  quantity: (sku: string) => number,
) {
  const outbox = new OutboxRepo(ctx.db);
  const dispatcher = new Dispatcher({
    destinationId: DESTINATION,
    connector: bundle.connector,
    db: ctx.db,
    repo: new DeliveryRepo(ctx.db),
    exceptions: ctx.exceptions,
    policy: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 50, maxAgeMs: 3_600_000 },
    bucket: new TokenBucket(2, 2),
    logger: createLogger({ level: 'silent' }),
    quantityFor: (s) => quantity(s),
  });
  defer(() => dispatcher.stop());
  const unsent = ctx.db.sqlite.prepare<[string], { n: number }>(
    'SELECT COUNT(*) AS n FROM level_dirty WHERE destination_id = ? AND version > sent_version',
  );
  return {
    dispatcher,
    markAll: (skus: readonly string[]) => {
      for (const s of skus) outbox.markDirty(DESTINATION, s, 'S1', Date.now());
    },
    isAllSent: () => unsent.get(DESTINATION)!.n === 0,
  };
}

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { parse } from 'graphql';
import { publishKey, type PublishEntry } from '../../src-main/connectors/shopify/shopify-publisher.js';
import { toRemoteOrder } from '../../src-main/connectors/shopify/shopify-orders.js';
import {
  DISCOVER_ITEMS_QUERY,
  LOCATIONS_QUERY,
  MORE_LINES_QUERY,
  ORDERS_QUERY,
  PUBLISH_COST,
  PUBLISH_MUTATION,
  discoverItemsCost,
  discoverItemsVariables,
  locationsCost,
  moreLinesCost,
  ordersCost,
  readLevelsCost,
  readLevelsQuery,
  readLevelsVariables,
  searchValue,
  type OrderNode,
} from '../../src-main/connectors/shopify/shopify-queries.js';
import { buildShopifySchema, parseSearch, queryCost } from '../simulators/shopify-fake.js';
import { connectorContext } from '../support/connector-context.js';
import { contractsMissing } from '../support/contracts.js';

const entry = (overrides: Partial<PublishEntry> = {}): PublishEntry => ({
  sku: 'SKU-1',
  location: 'S1',
  version: 3,
  quantity: 7,
  changeFromQuantity: 5,
  ...overrides,
});

test('the publish key is the same for the same levels and values, so a retry after a crash reuses it', () => {
  const key = publishKey('store-1', 'shop', [entry(), entry({ sku: 'SKU-2' })]);
  assert.equal(publishKey('store-1', 'shop', [entry(), entry({ sku: 'SKU-2' })]), key);
  assert.match(key, /^backroom-[0-9a-f]{48}$/);
});

test('the publish key changes with the agent, the destination, a version, a quantity or a compare value', () => {
  const key = publishKey('store-1', 'shop', [entry()]);
  const others = [
    publishKey('store-2', 'shop', [entry()]),
    publishKey('store-1', 'shop-eu', [entry()]),
    publishKey('store-1', 'shop', [entry({ version: 4 })]),
    publishKey('store-1', 'shop', [entry({ quantity: 6 })]),
    publishKey('store-1', 'shop', [entry({ changeFromQuantity: 4 })]),
    publishKey('store-1', 'shop', [entry({ changeFromQuantity: null })]),
    publishKey('store-1', 'shop', [entry(), entry({ sku: 'SKU-2' })]),
  ];
  assert.equal(new Set([key, ...others]).size, others.length + 1);
});

test('a SKU with quotes and backslashes is quoted for Shopify search so that it reads back exactly', () => {
  for (const sku of ["O'Brien", 'back\\slash', 'plain-SKU 42', `"double"`]) {
    assert.deepEqual(parseSearch(`sku:${searchValue(sku)}`), [
      [{ field: 'sku', op: '=', value: sku, isNegated: false }],
    ]);
  }
  assert.deepEqual(discoverItemsVariables(['A', "B'"]), { first: 4, query: "sku:'A' OR sku:'B\\''" });
});

// ---- orders ----

function order(overrides: Partial<OrderNode> = {}): OrderNode {
  return {
    id: 'gid://shopify/Order/1',
    name: '#1001',
    updatedAt: '2026-11-24T10:00:00Z',
    cancelledAt: null,
    displayFulfillmentStatus: 'UNFULFILLED',
    displayFinancialStatus: 'PAID',
    returnStatus: 'NO_RETURN',
    fulfillmentOrders: { nodes: [{ assignedLocation: { location: { id: 'gid://shopify/Location/9' } } }] },
    lineItems: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] },
    ...overrides,
  };
}

const line = (sku: string | null, currentQuantity: number, item: string | null = null) => ({
  sku,
  currentQuantity,
  variant: item === null ? null : { inventoryItem: { id: item } },
});

function mappings(t: TestContext) {
  const ctx = connectorContext('shop');
  t.after(ctx.cleanup);
  ctx.mappings.set({
    destinationId: 'shop',
    kind: 'item',
    localId: 'LOCAL-1',
    remoteId: 'gid://shopify/InventoryItem/1',
    origin: 'test',
  });
  ctx.mappings.set({
    destinationId: 'shop',
    kind: 'location',
    localId: 'S1',
    remoteId: 'gid://shopify/Location/9',
    origin: 'test',
  });
  return ctx.context.mappings;
}

test('an order is cancelled once cancelledAt is set, fulfilled when Shopify says FULFILLED, else open', (t) => {
  const m = mappings(t);
  assert.equal(toRemoteOrder(order(), [], m).status, 'open');
  assert.equal(
    toRemoteOrder(order({ displayFulfillmentStatus: 'PARTIALLY_FULFILLED' }), [], m).status,
    'open',
  );
  assert.equal(toRemoteOrder(order({ displayFulfillmentStatus: 'FULFILLED' }), [], m).status, 'fulfilled');
  assert.equal(
    toRemoteOrder(
      order({ displayFulfillmentStatus: 'FULFILLED', cancelledAt: '2026-11-24T11:00:00Z' }),
      [],
      m,
    ).status,
    'cancelled',
  );
});

test('order lines come in local SKUs: by the item mapping first, else the line SKU; merged; unmapped items listed; custom lines left out', (t) => {
  const m = mappings(t);
  const lines = [
    line('SHOPIFY-SKU', 2, 'gid://shopify/InventoryItem/1'),
    line('LOCAL-1', 1, null),
    line('LOCAL-2', 3, 'gid://shopify/InventoryItem/2'),
    line(null, 1, 'gid://shopify/InventoryItem/3'),
    line(' ', 1, 'gid://shopify/InventoryItem/4'),
    line(null, 1, null),
    line('LOCAL-9', 0, null),
  ];
  assert.deepEqual(toRemoteOrder(order(), lines, m), {
    orderId: 'gid://shopify/Order/1',
    name: '#1001',
    updatedAt: '2026-11-24T10:00:00Z',
    status: 'open',
    location: 'S1',
    lines: [
      { sku: 'LOCAL-1', qty: 3 },
      { sku: 'LOCAL-2', qty: 3 },
    ],
    unmappedItems: ['gid://shopify/InventoryItem/3', 'gid://shopify/InventoryItem/4'],
  });
});

test('an order whose fulfilling location is unmapped, or not said, has no location', (t) => {
  const m = mappings(t);
  const elsewhere = { nodes: [{ assignedLocation: { location: { id: 'gid://shopify/Location/77' } } }] };
  assert.equal(toRemoteOrder(order({ fulfillmentOrders: elsewhere }), [], m).location, null);
  assert.equal(toRemoteOrder(order({ fulfillmentOrders: { nodes: [] } }), [], m).location, null);
});

// ---- cost ----

test(
  "the connector's cost of each request is what Shopify's rules give for it, so its bucket view holds",
  { skip: contractsMissing() },
  () => {
    const schema = buildShopifySchema();
    const cost = (query: string, variables: Record<string, unknown>) =>
      queryCost(schema, parse(query), variables);
    const discover = discoverItemsVariables(['A', 'B', 'C']);
    assert.equal(cost(DISCOVER_ITEMS_QUERY, { ...discover, after: null }), discoverItemsCost(discover.first));
    assert.equal(cost(LOCATIONS_QUERY, { first: 50, after: null }), locationsCost(50));
    assert.equal(cost(LOCATIONS_QUERY, { first: 3, after: null }), locationsCost(3));
    const pairs = Array.from({ length: 7 }, (_, i) => ({
      item: `gid://shopify/InventoryItem/${i}`,
      location: 'gid://shopify/Location/1',
    }));
    assert.equal(cost(readLevelsQuery(7), readLevelsVariables(pairs)), readLevelsCost(7));
    assert.equal(cost(ORDERS_QUERY, { first: 20, after: null, query: null }), ordersCost(20));
    assert.equal(cost(ORDERS_QUERY, { first: 2, after: null, query: null }), ordersCost(2));
    assert.equal(
      cost(MORE_LINES_QUERY, { id: 'gid://shopify/Order/1', first: 100, after: null }),
      moreLinesCost(100),
    );
    assert.equal(cost(PUBLISH_MUTATION, { input: {}, key: 'k' }), PUBLISH_COST);
    assert.ok(ordersCost(20) <= 1000, 'a page of orders fits the single-query maximum of 1000 points');
  },
);

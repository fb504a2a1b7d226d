import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'graphql';
import {
  FULFILMENT_CREATE_MUTATION,
  ORDER_FULFILLED_COST,
  ORDER_FULFILLED_QUERY,
  ORDER_FULFILMENT_COST,
  ORDER_FULFILMENT_QUERY,
  planFulfilment,
} from '../../src-main/connectors/shopify/shopify-fulfilment.js';
import { PUBLISH_COST } from '../../src-main/connectors/shopify/shopify-queries.js';
import {
  ORDER_RETURNS_COST,
  ORDER_RETURNS_QUERY,
} from '../../src-main/connectors/shopify/shopify-returns.js';
import { contractsMissing } from '../support/contracts.js';
import { buildShopifySchema, queryCost } from '../simulators/shopify-fake.js';

type Order = Parameters<typeof planFulfilment>[0];

const fo = (
  id: string,
  location: string,
  lines: { id: string; sku: string; item?: string; total: number; remaining: number }[],
  status = 'OPEN',
) => ({
  id,
  status,
  assignedLocation: { location: { id: location } },
  lineItems: {
    nodes: lines.map((l) => ({
      id: l.id,
      sku: l.sku,
      inventoryItemId: l.item ?? null,
      totalQuantity: l.total,
      remainingQuantity: l.remaining,
    })),
  },
});

const order = (fulfillmentOrders: ReturnType<typeof fo>[]): Order => ({
  id: 'gid://shopify/Order/1',
  name: '#1001',
  cancelledAt: null,
  fulfillmentOrders: { nodes: fulfillmentOrders },
  fulfillments: [],
});

const noMappings = { skuOf: () => null };

test('a shipment takes the open lines of its SKUs up to what remains, across fulfilment orders of one location', () => {
  const plan = planFulfilment(
    order([
      fo('FO1', 'L1', [
        { id: 'a', sku: 'MUG', total: 2, remaining: 1 },
        { id: 'b', sku: 'TEE', total: 1, remaining: 1 },
      ]),
      fo('FO2', 'L1', [{ id: 'c', sku: 'MUG', total: 3, remaining: 3 }]),
      fo('FO3', 'L1', [{ id: 'd', sku: 'MUG', total: 5, remaining: 5 }], 'CLOSED'),
    ]),
    [
      { sku: 'MUG', qty: 3 },
      { sku: 'TEE', qty: 1 },
    ],
    noMappings,
  );
  assert.deepEqual(plan, {
    pairs: [
      {
        fulfillmentOrderId: 'FO1',
        fulfillmentOrderLineItems: [
          { id: 'a', quantity: 1 },
          { id: 'b', quantity: 1 },
        ],
      },
      { fulfillmentOrderId: 'FO2', fulfillmentOrderLineItems: [{ id: 'c', quantity: 2 }] },
    ],
  });
});

test('a line is known by its item’s mapping first; more than remains, or lines at two locations, is a misfit naming the SKU', () => {
  const mapped = planFulfilment(
    order([fo('FO1', 'L1', [{ id: 'a', sku: 'shop-sku', item: 'gid://I/1', total: 1, remaining: 1 }])]),
    [{ sku: 'MUG', qty: 1 }],
    { skuOf: (item) => (item === 'gid://I/1' ? 'MUG' : null) },
  );
  assert.deepEqual(mapped, {
    pairs: [{ fulfillmentOrderId: 'FO1', fulfillmentOrderLineItems: [{ id: 'a', quantity: 1 }] }],
  });
  assert.deepEqual(
    planFulfilment(
      order([fo('FO1', 'L1', [{ id: 'a', sku: 'MUG', total: 2, remaining: 1 }])]),
      [{ sku: 'MUG', qty: 2 }],
      noMappings,
    ),
    { misfit: 'order #1001 has only 1 × MUG left to fulfil on Shopify, 2 were shipped' },
  );
  assert.deepEqual(
    planFulfilment(
      order([
        fo('FO1', 'L1', [{ id: 'a', sku: 'MUG', total: 1, remaining: 1 }]),
        fo('FO2', 'L2', [{ id: 'b', sku: 'MUG', total: 1, remaining: 1 }]),
      ]),
      [{ sku: 'MUG', qty: 2 }],
      noMappings,
    ),
    { misfit: 'order #1001 has only 1 × MUG left to fulfil on Shopify, 2 were shipped' },
    'Shopify fulfils one location at a time',
  );
});

test(
  'the fulfilment reads and mutation cost what Shopify’s rules give, so the bucket view holds',
  { skip: contractsMissing() },
  () => {
    const schema = buildShopifySchema();
    const cost = (query: string) => queryCost(schema, parse(query), { id: 'gid://shopify/Order/1' });
    assert.equal(cost(ORDER_FULFILMENT_QUERY), ORDER_FULFILMENT_COST);
    assert.equal(cost(ORDER_FULFILLED_QUERY), ORDER_FULFILLED_COST);
    assert.equal(cost(FULFILMENT_CREATE_MUTATION), PUBLISH_COST);
    // The fake does not narrow `... on ReturnLineItem` (its fields count nothing there); Shopify counts them, so
    // the connector asks for them: never less than the fake's count.
    assert.ok(cost(ORDER_RETURNS_QUERY) <= ORDER_RETURNS_COST);
    assert.ok(ORDER_FULFILMENT_COST <= 1000 && ORDER_RETURNS_COST <= 1000, 'within the single-query maximum');
  },
);

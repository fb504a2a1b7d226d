import { z } from 'zod';
import type { RemoteOrderLine } from '../port/connector-bundle.js';
import type { IdMappings } from '../port/connector-context.js';
import type { ShopifyClient, ShopifyOperation } from './shopify-client.js';
import { READ_MAX_WAIT_MS } from './shopify-levels.js';

/** Refunds and returns of one order read, and lines of each (a store's order has a few). */
const REFUND_LINES_FIRST = 10;
const RETURNS_FIRST = 3;
const RETURN_LINES_FIRST = 10;

const LINE_ITEM = 'lineItem { sku variant { inventoryItem { id } } }';

/**
 * One order's refunds (their lines with restock type) and returns (their lines with the fulfilled line item),
 * read only for an order whose list entry says it has some (`returnStatus`, `displayFinancialStatus`).
 */
export const ORDER_RETURNS_QUERY = /* GraphQL */ `
  query BackroomOrderReturns($id: ID!) {
    order(id: $id) {
      refunds(first: 10) {
        refundLineItems(first: ${REFUND_LINES_FIRST}) {
          nodes {
            quantity
            restockType
            ${LINE_ITEM}
          }
        }
      }
      returns(first: ${RETURNS_FIRST}) {
        nodes {
          status
          returnLineItems(first: ${RETURN_LINES_FIRST}) {
            nodes {
              quantity
              ... on ReturnLineItem {
                fulfillmentLineItem {
                  ${LINE_ITEM}
                }
              }
            }
          }
        }
      }
    }
  }
`;

/**
 * Its requested cost by Shopify's rules: the order 1; refunds, a list, 1 + one refund's lines (2 + each line 1,
 * its line item 1, variant 1, inventory item 1); returns 2 + each (1 + its lines 2 + each line 1 + the fulfilled
 * line item's 4).
 */
export const ORDER_RETURNS_COST =
  1 + (1 + 2 + REFUND_LINES_FIRST * 4) + (2 + RETURNS_FIRST * (1 + 2 + RETURN_LINES_FIRST * 5));

const lineItem = z.object({
  sku: z.string().nullable(),
  variant: z.object({ inventoryItem: z.object({ id: z.string() }) }).nullable(),
});

const orderReturnsData = z.object({
  order: z
    .object({
      refunds: z.array(
        z.object({
          refundLineItems: z.object({
            nodes: z.array(z.object({ quantity: z.number().int(), restockType: z.string(), lineItem })),
          }),
        }),
      ),
      returns: z.object({
        nodes: z.array(
          z.object({
            status: z.string(),
            returnLineItems: z.object({
              nodes: z.array(
                z.object({
                  quantity: z.number().int(),
                  fulfillmentLineItem: z.object({ lineItem }).optional(),
                }),
              ),
            }),
          }),
        ),
      }),
    })
    .nullable(),
});

/** Returns whose goods are still expected or came back: asked for, approved, closed. */
const LIVE_RETURNS = new Set(['REQUESTED', 'OPEN', 'CLOSED']);

/** True when an order's list entry says it has returns or refunds worth reading. */
export function hasReturns(node: Readonly<{ returnStatus: string; displayFinancialStatus: string | null }>) {
  return (
    node.returnStatus !== 'NO_RETURN' ||
    node.displayFinancialStatus === 'PARTIALLY_REFUNDED' ||
    node.displayFinancialStatus === 'REFUNDED'
  );
}

/**
 * What of an order comes back, per local SKU: the larger of its live returns' units and its refunds' units that
 * restock (`RETURN`), since a return that is refunded is both. A refund without restock (money only) and a
 * cancelled line (`CANCEL`, never shipped) bring nothing back; nor do declined or cancelled returns. Throws
 * `ShopifyRequestError`.
 */
export async function readReturned(
  client: ShopifyClient,
  mappings: Pick<IdMappings, 'skuOf'>,
  orderId: string,
  signal: AbortSignal,
): Promise<RemoteOrderLine[]> {
  const operation: ShopifyOperation<z.output<typeof orderReturnsData>> = {
    name: 'BackroomOrderReturns',
    query: ORDER_RETURNS_QUERY,
    variables: { id: orderId },
    cost: ORDER_RETURNS_COST,
    data: orderReturnsData,
  };
  const { order } = await client.request(operation, signal, { maxWaitMs: READ_MAX_WAIT_MS });
  if (order === null) return [];
  const skuOf = (item: z.output<typeof lineItem>) => {
    const inventoryItem = item.variant?.inventoryItem.id ?? null;
    const own = item.sku?.trim() ?? '';
    return (inventoryItem === null ? null : mappings.skuOf(inventoryItem)) ?? (own === '' ? null : own);
  };
  const add = (into: Map<string, number>, sku: string | null, qty: number) => {
    if (sku !== null && qty > 0) into.set(sku, (into.get(sku) ?? 0) + qty);
  };
  const refunded = new Map<string, number>();
  for (const refund of order.refunds)
    for (const line of refund.refundLineItems.nodes)
      if (line.restockType === 'RETURN') add(refunded, skuOf(line.lineItem), line.quantity);
  const returned = new Map<string, number>();
  for (const ret of order.returns.nodes) {
    if (!LIVE_RETURNS.has(ret.status)) continue;
    for (const line of ret.returnLineItems.nodes)
      if (line.fulfillmentLineItem) add(returned, skuOf(line.fulfillmentLineItem.lineItem), line.quantity);
  }
  const skus = new Set([...refunded.keys(), ...returned.keys()]);
  return [...skus].map((sku) => ({
    sku,
    qty: Math.max(refunded.get(sku) ?? 0, returned.get(sku) ?? 0),
  }));
}

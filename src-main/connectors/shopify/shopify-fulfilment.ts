import { z } from 'zod';
import type {
  FulfilmentOutcome,
  FulfilmentTarget,
  OutgoingShipment,
  RemoteFulfilled,
} from '../port/connector-bundle.js';
import type { IdMappings } from '../port/connector-context.js';
import {
  connectorError,
  ShopifyRequestError,
  type ShopifyClient,
  type ShopifyFailure,
} from './shopify-client.js';
import { PUBLISH_COST } from './shopify-queries.js';

/** Fulfilment orders of one order read at once, and line items of each (a store's order has a few). */
const FULFILMENT_ORDERS_FIRST = 5;
const FULFILMENT_ORDER_LINES_FIRST = 50;
/** Fulfilments of one order read back (Shopify's `Order.fulfillments` is a list, not a connection). */
const FULFILMENTS_FIRST = 50;
/** Longest a fulfilment call waits for the bucket before it is tried again later. */
const MAX_WAIT_MS = 20_000;

/**
 * One order's fulfilment orders (with what remains of each line) and its fulfilments (with their tracking):
 * all `send` needs to plan `fulfillmentCreate`, and all `find` needs to recognise a shipment already recorded.
 */
export const ORDER_FULFILMENT_QUERY = /* GraphQL */ `
  query BackroomOrderFulfilment($id: ID!) {
    order(id: $id) {
      id
      name
      cancelledAt
      fulfillmentOrders(first: ${FULFILMENT_ORDERS_FIRST}) {
        nodes {
          id
          status
          assignedLocation {
            location {
              id
            }
          }
          lineItems(first: ${FULFILMENT_ORDER_LINES_FIRST}) {
            nodes {
              id
              sku
              inventoryItemId
              totalQuantity
              remainingQuantity
            }
          }
        }
      }
      fulfillments(first: ${FULFILMENTS_FIRST}) {
        id
        status
        trackingInfo(first: 1) {
          company
          number
          url
        }
      }
    }
  }
`;

/**
 * Its requested cost by Shopify's rules: the order 1; fulfilment orders 2 + each (itself 1, assigned location
 * 1, its location 1, its lines 2 + one a line); fulfilments as a list 1 + one fulfilment's (tracking 1).
 */
export const ORDER_FULFILMENT_COST =
  1 + (2 + FULFILMENT_ORDERS_FIRST * (3 + 2 + FULFILMENT_ORDER_LINES_FIRST)) + (1 + 1);

/** Line items of each fulfilment order read for reconciliation (what it shows fulfilled), in a cheaper query. */
const FULFILLED_LINES_FIRST = 20;

/** What an order shows fulfilled, per line, and whether it is cancelled: the shipment status reconciliation reads. */
export const ORDER_FULFILLED_QUERY = /* GraphQL */ `
  query BackroomOrderFulfilled($id: ID!) {
    order(id: $id) {
      id
      name
      cancelledAt
      fulfillmentOrders(first: ${FULFILMENT_ORDERS_FIRST}) {
        nodes {
          id
          status
          assignedLocation {
            location {
              id
            }
          }
          lineItems(first: ${FULFILLED_LINES_FIRST}) {
            nodes {
              id
              sku
              inventoryItemId
              totalQuantity
              remainingQuantity
            }
          }
        }
      }
    }
  }
`;

/** The order 1; fulfilment orders 2 + each (itself 1, assigned location 1, its location 1, lines 2 + one each). */
export const ORDER_FULFILLED_COST = 1 + (2 + FULFILMENT_ORDERS_FIRST * (3 + 2 + FULFILLED_LINES_FIRST));

export const FULFILMENT_CREATE_MUTATION = /* GraphQL */ `
  mutation BackroomFulfil($fulfillment: FulfillmentInput!) {
    fulfillmentCreate(fulfillment: $fulfillment) {
      fulfillment {
        id
        status
      }
      userErrors {
        field
        message
      }
    }
  }
`;

const fulfilmentOrderNode = z.object({
  id: z.string(),
  status: z.string(),
  assignedLocation: z.object({ location: z.object({ id: z.string() }).nullable() }),
  lineItems: z.object({
    nodes: z.array(
      z.object({
        id: z.string(),
        sku: z.string().nullable(),
        inventoryItemId: z.string().nullable(),
        totalQuantity: z.number().int(),
        remainingQuantity: z.number().int(),
      }),
    ),
  }),
});

const orderFulfilmentData = z.object({
  order: z
    .object({
      id: z.string(),
      name: z.string(),
      cancelledAt: z.string().nullable(),
      fulfillmentOrders: z.object({ nodes: z.array(fulfilmentOrderNode) }),
      fulfillments: z.array(
        z.object({
          id: z.string(),
          status: z.string(),
          trackingInfo: z.array(
            z.object({
              company: z.string().nullable(),
              number: z.string().nullable(),
              url: z.string().nullable(),
            }),
          ),
        }),
      ),
    })
    .nullable(),
});
type ShopifyOrder = NonNullable<z.output<typeof orderFulfilmentData>['order']>;

const orderFulfilledData = z.object({
  order: orderFulfilmentData.shape.order.unwrap().omit({ fulfillments: true }).nullable(),
});

const fulfilmentCreateData = z.object({
  fulfillmentCreate: z
    .object({
      fulfillment: z.object({ id: z.string(), status: z.string() }).nullable(),
      userErrors: z.array(z.object({ field: z.array(z.string()).nullable(), message: z.string() })),
    })
    .nullable(),
});

/** Fulfilment order statuses Shopify fulfils from. */
const FULFILLABLE = new Set(['OPEN', 'IN_PROGRESS']);

/** One `lineItemsByFulfillmentOrder` pair of `FulfillmentInput`. */
export type FulfilmentOrderLines = {
  fulfillmentOrderId: string;
  fulfillmentOrderLineItems: { id: string; quantity: number }[];
};

/**
 * Which fulfilment order line items carry a shipment: for each shipped SKU, the open lines of that SKU (by the
 * item's mapping, else the line's own SKU, as orders are read) in Shopify's order, up to what remains of each.
 * Shopify fulfils fulfilment orders of one location together only, so the lines are taken from the first
 * fulfilment order's location that has the SKU. Returns the pairs, or why the shipment does not fit.
 */
export function planFulfilment(
  order: ShopifyOrder,
  lines: readonly Readonly<{ sku: string; qty: number }>[],
  mappings: Pick<IdMappings, 'skuOf'>,
): { pairs: FulfilmentOrderLines[] } | { misfit: string } {
  const open = order.fulfillmentOrders.nodes.filter((fo) => FULFILLABLE.has(fo.status));
  const skuOf = (line: ShopifyOrder['fulfillmentOrders']['nodes'][number]['lineItems']['nodes'][number]) =>
    (line.inventoryItemId === null ? null : mappings.skuOf(line.inventoryItemId)) ?? line.sku?.trim() ?? null;
  let location: string | null | undefined;
  const byOrder = new Map<string, FulfilmentOrderLines>();
  for (const wanted of lines) {
    let left = wanted.qty;
    for (const fo of open) {
      const here = fo.assignedLocation.location?.id ?? null;
      for (const line of fo.lineItems.nodes) {
        if (left === 0) break;
        if (skuOf(line) !== wanted.sku || line.remainingQuantity <= 0) continue;
        if (location !== undefined && location !== here) continue;
        location = here;
        const taken =
          byOrder.get(fo.id)?.fulfillmentOrderLineItems.find((i) => i.id === line.id)?.quantity ?? 0;
        const take = Math.min(left, line.remainingQuantity - taken);
        if (take <= 0) continue;
        const pair = byOrder.get(fo.id) ?? { fulfillmentOrderId: fo.id, fulfillmentOrderLineItems: [] };
        const item = pair.fulfillmentOrderLineItems.find((i) => i.id === line.id);
        if (item) item.quantity += take;
        else pair.fulfillmentOrderLineItems.push({ id: line.id, quantity: take });
        byOrder.set(fo.id, pair);
        left -= take;
      }
    }
    if (left > 0)
      return {
        misfit: `order ${order.name} has ${wanted.qty - left === 0 ? 'no' : `only ${wanted.qty - left} ×`} ${wanted.sku} left to fulfil on Shopify, ${wanted.qty} were shipped`,
      };
  }
  return { pairs: [...byOrder.values()] };
}

/** What a failed request comes to for a fulfilment: a lost answer to the mutation is `unknown` (read back). */
function outcomeOf(failure: ShopifyFailure): FulfilmentOutcome {
  switch (failure.kind) {
    case 'unknown':
    case 'invalid_response':
      return { kind: 'unknown', detail: failure.detail };
    case 'rejected':
      return { kind: 'rejected', why: 'other', detail: failure.detail };
    case 'retry':
    case 'rate_limited':
    case 'auth_failed':
      return { kind: 'retry', detail: failure.detail };
  }
}

/**
 * Records the warehouse's shipments of Shopify orders: `fulfillmentCreate` against the order's fulfilment orders
 * (`lineItemsByFulfillmentOrder`: the fulfilment order line items of the shipped SKUs, with their quantities;
 * `trackingInfo`: the carrier as `company`, the tracking number and page; `notifyCustomer`, so the customer gets
 * the tracking number in Shopify's shipping confirmation).
 *
 * Idempotency: Shopify takes no key for `fulfillmentCreate` (`@idempotent` is for inventory mutations), and a
 * fulfilment cannot be made twice for the same lines. So every send reads the order first (one query: its
 * fulfilment orders with what remains, and its fulfilments with their tracking), and after an `unknown` outcome
 * the sender reads back (`find`) before sending again. A shipment is recognised as recorded by its tracking
 * number among the order's successful fulfilments; one without a tracking number, by the fulfilled quantities of
 * its SKUs covering what this order's earlier shipments and this one carried (the sender sends one order's
 * shipments in capture order, so that count is exact). A cancelled order, or lines with nothing left to fulfil,
 * are refused (`cancelled`, `already_fulfilled`) before anything is written.
 */
export function createShopifyFulfilment(
  client: ShopifyClient,
  mappings: Pick<IdMappings, 'skuOf'>,
): FulfilmentTarget {
  const readOrder = async (orderId: string, signal: AbortSignal): Promise<ShopifyOrder | null> =>
    (
      await client.request(
        {
          name: 'BackroomOrderFulfilment',
          query: ORDER_FULFILMENT_QUERY,
          variables: { id: orderId },
          cost: ORDER_FULFILMENT_COST,
          data: orderFulfilmentData,
        },
        signal,
        { maxWaitMs: MAX_WAIT_MS },
      )
    ).order;

  /** The fulfilled units per SKU: each line's total less what remains, over all fulfilment orders. */
  const fulfilledOf = (order: Pick<ShopifyOrder, 'fulfillmentOrders'>): Map<string, number> => {
    const fulfilled = new Map<string, number>();
    for (const fo of order.fulfillmentOrders.nodes)
      for (const line of fo.lineItems.nodes) {
        const sku =
          (line.inventoryItemId === null ? null : mappings.skuOf(line.inventoryItemId)) ??
          line.sku?.trim() ??
          '';
        fulfilled.set(sku, (fulfilled.get(sku) ?? 0) + line.totalQuantity - line.remainingQuantity);
      }
    return fulfilled;
  };

  /** The remote id of this shipment when the order shows it recorded, else null. */
  const recorded = (order: ShopifyOrder, shipment: OutgoingShipment): string | null => {
    const done = order.fulfillments.filter((f) => f.status === 'SUCCESS');
    if (shipment.trackingNumber !== null)
      return done.find((f) => f.trackingInfo.some((t) => t.number === shipment.trackingNumber))?.id ?? null;
    const fulfilled = fulfilledOf(order);
    const expected = new Map<string, number>();
    for (const l of [...shipment.sentBefore, ...shipment.lines])
      expected.set(l.sku, (expected.get(l.sku) ?? 0) + l.qty);
    const isThere = [...expected].every(([sku, qty]) => (fulfilled.get(sku) ?? 0) >= qty);
    return isThere ? (done[done.length - 1]?.id ?? `${order.id}/${shipment.shipmentNo}`) : null;
  };

  async function send(shipment: OutgoingShipment, signal: AbortSignal): Promise<FulfilmentOutcome> {
    try {
      const order = await readOrder(shipment.orderId, signal);
      if (order === null)
        return { kind: 'rejected', why: 'other', detail: `Shopify has no order ${shipment.orderId}` };
      if (order.cancelledAt !== null)
        return {
          kind: 'rejected',
          why: 'cancelled',
          detail: `order ${order.name} was cancelled on Shopify at ${order.cancelledAt}`,
        };
      // Recorded already (by a send whose answer was lost before a restart): nothing to make again.
      const existing = shipment.trackingNumber === null ? null : recorded(order, shipment);
      if (existing !== null) return { kind: 'delivered', remoteId: existing };
      const plan = planFulfilment(order, shipment.lines, mappings);
      if ('misfit' in plan) return { kind: 'rejected', why: 'already_fulfilled', detail: plan.misfit };
      const data = await client.request(
        {
          name: 'BackroomFulfil',
          query: FULFILMENT_CREATE_MUTATION,
          variables: {
            fulfillment: {
              lineItemsByFulfillmentOrder: plan.pairs,
              notifyCustomer: true,
              ...(shipment.carrier === null && shipment.trackingNumber === null
                ? {}
                : {
                    trackingInfo: {
                      ...(shipment.carrier === null ? {} : { company: shipment.carrier }),
                      ...(shipment.trackingNumber === null ? {} : { number: shipment.trackingNumber }),
                      ...(shipment.trackingUrl === null ? {} : { url: shipment.trackingUrl }),
                    },
                  }),
            },
          },
          cost: PUBLISH_COST,
          data: fulfilmentCreateData,
        },
        signal,
        { maxWaitMs: MAX_WAIT_MS, isMutation: true },
      );
      const payload = data.fulfillmentCreate;
      if (payload === null)
        return {
          kind: 'unknown',
          detail: 'fulfillmentCreate answered no payload: read back before resending',
        };
      if (payload.fulfillment !== null && payload.userErrors.length === 0)
        return { kind: 'delivered', remoteId: payload.fulfillment.id };
      const detail = payload.userErrors.map((e) => e.message).join('; ') || 'no fulfillment was made';
      return {
        kind: 'rejected',
        why: /cancel/i.test(detail)
          ? 'cancelled'
          : /quantity|closed|no line items left|already/i.test(detail)
            ? 'already_fulfilled'
            : 'other',
        detail,
      };
    } catch (error) {
      if (error instanceof ShopifyRequestError) return outcomeOf(error.failure);
      throw error;
    }
  }

  async function readFulfilled(orderId: string, signal: AbortSignal): Promise<RemoteFulfilled | null> {
    try {
      const { order } = await client.request(
        {
          name: 'BackroomOrderFulfilled',
          query: ORDER_FULFILLED_QUERY,
          variables: { id: orderId },
          cost: ORDER_FULFILLED_COST,
          data: orderFulfilledData,
        },
        signal,
        { maxWaitMs: MAX_WAIT_MS },
      );
      if (order === null) return null;
      return {
        isCancelled: order.cancelledAt !== null,
        fulfilled: [...fulfilledOf(order)]
          .filter(([sku, qty]) => sku !== '' && qty > 0)
          .map(([sku, qty]) => ({ sku, qty })),
      };
    } catch (error) {
      if (error instanceof ShopifyRequestError) throw connectorError(error.failure);
      throw error;
    }
  }

  async function find(shipment: OutgoingShipment, signal: AbortSignal): Promise<string | null> {
    try {
      const order = await readOrder(shipment.orderId, signal);
      return order === null ? null : recorded(order, shipment);
    } catch (error) {
      if (error instanceof ShopifyRequestError) throw connectorError(error.failure);
      throw error;
    }
  }

  return { send, find, readFulfilled };
}

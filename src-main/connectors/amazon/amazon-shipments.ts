import { z } from 'zod';
import type { IdMappings } from '../port/connector-context.js';
import { fulfilmentOutcomeOf } from '../port/call-failure.js';
import type {
  FulfilmentOutcome,
  FulfilmentTarget,
  OutgoingShipment,
  RemoteFulfilled,
} from '../port/connector-bundle.js';
import { getOrderItemsResponseSchema, getOrderResponseSchema } from './sp-api-schemas.js';
import { describeSpError, SpApiFailure, type CallBudget, type SpApiClient } from './sp-api-client.js';

/** How long one fulfilment call may wait for rate-limit tokens before it is tried again later. */
const WAIT_MS = 20_000;

/** The carriers Amazon knows by code (CarrierCode); any other goes as `Other` with its name. */
const AMAZON_CARRIER_CODES = new Set(['UPS', 'USPS', 'FedEx', 'DHL', 'DPD', 'GLS', 'Royal Mail', 'Hermes']);

const itemsSchema = getOrderItemsResponseSchema.extend({
  payload: getOrderItemsResponseSchema.shape.payload.extend({
    OrderItems: z.array(
      z.object({
        ASIN: z.string(),
        OrderItemId: z.string(),
        SellerSKU: z.string().optional(),
        QuantityOrdered: z.number().int().min(0),
        QuantityShipped: z.number().int().min(0).optional(),
      }),
    ),
  }),
});
type OrderItem = z.output<typeof itemsSchema>['payload']['OrderItems'][number];

/** The order statuses under which some of an order's units may be shipped: its items tell which. */
const HAS_SHIPPED = new Set(['PartiallyShipped', 'Shipped', 'InvoiceUnconfirmed']);
/** The statuses under which every unit is shipped (an item not stating `QuantityShipped` is all shipped). */
const ALL_SHIPPED = new Set(['Shipped', 'InvoiceUnconfirmed']);

export type AmazonShipmentsOptions = Readonly<{
  client: SpApiClient;
  marketplaceId: string;
  mappings: Pick<IdMappings, 'skuOf'>;
}>;

/**
 * The warehouse's shipments of merchant-fulfilled Amazon orders, confirmed with Orders API v0 `confirmShipment`
 * (one package per shipment: `packageReferenceId` the ship event's capture seq, the carrier's code or `Other`
 * with its name, the tracking number, and the order items shipped). Chosen over the order fulfilment feed because
 * it answers per order at once (a cancelled order is refused then and there, so its exception names it), and a
 * store ships one order at a time.
 *
 * Amazon takes no idempotency key here. A shipment is recognised on read-back by the order items' shipped
 * quantities (`getOrderItems`, `QuantityShipped`): when they cover what the shipments sent before this one
 * carried plus this one, it took effect. The sender sends one order's shipments in capture order, so that count
 * is exact.
 *
 * For the shipment status in reconciliation, `readFulfilled` reads the order (`getOrder`: `OrderStatus`, and
 * Canceled is cancelled) and, when it is PartiallyShipped, Shipped or InvoiceUnconfirmed, its items' `QuantityShipped` per local SKU
 * (`getOrderItems`, mapped as the order pull maps them); an order still Unshipped (or Pending) has nothing shipped
 * there and costs no second call. Both calls take their own operation's rate-limit tokens.
 */
export function createAmazonShipments(options: AmazonShipmentsOptions): FulfilmentTarget {
  const { client } = options;
  const localSku = (item: OrderItem) =>
    item.SellerSKU === undefined ? null : (options.mappings.skuOf(item.SellerSKU) ?? item.SellerSKU);

  async function items(orderId: string, budget: CallBudget): Promise<OrderItem[]> {
    const all: OrderItem[] = [];
    let nextToken: string | undefined;
    // Bounded: an order has a few pages of items at most.
    for (let page = 0; page < 100; page += 1) {
      const answer = await client.call(
        {
          op: 'getOrderItems',
          method: 'GET',
          path: `/orders/v0/orders/${encodeURIComponent(orderId)}/orderItems`,
          ...(nextToken === undefined ? {} : { query: { NextToken: nextToken } }),
        },
        budget,
      );
      if (answer.status !== 200)
        throw SpApiFailure.rejected(
          `getOrderItems ${orderId}: ${describeSpError(answer.status, answer.body)}`,
        );
      const { payload } = client.parse(itemsSchema, answer, `getOrderItems ${orderId}`, false);
      all.push(...payload.OrderItems);
      nextToken = payload.NextToken === '' ? undefined : payload.NextToken;
      if (nextToken === undefined) break;
    }
    return all;
  }

  async function send(shipment: OutgoingShipment, signal: AbortSignal): Promise<FulfilmentOutcome> {
    const budget: CallBudget = { deadline: Date.now() + WAIT_MS, signal };
    try {
      const orderItems: { orderItemId: string; quantity: number }[] = [];
      const lines = await items(shipment.orderId, budget);
      for (const wanted of shipment.lines) {
        let left = wanted.qty;
        for (const item of lines) {
          if (left === 0) break;
          if (localSku(item) !== wanted.sku) continue;
          const open = item.QuantityOrdered - (item.QuantityShipped ?? 0);
          const take = Math.min(open, left);
          if (take <= 0) continue;
          orderItems.push({ orderItemId: item.OrderItemId, quantity: take });
          left -= take;
        }
        if (left > 0)
          return {
            kind: 'rejected',
            why: 'already_fulfilled',
            detail: `order ${shipment.orderName} has no unshipped ${wanted.sku} left for ${left} more`,
          };
      }
      const carrier = shipment.carrier ?? 'Other';
      const isKnownCarrier = AMAZON_CARRIER_CODES.has(carrier);
      const answer = await client.call(
        {
          op: 'confirmShipment',
          method: 'POST',
          path: `/orders/v0/orders/${encodeURIComponent(shipment.orderId)}/shipmentConfirmation`,
          json: {
            marketplaceId: options.marketplaceId,
            packageDetail: {
              packageReferenceId: String(shipment.shipmentNo),
              carrierCode: isKnownCarrier ? carrier : 'Other',
              ...(isKnownCarrier ? {} : { carrierName: carrier }),
              trackingNumber: shipment.trackingNumber ?? String(shipment.shipmentNo),
              shipDate: new Date().toISOString(),
              orderItems,
            },
          },
        },
        budget,
      );
      if (answer.status === 204 || answer.status === 200)
        return { kind: 'delivered', remoteId: `${shipment.orderId}/${shipment.shipmentNo}` };
      const detail = describeSpError(answer.status, answer.body);
      return {
        kind: 'rejected',
        why: /cancel/i.test(detail)
          ? 'cancelled'
          : /exceed|unshipped|already/i.test(detail)
            ? 'already_fulfilled'
            : 'other',
        detail,
      };
    } catch (error) {
      return fulfilmentOutcomeOf(error);
    }
  }

  async function find(shipment: OutgoingShipment, signal: AbortSignal): Promise<string | null> {
    try {
      const shipped = new Map<string, number>();
      for (const item of await items(shipment.orderId, { deadline: Date.now() + WAIT_MS, signal })) {
        const sku = localSku(item);
        if (sku !== null) shipped.set(sku, (shipped.get(sku) ?? 0) + (item.QuantityShipped ?? 0));
      }
      const expected = new Map<string, number>();
      for (const l of [...shipment.sentBefore, ...shipment.lines])
        expected.set(l.sku, (expected.get(l.sku) ?? 0) + l.qty);
      const isThere = [...expected].every(([sku, qty]) => (shipped.get(sku) ?? 0) >= qty);
      return isThere ? `${shipment.orderId}/${shipment.shipmentNo}` : null;
    } catch (error) {
      if (error instanceof SpApiFailure) throw error.toConnectorError();
      throw error;
    }
  }

  async function readFulfilled(orderId: string, signal: AbortSignal): Promise<RemoteFulfilled | null> {
    const budget: CallBudget = { deadline: Date.now() + WAIT_MS, signal };
    try {
      const answer = await client.call(
        { op: 'getOrder', method: 'GET', path: `/orders/v0/orders/${encodeURIComponent(orderId)}` },
        budget,
      );
      if (answer.status === 404) return null;
      if (answer.status !== 200)
        throw SpApiFailure.rejected(`getOrder ${orderId}: ${describeSpError(answer.status, answer.body)}`);
      const { payload } = client.parse(getOrderResponseSchema, answer, `getOrder ${orderId}`, false);
      const fulfilled = new Map<string, number>();
      if (HAS_SHIPPED.has(payload.OrderStatus))
        for (const item of await items(orderId, budget)) {
          const sku = localSku(item);
          const qty =
            item.QuantityShipped ?? (ALL_SHIPPED.has(payload.OrderStatus) ? item.QuantityOrdered : 0);
          if (sku !== null && qty > 0) fulfilled.set(sku, (fulfilled.get(sku) ?? 0) + qty);
        }
      return {
        isCancelled: payload.OrderStatus === 'Canceled',
        fulfilled: [...fulfilled].map(([sku, qty]) => ({ sku, qty })),
      };
    } catch (error) {
      if (error instanceof SpApiFailure) throw error.toConnectorError();
      throw error;
    }
  }

  return { send, find, readFulfilled };
}

import type { z } from 'zod';
import type { OrderPage, OrderSource, RemoteOrder, RemoteOrderLine } from '../port/connector-bundle.js';
import type { IdMappings } from '../port/connector-context.js';
import { describeSpError, SpApiFailure, type CallBudget, type SpApiClient } from './sp-api-client.js';
import { getOrderItemsResponseSchema, getOrdersResponseSchema } from './sp-api-schemas.js';

type AmazonOrder = z.output<typeof getOrdersResponseSchema>['payload']['Orders'][number];

export type AmazonOrdersOptions = Readonly<{
  client: SpApiClient;
  marketplaceId: string;
  /** `MaxResultsPerPage` (1–100). */
  pageSize: number;
  mappings: IdMappings;
}>;

/** `LastUpdatedAfter` when the puller asks from the beginning (null): before any SP-API order existed. */
export const EARLIEST_ORDER_TIME = '2000-01-01T00:00:00Z';

/** Amazon refuses an update window that ends less than two minutes ago; we stay clear of it. */
const NEWEST_WINDOW_START_MS = 2 * 60_000;

/** Longest one page waits, in all, for rate-limit tokens. */
const PAGE_WAIT_MS = 45_000;

/** Order items read, by order id: they do not change, and `getOrderItems` refills at one call per 2 s. */
const ITEMS_CACHE_SIZE = 5000;

/**
 * An RFC 3339 time as Amazon's ISO 8601 (`2026-11-24T09:15:00Z`, UTC, whole seconds rounded down so the window
 * only widens), never later than two minutes ago.
 */
export function amazonTimestamp(since: string | null, now = Date.now()): string {
  if (since === null) return EARLIEST_ORDER_TIME;
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 time: ${since}`);
  const clamped = Math.min(ms, now - NEWEST_WINDOW_START_MS);
  return new Date(Math.floor(clamped / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Amazon's order status in Backroom's words (pre-orders reserve; an unfulfillable order releases). */
export function orderStatus(status: AmazonOrder['OrderStatus']): RemoteOrder['status'] {
  switch (status) {
    case 'Pending':
    case 'PendingAvailability':
    case 'Unshipped':
    case 'PartiallyShipped':
      return 'open';
    case 'Shipped':
    case 'InvoiceUnconfirmed':
      return 'fulfilled';
    case 'Canceled':
    case 'Unfulfillable':
      return 'cancelled';
  }
}

/**
 * Merchant-fulfilled orders from Orders v0: `getOrders` with `LastUpdatedAfter` = since and `NextToken` as the
 * cursor, and each order's lines from `getOrderItems` (all its pages). Orders fulfilled by Amazon (AFN) are not
 * asked for: they ship from Amazon's stock, not the store's. Every page waits for the operations' rate limits
 * within its signal, and throws `ConnectorError` (rate_limited with the wait) when that runs out first; the lines
 * read so far are kept, so the next try goes further.
 */
export function createAmazonOrders(options: AmazonOrdersOptions): OrderSource {
  const { client } = options;
  const itemsCache = new Map<string, { lines: RemoteOrderLine[]; unmapped: string[] }>();

  async function linesOf(
    orderId: string,
    budget: CallBudget,
  ): Promise<{ lines: RemoteOrderLine[]; unmapped: string[] }> {
    const cached = itemsCache.get(orderId);
    if (cached !== undefined) return cached;
    const quantities = new Map<string, number>();
    const unmapped: string[] = [];
    let nextToken: string | undefined;
    // Bounded: an order has a few pages of items at most; 100 pages would be 10,000 lines.
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
      const { payload } = client.parse(
        getOrderItemsResponseSchema,
        answer,
        `getOrderItems ${orderId}`,
        false,
      );
      for (const item of payload.OrderItems) {
        if (item.QuantityOrdered === 0) continue;
        if (item.SellerSKU === undefined) {
          unmapped.push(item.ASIN);
          continue;
        }
        const sku = options.mappings.skuOf(item.SellerSKU) ?? item.SellerSKU;
        quantities.set(sku, (quantities.get(sku) ?? 0) + item.QuantityOrdered);
      }
      nextToken = payload.NextToken === '' ? undefined : payload.NextToken;
      if (nextToken === undefined) break;
    }
    const lines = [...quantities].map(([sku, qty]) => ({ sku, qty }));
    const read = { lines, unmapped };
    if (itemsCache.size >= ITEMS_CACHE_SIZE) itemsCache.delete(itemsCache.keys().next().value!);
    itemsCache.set(orderId, read);
    return read;
  }

  return {
    async pullOrders(since, cursor, signal): Promise<OrderPage> {
      // A page waits for rate-limit tokens up to PAGE_WAIT_MS, then gives up as rate limited (the puller's own
      // timeout is a minute); the order lines read by then are cached for the next pull.
      const budget: CallBudget = { deadline: Date.now() + PAGE_WAIT_MS, signal };
      try {
        const answer = await client.call(
          {
            op: 'getOrders',
            method: 'GET',
            path: '/orders/v0/orders',
            query: {
              MarketplaceIds: options.marketplaceId,
              LastUpdatedAfter: amazonTimestamp(since),
              FulfillmentChannels: 'MFN',
              MaxResultsPerPage: String(options.pageSize),
              ...(cursor === null ? {} : { NextToken: cursor }),
            },
          },
          budget,
        );
        if (answer.status !== 200)
          throw SpApiFailure.rejected(`getOrders: ${describeSpError(answer.status, answer.body)}`);
        const { payload } = client.parse(getOrdersResponseSchema, answer, 'getOrders', false);
        const sorted = [...payload.Orders].sort(
          (a, b) => Date.parse(a.LastUpdateDate) - Date.parse(b.LastUpdateDate),
        );
        const orders: RemoteOrder[] = [];
        for (const order of sorted) {
          const { lines, unmapped } = await linesOf(order.AmazonOrderId, budget);
          orders.push({
            orderId: order.AmazonOrderId,
            name: order.AmazonOrderId,
            updatedAt: new Date(Date.parse(order.LastUpdateDate)).toISOString(),
            status: orderStatus(order.OrderStatus),
            location: null,
            lines,
            ...(unmapped.length > 0 ? { unmappedItems: unmapped } : {}),
          });
        }
        const next = payload.NextToken;
        return { orders, nextCursor: next === undefined || next === '' ? null : next };
      } catch (error) {
        if (error instanceof SpApiFailure) throw error.toConnectorError();
        throw error;
      }
    },
  };
}

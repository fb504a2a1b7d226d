import type { OrderPage, RemoteOrder, RemoteOrderLine } from '../port/connector-bundle.js';
import type { IdMappings } from '../port/connector-context.js';
import {
  connectorError,
  ShopifyRequestError,
  type ShopifyClient,
  type ShopifyOperation,
} from './shopify-client.js';
import { READ_MAX_WAIT_MS } from './shopify-levels.js';
import { hasReturns, readReturned } from './shopify-returns.js';
import {
  clamp,
  MAX_PAGES,
  MORE_LINES_FIRST,
  MORE_LINES_QUERY,
  moreLinesCost,
  moreLinesData,
  ORDER_NODE_COST,
  ORDERS_PAGE_SIZE,
  ORDERS_QUERY,
  ordersCost,
  ordersData,
  type LineNode,
  type OrderNode,
} from './shopify-queries.js';

/**
 * One Shopify order in local terms:
 * - status: `cancelled` once `cancelledAt` is set, `fulfilled` when `displayFulfillmentStatus` is `FULFILLED`,
 *   else `open` (partly fulfilled orders still hold their stock);
 * - location: the local location mapped from the assigned location of its (first) fulfillment order, or null;
 * - lines: the SKU mapped from the line's inventory item, else the line's own SKU; quantities are the current
 *   ones (after edits and removals), merged per SKU. A line with an inventory item that maps to no SKU and has no
 *   SKU of its own is listed in `unmappedItems`; a line with neither (a custom item, a tip) holds no stock and is
 *   left out.
 */
export function toRemoteOrder(
  node: OrderNode,
  lines: readonly LineNode[],
  mappings: IdMappings,
  returned: readonly RemoteOrderLine[] = [],
): RemoteOrder {
  const status =
    node.cancelledAt !== null
      ? 'cancelled'
      : node.displayFulfillmentStatus === 'FULFILLED'
        ? 'fulfilled'
        : 'open';
  const remoteLocation = node.fulfillmentOrders.nodes[0]?.assignedLocation.location?.id ?? null;
  const quantities = new Map<string, number>();
  const unmapped = new Set<string>();
  for (const line of lines) {
    if (line.currentQuantity <= 0) continue;
    const item = line.variant?.inventoryItem.id ?? null;
    const ownSku = line.sku?.trim() ?? '';
    const sku = (item === null ? null : mappings.skuOf(item)) ?? (ownSku === '' ? null : ownSku);
    if (sku !== null) quantities.set(sku, (quantities.get(sku) ?? 0) + line.currentQuantity);
    else if (item !== null) unmapped.add(item);
  }
  return {
    orderId: node.id,
    name: node.name,
    updatedAt: node.updatedAt,
    status,
    location: remoteLocation === null ? null : mappings.locationOf(remoteLocation),
    lines: [...quantities].map(([sku, qty]) => ({ sku, qty })),
    ...(unmapped.size > 0 ? { unmappedItems: [...unmapped] } : {}),
    ...(returned.length > 0 ? { returned } : {}),
  };
}

/** One page of orders updated at or after `since`, oldest change first. Throws `ConnectorError`. */
export async function pullOrders(
  client: ShopifyClient,
  mappings: IdMappings,
  since: string | null,
  cursor: string | null,
  signal: AbortSignal,
): Promise<OrderPage> {
  const request = <T>(operation: ShopifyOperation<T>) =>
    client.request(operation, signal, { maxWaitMs: READ_MAX_WAIT_MS });
  const page = (max: number) => {
    const first = clamp((max - 2) / ORDER_NODE_COST, 1, ORDERS_PAGE_SIZE);
    return request({
      name: 'BackroomOrders',
      query: ORDERS_QUERY,
      variables: { first, after: cursor, query: since === null ? null : `updated_at:>='${since}'` },
      cost: ordersCost(first),
      data: ordersData,
    });
  };
  try {
    const assumed = client.throttle.status.maximumAvailable;
    const data = await page(assumed).catch((error: unknown) => {
      // The page was sized for the bucket Shopify documents; a smaller one (said in the answer) gets a
      // smaller page, once.
      const max = client.throttle.status.maximumAvailable;
      const isTooCostly =
        error instanceof ShopifyRequestError &&
        error.failure.kind === 'rejected' &&
        error.failure.code === 'MAX_COST_EXCEEDED';
      if (isTooCostly && max < assumed) return page(max);
      throw error;
    });
    const max = client.throttle.status.maximumAvailable;
    const orders = [];
    for (const node of data.orders.nodes) {
      const lines: LineNode[] = [...node.lineItems.nodes];
      let page = node.lineItems.pageInfo;
      const linesFirst = clamp((max - 3) / 3, 1, MORE_LINES_FIRST);
      for (let i = 0; page.hasNextPage && i < MAX_PAGES; i += 1) {
        const more = await request({
          name: 'BackroomOrderLines',
          query: MORE_LINES_QUERY,
          variables: { id: node.id, first: linesFirst, after: page.endCursor },
          cost: moreLinesCost(linesFirst),
          data: moreLinesData,
        });
        if (more.order === null) break;
        lines.push(...more.order.lineItems.nodes);
        page = more.order.lineItems.pageInfo;
      }
      // Returns and refunds (goods coming back) are read for the orders that have some.
      const returned = hasReturns(node) ? await readReturned(client, mappings, node.id, signal) : [];
      orders.push(toRemoteOrder(node, lines, mappings, returned));
    }
    const { hasNextPage, endCursor } = data.orders.pageInfo;
    return { orders, nextCursor: hasNextPage ? endCursor : null };
  } catch (error) {
    if (error instanceof ShopifyRequestError) throw connectorError(error.failure);
    throw error;
  }
}

import type { RemoteOrder } from '../port/connector-bundle.js';
import type { IdMappings } from '../port/connector-context.js';
import type { LineNode, OrderNode } from './shopify-queries.js';

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
  };
}

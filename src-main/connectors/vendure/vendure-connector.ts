import type { ResolvedDestination } from '../../../shared/config.js';
import type { DeliveryResult, LevelItem, SendOutcome } from '../port/connector.js';
import { probeFailure } from '../port/call-failure.js';
import type {
  ConnectorBundle,
  OrderPage,
  ProbeResult,
  RemoteLevel,
  RemoteOrder,
  RemoteOrderLine,
} from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';
import { createVendureFulfilment } from './vendure-fulfilment.js';
import { createVendurePrices } from './vendure-prices.js';
import { VendureAdminClient, VendureFailure, type Operation } from './vendure-admin-client.js';
import { VendureDiscovery, type Resolved } from './vendure-discovery.js';
import {
  ordersSchema,
  probeSchema,
  updateVariantsSchema,
  variantsStockSchema,
  type VariantStock,
  type VendureOrder,
} from './vendure-schemas.js';

export type VendureDestination = Extract<ResolvedDestination, { type: 'vendure' }>;

/** Orders read per page. */
const ORDER_PAGE = 100;
/** Variants read per stock query. */
const STOCK_CHUNK = 100;

/**
 * Order states and what they mean to Backroom. Carts (`AddingItems`, `ArrangingPayment`) and drafts are not
 * orders yet and are not even read; a placed order holds stock until it ships or is cancelled. A partly shipped
 * order is still open: what the warehouse shipped of it is known here (its shipments closed those lines), and
 * the rest stays reserved until it ships too (a part shipped from Vendure's own admin is then taken with the
 * rest, when the order is Shipped). A custom state not listed here is skipped with a warning.
 */
const NOT_PLACED = ['Created', 'Draft', 'AddingItems', 'ArrangingPayment'] as const;
const STATUS_OF_STATE: Readonly<Record<string, RemoteOrder['status'] | 'skip'>> = {
  Created: 'skip',
  Draft: 'skip',
  AddingItems: 'skip',
  ArrangingPayment: 'skip',
  PaymentAuthorized: 'open',
  PaymentSettled: 'open',
  Modifying: 'open',
  ArrangingAdditionalPayment: 'open',
  PartiallyShipped: 'open',
  Shipped: 'fulfilled',
  PartiallyDelivered: 'open',
  Delivered: 'fulfilled',
  Cancelled: 'cancelled',
};

const VARIANT_STOCK: Operation = {
  name: 'productVariants (stock)',
  isWrite: false,
  query: `query BackroomVariantStock($ids: [String!]!, $take: Int!) {
    productVariants(options: { filter: { id: { in: $ids } }, take: $take }) {
      items {
        id sku outOfStockThreshold useGlobalOutOfStockThreshold
        stockLevels { stockLocationId stockOnHand stockAllocated }
      }
    }
    globalSettings { outOfStockThreshold }
  }`,
};

const SET_STOCK: Operation = {
  name: 'updateProductVariants',
  isWrite: true,
  query: `mutation BackroomSetStock($input: [UpdateProductVariantInput!]!) {
    updateProductVariants(input: $input) { id stockLevels { stockLocationId stockOnHand stockAllocated } }
  }`,
};

const ORDERS: Operation = {
  name: 'orders',
  isWrite: false,
  query: `query BackroomOrders($options: OrderListOptions) {
    orders(options: $options) {
      totalItems
      items {
        id code state updatedAt
        lines { id quantity orderPlacedQuantity productVariant { id sku } }
        payments { refunds { state lines { orderLineId quantity } } }
      }
    }
  }`,
};

const PROBE: Operation = {
  name: 'activeAdministrator',
  isWrite: false,
  query: `query BackroomConnectionTest {
    activeAdministrator { emailAddress }
    activeChannel { code }
  }`,
};

export type VendureConnectorOptions = Readonly<{
  /** The agent's locations: a location's name is matched against Vendure's stock location names. */
  localLocations?: readonly Readonly<{ id: string; name: string }>[];
  /** Orders read per page; default 100 (tests page with a small one). */
  orderPageSize?: number;
}>;

/** A variant's stock as read just before a write, with its effective out-of-stock threshold. */
type StockRead = Readonly<{ variant: VariantStock; threshold: number }>;

/**
 * The Vendure connector (level mode), its order source and its level reader, over the Admin API
 * (README.md beside this file explains the choices).
 *
 * Publishing: Vendure sells from a stock location what is `stockOnHand − stockAllocated − outOfStockThreshold`
 * there, and Backroom's available-to-sell already takes off Vendure's own orders once they are pulled (as
 * reservations). So each level is written as `stockOnHand = available + stockAllocated + threshold`, with the
 * location's `stockAllocated` and the variant's threshold read just before, in one `updateProductVariants` call
 * per batch: Vendure then sells exactly Backroom's available-to-sell there. The value is absolute, so a retry
 * (or an `unknown` resent) writes the same value again: the effect happens once.
 *
 * @example
 * const bundle = createVendureConnector(destination, context);
 * await bundle.connector.send([{ sku: 'SKU-1', location: 'S1', version: 3, quantity: 7 }], signal);
 */
export function createVendureConnector(
  config: VendureDestination,
  context: ConnectorContext,
  options: VendureConnectorOptions = {},
): ConnectorBundle {
  const orderPageSize = options.orderPageSize ?? ORDER_PAGE;
  const logger = context.logger.child({ module: 'vendure' });
  const clientOptions = {
    url: config.url,
    username: config.username,
    password: config.password,
    ...(config.channelToken === undefined ? {} : { channelToken: config.channelToken }),
    agentId: context.agentId,
    timeoutMs: config.timeoutMs,
    logger,
  };
  const client = new VendureAdminClient(clientOptions);
  const discovery = new VendureDiscovery(
    client,
    context.mappings,
    {
      ...(config.locationNames === undefined ? {} : { configured: config.locationNames }),
      ...(options.localLocations === undefined ? {} : { local: options.localLocations }),
    },
    logger,
  );
  const warnedStates = new Set<string>();

  /** Reads the stock of variants by id (missing ones are absent from the map). */
  async function readStock(ids: readonly string[], signal: AbortSignal): Promise<Map<string, StockRead>> {
    const stock = new Map<string, StockRead>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += STOCK_CHUNK) {
      const chunk = unique.slice(i, i + STOCK_CHUNK);
      const data = await client.request(
        VARIANT_STOCK,
        { ids: chunk, take: chunk.length },
        variantsStockSchema,
        signal,
      );
      for (const variant of data.productVariants.items) {
        const threshold = variant.useGlobalOutOfStockThreshold
          ? data.globalSettings.outOfStockThreshold
          : variant.outOfStockThreshold;
        stock.set(variant.id, { variant, threshold });
      }
    }
    return stock;
  }

  /** Writes stock on hand per (variant, location); returns the ids of the variants Vendure confirmed. */
  async function writeStock(
    levels: ReadonlyMap<string, ReadonlyMap<string, number>>,
    signal: AbortSignal,
  ): Promise<Set<string>> {
    const input = [...levels].map(([id, byLocation]) => ({
      id,
      stockLevels: [...byLocation].map(([stockLocationId, stockOnHand]) => ({
        stockLocationId,
        stockOnHand,
      })),
    }));
    const data = await client.request(SET_STOCK, { input }, updateVariantsSchema, signal);
    return new Set(data.updateProductVariants.flatMap((v) => (v === null ? [] : [v.id])));
  }

  async function send(items: readonly LevelItem[], signal: AbortSignal): Promise<SendOutcome> {
    const results: (DeliveryResult | undefined)[] = items.map(() => undefined);
    /** Gives a failure's result to every item not yet answered. */
    const failAll = (failure: VendureFailure) => {
      items.forEach((_, i) => (results[i] ??= failure.result));
    };
    try {
      const variants = await discovery.variants(
        items.map((i) => i.sku),
        signal,
      );
      const locations = await discovery.locations(
        items.map((i) => i.location),
        signal,
      );
      type Pending = { index: number; item: LevelItem; variantId: string; locationId: string };
      let pending: Pending[] = [];
      items.forEach((item, index) => {
        const variant = variants.get(item.sku)!;
        const location = locations.get(item.location)!;
        if ('missing' in variant)
          results[index] = { kind: 'unmapped', mapping: 'item', localId: item.sku, detail: variant.missing };
        else if ('missing' in location)
          results[index] = {
            kind: 'unmapped',
            mapping: 'location',
            localId: item.location,
            detail: location.missing,
          };
        else pending.push({ index, item, variantId: variant.id, locationId: location.id });
      });
      if (pending.length === 0) return { results: results as DeliveryResult[] };

      const stock = await readStock(
        pending.map((p) => p.variantId),
        signal,
      );
      // A mapped variant Vendure no longer has (deleted, or re-created with a new id): look its SKU up again.
      const stale = [...new Set(pending.filter((p) => !stock.has(p.variantId)).map((p) => p.item.sku))];
      if (stale.length > 0) {
        const again = await discovery.lookUpSkus(stale, signal);
        const found = new Map(
          [...again].flatMap(([sku, r]): [string, string][] => ('id' in r ? [[sku, r.id]] : [])),
        );
        for (const [id, read] of await readStock([...found.values()], signal)) stock.set(id, read);
        pending = pending.flatMap((p) => {
          if (stock.has(p.variantId)) return [p];
          const variantId = found.get(p.item.sku);
          if (variantId !== undefined && stock.has(variantId)) return [{ ...p, variantId }];
          const r: Resolved | undefined = again.get(p.item.sku);
          results[p.index] = {
            kind: 'unmapped',
            mapping: 'item',
            localId: p.item.sku,
            detail: `SKU "${p.item.sku}" is mapped to Vendure variant ${p.variantId}, which Vendure no longer has${
              r !== undefined && 'missing' in r ? ` (${r.missing})` : ''
            }`,
          };
          return [];
        });
      }

      // stockOnHand = available + allocated there + threshold; a later item of the same level wins.
      const levels = new Map<string, Map<string, number>>();
      for (const p of pending) {
        const { variant, threshold } = stock.get(p.variantId)!;
        const allocated =
          variant.stockLevels.find((l) => l.stockLocationId === p.locationId)?.stockAllocated ?? 0;
        const byLocation = levels.get(p.variantId) ?? new Map<string, number>();
        byLocation.set(p.locationId, p.item.quantity + allocated + threshold);
        levels.set(p.variantId, byLocation);
      }
      const record = (confirmed: ReadonlySet<string>, among: readonly Pending[]) => {
        for (const p of among)
          results[p.index] = confirmed.has(p.variantId)
            ? { kind: 'delivered' }
            : { kind: 'unknown', detail: `Vendure did not return variant ${p.variantId} after the update` };
      };
      /** Names the level Vendure refused, in words staff can act on. */
      const refuse = (own: readonly Pending[], failure: VendureFailure) => {
        for (const p of own)
          results[p.index] = {
            kind: 'rejected',
            detail: `Vendure refused the stock of ${p.item.sku} at ${p.item.location} (variant ${p.variantId}, stock location ${p.locationId}): ${failure.result.detail}`,
          };
      };
      try {
        record(await writeStock(levels, signal), pending);
      } catch (error) {
        if (!(error instanceof VendureFailure) || error.result.kind !== 'rejected') throw error;
        if (levels.size === 1) refuse(pending, error);
        // One variant Vendure refuses must not take the batch down with it: write the variants one by one.
        else
          for (const [id, byLocation] of levels) {
            const own = pending.filter((p) => p.variantId === id);
            try {
              record(await writeStock(new Map([[id, byLocation]]), signal), own);
            } catch (single) {
              // Anything but a refusal of this variant (Vendure down, auth) is the answer for all still unwritten.
              if (!(single instanceof VendureFailure) || single.result.kind !== 'rejected') throw single;
              refuse(own, single);
            }
          }
      }
    } catch (error) {
      if (!(error instanceof VendureFailure)) throw error;
      failAll(error);
    }
    return { results: results.map((r) => r ?? { kind: 'retry', detail: 'not sent' }) };
  }

  function toRemoteOrder(order: VendureOrder): RemoteOrder | null {
    const status = STATUS_OF_STATE[order.state];
    if (status === undefined) {
      if (!warnedStates.has(order.state)) {
        warnedStates.add(order.state);
        logger.warn(
          { state: order.state, order: order.code },
          'Vendure order state unknown to Backroom; such orders are skipped',
        );
      }
      return null;
    }
    if (status === 'skip') return null;
    const bySku = new Map<string, number>();
    const unmapped = new Set<string>();
    for (const line of order.lines) {
      // A cancelled order's lines are at 0: what it held is what was placed.
      const qty = status === 'cancelled' ? line.orderPlacedQuantity : line.quantity;
      if (qty <= 0) continue;
      const sku =
        context.mappings.skuOf(line.productVariant.id) ??
        (line.productVariant.sku === '' ? null : line.productVariant.sku);
      if (sku === null) unmapped.add(line.productVariant.id);
      else bySku.set(sku, (bySku.get(sku) ?? 0) + qty);
    }
    const lines: RemoteOrderLine[] = [...bySku].map(([sku, qty]) => ({ sku, qty }));
    const returned = refundedLines(order);
    return {
      orderId: order.id,
      name: order.code,
      updatedAt: new Date(order.updatedAt).toISOString(),
      status,
      // Vendure's Admin API does not say which stock location an order's allocation came from.
      location: null,
      lines,
      ...(unmapped.size > 0 ? { unmappedItems: [...unmapped] } : {}),
      ...(returned.length > 0 ? { returned } : {}),
    };
  }

  /**
   * Units refunded by line (a refund with `lines`, not a failed one), per local SKU: the goods are expected back,
   * as Shopify's refunds that restock. A refund of an amount alone names no goods (money only) and brings nothing.
   */
  function refundedLines(order: VendureOrder): RemoteOrderLine[] {
    const skuOfLine = new Map(
      order.lines.map((l) => [
        l.id,
        context.mappings.skuOf(l.productVariant.id) ??
          (l.productVariant.sku === '' ? null : l.productVariant.sku),
      ]),
    );
    const bySku = new Map<string, number>();
    for (const payment of order.payments ?? [])
      for (const refund of payment.refunds) {
        if (refund.state === 'Failed') continue;
        for (const line of refund.lines) {
          const sku = skuOfLine.get(line.orderLineId) ?? null;
          if (sku !== null && line.quantity > 0) bySku.set(sku, (bySku.get(sku) ?? 0) + line.quantity);
        }
      }
    return [...bySku].map(([sku, qty]) => ({ sku, qty }));
  }

  async function pullOrders(
    since: string | null,
    cursor: string | null,
    signal: AbortSignal,
  ): Promise<OrderPage> {
    const skip = cursor !== null && /^\d+$/.test(cursor) ? Number(cursor) : 0;
    // Vendure's `after` is strict and SQLite keeps whole seconds: one millisecond earlier makes it "at or after".
    const after = since === null ? null : new Date(Date.parse(since) - 1).toISOString();
    try {
      const data = await client.request(
        ORDERS,
        {
          options: {
            filter: { state: { notIn: NOT_PLACED }, ...(after === null ? {} : { updatedAt: { after } }) },
            sort: { updatedAt: 'ASC', id: 'ASC' },
            skip,
            take: orderPageSize,
          },
        },
        ordersSchema,
        signal,
      );
      const { items, totalItems } = data.orders;
      const end = skip + items.length;
      return {
        orders: items.flatMap((o) => toRemoteOrder(o) ?? []),
        nextCursor: items.length > 0 && end < totalItems ? String(end) : null,
      };
    } catch (error) {
      throw error instanceof VendureFailure ? error.toConnectorError() : error;
    }
  }

  async function readLevels(
    items: readonly Readonly<{ sku: string; location: string }>[],
    signal: AbortSignal,
  ): Promise<RemoteLevel[]> {
    try {
      const variants = await discovery.variants(
        items.map((i) => i.sku),
        signal,
      );
      const locations = await discovery.locations(
        items.map((i) => i.location),
        signal,
      );
      const idOf = (r: Resolved | undefined) => (r !== undefined && 'id' in r ? r.id : null);
      const stock = await readStock(
        items.flatMap((i) => idOf(variants.get(i.sku)) ?? []),
        signal,
      );
      return items.map(({ sku, location }) => {
        const read = stock.get(idOf(variants.get(sku)) ?? '');
        const locationId = idOf(locations.get(location));
        if (read === undefined || locationId === null) return { sku, location, quantity: null };
        const level = read.variant.stockLevels.find((l) => l.stockLocationId === locationId);
        // What Vendure would still allocate from there, never below 0 (like available-to-sell); none without a level.
        const quantity =
          level === undefined ? 0 : Math.max(0, level.stockOnHand - level.stockAllocated - read.threshold);
        return { sku, location, quantity };
      });
    } catch (error) {
      throw error instanceof VendureFailure ? error.toConnectorError() : error;
    }
  }

  /**
   * The connection test: a login of its own (the connector's session may predate a password change), then who
   * that is and which channel the channel token selects.
   */
  async function probe(signal: AbortSignal): Promise<ProbeResult> {
    try {
      const data = await new VendureAdminClient(clientOptions).request(PROBE, {}, probeSchema, signal);
      return {
        ok: true,
        detail: `Vendure accepted the login of "${config.username}"${
          data.activeAdministrator === null ? '' : ` (${data.activeAdministrator.emailAddress})`
        }; channel "${data.activeChannel.code}"`,
      };
    } catch (error) {
      return probeFailure(error);
    }
  }

  return {
    connector: { mode: 'level', maxBatch: config.batchSize, send },
    orders: { pullOrders },
    levels: { measures: 'available', readLevels },
    fulfilments: createVendureFulfilment(client, context),
    probe,
    ...(config.prices === undefined ? {} : { prices: createVendurePrices(client, discovery) }),
  };
}

import { z } from 'zod';
import type { DeliveryResult, PriceItem, SendOutcome } from '../port/connector.js';
import type { PriceTarget, RemotePrice } from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';
import {
  connectorError,
  ShopifyRequestError,
  type Requester,
  type ShopifyClient,
  type ShopifyFailure,
  type ShopifyOperation,
} from './shopify-client.js';
import type { ShopifyDiscovery } from './shopify-discovery.js';
import { clamp, MAX_ALIASES } from './shopify-queries.js';

/*
 * Prices out to Shopify (issue 12, part 4): a variant's `price`, and `compareAtPrice` where the ERP's list price
 * is above the selling price, with `productVariantsBulkUpdate` (one call per product, several products aliased in
 * one request), under the shop's cost-based throttle shared with the level publishes.
 */

/** Every mutation field costs 10 points. */
const MUTATION_COST = 10;
/** Longest a price send waits for the shop's bucket before it answers `rate_limited`. */
const MAX_BUCKET_WAIT_MS = 30_000;

const CURRENCY_KEY = 'shop:currency';

type VariantIds = { variant: string; product: string };

const variantAlias = z
  .object({
    id: z.string(),
    variant: z
      .object({
        id: z.string(),
        price: z.string(),
        compareAtPrice: z.string().nullable(),
        product: z.object({ id: z.string() }),
      })
      .nullable(),
  })
  .nullable();

type VariantAlias = z.output<typeof variantAlias>;
type VariantsRead = { currency: string; variants: VariantAlias[] };

/** One request reading the variant (ids and price) of several inventory items, one alias each: 3 points each. */
function variantsOperation(items: readonly string[]): ShopifyOperation<VariantsRead> {
  const variables = items.map((_, i) => `$i${i}: ID!`).join(', ');
  const fields = items
    .map(
      (_, i) => `r${i}: inventoryItem(id: $i${i}) { id variant { id price compareAtPrice product { id } } }`,
    )
    .join('\n    ');
  const shape: Record<string, z.ZodType> = Object.fromEntries(items.map((_, i) => [`r${i}`, variantAlias]));
  shape['shop'] = z.object({ currencyCode: z.string() });
  return {
    name: 'BackroomVariantPrices',
    query: `query BackroomVariantPrices(${variables}) {\n    ${fields}\n    shop { currencyCode }\n  }`,
    variables: Object.fromEntries(items.map((id, i) => [`i${i}`, id])),
    cost: 3 * items.length + 1,
    data: z.object(shape).transform((d) => ({
      currency: (d['shop'] as { currencyCode: string }).currencyCode,
      variants: items.map((_, i) => d[`r${i}`] as VariantAlias),
    })),
  };
}

const updateAlias = z
  .object({
    productVariants: z.array(z.object({ id: z.string() })).nullable(),
    userErrors: z.array(
      z.object({ code: z.string().nullable(), field: z.array(z.string()).nullable(), message: z.string() }),
    ),
  })
  .nullable();

/** One request setting the prices of several products' variants: `p<n>: productVariantsBulkUpdate(...)`. */
function updateOperation(
  products: readonly Readonly<{ product: string; variants: readonly Record<string, unknown>[] }>[],
): ShopifyOperation<Record<string, z.output<typeof updateAlias>>> {
  const variables = products.map((_, i) => `$p${i}: ID!, $v${i}: [ProductVariantsBulkInput!]!`).join(', ');
  const fields = products
    .map(
      (_, i) =>
        `p${i}: productVariantsBulkUpdate(productId: $p${i}, variants: $v${i}) { productVariants { id } userErrors { code field message } }`,
    )
    .join('\n    ');
  return {
    name: 'BackroomSetPrices',
    query: `mutation BackroomSetPrices(${variables}) {\n    ${fields}\n  }`,
    variables: Object.fromEntries(
      products.flatMap((p, i): [string, unknown][] => [
        [`p${i}`, p.product],
        [`v${i}`, p.variants],
      ]),
    ),
    cost: MUTATION_COST * products.length,
    data: z.record(z.string(), updateAlias),
  };
}

function resultOf(failure: ShopifyFailure, isWrite: boolean): DeliveryResult {
  switch (failure.kind) {
    case 'rate_limited':
      return {
        kind: 'rate_limited',
        retryAfterMs: Math.max(1, failure.retryAfterMs),
        detail: failure.detail,
      };
    case 'auth_failed':
    case 'rejected':
      return { kind: failure.kind, detail: failure.detail };
    case 'unknown':
    case 'invalid_response':
      return isWrite
        ? { kind: 'unknown', detail: failure.detail }
        : { kind: 'retry', detail: failure.detail };
    case 'retry':
      return { kind: 'retry', detail: failure.detail };
  }
}

/**
 * The price target of a Shopify destination. A price is absolute, so a send repeated after an unknown outcome
 * sets the same value again: the effect happens once.
 *
 * @example
 * const prices = createShopifyPrices(client, discovery, context);
 * await prices.send([{ sku: 'MUG', version: 1, amount: '9.99', currency: 'EUR', compareAt: '12.00' }], signal);
 */
export function createShopifyPrices(
  client: ShopifyClient,
  discovery: ShopifyDiscovery,
  context: ConnectorContext,
): PriceTarget {
  const request: (signal: AbortSignal) => Requester = (signal) => (operation, isMutation) =>
    client.request(operation, signal, { maxWaitMs: MAX_BUCKET_WAIT_MS, isMutation: isMutation === true });
  /**
   * Each inventory item's variant and product, as read (they never change for an item). Kept in memory, not in the
   * destination's state: a write per item would be an fsync per item, and after a restart reading them again costs
   * 3 points each.
   */
  const variantsByItem = new Map<string, VariantIds | null>();
  /** Aliases per request: half the bucket, so a request never waits for a full one. */
  const perRequest = (pointsEach: number) =>
    clamp(client.throttle.status.maximumAvailable / 2 / pointsEach, 1, MAX_ALIASES);

  /** Variant and product of each inventory item (kept in state), and the shop's currency (read once). */
  async function variantsOf(
    inventoryItems: readonly string[],
    signal: AbortSignal,
  ): Promise<{ ids: Map<string, VariantIds | null>; currency: string }> {
    const ids = new Map<string, VariantIds | null>();
    const unknown: string[] = [];
    for (const item of new Set(inventoryItems)) {
      const known = variantsByItem.get(item);
      if (known != null) ids.set(item, known);
      else unknown.push(item);
    }
    let currency = context.state.get<string>(CURRENCY_KEY);
    const chunk = perRequest(3);
    // One read even when every variant is known, for the shop's currency (once per destination).
    if (unknown.length === 0 && currency === undefined) unknown.push(...inventoryItems.slice(0, 1));
    for (let start = 0; start < unknown.length; start += chunk) {
      const part = unknown.slice(start, start + chunk);
      const data = await request(signal)(variantsOperation(part));
      if (currency !== data.currency) context.state.set(CURRENCY_KEY, data.currency);
      currency = data.currency;
      part.forEach((item, i) => {
        const variant = data.variants[i]?.variant ?? null;
        const found = variant === null ? null : { variant: variant.id, product: variant.product.id };
        ids.set(item, found);
        if (found !== null) variantsByItem.set(item, found);
      });
    }
    return { ids, currency: currency ?? '' };
  }

  async function send(items: readonly PriceItem[], signal: AbortSignal): Promise<SendOutcome> {
    const results: (DeliveryResult | undefined)[] = items.map(() => undefined);
    let isWriting = false;
    try {
      const mapped = await discovery.mapItems([...new Set(items.map((i) => i.sku))], request(signal));
      const inventoryOf = new Map<number, string>();
      items.forEach((item, i) => {
        const found = mapped.get(item.sku);
        if (!found?.id)
          results[i] = {
            kind: 'unmapped',
            mapping: 'item',
            localId: item.sku,
            detail: found?.why ?? 'not found',
          };
        else inventoryOf.set(i, found.id);
      });
      const { ids, currency } = await variantsOf([...inventoryOf.values()], signal);
      const byProduct = new Map<string, { index: number; variant: string }[]>();
      for (const [i, inventoryItem] of inventoryOf) {
        const item = items[i]!;
        const variant = ids.get(inventoryItem) ?? null;
        if (variant === null)
          results[i] = {
            kind: 'unmapped',
            mapping: 'item',
            localId: item.sku,
            detail: `Shopify inventory item ${inventoryItem} has no product variant`,
          };
        else if (item.currency !== currency)
          results[i] = {
            kind: 'rejected',
            detail: `the shop sells in ${currency}, and the price of ${item.sku} is in ${item.currency}; set a price list in ${currency} for this destination`,
          };
        else
          byProduct.set(variant.product, [
            ...(byProduct.get(variant.product) ?? []),
            { index: i, variant: variant.variant },
          ]);
      }
      const products = [...byProduct];
      const chunk = perRequest(MUTATION_COST);
      isWriting = true;
      for (let start = 0; start < products.length; start += chunk) {
        const part = products.slice(start, start + chunk);
        const operation = updateOperation(
          part.map(([product, variants]) => ({
            product,
            variants: variants.map(({ index, variant }) => ({
              id: variant,
              price: items[index]!.amount,
              compareAtPrice: items[index]!.compareAt,
            })),
          })),
        );
        let data: Record<string, z.output<typeof updateAlias>>;
        try {
          data = await request(signal)(operation, true);
        } catch (error) {
          if (!(error instanceof ShopifyRequestError)) throw error;
          const result = resultOf(error.failure, true);
          for (const [, variants] of part) for (const { index } of variants) results[index] = result;
          if (error.failure.kind === 'rejected') continue;
          throw error;
        }
        part.forEach(([product, variants], p) => judge(data[`p${p}`] ?? null, product, variants, results));
      }
    } catch (error) {
      if (!(error instanceof ShopifyRequestError)) throw error;
      const result = resultOf(error.failure, isWriting);
      items.forEach((_, i) => (results[i] ??= result));
    }
    return { results: results.map((r) => r ?? { kind: 'retry', detail: 'not sent' }) };
  }

  /** Each variant's result from its product's payload: a user error naming it (or the call) refuses it. */
  function judge(
    payload: z.output<typeof updateAlias>,
    product: string,
    variants: readonly { index: number; variant: string }[],
    results: (DeliveryResult | undefined)[],
  ): void {
    if (payload === null) {
      for (const { index } of variants)
        results[index] = {
          kind: 'unknown',
          detail: `Shopify answered productVariantsBulkUpdate of ${product} without a result`,
        };
      return;
    }
    const own = new Map<number, string[]>();
    const general: string[] = [];
    for (const error of payload.userErrors) {
      const text = error.code ? `${error.code}: ${error.message}` : error.message;
      const at = error.field?.[0] === 'variants' ? Number(error.field[1]) : Number.NaN;
      if (Number.isInteger(at) && at >= 0 && at < variants.length)
        own.set(at, [...(own.get(at) ?? []), text]);
      else general.push(text);
    }
    const updated = new Set((payload.productVariants ?? []).map((v) => v.id));
    variants.forEach(({ index, variant }, n) => {
      const messages = own.get(n) ?? (general.length > 0 ? general : null);
      if (messages !== null)
        results[index] = {
          kind: 'rejected',
          detail: `Shopify refused the price: ${messages.join('; ').slice(0, 500)}`,
        };
      else if (updated.has(variant)) results[index] = { kind: 'delivered' };
      else
        results[index] = {
          kind: 'unknown',
          detail: `Shopify did not return variant ${variant} after the update`,
        };
    });
  }

  /** Reads each SKU's variant price back (mapped SKUs; an unmapped one comes back with amount null). */
  async function readPrices(skus: readonly string[], signal: AbortSignal): Promise<RemotePrice[]> {
    const mapped = new Map<string, string>();
    for (const sku of skus) {
      const id = context.mappings.item(sku);
      if (id !== null) mapped.set(sku, id);
    }
    const items = [...mapped.values()];
    const read = new Map<string, { amount: string; compareAt: string | null }>();
    let currency: string | null = null;
    const chunk = perRequest(3);
    try {
      for (let start = 0; start < items.length; start += chunk) {
        const part = items.slice(start, start + chunk);
        const data = await request(signal)(variantsOperation(part));
        currency = data.currency;
        part.forEach((item, i) => {
          const variant = data.variants[i]?.variant;
          if (variant) read.set(item, { amount: variant.price, compareAt: variant.compareAtPrice });
        });
      }
    } catch (error) {
      if (error instanceof ShopifyRequestError) throw connectorError(error.failure);
      throw error;
    }
    return skus.map((sku) => {
      const got = read.get(mapped.get(sku) ?? '');
      return {
        sku,
        amount: got?.amount ?? null,
        currency: got === undefined ? null : currency,
        compareAt: got?.compareAt ?? null,
      };
    });
  }

  return { maxBatch: 250, send, readPrices };
}

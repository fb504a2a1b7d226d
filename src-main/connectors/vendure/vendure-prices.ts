import { z } from 'zod';
import type { DeliveryResult, PriceItem, SendOutcome } from '../port/connector.js';
import type { PriceTarget, RemotePrice } from '../port/connector-bundle.js';
import { VendureFailure, type Operation, type VendureAdminClient } from './vendure-admin-client.js';
import type { VendureDiscovery } from './vendure-discovery.js';

/*
 * Prices out to Vendure (issue 12, part 4): `updateProductVariants` with each variant's `prices` in the channel
 * the destination works in (its `channelToken`), in the price's currency, which must be one the channel sells in.
 * Vendure keeps money as whole minor units (cents), so `9.99 EUR` is sent as 999; a price with more decimals than
 * its currency has is refused, not rounded. A price is absolute: sent twice, it is set once.
 */

const CHANNEL: Operation = {
  name: 'activeChannel (currencies)',
  isWrite: false,
  query: `query BackroomChannelCurrencies { activeChannel { code defaultCurrencyCode availableCurrencyCodes } }`,
};

const SET_PRICES: Operation = {
  name: 'updateProductVariants (prices)',
  isWrite: true,
  query: `mutation BackroomSetPrices($input: [UpdateProductVariantInput!]!) {
    updateProductVariants(input: $input) { id prices { currencyCode price } }
  }`,
};

const READ_PRICES: Operation = {
  name: 'productVariants (prices)',
  isWrite: false,
  query: `query BackroomVariantPrices($ids: [String!]!, $take: Int!) {
    productVariants(options: { filter: { id: { in: $ids } }, take: $take }) {
      items { id sku prices { currencyCode price } }
    }
  }`,
};

const channelSchema = z.object({
  activeChannel: z.object({
    code: z.string(),
    defaultCurrencyCode: z.string(),
    availableCurrencyCodes: z.array(z.string()),
  }),
});
const pricesSchema = z.array(z.object({ currencyCode: z.string(), price: z.number().int() }));
const setPricesSchema = z.object({
  updateProductVariants: z.array(z.object({ id: z.string(), prices: pricesSchema }).nullable()),
});
const readPricesSchema = z.object({
  productVariants: z.object({
    items: z.array(z.object({ id: z.string(), sku: z.string(), prices: pricesSchema })),
  }),
});

/** Variants read per request. */
const READ_CHUNK = 100;

/** Minor-unit digits of an ISO 4217 currency (EUR 2, JPY 0, BHD 3), from the runtime's ICU data. */
export function minorDigits(currency: string): number {
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
}

/** A decimal amount in whole minor units (`9.99` EUR → 999), or null when it has more decimals than allowed. */
export function toMinorUnits(amount: string, digits: number): number | null {
  const [whole = '0', fraction = ''] = amount.split('.');
  const kept = fraction.replace(/0+$/, '');
  if (kept.length > digits) return null;
  return Number(BigInt(whole) * 10n ** BigInt(digits) + BigInt(kept.padEnd(digits, '0') || '0'));
}

/** Whole minor units as decimal text (`999`, 2 → `9.99`). */
export function fromMinorUnits(units: number, digits: number): string {
  if (digits === 0) return String(units);
  const text = String(units).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** The price target of a Vendure destination. */
export function createVendurePrices(client: VendureAdminClient, discovery: VendureDiscovery): PriceTarget {
  let channel: z.output<typeof channelSchema>['activeChannel'] | null = null;

  async function channelOf(signal: AbortSignal) {
    channel ??= (await client.request(CHANNEL, {}, channelSchema, signal)).activeChannel;
    return channel;
  }

  async function send(items: readonly PriceItem[], signal: AbortSignal): Promise<SendOutcome> {
    const results: (DeliveryResult | undefined)[] = items.map(() => undefined);
    try {
      const active = await channelOf(signal);
      const variants = await discovery.variants(
        items.map((i) => i.sku),
        signal,
      );
      const input: { id: string; prices: { currencyCode: string; price: number }[] }[] = [];
      const indexOf = new Map<string, number[]>();
      items.forEach((item, index) => {
        const variant = variants.get(item.sku)!;
        if ('missing' in variant) {
          results[index] = { kind: 'unmapped', mapping: 'item', localId: item.sku, detail: variant.missing };
          return;
        }
        if (!active.availableCurrencyCodes.includes(item.currency)) {
          results[index] = {
            kind: 'rejected',
            detail: `Vendure channel "${active.code}" does not sell in ${item.currency} (it sells in ${active.availableCurrencyCodes.join(', ')}); give this destination a price list in one of those`,
          };
          return;
        }
        const digits = minorDigits(item.currency);
        const price = toMinorUnits(item.amount, digits);
        if (price === null) {
          results[index] = {
            kind: 'rejected',
            detail: `${item.amount} ${item.currency} has more decimals than ${item.currency} has (${digits})`,
          };
          return;
        }
        input.push({ id: variant.id, prices: [{ currencyCode: item.currency, price }] });
        indexOf.set(variant.id, [...(indexOf.get(variant.id) ?? []), index]);
      });
      if (input.length > 0) {
        const data = await client.request(SET_PRICES, { input }, setPricesSchema, signal);
        const updated = new Map(data.updateProductVariants.flatMap((v) => (v === null ? [] : [[v.id, v]])));
        for (const [variantId, indexes] of indexOf)
          for (const index of indexes) {
            const item = items[index]!;
            const sent = toMinorUnits(item.amount, minorDigits(item.currency));
            const back = updated.get(variantId)?.prices.find((p) => p.currencyCode === item.currency);
            results[index] =
              back?.price === sent
                ? { kind: 'delivered' }
                : {
                    kind: 'unknown',
                    detail: `Vendure did not return variant ${variantId} with the new price`,
                  };
          }
      }
    } catch (error) {
      if (!(error instanceof VendureFailure)) throw error;
      items.forEach((_, i) => (results[i] ??= error.result));
    }
    return { results: results.map((r) => r ?? { kind: 'retry', detail: 'not sent' }) };
  }

  /** Each SKU's price in the channel's default currency (a mapped SKU; others come back null). */
  async function readPrices(skus: readonly string[], signal: AbortSignal): Promise<RemotePrice[]> {
    try {
      const active = await channelOf(signal);
      const variants = await discovery.variants(skus, signal);
      const ids = [...variants.values()].flatMap((v) => ('id' in v ? [v.id] : []));
      const byId = new Map<string, z.output<typeof pricesSchema>>();
      for (let i = 0; i < ids.length; i += READ_CHUNK) {
        const chunk = ids.slice(i, i + READ_CHUNK);
        const data = await client.request(
          READ_PRICES,
          { ids: chunk, take: chunk.length },
          readPricesSchema,
          signal,
        );
        for (const v of data.productVariants.items) byId.set(v.id, v.prices);
      }
      return skus.map((sku) => {
        const variant = variants.get(sku);
        const prices = variant !== undefined && 'id' in variant ? byId.get(variant.id) : undefined;
        const price = prices?.find((p) => p.currencyCode === active.defaultCurrencyCode) ?? prices?.[0];
        return price === undefined
          ? { sku, amount: null, currency: null, compareAt: null }
          : {
              sku,
              amount: fromMinorUnits(price.price, minorDigits(price.currencyCode)),
              currency: price.currencyCode,
              compareAt: null,
            };
      });
    } catch (error) {
      if (error instanceof VendureFailure) throw error.toConnectorError();
      throw error;
    }
  }

  return { maxBatch: 50, send, readPrices };
}

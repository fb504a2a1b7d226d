import type { DeliveryResult, PriceItem, SendOutcome } from '../port/connector.js';
import type { PriceTarget, RemotePrice } from '../port/connector-bundle.js';
import type { IdMappings } from '../port/connector-context.js';
import { listingsItemPath, resolveSellerSku } from './listings-items.js';
import { describeSpError, SpApiFailure, type CallBudget, type SpApiClient } from './sp-api-client.js';
import { z } from 'zod';
import { listingsItemSchema, submissionResponseSchema } from './sp-api-schemas.js';

/** A listing read with its attributes (`includedData=attributes`). */
const listingWithAttributes = listingsItemSchema.extend({
  attributes: z.record(z.string(), z.unknown()).optional(),
});

/*
 * Prices out to Amazon (issue 12, part 4): one `patchListingsItem` per SKU replacing the listing's
 * `purchasable_offer` (its `our_price` in the marketplace's currency), through the same `patchListingsItem` bucket
 * as the quantity patches (one `RateLimits` per destination), so prices and quantities together never exceed
 * the operation's usage plan.
 *
 * Why patches and not the JSON listings feed: each price has its own result at once (a refused price names its
 * SKU, and the rest go), a price is held per SKU (below its floor, unmapped) rather than per feed, and a feed's
 * own limits (`createFeed` about one every two minutes after a burst of 15) would make a single price wait
 * minutes. For a whole catalog repriced at once the feed would be cheaper; see the README beside this file.
 */

export type AmazonPricesOptions = Readonly<{
  client: SpApiClient;
  sellerId: string;
  marketplaceId: string;
  productType: string;
  mappings: IdMappings;
  /** Longest one send waits, in all, for rate-limit tokens; what is left answers `rate_limited`. */
  sendWaitMs: number;
  /** Patches in flight at once (default 4), all drawing on the one `patchListingsItem` bucket. */
  concurrency?: number;
}>;

/**
 * The JSON Patch replacing a listing's offer price: `purchasable_offer` with the marketplace, the currency and
 * `our_price` as one schedule entry of `value_with_tax` (the shape the product type definitions give it). The
 * amount is absolute, so applying it twice leaves the listing as applying it once.
 */
export function pricePatch(marketplaceId: string, amount: string, currency: string) {
  return [
    {
      op: 'replace' as const,
      path: '/attributes/purchasable_offer',
      value: [
        {
          marketplace_id: marketplaceId,
          currency,
          audience: 'ALL',
          our_price: [{ schedule: [{ value_with_tax: Number(amount) }] }],
        },
      ],
    },
  ];
}

/** The price target of an Amazon destination. */
export function createAmazonPrices(o: AmazonPricesOptions): PriceTarget {
  const seller = { sellerId: o.sellerId, marketplaceId: o.marketplaceId };

  async function send(items: readonly PriceItem[], signal: AbortSignal): Promise<SendOutcome> {
    const budget: CallBudget = { deadline: Date.now() + o.sendWaitMs, signal };
    const results: (DeliveryResult | undefined)[] = items.map(() => undefined);
    let stop: SpApiFailure | null = null;
    let next = 0;
    // A few patches in flight at once: each waits for its own token of the shared bucket, so together they keep
    // to the plan while one slow answer does not idle the rest of it.
    const worker = async () => {
      for (let i = next++; i < items.length; i = next++) {
        if (stop !== null) {
          results[i] =
            stop.result.kind === 'rate_limited' || stop.result.kind === 'auth_failed'
              ? stop.result
              : {
                  kind: 'retry',
                  detail: `not sent: an earlier call of this send failed (${stop.result.detail})`,
                };
          continue;
        }
        try {
          results[i] = await sendOne(items[i]!, budget);
        } catch (error) {
          if (!(error instanceof SpApiFailure)) throw error;
          results[i] = error.result;
          // A refused lookup concerns its SKU alone; anything else ends this send's calls.
          if (error.result.kind !== 'rejected') stop = error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 4, items.length) }, worker));
    return { results: results.map((r) => r ?? { kind: 'retry', detail: 'not sent' }) };
  }

  /** Patches one listing's offer; throws `SpApiFailure` for a failed call. */
  async function sendOne(item: PriceItem, budget: CallBudget): Promise<DeliveryResult> {
    const resolved = await resolveSellerSku(o.client, seller, o.mappings, item.sku, budget);
    if (resolved === null)
      return {
        kind: 'unmapped',
        mapping: 'item',
        localId: item.sku,
        detail: `Amazon has no listing with seller SKU ${item.sku} for seller ${o.sellerId}`,
      };
    const answer = await o.client.call(
      {
        op: 'patchListingsItem',
        method: 'PATCH',
        path: listingsItemPath(o.sellerId, resolved.sellerSku),
        query: { marketplaceIds: o.marketplaceId, issueLocale: 'en_US' },
        json: {
          productType: o.productType,
          patches: pricePatch(o.marketplaceId, item.amount, item.currency),
        },
      },
      budget,
    );
    if (answer.status !== 200)
      return {
        kind: 'rejected',
        detail: `patchListingsItem ${resolved.sellerSku}: ${describeSpError(answer.status, answer.body)}`,
      };
    const submission = o.client.parse(
      submissionResponseSchema,
      answer,
      `patchListingsItem ${resolved.sellerSku}`,
      true,
    );
    switch (submission.status) {
      case 'ACCEPTED':
        return { kind: 'delivered' };
      case 'INVALID': {
        const said =
          (submission.issues ?? [])
            .filter((issue) => issue.severity === 'ERROR')
            .map((issue) => `${issue.code}: ${issue.message}`)
            .join('; ') || 'no reason given';
        return {
          kind: 'rejected',
          detail: `Amazon refused price ${item.amount} ${item.currency} for seller SKU ${resolved.sellerSku}: ${said.slice(0, 500)}`,
        };
      }
      case 'VALID':
        return {
          kind: 'retry',
          detail: `patchListingsItem ${resolved.sellerSku}: VALID (a preview) instead of ACCEPTED`,
        };
    }
  }

  /** Reads each mapped SKU's offer price back (`attributes.purchasable_offer`); unmapped ones come back null. */
  async function readPrices(skus: readonly string[], signal: AbortSignal): Promise<RemotePrice[]> {
    const budget: CallBudget = { deadline: Date.now() + o.sendWaitMs, signal };
    const out: RemotePrice[] = [];
    try {
      for (const sku of skus) {
        const sellerSku = o.mappings.item(sku);
        if (sellerSku === null) {
          out.push({ sku, amount: null, currency: null, compareAt: null });
          continue;
        }
        const answer = await o.client.call(
          {
            op: 'getListingsItem',
            method: 'GET',
            path: listingsItemPath(o.sellerId, sellerSku),
            query: { marketplaceIds: o.marketplaceId, includedData: 'attributes' },
          },
          budget,
        );
        if (answer.status === 404) {
          out.push({ sku, amount: null, currency: null, compareAt: null });
          continue;
        }
        if (answer.status !== 200)
          throw SpApiFailure.rejected(
            `getListingsItem ${sellerSku}: ${describeSpError(answer.status, answer.body)}`,
          );
        const item = o.client.parse(listingWithAttributes, answer, `getListingsItem ${sellerSku}`, false);
        const offer = offerOf(item.attributes?.['purchasable_offer'], o.marketplaceId);
        out.push({ sku, amount: offer?.amount ?? null, currency: offer?.currency ?? null, compareAt: null });
      }
    } catch (error) {
      if (error instanceof SpApiFailure) throw error.toConnectorError();
      throw error;
    }
    return out;
  }

  return { maxBatch: 50, send, readPrices };
}

/** The marketplace's `our_price` of a `purchasable_offer` attribute, as decimal text. */
function offerOf(value: unknown, marketplaceId: string): { amount: string; currency: string } | null {
  if (!Array.isArray(value)) return null;
  for (const entry of value as { marketplace_id?: unknown; currency?: unknown; our_price?: unknown }[]) {
    if (entry.marketplace_id !== marketplaceId || typeof entry.currency !== 'string') continue;
    const price = (entry.our_price as { schedule?: { value_with_tax?: unknown }[] }[] | undefined)?.[0]
      ?.schedule?.[0]?.value_with_tax;
    if (typeof price === 'number') return { amount: String(price), currency: entry.currency };
  }
  return null;
}

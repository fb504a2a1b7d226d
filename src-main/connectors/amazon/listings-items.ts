import type { z } from 'zod';
import type { IdMappings } from '../port/connector-context.js';
import { describeSpError, SpApiFailure, type CallBudget, type SpApiClient } from './sp-api-client.js';
import { listingsItemSchema } from './sp-api-schemas.js';

export type ListingsItem = z.output<typeof listingsItemSchema>;

/** Where a listing of this seller lives in Listings Items 2021-08-01 (seller and SKU URL-encoded). */
export function listingsItemPath(sellerId: string, sellerSku: string): string {
  return `/listings/2021-08-01/items/${encodeURIComponent(sellerId)}/${encodeURIComponent(sellerSku)}`;
}

/**
 * `getListingsItem` of one seller SKU: the listing, or null when Amazon has none (404). Throws `SpApiFailure`.
 *
 * @example
 * const item = await getListingsItem(client, { sellerId, marketplaceId }, 'SKU-1', ['fulfillmentAvailability'], budget);
 */
export async function getListingsItem(
  client: SpApiClient,
  seller: Readonly<{ sellerId: string; marketplaceId: string }>,
  sellerSku: string,
  includedData: readonly ('summaries' | 'fulfillmentAvailability')[],
  budget: CallBudget,
): Promise<ListingsItem | null> {
  const answer = await client.call(
    {
      op: 'getListingsItem',
      method: 'GET',
      path: listingsItemPath(seller.sellerId, sellerSku),
      query: { marketplaceIds: seller.marketplaceId, includedData: includedData.join(',') },
    },
    budget,
  );
  if (answer.status === 404) return null;
  if (answer.status !== 200)
    throw SpApiFailure.rejected(
      `getListingsItem ${sellerSku}: ${describeSpError(answer.status, answer.body)}`,
    );
  return client.parse(listingsItemSchema, answer, `getListingsItem ${sellerSku}`, false);
}

/** The merchant-fulfilled (DEFAULT channel) quantity of a listing; null when it has none. */
export function defaultChannelQuantity(item: ListingsItem): number | null {
  const entry = item.fulfillmentAvailability?.find((f) => f.fulfillmentChannelCode === 'DEFAULT');
  return entry?.quantity ?? null;
}

/**
 * The seller SKU of a local SKU: its mapping, else discovered. On Amazon a seller SKU is the seller's own
 * identifier, so a local SKU without a mapping is looked up under its own name; when that listing exists the
 * mapping sku → sku is saved (which also releases what waited for it), and when Amazon answers 404 it is null
 * (the item stays unmapped: a connector never invents a mapping it did not find).
 */
export async function resolveSellerSku(
  client: SpApiClient,
  seller: Readonly<{ sellerId: string; marketplaceId: string }>,
  mappings: IdMappings,
  sku: string,
  budget: CallBudget,
): Promise<{ sellerSku: string; item: ListingsItem | null } | null> {
  const mapped = mappings.item(sku);
  if (mapped !== null) return { sellerSku: mapped, item: null };
  const item = await getListingsItem(client, seller, sku, ['summaries', 'fulfillmentAvailability'], budget);
  if (item === null) return null;
  mappings.saveDiscovered('item', sku, sku);
  return { sellerSku: sku, item };
}

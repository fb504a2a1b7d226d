import type { DeliveryResult } from '../port/connector.js';
import type { ProcessingReport } from './sp-api-schemas.js';

/** The feed type of the JSON listings feed (Feeds 2021-06-30 + listings-feed-schema-v2). */
export const JSON_LISTINGS_FEED = 'JSON_LISTINGS_FEED';
/** The content type a JSON_LISTINGS_FEED document is created and uploaded with. */
export const FEED_CONTENT_TYPE = 'application/json; charset=UTF-8';

/** One quantity to publish: an Amazon seller SKU and its merchant-fulfilled (DEFAULT channel) quantity. */
export type QuantityUpdate = Readonly<{ sellerSku: string; quantity: number }>;

/**
 * The JSON Patch that sets the merchant-fulfilled quantity of a listing, the same in `patchListingsItem` and in
 * a feed message: `replace` of `/attributes/fulfillment_availability` with `fulfillment_channel_code: DEFAULT`.
 * The quantity is absolute, so applying it twice leaves the listing as applying it once.
 */
export function quantityPatch(quantity: number) {
  return [
    {
      op: 'replace' as const,
      path: '/attributes/fulfillment_availability',
      value: [{ fulfillment_channel_code: 'DEFAULT', quantity }],
    },
  ];
}

/**
 * A JSON_LISTINGS_FEED document: one PATCH message per seller SKU, `messageId` = position + 1 (the report's
 * issues name messages by it). A SKU appears at most once, so no two messages of one feed race each other.
 */
export function buildListingsFeed(sellerId: string, productType: string, updates: readonly QuantityUpdate[]) {
  const skus = new Set(updates.map((u) => u.sellerSku));
  if (skus.size !== updates.length) throw new Error('a listings feed holds one message per seller SKU');
  return {
    header: { sellerId, version: '2.0', issueLocale: 'en_US' },
    messages: updates.map((u, i) => ({
      messageId: i + 1,
      sku: u.sellerSku,
      operationType: 'PATCH',
      productType,
      patches: quantityPatch(u.quantity),
    })),
  };
}

/**
 * The result of each message of a feed from its processing report: a message with an ERROR issue was not applied
 * (`rejected`, with Amazon's words); any other message was accepted (`delivered`; warnings do not stop it).
 * An ERROR issue that names no message (the feed itself was malformed) rejects every message it did not judge.
 */
export function resultsFromReport(
  report: ProcessingReport,
  messages: readonly QuantityUpdate[],
): DeliveryResult[] {
  const errorsByMessage = new Map<number, string[]>();
  const feedErrors: string[] = [];
  const messageIdOf = new Map(messages.map((m, i) => [m.sellerSku, i + 1]));
  for (const issue of report.issues) {
    if (issue.severity !== 'ERROR') continue;
    const text = issue.code ? `${issue.code}: ${issue.message}` : issue.message;
    const id = issue.messageId ?? (issue.sku === undefined ? undefined : messageIdOf.get(issue.sku));
    if (id === undefined) {
      feedErrors.push(text);
      continue;
    }
    errorsByMessage.set(id, [...(errorsByMessage.get(id) ?? []), text]);
  }
  return messages.map((m, i) => {
    const errors = errorsByMessage.get(i + 1) ?? feedErrors;
    if (errors.length === 0) return { kind: 'delivered' };
    return {
      kind: 'rejected',
      detail: `Amazon refused quantity ${m.quantity} for seller SKU ${m.sellerSku} (feed ${report.header.feedId}): ${errors.join('; ').slice(0, 500)}`,
    };
  });
}

import type { Logger } from '../../platform/logger.js';
import type { DeliveryResult, LevelItem, RateHint, SendOutcome } from '../port/connector.js';
import type { ConnectorState, IdMappings } from '../port/connector-context.js';
import { quantityPatch } from './listings-feed.js';
import {
  itemKey,
  ListingsFeedSubmitter,
  PENDING_FEED_KEY,
  type PendingFeed,
} from './listings-feed-submitter.js';
import { listingsItemPath, resolveSellerSku } from './listings-items.js';
import type { RateLimits } from './rate-limits.js';
import {
  describeSpError,
  SpApiFailure,
  type CallBudget,
  type SpAnswer,
  type SpApiClient,
} from './sp-api-client.js';
import { submissionResponseSchema } from './sp-api-schemas.js';

export type ListingsPublisherOptions = Readonly<{
  client: SpApiClient;
  limits: RateLimits;
  sellerId: string;
  marketplaceId: string;
  productType: string;
  /** Sends of at most this many SKUs go by `patchListingsItem`, larger ones as one feed. */
  patchMaxItems: number;
  /** Longest one send waits, in all, for rate-limit tokens and for the feed to be processed. */
  sendWaitMs: number;
  mappings: IdMappings;
  state: ConnectorState;
  logger: Logger;
}>;

/**
 * Publishes available-to-sell quantities as Amazon merchant-fulfilled (DEFAULT channel) quantities: a small send
 * patches each listing (`patchListingsItem`), a large one goes as one JSON_LISTINGS_FEED with one message per
 * SKU, whose processing report gives each SKU its result.
 *
 * Exactly-once effect: every quantity is absolute, so applying one twice leaves the listing as applying it once;
 * a feed names each SKU once; and the id of a submitted feed is kept in the destination's state until its report
 * is read, so a retry (after a timeout, or after a crash) reads that feed instead of submitting another, and no
 * newer quantity of one of its SKUs is sent before it is done (which could otherwise land first and be
 * overwritten by the older feed).
 */
export class ListingsPublisher {
  readonly #o: ListingsPublisherOptions;
  readonly #feeds: ListingsFeedSubmitter;

  constructor(options: ListingsPublisherOptions) {
    this.#o = options;
    this.#feeds = new ListingsFeedSubmitter(options);
  }

  async send(items: readonly LevelItem[], signal: AbortSignal): Promise<SendOutcome> {
    const budget: CallBudget = { deadline: Date.now() + this.#o.sendWaitMs, signal };
    const results: (DeliveryResult | undefined)[] = items.map(() => undefined);
    const open = () => items.flatMap((_, i) => (results[i] === undefined ? [i] : []));

    // 1. A feed submitted earlier comes first: its report answers for the items it carried.
    const pending = this.#o.state.get<PendingFeed>(PENDING_FEED_KEY);
    if (pending !== undefined) {
      const inFeed = new Set(pending.messages.map((m) => m.sku));
      // Only a send that carries one of its SKUs waits for it; any other send just looks once, so an
      // unrelated change is not held up by a feed Amazon takes minutes over.
      const isWaiting = items.some((item) => inFeed.has(item.sku));
      const settled = await this.#feeds.settle(pending, budget, isWaiting ? Number.POSITIVE_INFINITY : 1);
      for (const i of open()) {
        const item = items[i]!;
        if (settled.kind === 'waiting') {
          // Not done (or not readable yet): its SKUs wait for it, so no newer quantity can land before it.
          if (inFeed.has(item.sku) || settled.result.kind === 'auth_failed') results[i] = settled.result;
          continue;
        }
        const done = settled.results.get(itemKey(item.sku, item.location));
        if (done !== undefined && done.quantity === item.quantity) results[i] = done.result;
      }
    }

    // 2. Seller SKUs: the mapping, else discovered under the SKU's own name.
    const targets = new Map<number, string>();
    const bySellerSku = new Map<string, number>();
    let stop: SpApiFailure | null = null;
    for (const i of open()) {
      const item = items[i]!;
      if (stop !== null) {
        results[i] = notTried(stop);
        continue;
      }
      let resolved;
      try {
        resolved = await resolveSellerSku(this.#o.client, this.#o, this.#o.mappings, item.sku, budget);
      } catch (error) {
        if (!(error instanceof SpApiFailure)) throw error;
        results[i] = error.result;
        // Rate limited: only lookups wait, mapped items still go; a refused lookup concerns its SKU alone.
        // Anything else (Amazon unreachable, credentials refused) ends the send's calls.
        if (error.result.kind !== 'rate_limited' && error.result.kind !== 'rejected') stop = error;
        continue;
      }
      if (resolved === null) {
        results[i] = {
          kind: 'unmapped',
          mapping: 'item',
          localId: item.sku,
          detail: `Amazon has no listing with seller SKU ${item.sku} for seller ${this.#o.sellerId}`,
        };
        continue;
      }
      const other = bySellerSku.get(resolved.sellerSku);
      if (other !== undefined) {
        // Amazon keeps one merchant-fulfilled quantity per SKU: two locations cannot both publish it.
        results[i] = {
          kind: 'rejected',
          detail: `seller SKU ${resolved.sellerSku} is also published from location ${items[other]!.location}; Amazon holds one quantity per SKU, so list one location in this destination's "locations"`,
        };
        continue;
      }
      bySellerSku.set(resolved.sellerSku, i);
      targets.set(i, resolved.sellerSku);
    }

    // 3. The quantities: one feed for many, a patch each for a few (or when no feed can be submitted now).
    // While an earlier feed is unfinished no second one is started (one pending feed is kept), only patches.
    const toSend = open();
    if (toSend.length > 0) {
      const isFeed =
        toSend.length > this.#o.patchMaxItems &&
        this.#o.state.get<PendingFeed>(PENDING_FEED_KEY) === undefined &&
        this.#feeds.canSubmit();
      const outcome = isFeed
        ? await this.#feeds.submit(items, toSend, targets, budget)
        : await this.#sendPatches(items, toSend, targets, budget);
      toSend.forEach((i, n) => (results[i] = outcome[n]));
    }

    return {
      results: results.map((r) => r ?? { kind: 'retry', detail: 'not sent (no result was recorded)' }),
      rate: this.#rateHint(),
    };
  }

  /** Patches each listing in turn; after a failure the rest are not tried (their result says why). */
  async #sendPatches(
    items: readonly LevelItem[],
    indexes: readonly number[],
    targets: ReadonlyMap<number, string>,
    budget: CallBudget,
  ): Promise<DeliveryResult[]> {
    const out: DeliveryResult[] = [];
    let stop: SpApiFailure | null = null;
    for (const i of indexes) {
      if (stop !== null) {
        out.push(notTried(stop));
        continue;
      }
      const item = items[i]!;
      const sellerSku = targets.get(i)!;
      try {
        const answer = await this.#o.client.call(
          {
            op: 'patchListingsItem',
            method: 'PATCH',
            path: listingsItemPath(this.#o.sellerId, sellerSku),
            query: { marketplaceIds: this.#o.marketplaceId, issueLocale: 'en_US' },
            json: { productType: this.#o.productType, patches: quantityPatch(item.quantity) },
          },
          budget,
        );
        out.push(this.#judgePatch(answer, sellerSku, item.quantity));
      } catch (error) {
        if (!(error instanceof SpApiFailure)) throw error;
        out.push(error.result);
        stop = error;
      }
    }
    return out;
  }

  #judgePatch(answer: SpAnswer, sellerSku: string, quantity: number): DeliveryResult {
    if (answer.status !== 200)
      return {
        kind: 'rejected',
        detail: `patchListingsItem ${sellerSku}: ${describeSpError(answer.status, answer.body)}`,
      };
    const submission = this.#o.client.parse(
      submissionResponseSchema,
      answer,
      `patchListingsItem ${sellerSku}`,
      true,
    );
    switch (submission.status) {
      case 'ACCEPTED':
        return { kind: 'delivered' };
      case 'INVALID': {
        const errors = (submission.issues ?? []).filter((issue) => issue.severity === 'ERROR');
        const said = errors.map((issue) => `${issue.code}: ${issue.message}`).join('; ') || 'no reason given';
        return {
          kind: 'rejected',
          detail: `Amazon refused quantity ${quantity} for seller SKU ${sellerSku}: ${said.slice(0, 500)}`,
        };
      }
      case 'VALID':
        // Only a validation preview answers VALID, and we never ask for one: nothing was applied.
        return {
          kind: 'retry',
          detail: `patchListingsItem ${sellerSku}: VALID (a preview) instead of ACCEPTED`,
        };
    }
  }

  /**
   * Tells the engine how fast sends may come: as often as a listing can be patched, and nothing until the next
   * patch token when none is left (each send needs at least one call).
   */
  #rateHint(): RateHint {
    const patch = this.#o.limits.bucket('patchListingsItem');
    const remaining = patch.available();
    return remaining > 0
      ? { perSecond: patch.rate, remaining }
      : { perSecond: patch.rate, remaining: 0, resetAfterMs: patch.waitTime() };
  }
}

/** The result of an item not tried because an earlier call of the same send failed. */
function notTried(cause: SpApiFailure): DeliveryResult {
  switch (cause.result.kind) {
    case 'rate_limited':
    case 'auth_failed':
      return cause.result;
    case 'retry':
    case 'unknown':
    case 'rejected':
      return {
        kind: 'retry',
        detail: `not sent: an earlier call of this send failed (${cause.result.detail})`,
      };
  }
}

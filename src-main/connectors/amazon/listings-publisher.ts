import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../platform/logger.js';
import type { DeliveryResult, LevelItem, RateHint, SendOutcome } from '../port/connector.js';
import type { ConnectorState, IdMappings } from '../port/connector-context.js';
import {
  buildListingsFeed,
  FEED_CONTENT_TYPE,
  JSON_LISTINGS_FEED,
  quantityPatch,
  resultsFromReport,
  type QuantityUpdate,
} from './listings-feed.js';
import { listingsItemPath, resolveSellerSku } from './listings-items.js';
import type { RateLimits } from './rate-limits.js';
import {
  describeSpError,
  SpApiFailure,
  type CallBudget,
  type SpAnswer,
  type SpApiClient,
} from './sp-api-client.js';
import {
  createFeedDocumentResponseSchema,
  createFeedResponseSchema,
  feedDocumentSchema,
  feedSchema,
  processingReportSchema,
  submissionResponseSchema,
} from './sp-api-schemas.js';

/** The `context.state` key of the feed submitted and not yet read back. */
export const PENDING_FEED_KEY = 'pendingFeed';

/** A submitted feed whose report was not read yet; kept in the destination's state, so it outlives a crash. */
export type PendingFeed = {
  feedId: string;
  /** Epoch ms it was created. */
  createdAt: number;
  /** Set once `getFeed` said DONE, so a later send goes straight to the report. */
  resultFeedDocumentId?: string;
  messages: { sku: string; location: string; sellerSku: string; quantity: number }[];
};

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

/** How a feed ended, as far as this send saw. */
type Settled =
  | { kind: 'done'; results: Map<string, { quantity: number; result: DeliveryResult }> }
  | { kind: 'waiting'; result: DeliveryResult };

/** Waits between `getFeed` polls within one send: quick at first (small feeds finish in seconds), then 5 s. */
const POLL_DELAYS_MS = [250, 500, 1000, 2000, 3000, 5000];

const itemKey = (sku: string, location: string) => `${sku}\u0000${location}`;

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

  constructor(options: ListingsPublisherOptions) {
    this.#o = options;
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
      const settled = await this.#settle(pending, budget, isWaiting ? Number.POSITIVE_INFINITY : 1);
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
        this.#canSubmitFeed();
      const outcome = isFeed
        ? await this.#sendFeed(items, toSend, targets, budget)
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

  /** Each step of a feed has a small burst and a slow refill; a feed is started only when all of them can go. */
  #canSubmitFeed(): boolean {
    const { limits } = this.#o;
    return (['createFeedDocument', 'createFeed', 'getFeed', 'getFeedDocument'] as const).every(
      (op) => limits.bucket(op).available() >= 1,
    );
  }

  async #sendFeed(
    items: readonly LevelItem[],
    indexes: readonly number[],
    targets: ReadonlyMap<number, string>,
    budget: CallBudget,
  ): Promise<DeliveryResult[]> {
    const { client } = this.#o;
    const messages = indexes.map((i) => ({
      sku: items[i]!.sku,
      location: items[i]!.location,
      sellerSku: targets.get(i)!,
      quantity: items[i]!.quantity,
    }));
    let pending: PendingFeed;
    try {
      const document = buildListingsFeed(this.#o.sellerId, this.#o.productType, messages);
      const created = await client.call(
        {
          op: 'createFeedDocument',
          method: 'POST',
          path: '/feeds/2021-06-30/documents',
          json: { contentType: FEED_CONTENT_TYPE },
        },
        budget,
      );
      expectSuccess(created, 'createFeedDocument');
      const { feedDocumentId, url } = client.parse(
        createFeedDocumentResponseSchema,
        created,
        'createFeedDocument',
        false,
      );
      const uploaded = await client.upload(url, JSON.stringify(document), FEED_CONTENT_TYPE, budget.signal);
      expectSuccess(uploaded, 'feed document upload');
      const feedAnswer = await client.call(
        {
          op: 'createFeed',
          method: 'POST',
          path: '/feeds/2021-06-30/feeds',
          json: {
            feedType: JSON_LISTINGS_FEED,
            marketplaceIds: [this.#o.marketplaceId],
            inputFeedDocumentId: feedDocumentId,
          },
        },
        budget,
      );
      expectSuccess(feedAnswer, 'createFeed');
      const { feedId } = client.parse(createFeedResponseSchema, feedAnswer, 'createFeed', true);
      pending = { feedId, createdAt: Date.now(), messages };
      // Kept before anything else can fail: from here on a retry reads this feed instead of sending another.
      this.#o.state.set(PENDING_FEED_KEY, pending);
      this.#o.logger.info({ feedId, messages: messages.length }, 'listings feed submitted');
    } catch (error) {
      if (!(error instanceof SpApiFailure)) throw error;
      return messages.map(() => error.result);
    }
    const settled = await this.#settle(pending, budget, Number.POSITIVE_INFINITY);
    return messages.map((m) =>
      settled.kind === 'waiting'
        ? settled.result
        : (settled.results.get(itemKey(m.sku, m.location))?.result ?? {
            kind: 'retry',
            detail: `feed ${pending.feedId} gave no result for ${m.sellerSku}`,
          }),
    );
  }

  /**
   * Follows a submitted feed until its report is read, this send's wait is used up or `maxPolls` looks were
   * taken: `getFeed` until DONE, then `getFeedDocument` and the report. The pending feed is forgotten once its report is read, or when
   * Amazon no longer knows it or could not process it (its items are then sent again: quantities are absolute).
   */
  async #settle(pending: PendingFeed, budget: CallBudget, maxPolls: number): Promise<Settled> {
    const { client, state } = this.#o;
    const feedId = pending.feedId;
    try {
      let documentId = pending.resultFeedDocumentId;
      for (let poll = 0; documentId === undefined; poll += 1) {
        const answer = await client.call(
          { op: 'getFeed', method: 'GET', path: `/feeds/2021-06-30/feeds/${encodeURIComponent(feedId)}` },
          budget,
        );
        if (answer.status === 404) {
          state.delete(PENDING_FEED_KEY);
          return {
            kind: 'waiting',
            result: { kind: 'retry', detail: `Amazon does not know feed ${feedId}; sending again` },
          };
        }
        expectSuccess(answer, 'getFeed');
        const feed = client.parse(feedSchema, answer, `getFeed ${feedId}`, false);
        if (feed.processingStatus === 'DONE' && feed.resultFeedDocumentId !== undefined) {
          documentId = feed.resultFeedDocumentId;
          pending = { ...pending, resultFeedDocumentId: documentId };
          state.set(PENDING_FEED_KEY, pending);
          break;
        }
        if (
          feed.processingStatus === 'DONE' ||
          feed.processingStatus === 'FATAL' ||
          feed.processingStatus === 'CANCELLED'
        ) {
          // FATAL: "some, none, or all" of it may be applied. Absolute quantities make sending again safe.
          state.delete(PENDING_FEED_KEY);
          return {
            kind: 'waiting',
            result: {
              kind: 'retry',
              detail: `Amazon could not process feed ${feedId} (${feed.processingStatus}); sending again`,
            },
          };
        }
        const delay = POLL_DELAYS_MS[Math.min(poll, POLL_DELAYS_MS.length - 1)]!;
        if (poll + 1 >= maxPolls || Date.now() + delay > budget.deadline || budget.signal.aborted)
          return stillProcessing(pending, feed.processingStatus);
        try {
          await sleep(delay, undefined, { signal: budget.signal });
        } catch {
          return stillProcessing(pending, feed.processingStatus);
        }
      }
      const docAnswer = await client.call(
        {
          op: 'getFeedDocument',
          method: 'GET',
          path: `/feeds/2021-06-30/documents/${encodeURIComponent(documentId)}`,
        },
        budget,
      );
      expectSuccess(docAnswer, 'getFeedDocument');
      const document = client.parse(feedDocumentSchema, docAnswer, `getFeedDocument ${documentId}`, false);
      const text = await client.download(document.url, document.compressionAlgorithm, budget.signal);
      let report;
      try {
        report = processingReportSchema.parse(JSON.parse(text));
      } catch (error) {
        state.delete(PENDING_FEED_KEY);
        return {
          kind: 'waiting',
          result: {
            kind: 'retry',
            detail: `the processing report of feed ${feedId} is unreadable (${(error as Error).message.slice(0, 200)}); sending again`,
          },
        };
      }
      const updates: QuantityUpdate[] = pending.messages;
      const outcome = resultsFromReport(report, updates);
      state.delete(PENDING_FEED_KEY);
      this.#o.logger.info(
        { feedId, accepted: report.summary.messagesAccepted, invalid: report.summary.messagesInvalid },
        'listings feed processed',
      );
      return {
        kind: 'done',
        results: new Map(
          pending.messages.map((m, n) => [
            itemKey(m.sku, m.location),
            { quantity: m.quantity, result: outcome[n]! },
          ]),
        ),
      };
    } catch (error) {
      if (!(error instanceof SpApiFailure)) throw error;
      // Amazon refused our getFeed or getFeedDocument itself: waiting again would not change that.
      if (error.result.kind === 'rejected') state.delete(PENDING_FEED_KEY);
      return { kind: 'waiting', result: error.result };
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

/** The result of items whose feed Amazon is still processing: come back when it is likely done. */
function stillProcessing(pending: PendingFeed, status: string): Settled {
  const age = Date.now() - pending.createdAt;
  const retryAfterMs = Math.round(Math.min(30_000, Math.max(1000, age / 4)));
  return {
    kind: 'waiting',
    result: {
      kind: 'rate_limited',
      retryAfterMs,
      detail: `Amazon is still processing feed ${pending.feedId} (${status}); its report is read in ${Math.ceil(retryAfterMs / 1000)} s`,
    },
  };
}

/** A 4xx where a success was due is our request's fault: the items are rejected with Amazon's words. */
function expectSuccess(answer: SpAnswer, what: string): void {
  if (answer.status < 200 || answer.status >= 300)
    throw SpApiFailure.rejected(`${what}: ${describeSpError(answer.status, answer.body)}`);
}

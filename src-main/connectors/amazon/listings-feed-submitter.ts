import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../platform/logger.js';
import type { DeliveryResult, LevelItem } from '../port/connector.js';
import type { ConnectorState } from '../port/connector-context.js';
import {
  buildListingsFeed,
  FEED_CONTENT_TYPE,
  JSON_LISTINGS_FEED,
  resultsFromReport,
  type QuantityUpdate,
} from './listings-feed.js';
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

export type ListingsFeedSubmitterOptions = Readonly<{
  client: SpApiClient;
  limits: RateLimits;
  sellerId: string;
  marketplaceId: string;
  productType: string;
  state: ConnectorState;
  logger: Logger;
}>;

/** How a feed ended, as far as this send saw. */
export type Settled =
  | { kind: 'done'; results: Map<string, { quantity: number; result: DeliveryResult }> }
  | { kind: 'waiting'; result: DeliveryResult };

/** Waits between `getFeed` polls within one send: quick at first (small feeds finish in seconds), then 5 s. */
const POLL_DELAYS_MS = [250, 500, 1000, 2000, 3000, 5000];

/** The key of an item (sku, location) in a feed's results. */
export const itemKey = (sku: string, location: string) => `${sku}\u0000${location}`;

/**
 * Large sends as one JSON_LISTINGS_FEED: the feed document, its upload, the feed, and following it to its
 * processing report. At most one feed is pending at a time; its id is kept in the destination's state until its
 * report is read, so a retry (after a timeout, or after a crash) reads that feed instead of submitting another.
 */
export class ListingsFeedSubmitter {
  readonly #o: ListingsFeedSubmitterOptions;

  constructor(options: ListingsFeedSubmitterOptions) {
    this.#o = options;
  }

  /** Each step of a feed has a small burst and a slow refill; a feed is started only when all of them can go. */
  canSubmit(): boolean {
    const { limits } = this.#o;
    return (['createFeedDocument', 'createFeed', 'getFeed', 'getFeedDocument'] as const).every(
      (op) => limits.bucket(op).available() >= 1,
    );
  }

  /**
   * Submits the items at `indexes` as one feed, keeps it as the pending feed, then follows it as long as this
   * send may wait; answers a result per item, in the order of `indexes`.
   */
  async submit(
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
    const settled = await this.settle(pending, budget, Number.POSITIVE_INFINITY);
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
  async settle(pending: PendingFeed, budget: CallBudget, maxPolls: number): Promise<Settled> {
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

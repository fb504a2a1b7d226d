import type { PosEvent } from '../../../shared/events.js';

/**
 * What a connector answers for one item: the closed result taxonomy every connector maps its responses onto.
 * - `delivered`, `already_applied`: done (the destination has the effect exactly once).
 * - `retry`: a transient failure before the destination applied anything (network error, 5xx, 408, 425).
 * - `rate_limited`: 429 or a throttled body; `retryAfterMs` from Retry-After when the destination said.
 * - `unknown`: the request was sent but no answer came (timeout after sending): retried with the same
 *   idempotency key, so a destination that applied it answers `already_applied`.
 * - `rejected`: the destination refuses this item (other 4xx, validation): an exception, no more retries.
 * - `auth_failed`: 401/403: the destination is paused and one exception raised, no retry storm.
 * - `misconfigured`: the destination is set up so that no item can be applied (a NATS stream that does not
 *   exist, or does not take the subject): paused like `auth_failed`, with one exception saying what to fix,
 *   instead of one rejection per queued item.
 * - `unmapped`: the destination has no mapping for an item (or location) of this item, so nothing was sent.
 *   The item is held (it leaves its lane, the rest flow) with one `unmapped_sku` / `unmapped_location`
 *   exception; it goes back to its lane by itself once the mapping is added.
 */
export type DeliveryResult =
  | { kind: 'delivered' }
  | { kind: 'already_applied' }
  | { kind: 'retry'; detail: string }
  | { kind: 'rate_limited'; retryAfterMs: number | null; detail: string }
  | { kind: 'unknown'; detail: string }
  | { kind: 'rejected'; detail: string }
  | { kind: 'auth_failed'; detail: string }
  | { kind: 'misconfigured'; detail: string }
  | { kind: 'unmapped'; mapping: 'item' | 'location'; localId: string; detail: string };

export type ResultKind = DeliveryResult['kind'];

/** One outbox row as a ledger connector receives it. */
export type LedgerItem = Readonly<{
  outboxId: number;
  seq: number;
  source: string;
  idempotencyKey: string;
  event: PosEvent;
  receivedAt: number;
  attempts: number;
  /**
   * For a `count`: the on hand the count left in the local ledger for each counted SKU (its last line's). A
   * destination that holds levels sets these, not the counted quantities: a count posted from a count session
   * keeps what moved between counting and posting (a sale rung up meanwhile, already sent before the count), so
   * its level is the counted quantity less that. Absent for every other type.
   */
  levelsAfter?: Readonly<Record<string, number>>;
}>;

/** One coalesced level update: the available-to-sell at send time. */
export type LevelItem = Readonly<{
  sku: string;
  location: string;
  /** The dirty-mark version this quantity covers. */
  version: number;
  quantity: number;
}>;

/**
 * One coalesced price update: the item's price on the destination's list, read at send time (however many
 * changes came before it).
 */
export type PriceItem = Readonly<{
  sku: string;
  /** The price mark's version this price covers. */
  version: number;
  /** Decimal text of zero or more (`9.99`), as the item master holds it. */
  amount: string;
  /** ISO 4217. */
  currency: string;
  /** The price before (Shopify's `compareAtPrice`): the compare-at list's amount where it is above `amount`. */
  compareAt: string | null;
}>;

/** Rate information a connector read from a response, to size the destination's token bucket. */
export type RateHint = Readonly<{ perSecond?: number; remaining?: number; resetAfterMs?: number }>;

/** A connector's answer to one send: one result per item, in order. */
export type SendOutcome = Readonly<{ results: readonly DeliveryResult[]; rate?: RateHint }>;

/**
 * A destination's connector. The engine calls `send` with at most `maxBatch` items of one lane, in order, and an
 * AbortSignal that fires on stop or timeout. A connector never retries by itself (the engine owns retries) and
 * never throws for an HTTP answer: it classifies it. If `send` throws, every item is retried with the same key.
 */
export type Connector =
  | Readonly<{
      mode: 'ledger';
      maxBatch: number;
      send: (items: readonly LedgerItem[], signal: AbortSignal) => Promise<SendOutcome>;
    }>
  | Readonly<{
      mode: 'level';
      maxBatch: number;
      send: (items: readonly LevelItem[], signal: AbortSignal) => Promise<SendOutcome>;
    }>;

import { assertNever, describeEvent } from '../../shared/events.js';
import type { Logger } from '../platform/logger.js';
import { EXCEPTION_CATALOG, unmappedException } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { DeliveryResult, LedgerItem, LevelItem, SendOutcome } from '../connectors/port/connector.js';
import type { DeliveryRepo, LevelMark } from './delivery-repo.js';
import type { DeliveryPacing, RequestRetries } from './delivery-pacing.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';

/**
 * Requests sent, those of them that were retries (carrying an item tried before), items delivered, transient
 * failures by result kind, and how the failed items were scheduled (a quick retry from the budget, or a backoff):
 * for metrics, tests and the drain bench.
 */
export type DispatchCounters = {
  requests: number;
  retries: number;
  delivered: number;
  failures: Map<string, number>;
  /** Failed requests whose items were retried quickly, and those whose items backed off. */
  quickRetries: number;
  backoffs: number;
};

export type ResultRecorderOptions = Readonly<{
  destinationId: string;
  repo: DeliveryRepo;
  exceptions: ExceptionsRepo;
  policy: RetryPolicy;
  /** Rate, 429 pause and retry budget: told of each request's success or 429, asked how soon to retry. */
  pacing: DeliveryPacing;
  logger: Logger;
  /** The dispatcher's counters, counted up here. */
  counters: DispatchCounters;
  /** Called with each item's result (metrics). */
  onResult?: ((kind: DeliveryResult['kind']) => void) | undefined;
}>;

/**
 * The dispatcher's half that decides what each result means: one exhaustive `switch` per mode over the closed
 * `DeliveryResult` union moves the item on (delivered, retried with backoff, held, failed, paused) and raises the
 * exception a person must see. It never sends; the dispatcher (`dispatcher.ts`) claims, sends and calls it.
 */
export class ResultRecorder {
  readonly #o: ResultRecorderOptions;
  readonly #counters: DispatchCounters;
  readonly #log: Logger;

  constructor(options: ResultRecorderOptions) {
    this.#o = options;
    this.#counters = options.counters;
    this.#log = options.logger;
  }

  /** An item this Backroom cannot read (queued by a newer version) left its lane as `rejected`: say why. */
  raiseUnreadable(
    item: Readonly<{ outboxId: number; seq: number; source: string; error: string }>,
    location: string,
  ): void {
    this.#o.exceptions.raise({
      kind: 'delivery_rejected',
      dedupeKey: EXCEPTION_CATALOG.delivery_rejected.key(item.outboxId),
      message: EXCEPTION_CATALOG.delivery_rejected.unreadableMessage({
        seq: item.seq,
        location,
        destinationId: this.#o.destinationId,
        error: item.error,
      }),
      details: { outboxId: item.outboxId, error: item.error },
      source: item.source,
      eventSeq: item.seq,
      location,
      destinationId: this.#o.destinationId,
    });
  }

  /**
   * Resumes a destination paused by an auth failure or a setup problem and resolves its exception with
   * `resolution`.
   */
  resume(resolution: string): void {
    this.#o.repo.setPaused(this.#o.destinationId, null, Date.now());
    const { destination_auth_failed, destination_misconfigured } = EXCEPTION_CATALOG;
    this.#o.exceptions.resolveByKey(destination_auth_failed.key(this.#o.destinationId), resolution);
    this.#o.exceptions.resolveByKey(destination_misconfigured.key(this.#o.destinationId), resolution);
  }

  /**
   * Records a level destination's results, one per dirty mark sent (`marks[i]` is the mark `items[i]` was read
   * from). Runs inside the caller's transaction.
   */
  recordLevel(items: readonly LevelItem[], marks: readonly LevelMark[], outcome: SendOutcome): void {
    this.#pace(outcome);
    const retries = this.#o.pacing.forRequest();
    items.forEach((item, i) => {
      const result: DeliveryResult = outcome.results[i] ?? {
        kind: 'retry',
        detail: 'the connector gave no result for this item',
      };
      const at = Date.now();
      this.#o.onResult?.(result.kind);
      this.#o.repo.recordAttempt({
        outboxId: null,
        destinationId: this.#o.destinationId,
        sku: item.sku,
        location: item.location,
        at,
        result: result.kind,
        detail: 'detail' in result ? result.detail : null,
      });
      switch (result.kind) {
        case 'delivered':
        case 'already_applied':
          this.#o.repo.markLevelSent(this.#o.destinationId, item.sku, item.location, item.version);
          this.#counters.delivered += 1;
          break;
        case 'rejected':
          this.#o.exceptions.raise({
            kind: 'delivery_rejected',
            dedupeKey: EXCEPTION_CATALOG.delivery_rejected.levelKey(
              this.#o.destinationId,
              item.sku,
              item.location,
            ),
            message: EXCEPTION_CATALOG.delivery_rejected.levelMessage({
              destinationId: this.#o.destinationId,
              sku: item.sku,
              location: item.location,
              quantity: item.quantity,
              detail: result.detail,
            }),
            details: { quantity: item.quantity, version: item.version, error: result.detail },
            sku: item.sku,
            location: item.location,
            destinationId: this.#o.destinationId,
          });
          // It is retried only when the level changes again or someone retries it.
          this.#o.repo.markLevelSent(this.#o.destinationId, item.sku, item.location, item.version);
          break;
        case 'auth_failed':
        case 'misconfigured':
          this.#pause(result);
          this.#o.repo.markLevelRetry(this.#o.destinationId, item.sku, item.location, 0, false);
          break;
        case 'unmapped':
          this.#raiseUnmapped(result, { sku: item.sku, location: item.location });
          this.#o.repo.markLevelHeld(this.#o.destinationId, item.sku, item.location, at);
          break;
        case 'rate_limited':
        case 'retry':
        case 'unknown': {
          const attempts = marks[i]!.attempts + 1;
          const delay = this.#retryDelay(result, attempts, retries);
          this.#o.repo.markLevelRetry(this.#o.destinationId, item.sku, item.location, at + delay, true);
          break;
        }
        default:
          assertNever(result);
      }
    });
    this.#countRetries(retries);
  }

  /**
   * How long an item waits after a transient result: a 429 its `Retry-After` (or, without one, the backoff: the
   * destination asked us to slow down, so never a quick retry); a failure the request's retry decision.
   */
  #retryDelay(
    result: Extract<DeliveryResult, { kind: 'rate_limited' | 'retry' | 'unknown' }>,
    attempts: number,
    retries: RequestRetries,
  ): number {
    if (result.kind === 'rate_limited') return result.retryAfterMs ?? backoffDelay(this.#o.policy, attempts);
    return retries.delayFor(attempts).delayMs;
  }

  /** Counts one request's retries as quick or backed off (`counters.quickRetries`, `counters.backoffs`). */
  #countRetries(retries: RequestRetries): void {
    const scheduled = retries.scheduled();
    if (scheduled === 'quick') this.#counters.quickRetries += 1;
    else if (scheduled === 'backoff') this.#counters.backoffs += 1;
  }

  /**
   * Tells the pacing what the request's answer says about the destination: a `429` pauses the destination for its
   * `Retry-After` and, if 429s recur, lowers the rate; a request with a delivered item earns retry budget and rate
   * back. Runs once per request, not per item.
   */
  #pace(outcome: SendOutcome): void {
    const throttled = outcome.results.find((r) => r.kind === 'rate_limited');
    if (throttled?.kind === 'rate_limited') this.#o.pacing.onThrottled(throttled.retryAfterMs);
    else if (outcome.results.some((r) => r.kind === 'delivered' || r.kind === 'already_applied'))
      this.#o.pacing.onSuccess();
  }

  /** One open exception per (destination, unmapped SKU or location), counting the items it holds. */
  #raiseUnmapped(
    result: Extract<DeliveryResult, { kind: 'unmapped' }>,
    about: Readonly<{ source?: string; eventSeq?: number; sku?: string; location: string; what?: string }>,
  ): void {
    const destinationId = this.#o.destinationId;
    const isItem = result.mapping === 'item';
    const exception = unmappedException(destinationId, result.mapping, result.localId);
    this.#o.exceptions.raise({
      ...exception,
      message: EXCEPTION_CATALOG[exception.kind].message({
        destinationId,
        localId: result.localId,
        what: about.what,
        detail: result.detail,
      }),
      details: { mapping: result.mapping, localId: result.localId, error: result.detail },
      source: about.source ?? null,
      eventSeq: about.eventSeq ?? null,
      sku: isItem ? result.localId : (about.sku ?? null),
      location: about.location,
      destinationId,
    });
  }

  /** Pauses the destination with one exception: credentials refused, or set up so nothing can be applied. */
  #pause(result: Extract<DeliveryResult, { kind: 'auth_failed' | 'misconfigured' }>): void {
    if (this.#o.repo.pausedReason(this.#o.destinationId) !== null) return;
    const { destinationId } = this.#o;
    const isAuth = result.kind === 'auth_failed';
    const reason = isAuth ? `credentials refused: ${result.detail}` : `set up wrongly: ${result.detail}`;
    this.#o.repo.setPaused(destinationId, reason, Date.now());
    const about = { details: { error: result.detail }, destinationId };
    const words = { destinationId, detail: result.detail };
    const { destination_auth_failed, destination_misconfigured } = EXCEPTION_CATALOG;
    this.#o.exceptions.raise(
      isAuth
        ? {
            kind: 'destination_auth_failed',
            dedupeKey: destination_auth_failed.key(destinationId),
            message: destination_auth_failed.message(words),
            ...about,
          }
        : {
            kind: 'destination_misconfigured',
            dedupeKey: destination_misconfigured.key(destinationId),
            message: destination_misconfigured.message(words),
            ...about,
          },
    );
    this.#log.warn({ detail: result.detail, kind: result.kind }, 'destination paused');
  }

  /**
   * Records a ledger lane's results, in order: once an item must wait (a retry, a pause), the items after it wait
   * untried, so capture order holds within the lane. Runs inside the caller's transaction.
   */
  recordLedger(items: readonly LedgerItem[], outcome: SendOutcome): void {
    const now = Date.now();
    const { repo, exceptions, policy, destinationId } = this.#o;
    this.#pace(outcome);
    const retries = this.#o.pacing.forRequest();
    let isLaneBlocked = false;
    items.forEach((item, i) => {
      const result: DeliveryResult = outcome.results[i] ?? {
        kind: 'retry',
        detail: 'the connector gave no result for this item',
      };
      if (isLaneBlocked) {
        // An earlier item of the lane must go first: this one waits, untried.
        repo.markRetry(item.outboxId, now, null, false);
        return;
      }
      this.#o.onResult?.(result.kind);
      // What an exception about this item names.
      const about = { source: item.source, eventSeq: item.seq, location: item.event.location, destinationId };
      repo.recordAttempt({
        outboxId: item.outboxId,
        destinationId,
        location: item.event.location,
        at: now,
        result: result.kind,
        detail: 'detail' in result ? result.detail : null,
      });
      switch (result.kind) {
        case 'delivered':
        case 'already_applied':
          repo.markDelivered(item.outboxId, now);
          repo.recordDelivery(destinationId, now);
          this.#counters.delivered += 1;
          break;
        case 'rejected':
          repo.markFailed(item.outboxId, 'rejected', result.detail);
          exceptions.raise({
            kind: 'delivery_rejected',
            dedupeKey: EXCEPTION_CATALOG.delivery_rejected.key(item.outboxId),
            message: EXCEPTION_CATALOG.delivery_rejected.message({
              what: describeEvent(item.event),
              destinationId,
              detail: result.detail,
            }),
            details: { outboxId: item.outboxId, idempotencyKey: item.idempotencyKey, error: result.detail },
            ...about,
          });
          break;
        case 'auth_failed':
        case 'misconfigured':
          this.#pause(result);
          repo.markRetry(item.outboxId, now, null, false);
          isLaneBlocked = true;
          break;
        case 'unmapped':
          // Held out of the lane (the rest flow); a later item of the same SKU is held too, so per-SKU order
          // holds when the mapping arrives and both go back in capture order.
          repo.markHeld(item.outboxId, result.detail);
          this.#raiseUnmapped(result, {
            source: item.source,
            eventSeq: item.seq,
            location: item.event.location,
            what: describeEvent(item.event),
          });
          break;
        case 'retry':
        case 'unknown':
        case 'rate_limited': {
          this.#counters.failures.set(result.kind, (this.#counters.failures.get(result.kind) ?? 0) + 1);
          const attempts = item.attempts + 1;
          if (attempts >= policy.maxAttempts || now - item.receivedAt > policy.maxAgeMs) {
            repo.markFailed(item.outboxId, 'dead', result.detail);
            exceptions.raise({
              kind: 'delivery_dead_letter',
              dedupeKey: EXCEPTION_CATALOG.delivery_dead_letter.key(item.outboxId),
              message: EXCEPTION_CATALOG.delivery_dead_letter.message({
                what: describeEvent(item.event),
                destinationId,
                detail: result.detail,
                attempts,
              }),
              details: { outboxId: item.outboxId, attempts, error: result.detail },
              ...about,
            });
            break;
          }
          const delay = this.#retryDelay(result, attempts, retries);
          repo.markRetry(item.outboxId, now + delay, result.detail, true);
          isLaneBlocked = true;
          break;
        }
        default:
          assertNever(result);
      }
    });
    this.#countRetries(retries);
  }
}

import type { DeliveryRepo } from './delivery-repo.js';
import { RetryBudget } from './retry-budget.js';
import { retryDelay, type RetryPolicy } from './retry-policy.js';
import type { TokenBucket } from './token-bucket.js';

export type DeliveryPacingOptions = Readonly<{
  destinationId: string;
  repo: DeliveryRepo;
  /** The destination's rate limit, paced by AIMD. */
  bucket: TokenBucket;
  /** The destination's retry budget. Default: `new RetryBudget()` (10 tokens, half a token per success). */
  budget?: RetryBudget;
  policy: RetryPolicy;
}>;

/**
 * A 429 within this many successful requests of the previous one is recurring: it lowers the rate. An isolated
 * 429 (a burst that met the destination's limit at the wrong moment) costs only its pause, after which the
 * destination's own bucket is full again.
 */
const RECURRING_WITHIN = 100;

/** One request's view of the retry budget: the first item that fails spends; the others follow its answer. */
export type RequestRetries = Readonly<{
  /** The wait before retrying an item after its `attempts`-th failure, and whether it is a quick retry. */
  delayFor: (attempts: number) => { delayMs: number; isQuick: boolean };
  /** How the request's retries were scheduled: `quick` if any item was, `backoff` if all were, null if none. */
  scheduled: () => 'quick' | 'backoff' | null;
}>;

/**
 * How fast a destination is sent to, and how quickly it is retried: the token bucket's rate (AIMD on 429s and
 * successes), the 429 pause for the whole destination, and the retry budget. The pause and the learned rate are
 * saved in `destination_state` (migration 0010) as they change, inside the caller's transaction, and restored at
 * start, so a restart neither forgets a `Retry-After` nor starts again at a rate that drew 429s.
 */
export class DeliveryPacing {
  readonly #o: DeliveryPacingOptions;
  readonly #budget: RetryBudget;
  /** The rate last saved (null: the ceiling), so that small additive steps are not each written. */
  #savedRate: number | null = null;
  #rateLimitedUntil: number | null = null;
  /** Successful requests since the last 429 (none yet: as if long ago). */
  #successesSinceThrottle = Number.POSITIVE_INFINITY;

  constructor(options: DeliveryPacingOptions) {
    this.#o = options;
    this.#budget = options.budget ?? new RetryBudget();
  }

  /** The retry budget (metrics and tests). */
  get budget(): RetryBudget {
    return this.#budget;
  }

  /**
   * Restores the saved pause and rate (at start): a pause still running holds every send until it ends. A
   * destination delivered to moments ago (a restart, a crash) starts with the tokens refilled since then, not a
   * full burst, since its own limiter may still be short of them.
   */
  restore(now = Date.now()): void {
    const saved = this.#o.repo.pacing(this.#o.destinationId);
    if (saved.pacedRate !== null) this.#o.bucket.restoreRate(saved.pacedRate);
    if (saved.lastDeliveryAt !== null) this.#o.bucket.refilledFor(now - saved.lastDeliveryAt);
    this.#savedRate = this.#isAtCeiling() ? null : this.#o.bucket.ratePerSecond;
    if (saved.rateLimitedUntil !== null && saved.rateLimitedUntil > now) {
      this.#rateLimitedUntil = saved.rateLimitedUntil;
      this.#o.bucket.pause(saved.rateLimitedUntil - now);
    }
  }

  /**
   * A request was answered `429`: with a `Retry-After`, pause the whole destination for it; if 429s recur (this
   * one came within 100 successful requests of the last, or the rate is already lowered), also lower the rate
   * (multiplicative decrease). Saved at once.
   */
  onThrottled(retryAfterMs: number | null, now = Date.now()): void {
    const { bucket } = this.#o;
    const isRecurring =
      this.#successesSinceThrottle < RECURRING_WITHIN || bucket.ratePerSecond < bucket.ceiling;
    this.#successesSinceThrottle = 0;
    if (isRecurring) bucket.decrease();
    if (retryAfterMs !== null) {
      this.#o.bucket.pause(retryAfterMs);
      this.#rateLimitedUntil = Math.max(this.#rateLimitedUntil ?? 0, now + retryAfterMs);
    }
    this.#save();
  }

  /**
   * A request succeeded: it earns back part of a retry token and a step of rate (additive increase). The rate is
   * saved when it is back at the ceiling or has moved a tenth from the saved one.
   */
  onSuccess(): void {
    this.#budget.onSuccess();
    this.#successesSinceThrottle += 1;
    const before = this.#o.bucket.ratePerSecond;
    const rate = this.#o.bucket.increase();
    if (rate === before) return;
    const saved = this.#savedRate ?? this.#o.bucket.ceiling;
    if (this.#isAtCeiling() || Math.abs(rate - saved) >= saved / 10) this.#save();
  }

  /**
   * The retry decisions of one request: the first of its items to fail transiently decides, from the budget,
   * whether the request's retries are quick, so a batch that fails spends one token, not one per item.
   */
  forRequest(): RequestRetries {
    let isQuick: boolean | undefined;
    const budget = {
      trySpend: () => (isQuick ??= this.#budget.trySpend()),
    };
    let scheduled: 'quick' | 'backoff' | null = null;
    return {
      delayFor: (attempts) => {
        const delay = retryDelay(this.#o.policy, attempts, budget);
        scheduled = delay.isQuick ? 'quick' : (scheduled ?? 'backoff');
        return delay;
      },
      scheduled: () => scheduled,
    };
  }

  #isAtCeiling(): boolean {
    return this.#o.bucket.ratePerSecond >= this.#o.bucket.ceiling;
  }

  #save(): void {
    this.#savedRate = this.#isAtCeiling() ? null : this.#o.bucket.ratePerSecond;
    const until =
      this.#rateLimitedUntil !== null && this.#rateLimitedUntil > Date.now() ? this.#rateLimitedUntil : null;
    this.#o.repo.savePacing(this.#o.destinationId, { rateLimitedUntil: until, pacedRate: this.#savedRate });
  }
}

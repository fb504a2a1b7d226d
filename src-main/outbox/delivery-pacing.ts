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

/** One request's view of the retry budget: the first item that fails spends; the others follow its answer. */
export type RequestRetries = Readonly<{
  /** The wait before retrying an item after its `attempts`-th failure, and whether it is a quick retry. */
  delayFor: (attempts: number) => { delayMs: number; isQuick: boolean };
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
   * A request was answered `429`: lower the rate (multiplicative decrease) and, with a `Retry-After`, pause the
   * whole destination for it. Saved at once.
   */
  onThrottled(retryAfterMs: number | null, now = Date.now()): void {
    this.#o.bucket.decrease();
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
    return { delayFor: (attempts) => retryDelay(this.#o.policy, attempts, budget) };
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

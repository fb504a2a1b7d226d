/**
 * A token bucket per destination, sized from the API's documented limit and adjusted from its responses.
 * Hand-written (a few lines) because it must be re-sized at run time from headers, which the general-purpose
 * limiter packages do not offer.
 */
export class TokenBucket {
  #ratePerSecond: number;
  #capacity: number;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;

  constructor(ratePerSecond: number, capacity: number, now: () => number = () => performance.now()) {
    this.#ratePerSecond = ratePerSecond;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#now = now;
    this.#updatedAt = now();
  }

  get ratePerSecond(): number {
    return this.#ratePerSecond;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#capacity,
      this.#tokens + ((now - this.#updatedAt) / 1000) * this.#ratePerSecond,
    );
    this.#updatedAt = now;
  }

  /** Milliseconds until `n` tokens are available (0 when they are now). */
  waitTime(n = 1): number {
    this.#refill();
    return this.#tokens >= n ? 0 : Math.ceil(((n - this.#tokens) / this.#ratePerSecond) * 1000);
  }

  /** Takes `n` tokens; call after `waitTime(n)` returned 0. */
  take(n = 1): void {
    this.#refill();
    this.#tokens -= n;
  }

  /** Re-sizes from what the destination said: its rate, or how many calls remain before a reset. */
  adjust(hint: Readonly<{ perSecond?: number; remaining?: number; resetAfterMs?: number }>): void {
    this.#refill();
    if (hint.perSecond !== undefined && hint.perSecond > 0) {
      this.#ratePerSecond = hint.perSecond;
      this.#capacity = Math.max(1, Math.min(this.#capacity, hint.perSecond * 2));
    }
    if (hint.remaining !== undefined) this.#tokens = Math.min(this.#tokens, hint.remaining);
    // Nothing left until the window resets: wait for it rather than collect 429s.
    if (hint.remaining === 0 && hint.resetAfterMs !== undefined && hint.resetAfterMs > 0)
      this.pause(hint.resetAfterMs);
  }

  /** Empties the bucket for `ms` (after a 429 with Retry-After). */
  pause(ms: number): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, -(ms / 1000) * this.#ratePerSecond);
  }
}

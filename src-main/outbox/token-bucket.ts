/**
 * A token bucket per destination, sized from the API's documented limit and adjusted from its responses.
 * Hand-written (a few lines) because it must be re-sized at run time from headers, which the general-purpose
 * limiter packages do not offer.
 *
 * Its rate is paced by AIMD (as TCP's congestion window, and the AWS SDKs' adaptive retry mode): a recurring
 * `429` halves it (`decrease`, called by `delivery-pacing.ts`), each successful request adds a small step back
 * (`increase`), never above the ceiling (the configured `requestsPerSecond`, or the limit the destination
 * announces). A destination whose real limit is below the configured one is thus sent at about its limit, and
 * 429s become rare instead of recurring.
 */
export class TokenBucket {
  #ratePerSecond: number;
  /** The rate AIMD climbs back to: the configured or the announced limit. */
  #ceiling: number;
  #capacity: number;
  /** The burst at the ceiling; the burst shrinks with the rate. */
  #fullCapacity: number;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;

  constructor(ratePerSecond: number, capacity: number, now: () => number = () => performance.now()) {
    this.#ratePerSecond = ratePerSecond;
    this.#ceiling = ratePerSecond;
    this.#capacity = capacity;
    this.#fullCapacity = capacity;
    this.#tokens = capacity;
    this.#now = now;
    this.#updatedAt = now();
  }

  get ratePerSecond(): number {
    return this.#ratePerSecond;
  }

  /** The highest rate the bucket sends at: the configured or the announced limit. */
  get ceiling(): number {
    return this.#ceiling;
  }

  /** The lowest rate a `decrease` goes to: a 32nd of the ceiling. */
  get floor(): number {
    return this.#ceiling / 32;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#capacity,
      this.#tokens + ((now - this.#updatedAt) / 1000) * this.#ratePerSecond,
    );
    this.#updatedAt = now;
  }

  /** Sets the rate (within floor and ceiling) and scales the burst with it. */
  #setRate(rate: number): void {
    this.#refill();
    this.#ratePerSecond = Math.min(this.#ceiling, Math.max(this.floor, rate));
    this.#capacity = Math.max(1, this.#fullCapacity * (this.#ratePerSecond / this.#ceiling));
    this.#tokens = Math.min(this.#tokens, this.#capacity);
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
      // A rate AIMD lowered after a 429 stays lowered (it climbs back by itself); otherwise the announced rate.
      const isLowered = this.#ratePerSecond < this.#ceiling;
      this.#ceiling = hint.perSecond;
      this.#fullCapacity = Math.max(1, Math.min(this.#fullCapacity, hint.perSecond * 2));
      this.#setRate(isLowered ? Math.min(this.#ratePerSecond, hint.perSecond) : hint.perSecond);
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

  /** Multiplicative decrease after a `429`: half the rate, down to the floor. Returns the new rate. */
  decrease(): number {
    this.#setRate(this.#ratePerSecond / 2);
    return this.#ratePerSecond;
  }

  /**
   * Additive increase after a successful request: a 100th of the ceiling, up to the ceiling (from half the
   * ceiling back to it takes 50 successes). Returns the new rate.
   */
  increase(): number {
    if (this.#ratePerSecond < this.#ceiling) this.#setRate(this.#ratePerSecond + this.#ceiling / 100);
    return this.#ratePerSecond;
  }

  /**
   * At start, after a restart: the destination's own bucket may still be short of tokens from the requests just
   * before, so hold no more than `elapsedMs` since the last request refilled (as if it was empty then), not a full
   * burst that would draw 429s.
   */
  refilledFor(elapsedMs: number): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, (Math.max(0, elapsedMs) / 1000) * this.#ratePerSecond);
  }

  /** Sets a rate learned earlier (restored after a restart), within floor and ceiling. */
  restoreRate(rate: number): void {
    this.#setRate(rate);
  }
}

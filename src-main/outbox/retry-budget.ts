/**
 * A retry budget per destination, as gRPC's retry throttling and the AWS SDKs' retry quota do: a quick retry
 * spends a token, each successful request earns part of one back. While the destination mostly succeeds the
 * budget stays full and a transient failure is retried at once; when failures dominate it empties and retries
 * fall back to the exponential backoff, so retry traffic is bounded: over any stretch, quick retries are at most
 * `capacity + earnPerSuccess × successes`.
 *
 * Hand-written (a few lines, unit-tested) rather than cockatiel's policies: cockatiel has no shared budget that
 * successes refill, and the dispatcher needs to ask "may this retry be quick?" without running the send inside a
 * policy.
 */
export class RetryBudget {
  readonly #capacity: number;
  readonly #earnPerSuccess: number;
  #tokens: number;

  /**
   * @param capacity tokens held at most (and at start): how many quick retries a burst of failures may take.
   * @param earnPerSuccess tokens a successful request earns back; 0.5 bounds quick retries to about a third of
   *   requests once the initial tokens are spent.
   */
  constructor(capacity = 10, earnPerSuccess = 0.5) {
    if (!(capacity >= 1 && earnPerSuccess > 0))
      throw new RangeError('a retry budget needs capacity >= 1 and earnPerSuccess > 0');
    this.#capacity = capacity;
    this.#earnPerSuccess = earnPerSuccess;
    this.#tokens = capacity;
  }

  /** Tokens left (for metrics and tests). */
  get tokens(): number {
    return this.#tokens;
  }

  /** A request succeeded: earn part of a token back, up to the capacity. */
  onSuccess(): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens + this.#earnPerSuccess);
  }

  /**
   * A transient failure wants a quick retry: spends a token and answers true when one is there; false (nothing
   * spent) when the budget is empty, and the caller backs off instead.
   */
  trySpend(): boolean {
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

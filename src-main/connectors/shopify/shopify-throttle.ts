import type { RateHint } from '../port/connector.js';

/** Shopify's `extensions.cost.throttleStatus`: the leaky bucket of one app on one store, in cost points. */
export type ThrottleStatus = Readonly<{
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}>;

/** The bucket Shopify documents for the Admin GraphQL API, assumed until a response says otherwise. */
export const DEFAULT_THROTTLE: ThrottleStatus = {
  maximumAvailable: 1000,
  currentlyAvailable: 1000,
  restoreRate: 50,
};

/**
 * Backroom's view of the shop's leaky bucket, so that no request leaves while Shopify would throttle it.
 *
 * Each answer's `throttleStatus` resets the view; between answers it is restored at `restoreRate` and charged
 * the requested cost of every request sent (Shopify takes the requested cost up front and gives back the unused
 * part when it answers). Requests still in flight when an answer arrives stay charged, so the view errs low.
 * Before the first answer nothing is known and every request may go.
 */
export class ShopifyThrottle {
  #status: ThrottleStatus | null = null;
  #available = 0;
  #at = 0;
  readonly #inFlight: number[] = [];
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** The last bucket Shopify reported, or the documented default before any. */
  get status(): ThrottleStatus {
    return this.#status ?? DEFAULT_THROTTLE;
  }

  /** Whether Shopify has reported its bucket yet. */
  get isKnown(): boolean {
    return this.#status !== null;
  }

  #restore(): void {
    const now = this.#now();
    if (this.#status !== null)
      this.#available = Math.min(
        this.#status.maximumAvailable,
        this.#available + ((now - this.#at) / 1000) * this.#status.restoreRate,
      );
    this.#at = now;
  }

  /** Points expected in the bucket now (`Infinity` before Shopify has said anything). */
  available(): number {
    if (this.#status === null) return Number.POSITIVE_INFINITY;
    this.#restore();
    return this.#available;
  }

  /**
   * Milliseconds until a request of `cost` points can go without being throttled: 0 when it can now, `Infinity`
   * when it never can (it costs more than the whole bucket).
   */
  waitMs(cost: number): number {
    if (this.#status === null) return 0;
    if (cost > this.#status.maximumAvailable) return Number.POSITIVE_INFINITY;
    const available = this.available();
    if (available >= cost) return 0;
    return Math.ceil(((cost - available) / this.#status.restoreRate) * 1000);
  }

  /** A request of `cost` points is being sent. */
  begin(cost: number): void {
    this.#restore();
    this.#inFlight.push(cost);
    if (this.#status !== null && cost <= this.#status.maximumAvailable) this.#available -= cost;
  }

  /** The request of `cost` points got its answer; `status` is what the answer said about the bucket, if anything. */
  end(cost: number, status: ThrottleStatus | null): void {
    const at = this.#inFlight.indexOf(cost);
    if (at >= 0) this.#inFlight.splice(at, 1);
    if (status === null) return;
    this.#status = status;
    this.#at = this.#now();
    // The answer counts this request; others still in flight are charged again, as they may not be counted yet
    // (except one costing more than the whole bucket, which Shopify refuses without charging).
    const pending = this.#inFlight.filter((c) => c <= status.maximumAvailable).reduce((a, b) => a + b, 0);
    this.#available = status.currentlyAvailable - pending;
  }

  /**
   * The bucket in the engine's terms, for requests of about `costPerRequest` points: requests per second at the
   * restore rate, how many fit now, and when none does, how long until one does.
   *
   * @example
   * // 1000 points, 40 left, restoring 50 a second; a send costs 25:
   * throttle.rateHint(25) // { perSecond: 2, remaining: 1 }
   */
  rateHint(costPerRequest: number): RateHint {
    const { restoreRate } = this.status;
    const cost = Math.max(1, costPerRequest);
    const available = this.available();
    const perSecond = restoreRate / cost;
    if (!Number.isFinite(available)) return { perSecond };
    const remaining = Math.max(0, Math.floor(available / cost));
    return remaining > 0
      ? { perSecond, remaining }
      : { perSecond, remaining, resetAfterMs: this.waitMs(cost) };
  }

  /** How long to wait after Shopify answered `THROTTLED` to a request of `requestedCost` points. */
  static throttledWaitMs(requestedCost: number, status: ThrottleStatus): number {
    const missing = Math.max(1, requestedCost - status.currentlyAvailable);
    return Math.ceil((missing / Math.max(0.001, status.restoreRate)) * 1000);
  }
}

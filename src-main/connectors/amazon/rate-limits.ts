import { setTimeout as sleep } from 'node:timers/promises';

/** The SP-API operations this connector calls. */
export type SpOperation =
  | 'getListingsItem'
  | 'patchListingsItem'
  | 'createFeedDocument'
  | 'createFeed'
  | 'getFeed'
  | 'getFeedDocument'
  | 'getOrders'
  | 'getOrder'
  | 'getOrderItems'
  | 'confirmShipment';

/** A usage plan: requests per second and burst (the bucket's size). */
export type UsagePlan = Readonly<{ rate: number; burst: number }>;

/**
 * The default usage plans as the official models state them in each operation's description ("Usage Plan: Rate
 * (requests per second) | Burst"); a unit test checks these against the models, so a change there is noticed.
 * The live rate can differ per seller: `x-amzn-RateLimit-Limit` on each answer re-sizes the bucket.
 */
export const DOCUMENTED_PLANS: Readonly<Record<SpOperation, UsagePlan>> = {
  getListingsItem: { rate: 5, burst: 10 },
  patchListingsItem: { rate: 5, burst: 5 },
  createFeedDocument: { rate: 0.5, burst: 15 },
  createFeed: { rate: 0.0083, burst: 15 },
  getFeed: { rate: 2, burst: 15 },
  getFeedDocument: { rate: 0.0222, burst: 10 },
  getOrders: { rate: 0.0167, burst: 20 },
  getOrder: { rate: 0.5, burst: 30 },
  getOrderItems: { rate: 0.5, burst: 30 },
  confirmShipment: { rate: 2, burst: 10 },
};

/**
 * We pace at this share of the announced rate: the bucket at Amazon refills by the clock of its own, and a
 * request's arrival can lag its departure by a different amount each time, so pacing at exactly the rate would
 * now and then arrive a hair early and draw a 429.
 */
const SAFETY = 0.9;

/**
 * One operation's token bucket, on our side of the wire. Unlike the engine's `TokenBucket`, a new rate from
 * `x-amzn-RateLimit-Limit` keeps the documented burst (Amazon's header states the rate only).
 */
export class OperationBucket {
  #rate: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;
  /** 429s in a row. */
  #strikes = 0;
  readonly #now: () => number;

  constructor(plan: UsagePlan, now: () => number = () => performance.now()) {
    this.#rate = plan.rate * SAFETY;
    this.#burst = plan.burst;
    this.#tokens = plan.burst;
    this.#now = now;
    this.#updatedAt = now();
  }

  /** Requests per second we pace at (the announced rate, less a safety margin). */
  get rate(): number {
    return this.#rate;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate);
    this.#updatedAt = now;
  }

  /** Milliseconds until a token is there (0: now). */
  waitTime(): number {
    this.#refill();
    // A hair of slack for floating point: a bucket refilled to 0.9999999 has its token.
    return this.#tokens >= 1 - 1e-9 ? 0 : Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
  }

  /** Takes a token; call after `waitTime()` returned 0. */
  take(): void {
    this.#refill();
    this.#tokens -= 1;
  }

  /** Whole tokens there now. */
  available(): number {
    this.#refill();
    return Math.max(0, Math.floor(this.#tokens));
  }

  /** Applies the rate Amazon announced for this operation (`x-amzn-RateLimit-Limit`). */
  setAnnouncedRate(perSecond: number): void {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) return;
    this.#refill();
    this.#rate = perSecond * SAFETY;
  }

  /** After a 429: nothing until `ms` from now. */
  holdFor(ms: number): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, 1 - (ms / 1000) * this.#rate);
  }

  /**
   * A 429 came: holds the bucket for `retryAfterMs` when Amazon said (SP-API rarely does), else for the time
   * of one token at the rate we know, doubled for each 429 in a row (the seller's real rate may be lower than
   * the documented one, and a 429 carries no `x-amzn-RateLimit-Limit`), up to a minute. Returns the hold.
   */
  throttled(retryAfterMs: number | null): number {
    this.#strikes += 1;
    const ms = retryAfterMs ?? Math.min(60_000, Math.ceil(1000 / this.#rate) * 2 ** (this.#strikes - 1));
    this.holdFor(ms);
    return ms;
  }

  /** An answer other than 429 came: the next 429 starts from one token's time again. */
  answered(): void {
    this.#strikes = 0;
  }
}

/** Why no token was taken: the wait would pass the caller's deadline. */
export type Throttled = Readonly<{ waitMs: number }>;

/** The buckets of every operation, shared by the sends, the order pulls and the level reads of one destination. */
export class RateLimits {
  readonly #buckets: Record<SpOperation, OperationBucket>;

  constructor(now?: () => number) {
    const entries = Object.entries(DOCUMENTED_PLANS).map(([op, plan]) => [
      op,
      new OperationBucket(plan, now),
    ]);
    this.#buckets = Object.fromEntries(entries) as Record<SpOperation, OperationBucket>;
  }

  bucket(op: SpOperation): OperationBucket {
    return this.#buckets[op];
  }

  /**
   * Takes a token of `op`, waiting for it if it comes before `deadline` (epoch ms); otherwise takes nothing and
   * says how long it would be. Rejects with the signal's reason when the signal fires while waiting.
   */
  async acquire(op: SpOperation, deadline: number, signal: AbortSignal): Promise<Throttled | null> {
    const bucket = this.#buckets[op];
    // Bounded: each pass either takes the token or sleeps until one is due; a concurrent caller that took it
    // first only costs another pass.
    for (let pass = 0; pass < 100; pass += 1) {
      const waitMs = bucket.waitTime();
      if (waitMs === 0) {
        bucket.take();
        return null;
      }
      if (Date.now() + waitMs > deadline) return { waitMs };
      await sleep(waitMs, undefined, { signal });
    }
    return { waitMs: bucket.waitTime() };
  }
}

/** How a destination retries: exponential backoff with full jitter up to a cap, and when to give up. */
export type RetryPolicy = Readonly<{
  /** First retry waits up to this long. */
  baseDelayMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
  /** After this many failed attempts an item becomes a dead-letter exception. */
  maxAttempts: number;
  /** An item older than this that still fails becomes a dead-letter exception. */
  maxAgeMs: number;
}>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 50,
  maxAgeMs: 7 * 24 * 3600_000,
};

/**
 * Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): a uniform wait in
 * [0, min(cap, base · 2^(attempt−1))], which spreads the retries of many stores after an outage.
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempt - 1)),
  );
  return Math.floor(random() * ceiling);
}

import type { RetryBudget } from './retry-budget.js';

/**
 * How a destination retries: a few quick retries while its retry budget lasts, then exponential backoff with full
 * jitter up to a cap, and when to give up.
 */
export type RetryPolicy = Readonly<{
  /** First retry waits up to this long. */
  baseDelayMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
  /** After this many failed attempts an item becomes a dead-letter exception. */
  maxAttempts: number;
  /** An item older than this that still fails becomes a dead-letter exception. */
  maxAgeMs: number;
  /**
   * The first this many failed attempts of an item are retried quickly (within `quickDelayMs`) while the
   * destination's retry budget has tokens; later ones back off. Default 3; 0 turns quick retries off.
   */
  quickRetries?: number;
  /** A quick retry waits a uniform random time up to this. Default 100 ms. */
  quickDelayMs?: number;
}>;

const QUICK_RETRIES = 3;
const QUICK_DELAY_MS = 100;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 50,
  maxAgeMs: 7 * 24 * 3600_000,
  quickRetries: QUICK_RETRIES,
  quickDelayMs: QUICK_DELAY_MS,
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

/**
 * The wait before retrying an item after its `attempts`-th transient failure. Quick (a few jittered
 * milliseconds, spending a token of `budget`) while the item has failed at most `quickRetries` times and the
 * budget has a token: an intermittent failure costs one short wait, not a second of backoff. Otherwise the
 * exponential backoff, counted from the first attempt past the quick ones, so an item that keeps failing (or a
 * destination failing most requests, which empties the budget) backs off as before.
 *
 * @example
 * const { delayMs, isQuick } = retryDelay(policy, item.attempts + 1, budget);
 */
export function retryDelay(
  policy: RetryPolicy,
  attempts: number,
  budget: Pick<RetryBudget, 'trySpend'>,
  random: () => number = Math.random,
): { delayMs: number; isQuick: boolean } {
  const quickRetries = policy.quickRetries ?? QUICK_RETRIES;
  if (attempts <= quickRetries && budget.trySpend())
    return {
      delayMs: Math.floor(random() * (policy.quickDelayMs ?? QUICK_DELAY_MS)),
      isQuick: true,
    };
  return { delayMs: backoffDelay(policy, Math.max(1, attempts - quickRetries), random), isQuick: false };
}

import type { DeliveryResult } from '../port/connector.js';

/** Reads Retry-After: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined || value.trim() === '') return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date starts with the day name. Date.parse alone is too lenient: it reads "-5" as a date in 2001,
  // which would make a garbled Retry-After mean "retry at once" instead of falling back to backoff.
  if (!/^[A-Za-z]/.test(text)) return null;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Classifies an HTTP status by the webhook contract (CONTRACT.md), the default for HTTP connectors. */
export function classifyStatus(
  status: number,
  retryAfter: string | undefined,
  detail: string,
): DeliveryResult {
  if ((status >= 200 && status < 300) || status === 409)
    return status === 409 ? { kind: 'already_applied' } : { kind: 'delivered' };
  if (status === 429) return { kind: 'rate_limited', retryAfterMs: parseRetryAfter(retryAfter), detail };
  if (status === 408 || status === 425 || status >= 500) return { kind: 'retry', detail };
  if (status === 401 || status === 403) return { kind: 'auth_failed', detail };
  return { kind: 'rejected', detail };
}

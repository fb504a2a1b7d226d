import { createHmac } from 'node:crypto';
import { classifyStatus } from '../http/classify-status.js';
import { classifyTransportError, type TransportFailure } from '../http/classify-transport-error.js';
import { createHttpClient } from '../http/create-http-client.js';
import type { DeliveryResult, RateHint } from '../port/connector.js';

export type SignedPosterOptions = Readonly<{
  url: string;
  /** HMAC-SHA256 key for `X-Backroom-Signature`. */
  secret: string;
  agentId: string;
  /** Per-request timeout; a timeout after the request was sent is an `unknown` outcome. */
  timeoutMs?: number;
}>;

/** One answer: the result, and what the receiver said about its rate limit, if anything. */
export type PostAnswer = { result: DeliveryResult; rate?: RateHint };

/**
 * Reads the receiver's rate-limit headers: `RateLimit-Remaining`/`RateLimit-Reset` (IETF draft; reset in seconds)
 * or the common `X-RateLimit-Remaining`/`X-RateLimit-Reset` (seconds, or an epoch time in seconds).
 */
export function readRateHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  now = Date.now(),
): RateHint | undefined {
  const read = (name: string) => {
    const value = headers[name] ?? headers[`x-${name}`];
    const text = Array.isArray(value) ? value[0] : value;
    return text !== undefined && /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : undefined;
  };
  const remaining = read('ratelimit-remaining');
  const reset = read('ratelimit-reset');
  if (remaining === undefined) return undefined;
  if (reset === undefined) return { remaining };
  const resetAfterMs = reset > 1e9 ? Math.max(0, reset * 1000 - now) : reset * 1000;
  return { remaining, resetAfterMs };
}

/**
 * The receiver's answer in a few words: its own `message` (or `error`, `detail`, `title`) when the body is JSON
 * that has one, else the start of the body; staff read this in the exception.
 */
export function describeAnswer(status: number, body: string): string {
  let said = body.trim().slice(0, 200);
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const text = [json.message, json.error, json.detail, json.title].find((v) => typeof v === 'string');
    if (typeof text === 'string') said = text.slice(0, 300);
  } catch {
    // not JSON: keep the text
  }
  return said === '' ? `HTTP ${status}` : `HTTP ${status}: ${said}`;
}

/**
 * A request without an answer: `retry` when it never reached the receiver, `unknown` when it may have (the
 * retry carries the same Idempotency-Key, so a receiver that applied it answers 2xx or 409).
 */
function transportResult(failure: TransportFailure): DeliveryResult {
  if (failure.kind === 'not_sent')
    return failure.timeout === null
      ? { kind: 'retry', detail: `${failure.code}: ${failure.message}` }
      : { kind: 'retry', detail: `timed out connecting (${failure.timeout})` };
  return failure.timeout === null
    ? { kind: 'unknown', detail: `${failure.code}: ${failure.message}` }
    : { kind: 'unknown', detail: 'no answer in time after the request was sent' };
}

/**
 * POSTs a JSON body signed with `X-Backroom-Signature: sha256=<hex HMAC-SHA256 of the body>` and classifies the
 * answer by the webhook contract (CONTRACT.md), through the HTTP kit (got's own retries off: the engine owns
 * retries).
 */
export function createSignedPoster(
  options: SignedPosterOptions,
): (body: string, idempotencyKey: string | undefined, signal: AbortSignal) => Promise<PostAnswer> {
  const client = createHttpClient({
    agentId: options.agentId,
    timeoutMs: options.timeoutMs ?? 10_000,
    headers: { 'content-type': 'application/json' },
  });
  const sign = (body: string) => `sha256=${createHmac('sha256', options.secret).update(body).digest('hex')}`;
  return async (body, key, signal) => {
    try {
      const response = await client.post(options.url, {
        body,
        signal,
        headers: {
          'x-backroom-signature': sign(body),
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
      });
      const result = classifyStatus(
        response.statusCode,
        response.headers['retry-after'],
        describeAnswer(response.statusCode, response.body),
      );
      const rate = readRateHeaders(response.headers);
      return rate === undefined ? { result } : { result, rate };
    } catch (error) {
      const failure = classifyTransportError(error);
      if (failure === null) throw error;
      return { result: transportResult(failure) };
    }
  };
}

import { createHmac } from 'node:crypto';
import got, { RequestError, TimeoutError } from 'got';
import { classifyStatus } from '../http/classify-status.js';
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

/** Phases of got's timeout before which nothing reached the destination. */
const BEFORE_SEND = new Set(['lookup', 'connect', 'secureConnect']);

/**
 * POSTs a JSON body signed with `X-Backroom-Signature: sha256=<hex HMAC-SHA256 of the body>` and classifies the
 * answer by the webhook contract (CONTRACT.md). got's own retries are off: the engine owns retries.
 */
export function createSignedPoster(
  options: SignedPosterOptions,
): (body: string, idempotencyKey: string | undefined, signal: AbortSignal) => Promise<PostAnswer> {
  const client = got.extend({
    timeout: { request: options.timeoutMs ?? 10_000 },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    headers: { 'content-type': 'application/json', 'user-agent': `backroom/${options.agentId}` },
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
      if (error instanceof TimeoutError) {
        return BEFORE_SEND.has(error.event)
          ? { result: { kind: 'retry', detail: `timed out connecting (${error.event})` } }
          : { result: { kind: 'unknown', detail: 'no answer in time after the request was sent' } };
      }
      if (error instanceof RequestError)
        return { result: { kind: 'retry', detail: `${error.code}: ${error.message}` } };
      throw error;
    }
  };
}

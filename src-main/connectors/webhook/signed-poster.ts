import { createHmac } from 'node:crypto';
import got, { RequestError, TimeoutError } from 'got';
import { classifyStatus, type DeliveryResult } from '../../outbox/connector.js';

export type SignedPosterOptions = Readonly<{
  url: string;
  /** HMAC-SHA256 key for `X-Backroom-Signature`. */
  secret: string;
  agentId: string;
  /** Per-request timeout; a timeout after the request was sent is an `unknown` outcome. */
  timeoutMs?: number;
}>;

/** Phases of got's timeout before which nothing reached the destination. */
const BEFORE_SEND = new Set(['lookup', 'connect', 'secureConnect']);

/**
 * POSTs a JSON body signed with `X-Backroom-Signature: sha256=<hex HMAC-SHA256 of the body>` and classifies the
 * answer by the webhook contract (CONTRACT.md). got's own retries are off: the engine owns retries.
 */
export function createSignedPoster(
  options: SignedPosterOptions,
): (body: string, idempotencyKey: string | undefined, signal: AbortSignal) => Promise<DeliveryResult> {
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
      return classifyStatus(
        response.statusCode,
        response.headers['retry-after'],
        `HTTP ${response.statusCode} ${response.body.slice(0, 200)}`.trim(),
      );
    } catch (error) {
      if (error instanceof TimeoutError) {
        return BEFORE_SEND.has(error.event)
          ? { kind: 'retry', detail: `timed out connecting (${error.event})` }
          : { kind: 'unknown', detail: 'no answer in time after the request was sent' };
      }
      if (error instanceof RequestError) return { kind: 'retry', detail: `${error.code}: ${error.message}` };
      throw error;
    }
  };
}

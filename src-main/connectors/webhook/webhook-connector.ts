import { createHmac } from 'node:crypto';
import got, { RequestError, TimeoutError, type Got } from 'got';
import type { ResolvedDestination } from '../../../shared/config.js';
import {
  classifyStatus,
  type Connector,
  type DeliveryResult,
  type LedgerItem,
  type SendOutcome,
} from '../../outbox/connector.js';

type WebhookConfig = Extract<ResolvedDestination, { type: 'webhook' }>;

export type WebhookOptions = Readonly<{
  agentId: string;
  /** Per-request timeout; a timeout after the request was sent is an `unknown` outcome. */
  timeoutMs?: number;
}>;

/** Phases of got's timeout before which nothing reached the destination. */
const BEFORE_SEND = new Set(['lookup', 'connect', 'secureConnect']);

/**
 * The webhook destination of CONTRACT.md. Exactly-once effect: every request carries
 * `Idempotency-Key: <agentId>:<source>:<event id>`, reused by every retry, so a receiver that keeps the keys it
 * applied answers a retry with 2xx or 409 and applies nothing twice. The body is signed with
 * `X-Backroom-Signature: sha256=<hex HMAC-SHA256 of the body>`.
 *
 * One event a request by default; with `batchSize > 1` the body is `{ "events": [...] }`, each event carrying
 * its `idempotencyKey`, and the answer applies to the whole batch.
 */
export function createWebhookConnector(config: WebhookConfig, options: WebhookOptions): Connector {
  const client: Got = got.extend({
    timeout: { request: options.timeoutMs ?? 10_000 },
    retry: { limit: 0 }, // the engine owns retries
    throwHttpErrors: false,
    followRedirect: false,
    headers: { 'content-type': 'application/json', 'user-agent': `backroom/${options.agentId}` },
  });
  const sign = (body: string) => `sha256=${createHmac('sha256', config.secret).update(body).digest('hex')}`;
  const payload = (item: LedgerItem) => ({ ...item.event, agentId: options.agentId, seq: item.seq });

  async function post(body: string, key: string | undefined, signal: AbortSignal): Promise<DeliveryResult> {
    try {
      const response = await client.post(config.url, {
        body,
        signal,
        headers: {
          'x-backroom-signature': sign(body),
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
      });
      const retryAfter = response.headers['retry-after'];
      return classifyStatus(
        response.statusCode,
        retryAfter,
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
  }

  return {
    mode: 'ledger',
    maxBatch: config.batchSize,
    async send(items, signal): Promise<SendOutcome> {
      if (config.batchSize === 1 || items.length === 1) {
        const item = items[0]!;
        // One lane item at a time keeps order; the engine sends the next once this one is delivered.
        return { results: [await post(JSON.stringify(payload(item)), item.idempotencyKey, signal)] };
      }
      const body = JSON.stringify({
        events: items.map((item) => ({ ...payload(item), idempotencyKey: item.idempotencyKey })),
      });
      const result = await post(body, undefined, signal);
      return { results: items.map(() => result) };
    },
  };
}

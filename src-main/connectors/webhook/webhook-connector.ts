import type { ResolvedDestination } from '../../../shared/config.js';
import type { Connector, LedgerItem, SendOutcome } from '../port/connector.js';
import { createSignedPoster } from './signed-poster.js';

type WebhookConfig = Extract<ResolvedDestination, { type: 'webhook' }>;

/**
 * The webhook destination of CONTRACT.md. Exactly-once effect: every request carries
 * `Idempotency-Key: <agentId>:<source>:<event id>`, reused by every retry, so a receiver that keeps the keys it
 * applied answers a retry with 2xx or 409 and applies nothing twice. The body is signed with
 * `X-Backroom-Signature: sha256=<hex HMAC-SHA256 of the body>`.
 *
 * One event a request by default; with `batchSize > 1` the body is `{ "events": [...] }`, each event carrying
 * its `idempotencyKey`, and the answer applies to the whole batch.
 */
export function createWebhookConnector(
  config: WebhookConfig,
  options: Readonly<{ agentId: string }>,
): Connector {
  const post = createSignedPoster({ url: config.url, secret: config.secret, agentId: options.agentId });
  // A count carries the levels it left in the ledger (`levelsAfter`): what a receiver holding levels should set.
  const payload = (item: LedgerItem) => ({
    ...item.event,
    agentId: options.agentId,
    seq: item.seq,
    ...(item.levelsAfter === undefined ? {} : { levelsAfter: item.levelsAfter }),
  });
  return {
    mode: 'ledger',
    maxBatch: config.batchSize,
    async send(items, signal): Promise<SendOutcome> {
      if (items.length === 1) {
        const item = items[0]!;
        const { result, rate } = await post(JSON.stringify(payload(item)), item.idempotencyKey, signal);
        return rate === undefined ? { results: [result] } : { results: [result], rate };
      }
      const body = JSON.stringify({
        events: items.map((item) => ({ ...payload(item), idempotencyKey: item.idempotencyKey })),
      });
      const { result, rate } = await post(body, undefined, signal);
      const results = items.map(() => result);
      return rate === undefined ? { results } : { results, rate };
    },
  };
}

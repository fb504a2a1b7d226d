import type { ResolvedDestination } from '../../../shared/config.js';
import type { Connector, LevelItem, SendOutcome } from '../port/connector.js';
import { createSignedPoster } from '../webhook/signed-poster.js';

type LevelWebhookConfig = Extract<ResolvedDestination, { type: 'level_webhook' }>;

/**
 * A generic level destination: a marketplace or storefront of the retailer's own that takes stock levels over
 * HTTP. Each request is `POST <url>` with `{ "levels": [ { "sku", "location", "available", "version",
 * "idempotencyKey" } ] }`, signed like the webhook.
 *
 * Exactly-once effect: a level is absolute, so applying one twice changes nothing; the key
 * `<agentId>:<destination>:<sku>:<location>:v<version>` lets a receiver drop a replay, and `version` grows with
 * every change of the item, so a receiver keeping the highest version it applied never goes back to an older
 * level.
 */
export function createLevelWebhookConnector(
  config: LevelWebhookConfig,
  options: Readonly<{ agentId: string }>,
): Connector {
  const post = createSignedPoster({ url: config.url, secret: config.secret, agentId: options.agentId });
  return {
    mode: 'level',
    maxBatch: config.batchSize,
    async send(items: readonly LevelItem[], signal): Promise<SendOutcome> {
      const body = JSON.stringify({
        levels: items.map((item) => ({
          sku: item.sku,
          location: item.location,
          available: item.quantity,
          version: item.version,
          idempotencyKey: `${options.agentId}:${config.id}:${item.sku}:${item.location}:v${item.version}`,
        })),
      });
      const { result, rate } = await post(body, undefined, signal);
      const results = items.map(() => result);
      return rate === undefined ? { results } : { results, rate };
    },
  };
}

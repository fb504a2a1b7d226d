import type { ResolvedDestination } from '../../shared/config.js';
import type { ConnectorBundle } from './port/connector-bundle.js';
import type { ConnectorContext } from './port/connector-context.js';
import { createAmazonConnector } from './amazon/amazon-connector.js';
import { createNatsConnector } from './nats/nats-connector.js';
import { createLevelWebhookConnector } from './level-webhook/level-webhook-connector.js';
import { createShopifyConnector } from './shopify/shopify-connector.js';
import { createTrytonConnector } from './tryton/tryton-connector.js';
import { createTrytonCatalog } from './tryton/tryton-catalog.js';
import { createVendureConnector } from './vendure/vendure-connector.js';
import { createWebhookConnector } from './webhook/webhook-connector.js';

/**
 * The connector of a destination, with what else its API offers (orders to pull, levels to read back), or null
 * for a type whose connector is not built yet (its items stay queued, visible in status and metrics). The
 * engine never imports a vendor module: this registry is the one place that knows them.
 */
export function createConnector(
  destination: ResolvedDestination,
  context: ConnectorContext,
  agent: Readonly<{ locations: readonly Readonly<{ id: string; name: string }>[] }> = { locations: [] },
): ConnectorBundle | null {
  switch (destination.type) {
    case 'webhook':
      return { connector: createWebhookConnector(destination, { agentId: context.agentId }) };
    case 'level_webhook':
      return { connector: createLevelWebhookConnector(destination, { agentId: context.agentId }) };
    case 'shopify':
      return createShopifyConnector(destination, context, { localLocations: agent.locations });
    case 'amazon':
      return createAmazonConnector(destination, context);
    case 'tryton': {
      const bundle = createTrytonConnector(destination, context);
      return destination.catalog ? { ...bundle, catalog: createTrytonCatalog(destination, context) } : bundle;
    }
    case 'nats':
      return createNatsConnector(destination, context);
    case 'vendure':
      return createVendureConnector(destination, context, { localLocations: agent.locations });
  }
}

/** Requests per second a destination takes, from its documented limits (webhook: configured). */
export function requestsPerSecond(destination: ResolvedDestination): number {
  switch (destination.type) {
    case 'webhook':
    case 'level_webhook':
      return destination.requestsPerSecond;
    case 'nats':
      // JetStream documents no request limit; a batch of 100 a send, 20 sends a second drains a backlog fast.
      return 20;
    case 'tryton':
      // The store's own ERP: each send is one event's calls, one at a time per lane.
      return 10;
    case 'shopify':
    case 'amazon':
    case 'vendure':
      // Sized again from each answer's rate information (cost throttle, x-amzn-RateLimit-Limit).
      return 2;
  }
}

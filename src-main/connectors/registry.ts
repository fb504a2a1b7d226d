import type { ResolvedDestination } from '../../shared/config.js';
import type { Connector } from '../outbox/connector.js';
import { createLevelWebhookConnector } from './level-webhook/level-webhook-connector.js';
import { createWebhookConnector } from './webhook/webhook-connector.js';

export type ConnectorContext = Readonly<{ agentId: string }>;

/**
 * The connector for a destination, or null for a type whose connector is not built yet (its items stay queued,
 * visible in status and metrics, and are delivered once it lands). The engine never imports a vendor module:
 * this registry is the one place that knows them.
 */
export function createConnector(
  destination: ResolvedDestination,
  context: ConnectorContext,
): Connector | null {
  switch (destination.type) {
    case 'webhook':
      return createWebhookConnector(destination, { agentId: context.agentId });
    case 'level_webhook':
      return createLevelWebhookConnector(destination, { agentId: context.agentId });
    case 'tryton':
    case 'nats':
    case 'shopify':
    case 'amazon':
    case 'vendure':
      return null;
  }
}

/** Requests per second a destination takes, from its documented limits (webhook: configured). */
export function requestsPerSecond(destination: ResolvedDestination): number {
  return destination.type === 'webhook' || destination.type === 'level_webhook'
    ? destination.requestsPerSecond
    : 2;
}

import type { ResolvedDestination } from '../../../shared/config.js';
import { probeFailure } from '../port/call-failure.js';
import type { ConnectorBundle, ProbeResult } from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';
import { connectorError, ShopifyClient, ShopifyRequestError } from './shopify-client.js';
import { ShopifyDiscovery } from './shopify-discovery.js';
import { createShopifyFulfilment } from './shopify-fulfilment.js';
import { readLevels } from './shopify-levels.js';
import { pullOrders } from './shopify-orders.js';
import { createShopifyPrices } from './shopify-prices.js';
import { ShopifyPublisher } from './shopify-publisher.js';
import { MAX_QUANTITIES, PROBE_COST, PROBE_QUERY, probeData } from './shopify-queries.js';

type ShopifyConfig = Extract<ResolvedDestination, { type: 'shopify' }>;

export type ShopifyConnectorOptions = Readonly<{
  /**
   * The agent's locations (`config.locations`): a Shopify location named like a local location's name is its
   * mapping, when the destination's `locationNames` does not say otherwise.
   */
  localLocations?: readonly Readonly<{ id: string; name: string }>[];
  /** Per-request timeout, over the destination's `timeoutMs` (tests); past it a publish's outcome is `unknown`. */
  timeoutMs?: number;
}>;

/** Longest a connection test waits for the bucket: a person is waiting for the answer. */
const PROBE_MAX_WAIT_MS = 5_000;

/**
 * The Shopify connector (Admin GraphQL API): publishes the available-to-sell per (inventory item, location) with
 * `inventorySetQuantities` (`shopify-publisher.ts`), pulls orders (`shopify-orders.ts`), reads levels back
 * (`shopify-levels.ts`), records the warehouse's shipments as fulfilments (`shopify-fulfilment.ts`). See README.md beside this file.
 *
 * @example
 * const bundle = createShopifyConnector(destination, context, { localLocations: config.locations });
 */
export function createShopifyConnector(
  config: ShopifyConfig,
  context: ConnectorContext,
  options: ShopifyConnectorOptions = {},
): ConnectorBundle {
  const client = new ShopifyClient({
    url: config.url,
    accessToken: config.accessToken,
    apiVersion: config.apiVersion,
    agentId: context.agentId,
    timeoutMs: options.timeoutMs ?? config.timeoutMs ?? 20_000,
  });
  const discovery = new ShopifyDiscovery({
    client,
    mappings: context.mappings,
    locationNames: config.locationNames,
    localLocations: options.localLocations,
  });
  const publisher = new ShopifyPublisher({ destinationId: config.id, context, client, discovery });
  return {
    connector: {
      mode: 'level',
      maxBatch: Math.min(MAX_QUANTITIES, config.batchSize),
      send: (items, signal) => publisher.send(items, signal),
    },
    orders: {
      pullOrders: (since, cursor, signal) => pullOrders(client, context.mappings, since, cursor, signal),
    },
    levels: {
      measures: 'available',
      readLevels: (items, signal) => readLevels(client, context.mappings, items, signal),
    },
    fulfilments: createShopifyFulfilment(client, context.mappings),
    probe: (signal) => probe(client, config.apiVersion, signal),
    ...(config.prices === undefined ? {} : { prices: createShopifyPrices(client, discovery, context) }),
  };
}

/** The connection test: reads the shop's first location (3 points), which needs a valid access token. */
async function probe(client: ShopifyClient, apiVersion: string, signal: AbortSignal): Promise<ProbeResult> {
  try {
    const data = await client.request(
      {
        name: 'BackroomConnectionTest',
        query: PROBE_QUERY,
        variables: {},
        cost: PROBE_COST,
        data: probeData,
      },
      signal,
      { maxWaitMs: PROBE_MAX_WAIT_MS },
    );
    const first = data.locations.nodes[0];
    const { currentlyAvailable, maximumAvailable } = client.throttle.status;
    return {
      ok: true,
      detail:
        `Shopify accepted the access token (Admin API ${apiVersion}); ` +
        `${first === undefined ? 'the shop has no active location yet' : `its first location is "${first.name}"`}; ` +
        `${Math.floor(currentlyAvailable)} of ${maximumAvailable} rate-limit points free`,
    };
  } catch (error) {
    if (error instanceof ShopifyRequestError) return probeFailure(connectorError(error.failure));
    throw error;
  }
}

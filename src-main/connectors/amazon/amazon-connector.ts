import { createAmazonPrices } from './amazon-prices.js';
import type { ResolvedDestination } from '../../../shared/config.js';
import type { Connector } from '../port/connector.js';
import { probeFailure } from '../port/call-failure.js';
import type { ConnectorBundle, LevelReader, ProbeResult, RemoteLevel } from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';
import { createAmazonOrders } from './amazon-orders.js';
import { createAmazonShipments } from './amazon-shipments.js';
import { defaultChannelQuantity, getListingsItem, resolveSellerSku } from './listings-items.js';
import { ListingsPublisher } from './listings-publisher.js';
import { RateLimits } from './rate-limits.js';
import { SpApiClient, SpApiFailure, type CallBudget } from './sp-api-client.js';

export type AmazonDestination = Extract<ResolvedDestination, { type: 'amazon' }>;

/** Longest a level read waits, in all, for rate-limit tokens before it reports rate limited. */
const READ_WAIT_MS = 45_000;
/** Longest a connection test waits for a `getListingsItem` token: a person is waiting for the answer. */
const PROBE_WAIT_MS = 5_000;
/**
 * The seller SKU a connection test reads. Nobody lists it, so Amazon answers 404 — which, like a 200, shows the
 * token and the seller id were accepted (a wrong seller is refused with 403 or 400).
 */
const PROBE_SKU = 'backroom-connection-test';

/**
 * The Amazon Selling Partner API destination (level mode): publishes available-to-sell as the merchant-fulfilled
 * quantity of each listing (seller SKU), pulls merchant-fulfilled orders, and reads quantities back for
 * reconciliation. See README.md beside this file.
 *
 * @example
 * const bundle = createAmazonConnector(destination, context); // in the connector registry
 */
export function createAmazonConnector(config: AmazonDestination, context: ConnectorContext): ConnectorBundle {
  const log = context.logger.child({ module: 'amazon' });
  // Amazon holds one merchant-fulfilled quantity per SKU, whatever the number of stores behind it.
  if (config.locations?.length !== 1)
    log.warn(
      { locations: config.locations ?? 'all' },
      'an Amazon destination should publish one location: Amazon keeps one quantity per SKU, so several locations overwrite each other',
    );
  const limits = new RateLimits();
  const client = new SpApiClient({
    endpoint: config.endpoint,
    tokenUrl: config.tokenUrl,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    refreshToken: config.refreshToken,
    agentId: context.agentId,
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    limits,
    logger: log,
  });
  const seller = { sellerId: config.sellerId, marketplaceId: config.marketplaceId };
  const publisher = new ListingsPublisher({
    client,
    limits,
    ...seller,
    productType: config.productType,
    patchMaxItems: config.patchMaxItems,
    sendWaitMs: config.sendWaitSeconds * 1000,
    mappings: context.mappings,
    state: context.state,
    logger: log,
  });
  const connector: Connector = {
    mode: 'level',
    maxBatch: config.batchSize,
    send: (items, signal) => publisher.send(items, signal),
  };
  const levels: LevelReader = {
    measures: 'available',
    async readLevels(items, signal): Promise<RemoteLevel[]> {
      const budget: CallBudget = { deadline: Date.now() + READ_WAIT_MS, signal };
      const bySku = new Map<string, number | null>();
      try {
        for (const { sku } of items) {
          if (bySku.has(sku)) continue;
          const resolved = await resolveSellerSku(client, seller, context.mappings, sku, budget);
          let quantity: number | null = null;
          if (resolved !== null) {
            // A listing read for discovery already has its quantity; a mapped one is read now.
            const item =
              resolved.item ??
              (await getListingsItem(
                client,
                seller,
                resolved.sellerSku,
                ['fulfillmentAvailability'],
                budget,
              ));
            quantity = item === null ? null : defaultChannelQuantity(item);
          }
          bySku.set(sku, quantity);
        }
      } catch (error) {
        if (error instanceof SpApiFailure) throw error.toConnectorError();
        throw error;
      }
      return items.map(({ sku, location }) => ({ sku, location, quantity: bySku.get(sku) ?? null }));
    },
  };
  /**
   * The connection test: a fresh Login with Amazon token, then one `getListingsItem` (5 a second, the cheapest
   * read the connector's role grants; `getOrders` allows one a minute).
   */
  async function probe(signal: AbortSignal): Promise<ProbeResult> {
    try {
      await client.renewAccessToken();
      await getListingsItem(client, seller, PROBE_SKU, ['summaries'], {
        deadline: Date.now() + PROBE_WAIT_MS,
        signal,
      });
      return {
        ok: true,
        detail: `Login with Amazon issued an access token, and the Listings API answered for seller ${config.sellerId} in marketplace ${config.marketplaceId}`,
      };
    } catch (error) {
      return probeFailure(error);
    }
  }
  return {
    connector,
    probe,
    orders: createAmazonOrders({
      client,
      marketplaceId: config.marketplaceId,
      pageSize: config.ordersPageSize,
      mappings: context.mappings,
    }),
    fulfilments: createAmazonShipments({
      client,
      marketplaceId: config.marketplaceId,
      mappings: context.mappings,
    }),
    levels,
    ...(config.prices === undefined
      ? {}
      : {
          prices: createAmazonPrices({
            client,
            ...seller,
            productType: config.productType,
            mappings: context.mappings,
            sendWaitMs: config.sendWaitSeconds * 1000,
          }),
        }),
  };
}

import type { Logger } from '../../platform/logger.js';

/**
 * What a connector is given besides its destination's config: the agent id, the destination's identifier
 * mappings, a small key-value store of its own, and a logger. Everything here is synchronous (SQLite in the
 * agent's process), so a connector may call it on its send path.
 */
export type ConnectorContext = Readonly<{
  agentId: string;
  /** The identifier mappings of this destination. */
  mappings: IdMappings;
  /** A small persistent store of this destination (e.g. Shopify's last published quantities). */
  state: ConnectorState;
  logger: Logger;
  /**
   * Pulls this destination's orders now (when it pulls orders), resolving when done or failed. A marketplace
   * whose quantity changed under Backroom (Shopify's stale `changeFromQuantity`) calls it before publishing
   * again, so an order taken there is reserved here first.
   */
  requestOrderPull?: () => Promise<void>;
}>;

/**
 * Local → remote identifiers of one destination: items (a SKU to a Shopify inventory item, an Amazon seller
 * SKU, a Tryton product id, a Vendure variant id) and locations (a location id to a Shopify location, a Tryton
 * storage location, a Vendure stock location). Filled by CSV import, by staff in the UI, or by a connector's
 * discovery; a connector never invents a mapping it did not find.
 */
export type IdMappings = Readonly<{
  /** The remote id of a local SKU, or null when it is not mapped. */
  item: (sku: string) => string | null;
  /** The remote id of a local location, or null when it is not mapped. */
  location: (location: string) => string | null;
  /** The local SKU a remote item id is mapped from (orders coming in), or null. */
  skuOf: (remoteItemId: string) => string | null;
  /** The local location a remote location id is mapped from (orders coming in), or null. */
  locationOf: (remoteLocationId: string) => string | null;
  /**
   * Records a mapping the connector discovered through the remote API (by SKU, by location name). Items held
   * as `unmapped` for this destination are released, and the `unmapped_sku` exception resolved.
   */
  saveDiscovered: (kind: 'item' | 'location', localId: string, remoteId: string) => void;
}>;

/** A destination's own small persistent store (JSON values). */
export type ConnectorState = Readonly<{
  get: <T>(key: string) => T | undefined;
  set: (key: string, value: unknown) => void;
  delete: (key: string) => void;
}>;

import type { ResolvedDestination } from '../../../shared/config.js';
import type { IdMappings } from '../port/connector-context.js';
import type { Requester, ShopifyClient } from './shopify-client.js';
import {
  clamp,
  DISCOVER_ITEMS_QUERY,
  discoverItemsCost,
  discoverItemsData,
  discoverItemsVariables,
  LOCATIONS_PAGE_SIZE,
  LOCATIONS_QUERY,
  locationsCost,
  locationsData,
  MAX_ALIASES,
  MAX_PAGES,
  type DiscoverItemsData,
  type LocationsData,
} from './shopify-queries.js';

/** A local id's Shopify id, or null with the reason staff read (`why`) when none fits. */
export type Discovered = { id: string | null; why?: string };

export type ShopifyDiscoveryOptions = Readonly<{
  client: ShopifyClient;
  mappings: IdMappings;
  /** The destination's `locationNames`: the Shopify name of a local location, when it differs. */
  locationNames: Extract<ResolvedDestination, { type: 'shopify' }>['locationNames'];
  /** The agent's locations: a Shopify location named like a local location's name is its mapping. */
  localLocations: readonly Readonly<{ id: string; name: string }>[] | undefined;
}>;

/**
 * Local → Shopify ids of one destination: the mapping when there is one, else found through the Admin API (a
 * location by name, an inventory item by exact SKU) and saved as a discovered mapping. Never guesses: several
 * matches leave the id unmapped, with a reason.
 */
export class ShopifyDiscovery {
  readonly #client: ShopifyClient;
  readonly #mappings: IdMappings;
  readonly #locationNames: ShopifyDiscoveryOptions['locationNames'];
  readonly #localLocations: ShopifyDiscoveryOptions['localLocations'];

  constructor(options: ShopifyDiscoveryOptions) {
    this.#client = options.client;
    this.#mappings = options.mappings;
    this.#locationNames = options.locationNames;
    this.#localLocations = options.localLocations;
  }

  /** Local location → Shopify location gid, discovering by name what is not mapped yet. */
  async mapLocations(locals: readonly string[], request: Requester): Promise<Map<string, Discovered>> {
    const found = new Map<string, Discovered>();
    const missing: string[] = [];
    for (const local of locals) {
      const id = this.#mappings.location(local);
      if (id !== null) found.set(local, { id });
      else missing.push(local);
    }
    if (missing.length === 0) return found;
    const remote: { id: string; name: string }[] = [];
    const first = clamp(this.#client.throttle.status.maximumAvailable / 2 - 2, 1, LOCATIONS_PAGE_SIZE);
    let after: string | null = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const data: LocationsData = await request({
        name: 'BackroomLocations',
        query: LOCATIONS_QUERY,
        variables: { first, after },
        cost: locationsCost(first),
        data: locationsData,
      });
      remote.push(...data.locations.nodes);
      if (!data.locations.pageInfo.hasNextPage) break;
      after = data.locations.pageInfo.endCursor;
    }
    const norm = (name: string) => name.trim().toLowerCase();
    for (const local of missing) {
      const names = [
        this.#locationNames?.[local],
        this.#localLocations?.find((l) => l.id === local)?.name,
        local,
      ].filter((n): n is string => n !== undefined);
      let chosen: Discovered | null = null;
      for (const name of names) {
        const matches = remote.filter((r) => norm(r.name) === norm(name));
        if (matches.length === 1) {
          chosen = { id: matches[0]!.id };
          break;
        }
        if (matches.length > 1) {
          chosen = {
            id: null,
            why: `${matches.length} Shopify locations are named "${name}"; map the right one`,
          };
          break;
        }
      }
      if (chosen?.id) this.#mappings.saveDiscovered('location', local, chosen.id);
      found.set(
        local,
        chosen ?? {
          id: null,
          why: `no Shopify location is named ${[...new Set(names)].map((n) => `"${n}"`).join(' or ')} (it has ${
            remote.length === 0
              ? 'none'
              : remote
                  .slice(0, 5)
                  .map((r) => `"${r.name}"`)
                  .join(', ')
          }${remote.length > 5 ? ', ...' : ''})`,
        },
      );
    }
    return found;
  }

  /** Local SKU → Shopify inventory item gid, discovering by SKU what is not mapped yet. */
  async mapItems(skus: readonly string[], request: Requester): Promise<Map<string, Discovered>> {
    const found = new Map<string, Discovered>();
    const missing: string[] = [];
    for (const sku of skus) {
      const id = this.#mappings.item(sku);
      if (id !== null) found.set(sku, { id });
      else missing.push(sku);
    }
    const chunk = clamp((this.#client.throttle.status.maximumAvailable / 2 - 2) / 2, 1, MAX_ALIASES);
    for (let start = 0; start < missing.length; start += chunk) {
      const part = missing.slice(start, start + chunk);
      const variables = discoverItemsVariables(part);
      const bySku = new Map<string, string[]>();
      let after: string | null = null;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const data: DiscoverItemsData = await request({
          name: 'BackroomDiscoverItems',
          query: DISCOVER_ITEMS_QUERY,
          variables: { ...variables, after },
          cost: discoverItemsCost(variables.first),
          data: discoverItemsData,
        });
        for (const node of data.inventoryItems.nodes)
          if (node.sku !== null) bySku.set(node.sku, [...(bySku.get(node.sku) ?? []), node.id]);
        if (!data.inventoryItems.pageInfo.hasNextPage) break;
        after = data.inventoryItems.pageInfo.endCursor;
      }
      for (const sku of part) {
        // Shopify's search is not an exact match: only an item whose SKU is exactly this one counts.
        const ids = [...new Set(bySku.get(sku) ?? [])];
        if (ids.length === 1) {
          this.#mappings.saveDiscovered('item', sku, ids[0]!);
          found.set(sku, { id: ids[0]! });
        } else
          found.set(sku, {
            id: null,
            why:
              ids.length === 0
                ? `no inventory item in Shopify has SKU "${sku}"`
                : `${ids.length} inventory items in Shopify have SKU "${sku}"; map the right one`,
          });
      }
    }
    return found;
  }
}

import type { Logger } from '../../platform/logger.js';
import type { IdMappings } from '../port/connector-context.js';
import type { Operation, VendureAdminClient } from './vendure-admin-client.js';
import { stockLocationsSchema, variantsBySkuSchema } from './vendure-schemas.js';

/** A local id resolved to a Vendure id, or why it could not be (in words for the `unmapped` exception). */
export type Resolved = Readonly<{ id: string }> | Readonly<{ missing: string }>;

/** SKUs asked for in one look-up. */
const SKU_CHUNK = 100;
/** Stock locations read per page, and the most pages read (a shop has a handful). */
const LOCATION_PAGE = 100;
const MAX_LOCATION_PAGES = 10;

const VARIANTS_BY_SKU: Operation = {
  name: 'productVariants (by SKU)',
  isWrite: false,
  query: `query BackroomVariantsBySku($skus: [String!]!, $take: Int!) {
    productVariants(options: { filter: { sku: { in: $skus } }, take: $take }) { items { id sku } }
  }`,
};

const STOCK_LOCATIONS: Operation = {
  name: 'stockLocations',
  isWrite: false,
  query: `query BackroomStockLocations($skip: Int!, $take: Int!) {
    stockLocations(options: { skip: $skip, take: $take, sort: { id: ASC } }) { items { id name } totalItems }
  }`,
};

/**
 * Local ids to Vendure ids for one destination: the mappings first (set by staff, a CSV, or an earlier
 * discovery); an id with none is looked up in Vendure and saved as discovered when exactly one thing matches:
 * - a SKU → the ProductVariant with that SKU (Vendure does not force SKUs to be unique, so two is ambiguous);
 * - a location → the StockLocation with its name in `locationNames`, else named like the local location's
 *   name, else like its id; exact first, then ignoring case and surrounding spaces.
 * Nothing is invented: an id nothing matches, or two things match, comes back `missing` with the reason.
 * Throws `VendureFailure` when Vendure cannot be asked.
 */
export class VendureDiscovery {
  readonly #client: VendureAdminClient;
  readonly #mappings: IdMappings;
  readonly #locationNames: Readonly<Record<string, string>>;
  readonly #localNames: ReadonlyMap<string, string>;
  readonly #log: Logger;

  constructor(
    client: VendureAdminClient,
    mappings: IdMappings,
    names: Readonly<{
      /** The destination's `locationNames`: the Vendure name of a local location id. */
      configured?: Readonly<Record<string, string>>;
      /** The agent's locations with their names. */
      local?: readonly Readonly<{ id: string; name: string }>[];
    }>,
    logger: Logger,
  ) {
    this.#client = client;
    this.#mappings = mappings;
    this.#locationNames = names.configured ?? {};
    this.#localNames = new Map((names.local ?? []).map((l) => [l.id, l.name]));
    this.#log = logger;
  }

  /** The variant id of each SKU (discovering the unmapped ones). */
  async variants(skus: readonly string[], signal: AbortSignal): Promise<Map<string, Resolved>> {
    const resolved = new Map<string, Resolved>();
    const unmapped: string[] = [];
    for (const sku of new Set(skus)) {
      const id = this.#mappings.item(sku);
      if (id === null) unmapped.push(sku);
      else resolved.set(sku, { id });
    }
    if (unmapped.length > 0)
      for (const [sku, r] of await this.lookUpSkus(unmapped, signal)) resolved.set(sku, r);
    return resolved;
  }

  /**
   * Looks SKUs up in Vendure whatever their mapping (also to replace a mapping whose variant is gone), and
   * saves each one found once as discovered.
   */
  async lookUpSkus(skus: readonly string[], signal: AbortSignal): Promise<Map<string, Resolved>> {
    const found = new Map<string, string[]>();
    for (let i = 0; i < skus.length; i += SKU_CHUNK) {
      const chunk = skus.slice(i, i + SKU_CHUNK);
      const data = await this.#client.request(
        VARIANTS_BY_SKU,
        // Room for duplicates, so an ambiguous SKU shows as one.
        { skus: chunk, take: Math.min(1000, chunk.length * 3) },
        variantsBySkuSchema,
        signal,
      );
      for (const v of data.productVariants.items) found.set(v.sku, [...(found.get(v.sku) ?? []), v.id]);
    }
    const resolved = new Map<string, Resolved>();
    for (const sku of skus) {
      const ids = found.get(sku) ?? [];
      if (ids.length === 1) {
        if (this.#mappings.item(sku) !== ids[0]) {
          this.#mappings.saveDiscovered('item', sku, ids[0]!);
          this.#log.info({ sku, variantId: ids[0] }, 'discovered the Vendure variant of a SKU');
        }
        resolved.set(sku, { id: ids[0]! });
      } else {
        resolved.set(sku, {
          missing:
            ids.length === 0
              ? `Vendure has no product variant with SKU "${sku}"`
              : `${ids.length} Vendure product variants have SKU "${sku}" (ids ${ids.join(', ')}); map the right one`,
        });
      }
    }
    return resolved;
  }

  /** The stock location id of each local location (discovering the unmapped ones by name). */
  async locations(locations: readonly string[], signal: AbortSignal): Promise<Map<string, Resolved>> {
    const resolved = new Map<string, Resolved>();
    const unmapped: string[] = [];
    for (const location of new Set(locations)) {
      const id = this.#mappings.location(location);
      if (id === null) unmapped.push(location);
      else resolved.set(location, { id });
    }
    if (unmapped.length === 0) return resolved;
    const all = await this.#stockLocations(signal);
    for (const location of unmapped) {
      const configured = this.#locationNames[location];
      const local = this.#localNames.get(location);
      const names = [
        ...new Set(
          configured !== undefined ? [configured] : [...(local === undefined ? [] : [local]), location],
        ),
      ];
      let wanted = names[0]!;
      let matches: { id: string; name: string }[] = [];
      for (const name of names) {
        wanted = name;
        matches = all.filter((l) => l.name === name);
        if (matches.length === 0) {
          const folded = name.trim().toLowerCase();
          matches = all.filter((l) => l.name.trim().toLowerCase() === folded);
        }
        if (matches.length > 0) break;
      }
      if (matches.length === 1) {
        this.#mappings.saveDiscovered('location', location, matches[0]!.id);
        this.#log.info(
          { location, stockLocationId: matches[0]!.id },
          'discovered the Vendure stock location of a location',
        );
        resolved.set(location, { id: matches[0]!.id });
      } else {
        resolved.set(location, {
          missing:
            matches.length === 0
              ? `Vendure has no stock location named ${names.map((n) => `"${n}"`).join(' or ')} (it has: ${all.map((l) => l.name).join(', ') || 'none'})`
              : `${matches.length} Vendure stock locations are named "${wanted}"; map the right one`,
        });
      }
    }
    return resolved;
  }

  async #stockLocations(signal: AbortSignal): Promise<{ id: string; name: string }[]> {
    const all: { id: string; name: string }[] = [];
    for (let page = 0; page < MAX_LOCATION_PAGES; page += 1) {
      const data = await this.#client.request(
        STOCK_LOCATIONS,
        { skip: page * LOCATION_PAGE, take: LOCATION_PAGE },
        stockLocationsSchema,
        signal,
      );
      all.push(...data.stockLocations.items);
      if (data.stockLocations.items.length === 0 || all.length >= data.stockLocations.totalItems) break;
    }
    return all;
  }
}

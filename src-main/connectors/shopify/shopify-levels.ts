import type { RemoteLevel } from '../port/connector-bundle.js';
import type { IdMappings } from '../port/connector-context.js';
import { connectorError, ShopifyRequestError, type Requester, type ShopifyClient } from './shopify-client.js';
import {
  clamp,
  MAX_ALIASES,
  readLevelsCost,
  readLevelsData,
  readLevelsQuery,
  readLevelsVariables,
} from './shopify-queries.js';

/** An inventory item at a location, in Shopify's ids. */
export type Pair = Readonly<{ item: string; location: string }>;

/** Longest a pull or a read waits for the bucket before giving up as `rate_limited`. */
export const READ_MAX_WAIT_MS = 20_000;

/** Shopify's `available` of each pair (null: not stocked there, or no such item). */
export async function readPairs(
  client: ShopifyClient,
  pairs: readonly Pair[],
  request: Requester,
): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  const chunk = clamp(client.throttle.status.maximumAvailable / 2 / 3, 1, MAX_ALIASES);
  for (let start = 0; start < pairs.length; start += chunk) {
    const part = pairs.slice(start, start + chunk);
    const data = await request({
      name: 'BackroomReadLevels',
      query: readLevelsQuery(part.length),
      variables: readLevelsVariables(part),
      cost: readLevelsCost(part.length),
      data: readLevelsData(part.length),
    });
    part.forEach((_, i) => {
      const quantities = data[`r${i}`]?.inventoryLevel?.quantities ?? [];
      out.push(quantities.find((q) => q.name === 'available')?.quantity ?? null);
    });
  }
  return out;
}

/** Shopify's `available` for each item; null when unmapped, not stocked there, or unknown to Shopify. */
export async function readLevels(
  client: ShopifyClient,
  mappings: IdMappings,
  items: readonly Readonly<{ sku: string; location: string }>[],
  signal: AbortSignal,
): Promise<RemoteLevel[]> {
  const pairs: { at: number; pair: Pair }[] = [];
  items.forEach(({ sku, location }, at) => {
    const item = mappings.item(sku);
    const remoteLocation = mappings.location(location);
    if (item !== null && remoteLocation !== null)
      pairs.push({ at, pair: { item, location: remoteLocation } });
  });
  try {
    const read = await readPairs(
      client,
      pairs.map((p) => p.pair),
      (operation) => client.request(operation, signal, { maxWaitMs: READ_MAX_WAIT_MS }),
    );
    const quantities = new Map(pairs.map((p, i) => [p.at, read[i] ?? null]));
    return items.map(({ sku, location }, at) => ({ sku, location, quantity: quantities.get(at) ?? null }));
  } catch (error) {
    if (error instanceof ShopifyRequestError) throw connectorError(error.failure);
    throw error;
  }
}

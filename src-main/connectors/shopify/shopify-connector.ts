import { createHash } from 'node:crypto';
import type { ResolvedDestination } from '../../../shared/config.js';
import type { DeliveryResult, LevelItem, SendOutcome } from '../port/connector.js';
import { probeFailure } from '../port/call-failure.js';
import type { ConnectorBundle, OrderPage, ProbeResult, RemoteLevel } from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';
import { ConnectorError } from '../port/connector-error.js';
import {
  ShopifyClient,
  ShopifyRequestError,
  type ShopifyFailure,
  type ShopifyOperation,
} from './shopify-client.js';
import { toRemoteOrder } from './shopify-orders.js';
import {
  DISCOVER_ITEMS_QUERY,
  LOCATIONS_PAGE_SIZE,
  LOCATIONS_QUERY,
  MAX_ALIASES,
  MAX_QUANTITIES,
  MORE_LINES_FIRST,
  MORE_LINES_QUERY,
  ORDER_NODE_COST,
  ORDERS_PAGE_SIZE,
  ORDERS_QUERY,
  PROBE_COST,
  PROBE_QUERY,
  PUBLISH_COST,
  PUBLISH_MUTATION,
  discoverItemsCost,
  discoverItemsData,
  discoverItemsVariables,
  locationsCost,
  locationsData,
  moreLinesCost,
  moreLinesData,
  ordersCost,
  ordersData,
  probeData,
  publishData,
  readLevelsCost,
  readLevelsData,
  readLevelsQuery,
  readLevelsVariables,
  type DiscoverItemsData,
  type LineNode,
  type LocationsData,
} from './shopify-queries.js';

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

/** One level to publish, with what Backroom believes Shopify holds now (`changeFromQuantity`). */
export type PublishEntry = Readonly<{
  sku: string;
  location: string;
  version: number;
  quantity: number;
  changeFromQuantity: number | null;
}>;

/**
 * The `@idempotent` key of one publish: a hash of the agent, the destination and, per level, its (sku, location,
 * version) and the values sent (quantity, changeFromQuantity). A retry after a crash or a timeout sends the same
 * levels with the same values, so it reuses the key and Shopify answers the first result without applying it
 * again. A retry after a stale `changeFromQuantity` carries the re-read value, so it gets a new key: Shopify
 * would otherwise replay the stale answer it recorded for the old one.
 */
export function publishKey(agentId: string, destinationId: string, entries: readonly PublishEntry[]): string {
  const levels = entries.map((e) => [e.sku, e.location, e.version, e.quantity, e.changeFromQuantity]);
  const hash = createHash('sha256')
    .update(JSON.stringify([agentId, destinationId, levels]))
    .digest('hex');
  return `backroom-${hash.slice(0, 48)}`;
}

/** The state key of what Backroom believes Shopify's available quantity of an item at a location is. */
const stateKey = (item: string, location: string) => `available:${item}@${location}`;

/** Where a user error points: `["input", "quantities", "3", ...]` is the fourth quantity. */
function errorIndex(field: readonly string[] | null): number | null {
  if (field === null || field[0] !== 'input' || field[1] !== 'quantities') return null;
  const index = Number(field[2]);
  return Number.isInteger(index) && index >= 0 ? index : null;
}

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, Math.floor(value)));

/** The `ConnectorError` of a failed pull or read. */
function connectorError(failure: ShopifyFailure): ConnectorError {
  switch (failure.kind) {
    case 'rate_limited':
      return new ConnectorError('rate_limited', failure.detail, failure.retryAfterMs);
    case 'auth_failed':
    case 'rejected':
    case 'invalid_response':
      return new ConnectorError(failure.kind, failure.detail);
    case 'retry':
    case 'unknown':
      return new ConnectorError('unreachable', failure.detail);
  }
}

/** A failure while reading (discovery, compare values) or publishing, as the result of the items it stops. */
function deliveryResult(failure: ShopifyFailure, isPublish: boolean): DeliveryResult {
  switch (failure.kind) {
    case 'rate_limited':
      return {
        kind: 'rate_limited',
        retryAfterMs: Math.max(1, failure.retryAfterMs),
        detail: failure.detail,
      };
    case 'auth_failed':
    case 'rejected':
      return { kind: failure.kind, detail: failure.detail };
    case 'unknown':
      return isPublish
        ? { kind: 'unknown', detail: failure.detail }
        : { kind: 'retry', detail: failure.detail };
    case 'invalid_response':
      return isPublish
        ? { kind: 'unknown', detail: failure.detail }
        : { kind: 'retry', detail: failure.detail };
    case 'retry':
      return { kind: 'retry', detail: failure.detail };
  }
}

/** Requests that find mappings: once per SKU or location, not part of what a send costs from then on. */
const DISCOVERY = new Set(['BackroomLocations', 'BackroomDiscoverItems']);

/** Longest a pull or a read waits for the bucket before giving up as `rate_limited`. */
const READ_MAX_WAIT_MS = 20_000;
/** Longest a connection test waits for the bucket: a person is waiting for the answer. */
const PROBE_MAX_WAIT_MS = 5_000;
/** Most pages of locations, and of one order's lines, read in one go. */
const MAX_PAGES = 20;

/**
 * The Shopify connector (Admin GraphQL API): publishes the available-to-sell per (inventory item, location) with
 * `inventorySetQuantities`, pulls orders, reads levels back. See README.md beside this file.
 *
 * @example
 * const bundle = createShopifyConnector(destination, context, { localLocations: config.locations });
 */
export function createShopifyConnector(
  config: ShopifyConfig,
  context: ConnectorContext,
  options: ShopifyConnectorOptions = {},
): ConnectorBundle {
  const shopify = new ShopifyConnector(config, context, options);
  return {
    connector: {
      mode: 'level',
      maxBatch: Math.min(MAX_QUANTITIES, config.batchSize),
      send: (items, signal) => shopify.send(items, signal),
    },
    orders: { pullOrders: (since, cursor, signal) => shopify.pullOrders(since, cursor, signal) },
    levels: { measures: 'available', readLevels: (items, signal) => shopify.readLevels(items, signal) },
    probe: (signal) => shopify.probe(signal),
  };
}

type Pair = Readonly<{ item: string; location: string }>;

class ShopifyConnector {
  readonly #config: ShopifyConfig;
  readonly #context: ConnectorContext;
  readonly #options: ShopifyConnectorOptions;
  readonly #client: ShopifyClient;
  /** Points the last send spent (discovery aside): the engine's bucket counts sends, Shopify's counts points. */
  #lastSendCost = PUBLISH_COST;

  constructor(config: ShopifyConfig, context: ConnectorContext, options: ShopifyConnectorOptions) {
    this.#config = config;
    this.#context = context;
    this.#options = options;
    this.#client = new ShopifyClient({
      url: config.url,
      accessToken: config.accessToken,
      apiVersion: config.apiVersion,
      agentId: context.agentId,
      timeoutMs: options.timeoutMs ?? config.timeoutMs ?? 20_000,
    });
  }

  // ---- publishing levels ----

  /**
   * Publishes one batch: maps (or discovers) every item and location, reads the compare value of levels it has
   * none for, and sends one `inventorySetQuantities` with `changeFromQuantity` under an `@idempotent` key.
   * Unmapped items are answered `unmapped` and left out; a failure answers every item it stopped.
   */
  async send(items: readonly LevelItem[], signal: AbortSignal): Promise<SendOutcome> {
    const results: (DeliveryResult | undefined)[] = items.map(() => undefined);
    // What this send spent on reading compare values and publishing: what every send costs. Discovery is paid
    // once per SKU and location, so it is left out of the engine's rate.
    let spent = 0;
    const request = async <T>(operation: ShopifyOperation<T>, isMutation = false): Promise<T> => {
      if (!DISCOVERY.has(operation.name)) spent += operation.cost;
      return this.#client.request(operation, signal, { isMutation });
    };
    let isPublishing = false;
    try {
      const locations = await this.#mapLocations([...new Set(items.map((i) => i.location))], request);
      const skus = await this.#mapItems([...new Set(items.map((i) => i.sku))], request);
      const pending: { index: number; item: LevelItem; pair: Pair }[] = [];
      items.forEach((item, index) => {
        const location = locations.get(item.location);
        const remoteItem = skus.get(item.sku);
        if (!location?.id)
          results[index] = {
            kind: 'unmapped',
            mapping: 'location',
            localId: item.location,
            detail: location?.why ?? 'not found',
          };
        else if (!remoteItem?.id)
          results[index] = {
            kind: 'unmapped',
            mapping: 'item',
            localId: item.sku,
            detail: remoteItem?.why ?? 'not found',
          };
        else pending.push({ index, item, pair: { item: remoteItem.id, location: location.id } });
      });
      if (pending.length > 0) {
        const compare = await this.#compareValues(
          pending.map((p) => p.pair),
          request,
        );
        isPublishing = true;
        await this.#publish(pending, compare, results, request);
      }
    } catch (error) {
      if (!(error instanceof ShopifyRequestError)) throw error;
      const result = deliveryResult(error.failure, isPublishing);
      items.forEach((_, i) => (results[i] ??= result));
    }
    if (spent > 0) this.#lastSendCost = Math.max(PUBLISH_COST, spent);
    return {
      results: results.map((r) => r ?? { kind: 'retry', detail: 'not sent' }),
      rate: this.#client.throttle.rateHint(this.#lastSendCost),
    };
  }

  /**
   * `changeFromQuantity` per pair: what Backroom last published, or else Shopify's current value, read now and
   * kept (null when the item is not stocked there, or no longer exists: the publish then says so).
   */
  async #compareValues(pairs: readonly Pair[], request: Requester): Promise<Map<string, number | null>> {
    const values = new Map<string, number | null>();
    const unknown: Pair[] = [];
    for (const pair of pairs) {
      const known = this.#context.state.get<number>(stateKey(pair.item, pair.location));
      if (typeof known === 'number') values.set(stateKey(pair.item, pair.location), known);
      else unknown.push(pair);
    }
    const read = await this.#readPairs(unknown, request);
    unknown.forEach((pair, i) => {
      const quantity = read[i] ?? null;
      const key = stateKey(pair.item, pair.location);
      values.set(key, quantity);
      if (quantity !== null) this.#context.state.set(key, quantity);
    });
    return values;
  }

  async #publish(
    pending: readonly { index: number; item: LevelItem; pair: Pair }[],
    compare: ReadonlyMap<string, number | null>,
    results: (DeliveryResult | undefined)[],
    request: Requester,
  ): Promise<void> {
    const entries = pending.map(({ item, pair }) => ({
      sku: item.sku,
      location: item.location,
      version: item.version,
      quantity: item.quantity,
      changeFromQuantity: compare.get(stateKey(pair.item, pair.location)) ?? null,
    }));
    const key = publishKey(this.#context.agentId, this.#config.id, entries);
    const input = {
      name: 'available',
      reason: 'correction',
      referenceDocumentUri: `backroom://${this.#context.agentId}/levels/${this.#config.id}?key=${key}`,
      quantities: pending.map(({ pair }, i) => ({
        inventoryItemId: pair.item,
        locationId: pair.location,
        quantity: entries[i]!.quantity,
        changeFromQuantity: entries[i]!.changeFromQuantity,
      })),
    };
    const data = await request(
      {
        name: 'BackroomPublishLevels',
        query: PUBLISH_MUTATION,
        variables: { input, key },
        cost: PUBLISH_COST,
        data: publishData,
      },
      true,
    );
    const payload = data.inventorySetQuantities;
    if (payload === null) {
      for (const { index } of pending)
        results[index] = {
          kind: 'unknown',
          detail: 'Shopify answered inventorySetQuantities without a result',
        };
      return;
    }
    const own = new Map<number, string[]>();
    const stale = new Set<number>();
    const general: string[] = [];
    for (const error of payload.userErrors) {
      const at = errorIndex(error.field);
      const text = error.code ? `${error.code}: ${error.message}` : error.message;
      if (at === null || at >= pending.length) general.push(text);
      else if (error.code === 'CHANGE_FROM_QUANTITY_STALE') stale.add(at);
      else own.set(at, [...(own.get(at) ?? []), text]);
    }
    const isApplied = payload.inventoryAdjustmentGroup !== null;
    const staleAt: number[] = [];
    pending.forEach(({ index, item, pair }, i) => {
      const messages = own.get(i);
      if (messages)
        results[index] = {
          kind: 'rejected',
          detail: `Shopify refused ${item.quantity} for ${item.sku} at ${item.location}: ${messages.join('; ')}`,
        };
      else if (stale.has(i)) staleAt.push(i);
      else if (general.length > 0)
        results[index] = { kind: 'rejected', detail: `Shopify refused the update: ${general.join('; ')}` };
      else if (isApplied) {
        this.#context.state.set(stateKey(pair.item, pair.location), item.quantity);
        results[index] = { kind: 'delivered' };
      } else
        results[index] = {
          kind: 'retry',
          detail: 'not applied: Shopify applies all of an update or none, and refused another level in it',
        };
    });
    if (staleAt.length > 0) {
      // Shopify's quantity moved under us, most likely an order not pulled yet: pull orders first (bounded), so
      // the retry publishes a level that already holds that order back.
      const pull = this.#context.requestOrderPull?.();
      if (pull) await Promise.race([pull, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    }
    if (staleAt.length > 0)
      await this.#rereadStale(
        staleAt.map((i) => ({ ...pending[i]!, sent: entries[i]! })),
        results,
        request,
      );
  }

  /**
   * Shopify's quantity is not what Backroom last published: it changed there, typically by an order Shopify took
   * that Backroom has not pulled yet. The current value is read and kept, and the level is retried against it.
   */
  async #rereadStale(
    stale: readonly { index: number; item: LevelItem; pair: Pair; sent: PublishEntry }[],
    results: (DeliveryResult | undefined)[],
    request: Requester,
  ): Promise<void> {
    let read: (number | null)[] = [];
    try {
      read = await this.#readPairs(
        stale.map((s) => s.pair),
        request,
      );
    } catch (error) {
      if (!(error instanceof ShopifyRequestError)) throw error;
      // Not read now: forget the stale value, so the next attempt reads it before publishing.
    }
    stale.forEach(({ index, item, pair, sent }, i) => {
      const now = read[i];
      const key = stateKey(pair.item, pair.location);
      if (typeof now === 'number') this.#context.state.set(key, now);
      else this.#context.state.delete(key);
      results[index] = {
        kind: 'retry',
        detail: `Shopify's available for ${item.sku} at ${item.location} was ${typeof now === 'number' ? now : 'unreadable'}, not ${sent.changeFromQuantity ?? 'unknown'} as Backroom last published: it changed in Shopify (typically an order Backroom has not pulled yet); publishing again against it`,
      };
    });
  }

  // ---- mappings ----

  /** Local location → Shopify location gid, discovering by name what is not mapped yet. */
  async #mapLocations(
    locals: readonly string[],
    request: Requester,
  ): Promise<Map<string, { id: string | null; why?: string }>> {
    const found = new Map<string, { id: string | null; why?: string }>();
    const missing: string[] = [];
    for (const local of locals) {
      const id = this.#context.mappings.location(local);
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
        this.#config.locationNames?.[local],
        this.#options.localLocations?.find((l) => l.id === local)?.name,
        local,
      ].filter((n): n is string => n !== undefined);
      let chosen: { id: string | null; why?: string } | null = null;
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
      if (chosen?.id) this.#context.mappings.saveDiscovered('location', local, chosen.id);
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
  async #mapItems(
    skus: readonly string[],
    request: Requester,
  ): Promise<Map<string, { id: string | null; why?: string }>> {
    const found = new Map<string, { id: string | null; why?: string }>();
    const missing: string[] = [];
    for (const sku of skus) {
      const id = this.#context.mappings.item(sku);
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
          this.#context.mappings.saveDiscovered('item', sku, ids[0]!);
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

  /** Shopify's `available` of each pair (null: not stocked there, or no such item). */
  async #readPairs(pairs: readonly Pair[], request: Requester): Promise<(number | null)[]> {
    const out: (number | null)[] = [];
    const chunk = clamp(this.#client.throttle.status.maximumAvailable / 2 / 3, 1, MAX_ALIASES);
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

  // ---- orders and reads ----

  /** One page of orders updated at or after `since`, oldest change first. Throws `ConnectorError`. */
  async pullOrders(since: string | null, cursor: string | null, signal: AbortSignal): Promise<OrderPage> {
    const request = <T>(operation: ShopifyOperation<T>) =>
      this.#client.request(operation, signal, { maxWaitMs: READ_MAX_WAIT_MS });
    const page = (max: number) => {
      const first = clamp((max - 2) / ORDER_NODE_COST, 1, ORDERS_PAGE_SIZE);
      return request({
        name: 'BackroomOrders',
        query: ORDERS_QUERY,
        variables: { first, after: cursor, query: since === null ? null : `updated_at:>='${since}'` },
        cost: ordersCost(first),
        data: ordersData,
      });
    };
    try {
      const assumed = this.#client.throttle.status.maximumAvailable;
      const data = await page(assumed).catch((error: unknown) => {
        // The page was sized for the bucket Shopify documents; a smaller one (said in the answer) gets a
        // smaller page, once.
        const max = this.#client.throttle.status.maximumAvailable;
        const isTooCostly =
          error instanceof ShopifyRequestError &&
          error.failure.kind === 'rejected' &&
          error.failure.code === 'MAX_COST_EXCEEDED';
        if (isTooCostly && max < assumed) return page(max);
        throw error;
      });
      const max = this.#client.throttle.status.maximumAvailable;
      const orders = [];
      for (const node of data.orders.nodes) {
        const lines: LineNode[] = [...node.lineItems.nodes];
        let page = node.lineItems.pageInfo;
        const linesFirst = clamp((max - 3) / 3, 1, MORE_LINES_FIRST);
        for (let i = 0; page.hasNextPage && i < MAX_PAGES; i += 1) {
          const more = await request({
            name: 'BackroomOrderLines',
            query: MORE_LINES_QUERY,
            variables: { id: node.id, first: linesFirst, after: page.endCursor },
            cost: moreLinesCost(linesFirst),
            data: moreLinesData,
          });
          if (more.order === null) break;
          lines.push(...more.order.lineItems.nodes);
          page = more.order.lineItems.pageInfo;
        }
        orders.push(toRemoteOrder(node, lines, this.#context.mappings));
      }
      const { hasNextPage, endCursor } = data.orders.pageInfo;
      return { orders, nextCursor: hasNextPage ? endCursor : null };
    } catch (error) {
      if (error instanceof ShopifyRequestError) throw connectorError(error.failure);
      throw error;
    }
  }

  /** Shopify's `available` for each item; null when unmapped, not stocked there, or unknown to Shopify. */
  async readLevels(
    items: readonly Readonly<{ sku: string; location: string }>[],
    signal: AbortSignal,
  ): Promise<RemoteLevel[]> {
    const pairs: { at: number; pair: Pair }[] = [];
    items.forEach(({ sku, location }, at) => {
      const item = this.#context.mappings.item(sku);
      const remoteLocation = this.#context.mappings.location(location);
      if (item !== null && remoteLocation !== null)
        pairs.push({ at, pair: { item, location: remoteLocation } });
    });
    try {
      const read = await this.#readPairs(
        pairs.map((p) => p.pair),
        (operation) => this.#client.request(operation, signal, { maxWaitMs: READ_MAX_WAIT_MS }),
      );
      const quantities = new Map(pairs.map((p, i) => [p.at, read[i] ?? null]));
      return items.map(({ sku, location }, at) => ({ sku, location, quantity: quantities.get(at) ?? null }));
    } catch (error) {
      if (error instanceof ShopifyRequestError) throw connectorError(error.failure);
      throw error;
    }
  }

  /** The connection test: reads the shop's first location (3 points), which needs a valid access token. */
  async probe(signal: AbortSignal): Promise<ProbeResult> {
    try {
      const data = await this.#client.request(
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
      const { currentlyAvailable, maximumAvailable } = this.#client.throttle.status;
      return {
        ok: true,
        detail:
          `Shopify accepted the access token (Admin API ${this.#config.apiVersion}); ` +
          `${first === undefined ? 'the shop has no active location yet' : `its first location is "${first.name}"`}; ` +
          `${Math.floor(currentlyAvailable)} of ${maximumAvailable} rate-limit points free`,
      };
    } catch (error) {
      if (error instanceof ShopifyRequestError) return probeFailure(connectorError(error.failure));
      throw error;
    }
  }
}

type Requester = <T>(operation: ShopifyOperation<T>, isMutation?: boolean) => Promise<T>;

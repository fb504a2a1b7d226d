import { createHash } from 'node:crypto';
import type { DeliveryResult, LevelItem, SendOutcome } from '../port/connector.js';
import type { ConnectorContext } from '../port/connector-context.js';
import {
  ShopifyRequestError,
  type Requester,
  type ShopifyClient,
  type ShopifyFailure,
  type ShopifyOperation,
} from './shopify-client.js';
import type { ShopifyDiscovery } from './shopify-discovery.js';
import { readPairs, type Pair } from './shopify-levels.js';
import { PUBLISH_COST, PUBLISH_MUTATION, publishData } from './shopify-queries.js';

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

export type ShopifyPublisherOptions = Readonly<{
  destinationId: string;
  context: ConnectorContext;
  client: ShopifyClient;
  discovery: ShopifyDiscovery;
}>;

/**
 * The send of the Shopify connector: publishes the available-to-sell per (inventory item, location) with one
 * `inventorySetQuantities` per batch, `changeFromQuantity` against what Backroom last published, under an
 * `@idempotent` key (see README.md beside this file).
 */
export class ShopifyPublisher {
  readonly #destinationId: string;
  readonly #context: ConnectorContext;
  readonly #client: ShopifyClient;
  readonly #discovery: ShopifyDiscovery;
  /** Points the last send spent (discovery aside): the engine's bucket counts sends, Shopify's counts points. */
  #lastSendCost = PUBLISH_COST;

  constructor(options: ShopifyPublisherOptions) {
    this.#destinationId = options.destinationId;
    this.#context = options.context;
    this.#client = options.client;
    this.#discovery = options.discovery;
  }

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
      const locations = await this.#discovery.mapLocations(
        [...new Set(items.map((i) => i.location))],
        request,
      );
      const skus = await this.#discovery.mapItems([...new Set(items.map((i) => i.sku))], request);
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
    const read = await readPairs(this.#client, unknown, request);
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
    const key = publishKey(this.#context.agentId, this.#destinationId, entries);
    const input = {
      name: 'available',
      reason: 'correction',
      referenceDocumentUri: `backroom://${this.#context.agentId}/levels/${this.#destinationId}?key=${key}`,
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
      read = await readPairs(
        this.#client,
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
}

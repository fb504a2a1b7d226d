import type { Logger } from '../platform/logger.js';
import type { Connector, DeliveryResult } from '../outbox/connector.js';

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

/** One line of a marketplace order, in local SKUs. */
export type RemoteOrderLine = Readonly<{ sku: string; qty: number }>;

/**
 * A marketplace order as the connector read it, translated to local identifiers through the mappings.
 * - `status`: `open` (to be fulfilled: reserve), `fulfilled` (shipped: on hand falls, reservation released),
 *   `cancelled` (reservation released).
 * - `location`: the local location that fulfils it, or null when the remote system does not say (then the
 *   destination's configured order location is used).
 * - `unmappedItems`: remote item ids of lines with no local SKU; they raise an exception and are left out.
 */
export type RemoteOrder = Readonly<{
  orderId: string;
  /** The order number staff know (`#1001`, `114-…`); defaults to orderId. */
  name?: string;
  /** RFC 3339 time of the order's last change in the remote system. */
  updatedAt: string;
  status: 'open' | 'fulfilled' | 'cancelled';
  location: string | null;
  lines: readonly RemoteOrderLine[];
  unmappedItems?: readonly string[];
}>;

export type OrderPage = Readonly<{ orders: readonly RemoteOrder[]; nextCursor: string | null }>;

/** A marketplace that has orders to pull (Shopify, Amazon, Vendure). */
export type OrderSource = Readonly<{
  /**
   * One page of orders updated at or after `since` (RFC 3339; null: from the beginning), oldest change first
   * where the API allows; pass the previous page's `nextCursor` to go on. Throws `ConnectorError` on failure.
   */
  pullOrders: (since: string | null, cursor: string | null, signal: AbortSignal) => Promise<OrderPage>;
}>;

/** A level as the remote system holds it; `quantity` null when the remote system has no such item there. */
export type RemoteLevel = Readonly<{ sku: string; location: string; quantity: number | null }>;

/** Reads levels back for reconciliation (on hand for an ERP, available for a marketplace). */
export type LevelReader = Readonly<{
  /** What the remote system's level means, for the reconciliation view. */
  measures: 'on_hand' | 'available';
  /** Reads the given items; unmapped items come back with quantity null. Throws `ConnectorError` on failure. */
  readLevels: (
    items: readonly Readonly<{ sku: string; location: string }>[],
    signal: AbortSignal,
  ) => Promise<RemoteLevel[]>;
}>;

/** A destination's connector and what else its API offers. */
export type ConnectorBundle = Readonly<{
  connector: Connector;
  orders?: OrderSource;
  levels?: LevelReader;
  /**
   * A connection test (the settings page's "Test connection"): checks that the remote system is reachable and
   * accepts the credentials, with the cheapest read-only call its API has. It changes nothing remote and never
   * throws for a remote failure: it answers `ok: false` with the reason and the remote's own words. Absent when
   * the API offers no such call (a webhook: its delivery results show its state).
   */
  probe?: (signal: AbortSignal) => Promise<ProbeResult>;
  /** Releases connections (NATS); called once when the agent stops. */
  close?: () => Promise<void>;
}>;

/** Why a pull or read failed, so the caller can back off, pause, or tell staff. */
export type ConnectorErrorReason =
  'unreachable' | 'rate_limited' | 'auth_failed' | 'rejected' | 'invalid_response';

/** What a connection test found: `detail` says what answered (ok) or why it failed, in the remote's words. */
export type ProbeResult =
  | Readonly<{ ok: true; detail: string }>
  | Readonly<{ ok: false; reason: ConnectorErrorReason; detail: string }>;

/**
 * A failed connection test from a classified failure (`ConnectorError`, `CallFailure` and its subclasses);
 * anything else is rethrown (a bug, not an answer of the remote system).
 */
export function probeFailure(error: unknown): ProbeResult {
  if (error instanceof ConnectorError || error instanceof CallFailure)
    return { ok: false, reason: error.reason, detail: error.message };
  throw error;
}

/** Thrown by `pullOrders` and `readLevels` (never by `send`, which classifies instead). */
export class ConnectorError extends Error {
  readonly reason: ConnectorErrorReason;
  /** For `rate_limited`: how long the remote system asked to wait, when it said. */
  readonly retryAfterMs: number | null;

  constructor(reason: ConnectorErrorReason, message: string, retryAfterMs: number | null = null) {
    super(message);
    this.name = 'ConnectorError';
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The outcomes a failed call gives its items: everything but success and a missing mapping. */
export type FailureResult = Extract<
  DeliveryResult,
  { kind: 'retry' | 'unknown' | 'rate_limited' | 'auth_failed' | 'rejected' }
>;

type FailureClass<T> = new (result: FailureResult, reason: ConnectorErrorReason) => T;

/**
 * A remote call that ended without an answer the caller can use, in both forms a connector needs: how a send
 * records the items it concerned (`result`) and what a pull or a read throws (`toConnectorError()`). Connectors
 * subclass it to name their API (`SpApiFailure`, `VendureFailure`); the factories build the subclass they are
 * called on.
 */
export class CallFailure extends Error {
  readonly result: FailureResult;
  readonly reason: ConnectorErrorReason;

  constructor(result: FailureResult, reason: ConnectorErrorReason) {
    super(result.detail);
    this.name = new.target.name;
    this.result = result;
    this.reason = reason;
  }

  get retryAfterMs(): number | null {
    return this.result.kind === 'rate_limited' ? this.result.retryAfterMs : null;
  }

  toConnectorError(): ConnectorError {
    return new ConnectorError(this.reason, this.message, this.retryAfterMs);
  }

  static rateLimited<T>(this: FailureClass<T>, waitMs: number | null, detail: string): T {
    return new this({ kind: 'rate_limited', retryAfterMs: waitMs, detail }, 'rate_limited');
  }

  static retry<T>(this: FailureClass<T>, detail: string): T {
    return new this({ kind: 'retry', detail }, 'unreachable');
  }

  static unknown<T>(this: FailureClass<T>, detail: string): T {
    return new this({ kind: 'unknown', detail }, 'unreachable');
  }

  static authFailed<T>(this: FailureClass<T>, detail: string): T {
    return new this({ kind: 'auth_failed', detail }, 'auth_failed');
  }

  static rejected<T>(this: FailureClass<T>, detail: string): T {
    return new this({ kind: 'rejected', detail }, 'rejected');
  }

  /** An answer that does not match the model: for a write we cannot tell whether it was applied. */
  static invalidResponse<T>(this: FailureClass<T>, detail: string, isWrite: boolean): T {
    return new this(isWrite ? { kind: 'unknown', detail } : { kind: 'retry', detail }, 'invalid_response');
  }
}

import type { Connector, PriceItem, SendOutcome } from './connector.js';
import type { ConnectorErrorReason } from './connector-error.js';

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
  /** RFC 3339: when the order was placed, where the marketplace says. */
  placedAt?: string;
  /** RFC 3339: the marketplace's latest ship date (Amazon's LatestShipDate), where it has one. */
  shipBy?: string;
  location: string | null;
  lines: readonly RemoteOrderLine[];
  unmappedItems?: readonly string[];
  /**
   * Units the marketplace records as coming back after shipping (a return asked for or approved, a refund that
   * restocks), in local SKUs; absent when none. The goods are received at the warehouse (a `return` with its
   * condition); until then the order puller keeps an exception open.
   */
  returned?: readonly RemoteOrderLine[];
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

/** An item as a catalog source gives it: fields it does not give are left undefined (what is stored stays). */
export type RemoteItem = Readonly<{
  sku: string;
  name?: string | null;
  barcodes?: readonly string[];
  unit?: string | null;
  isActive?: boolean;
  prices?: readonly Readonly<{ list: string; amount: string; currency: string }>[];
}>;

/**
 * Where a catalog pull stands. `since`: changes at or after it are read (null: everything); `mark`: the pull
 * under way began when the source's newest change was this (it becomes the next `since`), null between pulls;
 * `afterId`: the last record id stored of the pull under way; `phase`: which of the source's reads, for a source
 * that reads in several (Tryton reads in one: 0).
 */
export type CatalogCheckpoint = Readonly<{
  since: string | null;
  mark: string | null;
  phase: number;
  afterId: number;
}>;

/** One page of a catalog pull, and where the pull goes on after it (`isLast`: the pull is done). */
export type CatalogPage = Readonly<{
  items: readonly RemoteItem[];
  /** Records read that are not items here (no code to use as SKU), for the report. */
  skipped: number;
  next: CatalogCheckpoint;
  isLast: boolean;
}>;

/** An ERP that is the item master's source (Tryton). */
export type CatalogSource = Readonly<{
  /** The page after `checkpoint`. Throws `ConnectorError` on failure. */
  pullCatalog: (checkpoint: CatalogCheckpoint, signal: AbortSignal) => Promise<CatalogPage>;
}>;

/** A shipment the warehouse made of one of the marketplace's orders, to be recorded there as a fulfilment. */
export type OutgoingShipment = Readonly<{
  /** The order's id in the marketplace (as its order source gave it). */
  orderId: string;
  /** The order's number, for messages. */
  orderName: string;
  /** What left, in local SKUs. */
  lines: readonly Readonly<{ sku: string; qty: number }>[];
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  /** `<agentId>:<source>:<event id>` of the ship event: stable across retries, for APIs that take a key. */
  idempotencyKey: string;
  /** The ship event's capture seq: a positive number unique to this shipment (a package reference). */
  shipmentNo: number;
  /** What the shipments of this order recorded there before this one carried, in local SKUs (read-back). */
  sentBefore: readonly Readonly<{ sku: string; qty: number }>[];
}>;

/**
 * What a fulfilment call came to. `unknown`: it was sent and no answer came; the sender reads back (`find`)
 * before sending again, since a fulfilment cannot be made twice for the same lines. `rejected`: the marketplace
 * refuses it for good (`cancelled`: the order was cancelled meanwhile; `already_fulfilled`: its lines are
 * fulfilled there already).
 */
export type FulfilmentOutcome =
  | Readonly<{ kind: 'delivered'; remoteId: string }>
  | Readonly<{ kind: 'retry'; detail: string }>
  | Readonly<{ kind: 'unknown'; detail: string }>
  | Readonly<{ kind: 'rejected'; why: 'cancelled' | 'already_fulfilled' | 'other'; detail: string }>;

/** A marketplace that records the warehouse's shipments of its orders (fulfilment with carrier and tracking). */
export type FulfilmentTarget = Readonly<{
  /** Records the shipment; never throws for a remote answer, it classifies it. */
  send: (shipment: OutgoingShipment, signal: AbortSignal) => Promise<FulfilmentOutcome>;
  /**
   * Reads back whether the shipment is recorded there already (after an unknown outcome): its remote id when it
   * is, null when it is not. Throws `ConnectorError` when it cannot tell.
   */
  find: (shipment: OutgoingShipment, signal: AbortSignal) => Promise<string | null>;
  /**
   * What the marketplace shows fulfilled of an order now, per local SKU, and whether it is cancelled there (for
   * the shipment status in reconciliation); null when it has no such order. Throws `ConnectorError`.
   */
  readFulfilled?: (orderId: string, signal: AbortSignal) => Promise<RemoteFulfilled | null>;
}>;

/** An order's fulfilment as the marketplace shows it: units fulfilled per local SKU, cancelled or not. */
export type RemoteFulfilled = Readonly<{
  isCancelled: boolean;
  fulfilled: readonly RemoteOrderLine[];
}>;

/** A price as the channel holds it; `amount` null when the channel has no such item (or no price for it). */
export type RemotePrice = Readonly<{
  sku: string;
  amount: string | null;
  currency: string | null;
  compareAt: string | null;
}>;

/**
 * A marketplace that takes prices (issue 12, part 4). `send` answers one `DeliveryResult` per item, in order, like
 * a level connector (`unmapped` holds that item only), and waits for the destination's rate limits itself (the
 * same limits its quantity updates draw on). `readPrices` reads prices back for reconciliation.
 */
export type PriceTarget = Readonly<{
  maxBatch: number;
  send: (items: readonly PriceItem[], signal: AbortSignal) => Promise<SendOutcome>;
  readPrices?: (skus: readonly string[], signal: AbortSignal) => Promise<RemotePrice[]>;
}>;

/** One line of a day statement: a (SKU, unit price, currency) with its net units (sold less returned). */
export type StatementLine = Readonly<{
  sku: string;
  /** Decimal text. */
  unitPrice: string;
  /** ISO 4217, or null for the ERP company's currency (the events named none). */
  currency: string | null;
  /** Units sold less units returned; negative when more came back than went out. */
  qty: number;
}>;

/** A statement of one location's business day (or a supplementary one) to be posted as one ERP document. */
export type OutgoingStatement = Readonly<{
  /** Searched in the ERP before anything is created: `<agentId>:<location>:<day>` (`...:s1` supplementary). */
  reference: string;
  location: string;
  /** `YYYY-MM-DD`. */
  day: string;
  lines: readonly StatementLine[];
}>;

/**
 * What posting a statement came to. `posted`: the document is in the ERP (made now or found from an earlier
 * attempt and finished), without the lines listed in `refused` (by index in `lines`, each with why, in words a
 * store manager understands). `rejected`: nothing of it can be posted as it is (the reason says what to change).
 */
export type StatementOutcome =
  | Readonly<{
      kind: 'posted';
      remoteId: string | null;
      refused: readonly Readonly<{ index: number; why: string }>[];
    }>
  | Readonly<{ kind: 'retry'; detail: string }>
  | Readonly<{ kind: 'unknown'; detail: string }>
  | Readonly<{ kind: 'rejected'; detail: string }>;

/** A statement as the ERP holds it, read back for reconciliation. */
export type RemoteStatement = Readonly<{
  reference: string;
  remoteId: string;
  /** The ERP's own state of the document (`processing`, `done`, `draft`...). */
  state: string;
  /** Per currency code: the document's untaxed total, decimal text. */
  total: Readonly<{ currency: string; amount: string }>;
}>;

/** An ERP that takes the store's sales as one document per location and business day (`daily_statement`). */
export type StatementTarget = Readonly<{
  /** Posts the statement exactly once (search by reference first, finish what a crash left); never throws. */
  post: (statement: OutgoingStatement, signal: AbortSignal) => Promise<StatementOutcome>;
  /** The statements the ERP holds among `references`. Throws `ConnectorError` when it cannot tell. */
  read: (references: readonly string[], signal: AbortSignal) => Promise<RemoteStatement[]>;
}>;

/** A destination's connector and what else its API offers. */
export type ConnectorBundle = Readonly<{
  connector: Connector;
  orders?: OrderSource;
  levels?: LevelReader;
  /** The item master, pulled from this system (a `tryton` destination with `catalog`). */
  catalog?: CatalogSource;
  /** Records the warehouse's shipments of the marketplace's orders (issue 13, part 3). */
  fulfilments?: FulfilmentTarget;
  /** Takes the item master's prices (a marketplace with a `prices` section). */
  prices?: PriceTarget;
  /** Takes day statements of sales (a `tryton` destination in `daily_statement` posting mode, issue 14). */
  statements?: StatementTarget;
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

/** What a connection test found: `detail` says what answered (ok) or why it failed, in the remote's words. */
export type ProbeResult =
  | Readonly<{ ok: true; detail: string }>
  | Readonly<{ ok: false; reason: ConnectorErrorReason; detail: string }>;

import type { StatusResponse, StockLevel } from './api.js';
import type { ExceptionStatus } from './exception-kinds.js';
import type { OperatorRole } from './operator-roles.js';
import type { OutboxItemState } from './outbox-item-states.js';

/**
 * What the UI's routes answer (`shared/rpc.ts` names them as each route's output): views of exceptions, stock,
 * mappings, reconciliation and settings, as the agent sends them.
 */

export type ExceptionView = {
  id: number;
  kind: string;
  status: ExceptionStatus;
  /** The problem in business words, with what to do about it. */
  message: string;
  sku: string | null;
  location: string | null;
  destinationId: string | null;
  eventSeq: number | null;
  /** The outbox item the exception is about (delivery exceptions), or null. */
  outboxId: number | null;
  occurrences: number;
  createdAt: number;
  lastSeenAt: number;
  resolvedAt: number | null;
  resolution: string | null;
  /** Who acknowledged it (seen, being handled; it stays open), when and with what note; null until then. */
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  acknowledgedNote: string | null;
};

export type ExceptionPage = { total: number; offset: number; rows: ExceptionView[] };

export type DeliveryAttemptView = { id: number; at: number; result: string; detail: string | null };

export type ExceptionDetail = {
  exception: ExceptionView & { details: Record<string, unknown> };
  /** The captured event as validated, or null when the exception has none (a bad import row). */
  event: {
    seq: number;
    source: string;
    eventId: string;
    type: string;
    location: string;
    receivedAt: number;
    body: Record<string, unknown>;
  } | null;
  outbox: {
    id: number;
    destinationId: string;
    state: OutboxItemState;
    idempotencyKey: string;
    attempts: number;
    lastError: string | null;
  } | null;
  /** Every delivery attempt of the outbox item, oldest first. */
  attempts: DeliveryAttemptView[];
};

export type OperationResult = { changed: number[]; skipped: { id: number; why: string }[] };

export type AuditEntryView = {
  id: number;
  at: number;
  operator: string;
  action: string;
  subject: string;
  reason: string | null;
  /** JSON text of the state before and after, as recorded. */
  before: string | null;
  after: string | null;
  /** The role the operator acted in (null: before roles existed, or the local CLI under another name). */
  role: OperatorRole | null;
};

export type MovementView = {
  id: number;
  eventSeq: number;
  location: string;
  delta: number;
  onHandAfter: number;
  type: string;
  eventId: string;
  source: string;
  reference: string | null;
  receivedAt: number;
};

/** The item master's record of an item: its fields, where each came from, its prices and its changes. */
export type ItemMasterView = {
  barcodes: string[];
  unit: string | null;
  active: boolean;
  /** The source that last changed it: `csv`, `workbench`, a destination id (the ERP), `legacy`. */
  source: string;
  /** Which source set each field and when (epoch ms), by field name (`name`, `barcodes`, `price:retail`, ...). */
  origins: { field: string; source: string; at: number }[];
  /** Its prices per price list or channel, with the source that set each. */
  prices: { list: string; amount: string; currency: string; source: string; updatedAt: number }[];
  /** Its stored changes, newest first (at most 20): each field's value before and after. */
  changes: { at: number; source: string; fields: { field: string; before: unknown; after: unknown }[] }[];
};

export type StockItemView = {
  /** The SKU that matched (by SKU or barcode), or null when nothing did. */
  sku: string | null;
  name: string | null;
  barcode: string | null;
  /** The item master's record, or null when the catalog does not hold the item. */
  master: ItemMasterView | null;
  levels: StockLevel[];
  /** Orders holding the item (open reservations), oldest first: why available-to-sell is below on hand. */
  reservations: ReservationView[];
  /** Newest first. */
  movements: MovementView[];
};

/** An order's open reservation of one item at one location. */
export type ReservationView = {
  /** Where the order comes from: a marketplace destination (orders it pulls) or a source that sent it. */
  channel: string;
  orderId: string;
  /** The order's name in its channel (Shopify's `#1007`), when known. */
  orderName: string | null;
  location: string;
  qty: number;
  /** When it was first reserved here (epoch ms), when known. */
  since: number | null;
};

/** One point of the throughput chart: counts within the bucket that starts at `t` (epoch seconds). */
export type ThroughputPoint = { t: number; captured: number; delivered: Record<string, number> };

/** What the live stream pushes: the agent's status plus what the overview draws. */
export type LiveSnapshot = {
  at: number;
  status: StatusResponse;
  /** Events captured per minute over the last minute. */
  captureRatePerMinute: number;
  bucketSeconds: number;
  throughput: ThroughputPoint[];
  /** Outbox items that wait for a person (rejected or out of attempts). */
  waitingForPerson: number;
};

/** Pushed over `GET /api/v1/events/stream` (server-sent events), by event name. */
export type PushedEvents = { snapshot: LiveSnapshot };

/** One identifier mapping: a local SKU or location and the id a destination knows it by. */
export type MappingView = {
  destinationId: string;
  kind: 'item' | 'location';
  localId: string;
  remoteId: string;
  /** Who made it: `csv`, `discovered`, or the operator's name. */
  origin: string;
  updatedAt: number;
};

export type MappingImportResult = {
  imported: number;
  unchanged: number;
  errors: { line: number; field: string; message: string }[];
};

/** Why a remote level differs from what Backroom expects it to be. */
export const DRIFT_CAUSES = [
  'in_sync',
  /** Updates or movements still queued for the destination explain the difference; it settles by itself. */
  'pending_delivery',
  /** The item or location has no mapping for this destination. */
  'not_mapped',
  /** The destination has no such item (or no level for it there). */
  'missing_remote',
  /** Lower than expected: likely an order taken remotely that Backroom has not pulled yet, or a remote edit. */
  'remote_lower',
  /** Higher than expected: likely a remote edit (stock entered by hand in the remote system). */
  'remote_higher',
] as const;
export type DriftCause = (typeof DRIFT_CAUSES)[number];

/**
 * What may be done about one drifting item: `republish` pushes the local level again (marketplaces);
 * `accept_remote` adopts the remote level by recording an adjustment event with the reason; `ignore` records
 * that someone looked and left it (the row says so until the drift changes).
 */
export const RECONCILE_FIXES = ['republish', 'accept_remote', 'ignore'] as const;
export type ReconcileFix = (typeof RECONCILE_FIXES)[number];

export type ReconcileRow = {
  sku: string;
  location: string;
  /** What the remote level should be by Backroom's ledger once everything queued is delivered. */
  expected: number;
  /** What the remote level should be now, given what is still queued (ledger destinations). */
  expectedNow: number;
  remote: number | null;
  /** remote − expectedNow, or null when the remote has no level. */
  drift: number | null;
  cause: DriftCause;
  /** The likely cause and the fix, in business words. */
  explanation: string;
  fixes: ReconcileFix[];
  /** Set when someone chose `ignore` for this same drift: who and why. */
  ignored: { operator: string; reason: string; at: number } | null;
};

export type ReconcileReport = {
  destinationId: string;
  /** `on_hand` for an ERP, `available` for a marketplace. */
  measures: 'on_hand' | 'available';
  at: number;
  rows: ReconcileRow[];
  summary: { items: number; inSync: number; drifting: number; pending: number; unknown: number };
};

/**
 * Why an order's shipment status differs between Backroom and its marketplace:
 * - `pending_fulfilment`: shipped here, its fulfilment still queued for the marketplace (settles by itself);
 * - `not_fulfilled_remote`: shipped here, the marketplace shows it (partly) unfulfilled: the fulfilment was refused
 *   or undone there;
 * - `not_shipped_local`: the marketplace shows units fulfilled that are still reserved here (fulfilled there by
 *   hand, or by another warehouse);
 * - `cancelled_remote`: shipped here, cancelled there (a person settles it: the return, or the customer).
 */
export const SHIPMENT_DRIFT_CAUSES = [
  'pending_fulfilment',
  'not_fulfilled_remote',
  'not_shipped_local',
  'cancelled_remote',
] as const;
export type ShipmentDriftCause = (typeof SHIPMENT_DRIFT_CAUSES)[number];

/**
 * What may be done about an order's shipment drift: `resend` sends its fulfilments again (each read back first,
 * so nothing is fulfilled twice); `adopt` takes the marketplace's state: the units fulfilled there are shipped here
 * (a `ship` event of the order, never sent back to it).
 */
export const SHIPMENT_FIXES = ['resend', 'adopt'] as const;
export type ShipmentFix = (typeof SHIPMENT_FIXES)[number];

export type ShipmentDriftRow = {
  orderId: string;
  /** The order number staff know. */
  order: string;
  location: string;
  /** Units shipped from here, per SKU. */
  shippedHere: { sku: string; qty: number }[];
  /** Units the marketplace shows fulfilled, per SKU. */
  fulfilledThere: { sku: string; qty: number }[];
  cause: ShipmentDriftCause;
  /** The likely cause and the fix, in business words. */
  explanation: string;
  fixes: ShipmentFix[];
};

export type ShipmentReconcileReport = {
  destinationId: string;
  at: number;
  /** Orders compared; those in step are counted, not listed. */
  summary: { orders: number; inStep: number; drifting: number; pending: number };
  rows: ShipmentDriftRow[];
};

/** A destination as the settings page shows it: secrets masked. */
/** A destination as any operator may see it: enough to choose one on the mappings and reconciliation pages. */
export type DestinationSummary = {
  id: string;
  type: string;
  mode: 'ledger' | 'level';
  /** Whether its levels can be read back, so it can be reconciled. */
  canReconcile: boolean;
  /** Whether its orders' fulfilments can be read back, so their shipment status can be reconciled. */
  canReconcileShipments: boolean;
};

export type DestinationSettings = {
  id: string;
  type: string;
  mode: 'ledger' | 'level';
  state: string;
  /** Config keys and values, each secret shown as `••••`. */
  settings: Record<string, unknown>;
  canReconcile: boolean;
  /** Whether its connector has a connection test (`destinations.test`); a webhook has none. */
  canTest: boolean;
  pullsOrders: boolean;
  orders: {
    lastPullAt: number | null;
    lastError: string | null;
    ordersSeen: number;
    updatedAfter: string | null;
  } | null;
};

/**
 * Why a connection test failed: the connectors' reasons (`ConnectorErrorReason`; the agent's handler does not
 * compile if they part): cannot be reached, credentials refused, refused, asked to slow down, odd answer.
 */
export type ConnectionTestReason =
  'unreachable' | 'auth_failed' | 'rejected' | 'rate_limited' | 'invalid_response';

/**
 * What a destination's connection test found: `detail` says what answered, or why it failed in the remote
 * system's words; `ms` how long the test took.
 */
export type DestinationTestResult =
  | { ok: true; detail: string; ms: number }
  | { ok: false; reason: ConnectionTestReason; detail: string; ms: number };

/** A sales channel as the settings page shows it. */
export type ChannelSettings = {
  id: string;
  /** The buffer in effect: `override`'s when set, else the config file's. */
  buffer: number;
  configuredBuffer: number;
  /** Whether the config declares the channel (else a marketplace destination implies it). */
  isDeclared: boolean;
  /** A buffer set in the UI over the config's, with who set it, when and why. */
  override: { buffer: number; setBy: string; setAt: number; reason: string } | null;
  /** The marketplace destinations publishing to it. */
  destinations: string[];
  tighten: { afterMinutes: number; holdBackPercent: number; holdBackUnits: number } | null;
  isDegraded: boolean;
  degradedReason: string | null;
};

export type SettingsView = {
  agentId: string;
  version: string;
  dataDir: string;
  listen: string;
  /**
   * The configured locations: the config file's, then those added in the workbench (`settings.addLocation`),
   * which carry who added them, when and why (`added`; null for the config file's).
   */
  locations: { id: string; name: string; added: { by: string; at: number; reason: string } | null }[];
  channels: ChannelSettings[];
  destinations: DestinationSettings[];
  delivery: Record<string, number>;
  retention: Record<string, number>;
  stock: { safetyStock: number; safetyStockBySku: Record<string, number> };
  /** Minutes between scheduled reconciliation runs; 0: by hand only. */
  reconcile: { everyMinutes: number };
};

/** A POS source token created in the UI, as staff see it (the token itself is shown once, when created). */
export type SourceTokenView = {
  id: number;
  sourceId: string;
  label: string;
  /** The token's last four characters. */
  hint: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
  revokedBy: string | null;
};

/** What capturing a workbench entry did. */
export type EntryResult = {
  /** `duplicate`: the same entry (same id, same content) was captured before; nothing moved twice. */
  status: 'accepted' | 'duplicate';
  eventId: string;
  seq: number;
  /** SKUs of the entry the catalog does not know (captured anyway; an `unknown_sku` exception is raised). */
  unknownSkus: string[];
};

/** A SKU or barcode looked up as it is scanned. */
export type ItemLookupView = {
  /** False for a code the catalog does not know: it may still be entered as an unknown SKU. */
  found: boolean;
  sku: string;
  name: string | null;
  barcode: string | null;
  /** On hand at the asked location (0 when the item never moved there), or null when no location was asked. */
  onHand: number | null;
};

/** One row of the Stock page: an item at a location. */
export type StockRowView = {
  sku: string;
  name: string | null;
  barcode: string | null;
  location: string;
  onHand: number;
  reserved: number;
  safetyStock: number;
  /** Available-to-sell per channel, as published (after buffers and the oversell guard). */
  channels: { channel: string; available: number }[];
  /** Epoch ms of the last movement, or null. */
  lastMovementAt: number | null;
};

/**
 * A page of the Stock page's table: `total` rows match the filter (rows are `stock_levels`: an item at a location
 * where it ever moved), `rows` from `offset` on. `channels` names the per-channel columns, in the order of each
 * row's `channels`; `locations` are the configured ones, for the location select.
 */
export type StockListView = {
  total: number;
  offset: number;
  rows: StockRowView[];
  channels: string[];
  locations: { id: string; name: string }[];
};

/** A transfer sent to a location that has not been received there yet. */
export type ExpectedTransferView = {
  /** The transfer's reference (what receiving it names). */
  transfer: string;
  from: string;
  to: string;
  seq: number;
  sentAt: number;
  sentBy: string | null;
  lines: { sku: string; name: string | null; qty: number }[];
};

export type CountLineView = {
  sku: string;
  name: string | null;
  /** What staff counted, or null while not counted yet. */
  counted: number | null;
  /** The ledger's level when the item was counted, and the ledger point (event seq) it was read at. */
  ledgerAtCount: number | null;
  countedAtSeq: number | null;
  countedAt: number | null;
  countedBy: string | null;
  /** The ledger's level now. */
  levelNow: number;
  /** Movements since the item was counted (levelNow − ledgerAtCount); kept, never erased, by the count. */
  movedSinceCount: number;
  /** What the count will move: counted − ledgerAtCount (0 while not counted). */
  difference: number;
  /** The last known unit price and the difference's value in it, when a price is known. */
  unitPrice: string | null;
  currency: string | null;
  value: string | null;
};

export type CountSessionView = {
  id: number;
  location: string;
  label: string | null;
  status: 'open' | 'posted' | 'cancelled';
  createdBy: string;
  createdAt: number;
  closedAt: number | null;
  /** The event the count was captured as, once posted. */
  postedSeq: number | null;
  lines: CountLineView[];
};

/** A row of an export file that was not captured (it is also raised as a `bad_import_row` exception). */
export type ImportRowProblem = { line: number; field: string; message: string };

/** What `backroom import` reports: how the file was captured (`src-main/capture/import-file.ts`). */
export type ImportFileReport = {
  file: string;
  contentHash: string;
  /** `processed`: read and captured (some rows may have failed); `failed`: nothing could be captured. */
  outcome: 'processed' | 'failed' | 'already_imported';
  accepted: number;
  duplicate: number;
  problems: ImportRowProblem[];
  /** Why the whole file could not be read, when it could not. */
  error: string | null;
  importedAt: string;
};

/** A destination's breaker as `POST /api/v1/destinations/:id/resume` answers it. */
export type DestinationBreakerState = 'closed' | 'open' | 'half_open' | 'paused';

/** A carrier the Fulfil page offers. */
export type CarrierView = { id: string; name: string; hasTrackingPage: boolean };

/** One line of an order to fulfil: what was ordered and shipped, what is held, and what the shelf lacks. */
export type FulfilLineView = {
  sku: string;
  name: string | null;
  barcode: string | null;
  ordered: number;
  shipped: number;
  /** Left to ship, and held for the order. */
  reserved: number;
  /**
   * Units of `reserved` the location's on hand cannot cover once the orders promised earlier took theirs (0:
   * all of it is on the shelf).
   */
  short: number;
};

/** An order with something left to ship at a location. */
export type FulfilOrderView = {
  /** The reservations' channel (`orders:<destination>` for a pulled marketplace order). */
  channel: string;
  /** The marketplace destination it came from, or null for an order sent by a web shop. */
  destination: string | null;
  orderId: string;
  /** The number staff know (`#1001`). */
  name: string;
  placedAt: string | null;
  /** The marketplace's latest ship date, when it has one. */
  shipBy: string | null;
  lines: FulfilLineView[];
};

/** The Fulfil page: open orders at a location, oldest promise first, and the carriers to ship with. */
export type FulfilOrdersView = { location: string; orders: FulfilOrderView[]; carriers: CarrierView[] };

/** A shipment captured at the Fulfil page. */
export type ShipResult = EntryResult & {
  order: string;
  carrier: string;
  trackingNumber: string;
  trackingUrl: string | null;
  /** Units of the order still to ship after this one (0: shipped whole). */
  left: number;
};

/**
 * Where an item's price stands at one channel (a destination with a `prices` section):
 * - `sent`: the channel has the price it should (or the last one it took, if the item has none on the list now);
 * - `pending`: a change waits to be sent (or is being retried: `lastError` says why);
 * - `held_unmapped`: the channel has no item for the SKU; it goes once the mapping is set;
 * - `held_floor`: the new price is more than the floor under the last one sent: a manager confirms or keeps the
 *   old price;
 * - `not_sent`: nothing was sent yet and nothing waits (no price on the destination's list).
 */
export type ChannelPriceState = 'sent' | 'pending' | 'held_unmapped' | 'held_floor' | 'not_sent';

export type ChannelPriceView = {
  destination: string;
  sku: string;
  name: string | null;
  /** The price list the destination takes its price from. */
  list: string;
  /** The item's price on that list now (decimal text), with its currency; null when it has none there. */
  amount: string | null;
  currency: string | null;
  /** What the channel last took (null: nothing yet), its compare-at price, and when (epoch ms). */
  sentAmount: string | null;
  sentCompareAt: string | null;
  sentCurrency: string | null;
  sentAt: number | null;
  state: ChannelPriceState;
  /** The price held under the floor (`held_floor`). */
  heldAmount: string | null;
  floorPercent: number;
  /** Why it was not sent yet or last failed, in the channel's words. */
  lastError: string | null;
  /** Epoch ms of the oldest change not sent yet (pending or held). */
  since: number | null;
};

/** The Prices page: price changes waiting to go out or held, held first, and counts per destination. */
export type PricesView = {
  rows: ChannelPriceView[];
  destinations: { destination: string; list: string; pending: number; held: number }[];
};

/**
 * Why a channel's price differs from Backroom's (price reconciliation): `in_sync`; `pending` (a change is still
 * queued or held for the channel); `not_mapped` (the channel has no item for the SKU); `kept` (a person kept the
 * channel's old price over this one, held under the floor); `changed_remote` (nothing is queued and the channel
 * has another price: changed there by hand).
 */
export type PriceDriftCause = 'in_sync' | 'pending' | 'not_mapped' | 'kept' | 'changed_remote';
export const PRICE_DRIFT_FIXES = ['push', 'adopt', 'ignore'] as const;
/** `push` ours again; `adopt` theirs into the destination's local override list; `ignore` with a reason. */
export type PriceDriftFix = (typeof PRICE_DRIFT_FIXES)[number];

export type PriceDriftRow = {
  sku: string;
  /** The price Backroom holds for the channel (its override, else its list's), with its currency. */
  local: string | null;
  localCurrency: string | null;
  /** The channel's price now; null when it has no such item. */
  remote: string | null;
  remoteCurrency: string | null;
  cause: PriceDriftCause;
  fixes: PriceDriftFix[];
  /** Who ignored this difference and why, while the channel's price stays what it was then. */
  ignored: { operator: string; reason: string; at: number } | null;
};

export type PriceDriftReport = {
  destinationId: string;
  at: number;
  rows: PriceDriftRow[];
  summary: { items: number; inSync: number; pending: number; notMapped: number; changedRemote: number };
};

/** An amount of money in one currency (decimal text); currency '' is the ERP company's (the events named none). */
export type MoneyView = { currency: string; amount: string };

/** A line of a day statement the ERP did not take, and why. */
export type RefusedStatementLineView = {
  sku: string;
  /** '' when the events gave no price. */
  unitPrice: string;
  currency: string;
  /** Units sold less units returned. */
  qty: number;
  why: string;
};

/** One statement of a business day: number 0 made at the close, 1, 2... supplementary. */
export type DayStatementView = {
  id: number;
  number: number;
  /** The key the ERP's document carries: `<agentId>:<location>:<day>` (`...:s1`). */
  reference: string;
  /** `pending`: waiting to reach the ERP (or retrying); `posted`: in the ERP; `rejected`: the ERP refused it whole. */
  state: 'pending' | 'posted' | 'rejected';
  lastError: string | null;
  /** The ERP's document id (a Tryton sale), once posted; null when nothing was left to post. */
  remoteId: string | null;
  events: number;
  lines: number;
  /** The value of its lines, per currency (refused lines included). */
  total: MoneyView[];
  refused: RefusedStatementLineView[];
  postedAt: number | null;
};

/**
 * A location's business day for a `daily_statement` destination. `open`: takes the day's events; `closing`: closed,
 * a statement of it is not in the ERP yet; `posted`: every statement of it is in the ERP. A closed day takes only
 * supplementary events (`late`: events that came after the close and wait for their supplementary statement).
 */
export type BusinessDayView = {
  destinationId: string;
  location: string;
  day: string;
  state: 'open' | 'closing' | 'posted';
  closedAt: number | null;
  closedBy: string | null;
  sales: number;
  returns: number;
  unitsSold: number;
  unitsReturned: number;
  /** Sales less returns, per currency. */
  value: MoneyView[];
  late: number;
  statements: DayStatementView[];
};

/** When a `daily_statement` destination's business days end and close (its `dayClose`). */
export type DayScheduleView = {
  destination: string;
  /** Where a business day ends, `HH:MM` by the tills' clock (`00:00`: midnight). */
  dayEndsAt: string;
  /** When a day closes by itself, `HH:MM` in `timeZone`; null: only when a manager closes it. */
  closesAt: string | null;
  /** The IANA time zone of `closesAt` (the agent's own when the config names none). */
  timeZone: string;
};

/** The Day close page: the `daily_statement` destinations, their schedules and their days, newest first. */
export type DayCloseView = { destinations: string[]; schedules: DayScheduleView[]; days: BusinessDayView[] };

/**
 * Money reconciliation of one location's business day: what the tills captured against what the ERP's sales hold,
 * per currency, and the causes of any difference (each with the amount it explains).
 */
export type DayMoneyView = {
  destinationId: string;
  location: string;
  day: string;
  currency: string;
  captured: string;
  erp: string;
  difference: string;
  causes: {
    cause: 'open_day' | 'pending' | 'supplementary_pending' | 'refused_line' | 'rejected' | 'unexplained';
    amount: string;
    detail: string;
  }[];
};

/** The money reconciliation: one row per (destination, location, day, currency); `error` when the ERP could not be read. */
export type MoneyReconcileView = { rows: DayMoneyView[]; error: string | null; readAt: number };

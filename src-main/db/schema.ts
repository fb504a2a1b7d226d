import type { Generated } from 'kysely';
import type { AuditEntryView } from '../../shared/rpc-views.js';
import type { StoredException } from '../../shared/agent-api.js';
import type { OutboxItemState } from '../../shared/outbox-item-states.js';

/**
 * The database as Kysely sees it. Columns are nullable or not, never optional; names are the SQL names.
 * Event and movement rows are append-only: a correction is a new row.
 */
export type Database = {
  schema_migrations: SchemaMigrationsTable;
  events: EventsTable;
  chain_head: ChainHeadTable;
  movements: MovementsTable;
  stock_levels: StockLevelsTable;
  outbox: OutboxTable;
  level_dirty: LevelDirtyTable;
  price_marks: PriceMarksTable;
  items: ItemsTable;
  item_barcodes: ItemBarcodesTable;
  item_prices: ItemPricesTable;
  item_history: ItemHistoryTable;
  catalog_checkpoints: CatalogCheckpointsTable;
  exceptions: ExceptionsTable;
  imported_files: ImportedFilesTable;
  delivery_attempts: DeliveryAttemptsTable;
  destination_state: DestinationStateTable;
  audit_log: AuditLogTable;
  id_mappings: IdMappingsTable;
  connector_state: ConnectorStateTable;
  reservations: ReservationsTable;
  orders: OrdersTable;
  shipments: ShipmentsTable;
  fulfilments: FulfilmentsTable;
  business_days: BusinessDaysTable;
  statements: StatementsTable;
  statement_events: StatementEventsTable;
  statement_lines: StatementLinesTable;
  order_checkpoints: OrderCheckpointsTable;
  source_tokens: SourceTokensTable;
  channel_buffers: ChannelBuffersTable;
  count_sessions: CountSessionsTable;
  count_lines: CountLinesTable;
  locations: LocationsTable;
};

export type SchemaMigrationsTable = { version: number; name: string; applied_at: number };

export type EventsTable = {
  /** Local capture order; the device clock (`occurred_at`) is kept but never used for order. */
  seq: number;
  source: string;
  event_id: string;
  type: string;
  location: string;
  occurred_at: string;
  /** Milliseconds since the epoch, the agent's clock at capture. */
  received_at: number;
  /** Canonical JSON of the event as validated. */
  body: string;
  /** sha256 of `body`: equal content, equal hash (duplicate detection). */
  content_hash: string;
  prev_hash: string;
  hash: string;
};

export type ChainHeadTable = { id: number; seq: number; hash: string };

export type MovementsTable = {
  id: Generated<number>;
  event_seq: number;
  line_no: number;
  sku: string;
  location: string;
  delta: number;
  on_hand_after: number;
};

export type StockLevelsTable = {
  sku: string;
  location: string;
  on_hand: number;
  reserved: number;
  updated_seq: number;
};

export type OutboxTable = {
  id: Generated<number>;
  destination_id: string;
  event_seq: number;
  location: string;
  idempotency_key: string;
  state: OutboxItemState;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
  /** Version of the event payload format the row was queued with (`EVENT_PAYLOAD_VERSION` at the time). */
  payload_version: number;
};

export type LevelDirtyTable = {
  destination_id: string;
  sku: string;
  location: string;
  version: number;
  sent_version: number;
  marked_at: number;
  attempts: number;
  next_attempt_at: number;
  /** Set while the mark waits for an item mapping (not due until one is added). */
  held_at: number | null;
};

/** One per (price destination, SKU): the coalesced price update (migration 0014). */
export type PriceMarksTable = {
  destination_id: string;
  sku: string;
  version: number;
  sent_version: number;
  marked_at: number;
  attempts: number;
  next_attempt_at: number;
  /** Why a due mark is not sent: waiting for an item mapping, or a price under the floor waiting for a person. */
  held: 'unmapped' | 'floor' | null;
  held_at: number | null;
  held_amount: string | null;
  last_error: string | null;
  sent_amount: string | null;
  sent_compare_at: string | null;
  sent_currency: string | null;
  sent_at: number | null;
  confirmed_amount: string | null;
  kept_amount: string | null;
};

export type ItemsTable = {
  sku: string;
  name: string | null;
  /** The item's first barcode (all of them are in `item_barcodes`). */
  barcode: string | null;
  unit: string | null;
  is_active: number;
  /** The source that last changed the item (`csv`, `workbench`, a destination id, `legacy`). */
  source: string;
  /** JSON: which source set each field and when (`{ "name": { "source": "erp", "at": 1700000000000 } }`). */
  origins: string;
  /** The catalog's change number of the item's last change (the tills' cursor). */
  change_seq: number;
  updated_at: number;
};

export type ItemBarcodesTable = {
  barcode: string;
  sku: string;
  position: number;
  source: string;
  added_at: number;
};

export type ItemPricesTable = {
  sku: string;
  list: string;
  amount: string;
  currency: string;
  source: string;
  updated_at: number;
};

/** One stored change of an item: `changes` is JSON `{ "<field>": [before, after] }`. */
export type ItemHistoryTable = {
  id: Generated<number>;
  sku: string;
  change_seq: number;
  source: string;
  at: number;
  changes: string;
};

/** How far a catalog source's pull has read; moved only with the page it stored. */
export type CatalogCheckpointsTable = {
  source_id: string;
  /** Changes at or after this (less the overlap) are read; null: never pulled, everything is read. */
  since: string | null;
  /** The pull under way: the newest change the source had when it began (the next `since`), else null. */
  pull_mark: string | null;
  /** The pull under way: which of its reads, and the last record id stored of it. */
  phase: number;
  after_id: number;
  last_pull_at: number | null;
  last_error: string | null;
  items_seen: number;
};

/** The exceptions table: its columns are what the operator API lists (`StoredException`). */
export type ExceptionsTable = Omit<StoredException, 'id'> & { id: Generated<number> };

export type ImportedFilesTable = {
  content_hash: string;
  file_name: string;
  imported_at: number;
  outcome: 'processed' | 'failed';
  events_accepted: number;
  events_duplicate: number;
  rows_rejected: number;
};

export type DeliveryAttemptsTable = {
  id: Generated<number>;
  /** The ledger outbox row, or null for a level update. */
  outbox_id: number | null;
  destination_id: string;
  sku: string | null;
  location: string | null;
  at: number;
  /** The result kind (delivered, retry, rate_limited, unknown, rejected, auth_failed, already_applied). */
  result: string;
  detail: string | null;
};

export type DestinationStateTable = {
  destination_id: string;
  /** Why delivery is paused (an auth failure), or null while it runs. */
  paused_reason: string | null;
  paused_at: number | null;
  last_delivery_at: number | null;
  /** The end of the destination's 429 pause (epoch ms, from `Retry-After`), or null. */
  rate_limited_until: number | null;
  /** The sending rate AIMD learned (requests per second), or null for the configured rate. */
  paced_rate: number | null;
};

/** Append-only: every human action, with its operator and reason. */
/** The audit log: its columns are what the UI's activity page lists (`AuditEntryView`). */
export type AuditLogTable = Omit<AuditEntryView, 'id'> & { id: Generated<number> };

/** Local id → remote id of one destination; `origin` says who made it (csv, operator name, discovered). */
export type IdMappingsTable = {
  destination_id: string;
  kind: 'item' | 'location';
  local_id: string;
  remote_id: string;
  origin: string;
  updated_at: number;
};

/** A connector's own small store; `value` is JSON. */
export type ConnectorStateTable = { destination_id: string; key: string; value: string; updated_at: number };

/** A marketplace order line reserved at a location; `open` until released (cancelled) or shipped. */
export type ReservationsTable = {
  /** The capturing source: `orders:<destination id>` for pulled marketplace orders. */
  channel: string;
  order_id: string;
  sku: string;
  location: string;
  qty: number;
  state: 'open' | 'released' | 'shipped';
  opened_seq: number;
  closed_seq: number | null;
  /** Units of the line shipped so far; `qty` is what is left reserved. */
  shipped: Generated<number>;
};

/** A marketplace or web order as its last `reserve` described it. */
export type OrdersTable = {
  /** The reservations' channel (the capturing source of its reserve). */
  channel: string;
  order_id: string;
  /** The number staff know (`#1001`); the order id when the channel gave none. */
  name: string;
  location: string;
  /** RFC 3339: when it was placed (the reserve's `meta.placedAt`, else its `occurredAt`). */
  placed_at: string;
  /** RFC 3339: the marketplace's latest ship date, when it has one. */
  ship_by: string | null;
  opened_seq: number;
  updated_seq: number;
};

/** A warehouse shipment of a marketplace order, to be told to that marketplace once. */
export type FulfilmentsTable = {
  event_seq: number;
  destination_id: string;
  order_id: string;
  state: 'pending' | 'sent' | 'rejected';
  attempts: Generated<number>;
  /** 1 when the last attempt's outcome was unknown: the marketplace is read back before sending again. */
  is_unsure: Generated<number>;
  next_at: number;
  remote_id: string | null;
  last_error: string | null;
  updated_at: number;
};

/** A business day closed for a `daily_statement` destination (no row: the day is open). */
export type BusinessDaysTable = {
  destination_id: string;
  location: string;
  /** `YYYY-MM-DD`: the calendar day of the events' `occurredAt` as the POS wrote it. */
  day: string;
  closed_at: number;
  /** The operator who closed it, or `schedule` (the configured close time). */
  closed_by: string;
};

/** A statement of a day's sales: number 0 made at the close, 1, 2... supplementary. */
export type StatementsTable = {
  id: Generated<number>;
  destination_id: string;
  location: string;
  day: string;
  number: number;
  /** The key searched in the ERP before creating: `<agentId>:<location>:<day>` (`...:s<number>`). */
  reference: string;
  state: 'pending' | 'posted' | 'rejected';
  attempts: Generated<number>;
  next_at: number;
  last_error: string | null;
  /** The ERP's id of the document (a Tryton `sale.sale` id). */
  remote_id: string | null;
  created_at: number;
  posted_at: number | null;
};

/** A sale or return for a `daily_statement` destination, and the statement that took it (null: none yet). */
export type StatementEventsTable = {
  destination_id: string;
  event_seq: number;
  location: string;
  day: string;
  statement_id: number | null;
};

/** One line of a statement: a (SKU, unit price, currency) with the units sold and returned. */
export type StatementLinesTable = {
  statement_id: number;
  sku: string;
  /** Decimal text as the events gave it; '' when they gave none (the line is refused). */
  unit_price: string;
  currency: string;
  sold: number;
  returned: number;
  /** `moved`: refused, then sent again in a later (supplementary) statement. */
  state: 'pending' | 'posted' | 'refused' | 'moved';
  refusal: string | null;
};

/** One `ship` event of a known order, with what it was sent with. */
export type ShipmentsTable = {
  event_seq: number;
  channel: string;
  order_id: string;
  location: string;
  carrier: string | null;
  tracking_number: string | null;
  tracking_url: string | null;
};

/** Where a destination's order pull stands: orders updated after `updated_after` are still to be read. */
export type OrderCheckpointsTable = {
  destination_id: string;
  updated_after: string | null;
  /** The checkpoint after the first pull: orders last changed before it are history, never shipped here. */
  baseline: string | null;
  last_pull_at: number | null;
  last_error: string | null;
  orders_seen: number;
};

/** A POS source token created in the UI: only its sha256 is kept; revoked tokens stay, marked. */
export type SourceTokensTable = {
  id: Generated<number>;
  source_id: string;
  label: string;
  token_hash: string;
  /** The token's last four characters. */
  hint: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
  revoked_by: string | null;
};

/** A channel's buffer set in the UI, over the config's value (no row: the config's value applies). */
export type ChannelBuffersTable = {
  channel: string;
  buffer: number;
  set_by: string;
  set_at: number;
  reason: string;
};

/** A count session at the workbench: open while staff count, then posted (as one `count` event) or cancelled. */
export type CountSessionsTable = {
  id: Generated<number>;
  location: string;
  label: string | null;
  status: 'open' | 'posted' | 'cancelled';
  created_by: string;
  created_at: number;
  closed_at: number | null;
  closed_by: string | null;
  cancel_reason: string | null;
  /** The seq of the `count` event the session was posted as. */
  posted_seq: number | null;
};

/** One item of a count session; the counted columns are null until it is counted. */
export type CountLinesTable = {
  session_id: number;
  sku: string;
  line_no: number;
  counted: number | null;
  /** On hand in the ledger at `counted_at_seq`, the capture seq when it was counted. */
  ledger_at_count: number | null;
  counted_at_seq: number | null;
  counted_at: number | null;
  counted_by: string | null;
};

/** Locations added in the workbench (to an `unknown_location`), merged with the config file's at start. */
export type LocationsTable = {
  id: string;
  name: string | null;
  added_by: string;
  added_at: number;
  reason: string;
};

import { z } from 'zod';
import type { StatusResponse, StockLevel } from './api.js';
import { EXCEPTION_STATUSES, type ExceptionStatus } from './exception-kinds.js';
import type { OutboxItemState } from './outbox-item-states.js';

/**
 * The UI's contract with the agent: one map of `name -> { method, path, input, output }`. The agent parses every
 * input with the `input` schema at the edge; the renderer's client (`src-renderer/src/api/client.ts`) parses it
 * too before sending, so a bad input fails in the form, not on the wire. `output` is a type only (a phantom
 * `undefined as unknown as T`): answers are produced by our own code and typed by it.
 *
 * GET inputs travel as the query string; POST inputs as a JSON body. A `:name` in a path is taken from the input.
 */

/** Which exceptions a page or a bulk action covers. Absent fields do not filter. */
export const exceptionFilterSchema = z.strictObject({
  status: z.enum(EXCEPTION_STATUSES).optional(),
  kind: z.string().min(1).max(64).optional(),
  destination: z.string().min(1).max(64).optional(),
  /** Exceptions that name this SKU, or whose event has a line of it. */
  sku: z.string().min(1).max(255).optional(),
  /** Only exceptions first raised at least this many minutes ago. */
  olderThanMinutes: z.coerce.number().int().min(0).max(525_600).optional(),
});
export type ExceptionFilter = z.output<typeof exceptionFilterSchema>;

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

export type StockItemView = {
  /** The SKU that matched (by SKU or barcode), or null when nothing did. */
  sku: string | null;
  name: string | null;
  barcode: string | null;
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

/** A destination as the settings page shows it: secrets masked. */
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
  locations: { id: string; name: string }[];
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

/** The most units a channel buffer may hold back: far above any shelf, low enough to catch a slipped digit. */
export const MAX_CHANNEL_BUFFER = 1_000_000;

const ids = z.array(z.number().int().positive()).min(1).max(10_000);
const reason = z.string().trim().max(1000);
const empty = z.strictObject({});

/** A phantom type carrier: the value is never read. */
export function out<T>(): T {
  return undefined as unknown as T;
}

/**
 * Who may call a route: `public` anyone; `token` any valid token (a till's, an operator's, the local CLI's);
 * `operator` a named operator (a UI session or an operator token); `operator_or_control` that or the local CLI,
 * which then names the operator in the input; `control` only the local CLI (the lock file's token).
 * A route without `access` is for a named operator.
 */
export type RpcAccess = 'public' | 'token' | 'operator' | 'operator_or_control' | 'control';

/** One route of the contract. */
export type RpcRoute = {
  method: 'GET' | 'POST';
  path: `/api/v1/${string}`;
  access?: RpcAccess;
  input: z.ZodType;
  output: unknown;
};

/** Required with the local CLI's control token; a session or an operator token names its operator itself. */
const operatorName = z.string().min(1).max(100);

export const RPC = {
  'session.login': {
    method: 'POST',
    path: '/api/v1/session',
    access: 'public',
    input: z.strictObject({
      name: z.string().trim().min(1, 'Enter your name').max(100),
      token: z.string().min(1, 'Enter your password').max(1000),
    }),
    output: out<{ operator: string }>(),
  },
  'session.me': { method: 'GET', path: '/api/v1/session', input: empty, output: out<{ operator: string }>() },
  'session.logout': {
    method: 'POST',
    path: '/api/v1/session/logout',
    access: 'public',
    input: empty,
    output: out<{ ok: true }>(),
  },
  'status.get': {
    method: 'GET',
    path: '/api/v1/status',
    access: 'token',
    input: empty,
    output: out<StatusResponse>(),
  },
  'exceptions.page': {
    method: 'GET',
    path: '/api/v1/exceptions/page',
    input: exceptionFilterSchema.extend({
      offset: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    output: out<ExceptionPage>(),
  },
  'exceptions.detail': {
    method: 'GET',
    path: '/api/v1/exceptions/:id/detail',
    input: z.strictObject({ id: z.coerce.number().int().positive() }),
    output: out<ExceptionDetail>(),
  },
  'exceptions.retryMatching': {
    method: 'POST',
    path: '/api/v1/exceptions/retry-matching',
    input: z.strictObject({ filter: exceptionFilterSchema, reason: reason.optional() }),
    output: out<{ matched: number; changed: number; skipped: number }>(),
  },
  'outbox.retry': {
    method: 'POST',
    path: '/api/v1/outbox/retry',
    access: 'operator_or_control',
    input: z.strictObject({ ids, reason: reason.optional(), operator: operatorName.optional() }),
    output: out<OperationResult>(),
  },
  'outbox.replay': {
    method: 'POST',
    path: '/api/v1/outbox/replay',
    access: 'operator_or_control',
    input: z.strictObject({ ids, reason: reason.optional(), operator: operatorName.optional() }),
    output: out<OperationResult>(),
  },
  'outbox.discard': {
    method: 'POST',
    path: '/api/v1/outbox/discard',
    access: 'operator_or_control',
    input: z.strictObject({
      ids,
      reason: z
        .string({ error: 'Discarding needs a reason. Say why this will never be delivered.' })
        .trim()
        .min(1, 'Discarding needs a reason. Say why this will never be delivered.')
        .max(1000),
      operator: operatorName.optional(),
    }),
    output: out<OperationResult>(),
  },
  'stock.item': {
    method: 'GET',
    path: '/api/v1/stock/item',
    input: z.strictObject({ q: z.string().trim().min(1, 'Enter a SKU or barcode').max(255) }),
    output: out<StockItemView>(),
  },
  'mappings.list': {
    method: 'GET',
    path: '/api/v1/mappings',
    input: z.strictObject({
      destination: z.string().min(1).max(64).optional(),
      kind: z.enum(['item', 'location']).optional(),
      /** Local id (SKU or location) to look up. */
      local: z.string().min(1).max(255).optional(),
    }),
    output: out<{ mappings: MappingView[] }>(),
  },
  'mappings.set': {
    method: 'POST',
    path: '/api/v1/mappings',
    input: z.strictObject({
      destination: z.string().min(1, 'Choose a destination').max(64),
      kind: z.enum(['item', 'location']).default('item'),
      local: z.string().trim().min(1, 'Enter the SKU or location').max(255),
      remote: z.string().trim().min(1, 'Enter the id the destination knows it by').max(255),
      reason: reason.optional(),
    }),
    output: out<{ mapping: MappingView }>(),
  },
  'mappings.remove': {
    method: 'POST',
    path: '/api/v1/mappings/remove',
    input: z.strictObject({
      destination: z.string().min(1).max(64),
      kind: z.enum(['item', 'location']),
      local: z.string().min(1).max(255),
      reason: reason.min(1, 'Say why the mapping goes'),
    }),
    output: out<{ removed: boolean }>(),
  },
  'mappings.import': {
    method: 'POST',
    path: '/api/v1/mappings/import',
    input: z.strictObject({ csv: z.string().min(1, 'Choose a CSV file').max(10_000_000) }),
    output: out<MappingImportResult>(),
  },
  'reconcile.run': {
    method: 'POST',
    path: '/api/v1/reconcile',
    input: z.strictObject({
      destination: z.string().min(1, 'Choose a destination').max(64),
      sku: z.string().min(1).max(255).optional(),
      location: z.string().min(1).max(64).optional(),
    }),
    output: out<ReconcileReport>(),
  },
  'reconcile.fix': {
    method: 'POST',
    path: '/api/v1/reconcile/fix',
    input: z.strictObject({
      destination: z.string().min(1).max(64),
      sku: z.string().min(1).max(255),
      location: z.string().min(1).max(64),
      action: z.enum(RECONCILE_FIXES),
      reason: reason.min(1, 'Say why'),
    }),
    output: out<{ action: ReconcileFix; detail: string }>(),
  },
  'reconcile.last': {
    method: 'GET',
    path: '/api/v1/reconcile/last',
    input: z.strictObject({ destination: z.string().min(1).max(64) }),
    output: out<{ report: ReconcileReport | null }>(),
  },
  'settings.get': { method: 'GET', path: '/api/v1/settings', input: empty, output: out<SettingsView>() },
  'channels.setBuffer': {
    method: 'POST',
    path: '/api/v1/channels/buffer',
    input: z.strictObject({
      channel: z.string().min(1, 'Choose a channel').max(64),
      /** null: back to the config file's buffer. */
      buffer: z
        .number({ message: 'Enter a whole number of units' })
        .int('Enter a whole number of units')
        .min(0, 'A buffer cannot be negative')
        .max(MAX_CHANNEL_BUFFER, `At most ${MAX_CHANNEL_BUFFER} units`)
        .nullable(),
      reason: reason.min(1, 'Say why the buffer changes'),
    }),
    output: out<{ channel: ChannelSettings }>(),
  },
  'destinations.test': {
    method: 'POST',
    path: '/api/v1/destinations/test',
    input: z.strictObject({ destination: z.string().min(1, 'Choose a destination').max(64) }),
    /** Reads only: checks reachability and credentials, changes nothing remote. */
    output: out<DestinationTestResult>(),
  },
  'sources.list': {
    method: 'GET',
    path: '/api/v1/sources',
    input: empty,
    output: out<{ configured: { id: string }[]; tokens: SourceTokenView[] }>(),
  },
  'sources.createToken': {
    method: 'POST',
    path: '/api/v1/sources/tokens',
    input: z.strictObject({
      source: z
        .string()
        .trim()
        .min(1, 'Enter the POS source id')
        .max(64, 'At most 64 characters')
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Use letters, digits, ".", "_" and "-" only'),
      label: z.string().trim().min(1, 'Say which till or system it is for').max(200),
    }),
    /** `token` is shown this once; only its hash is kept. */
    output: out<{ token: string; entry: SourceTokenView }>(),
  },
  'sources.revokeToken': {
    method: 'POST',
    path: '/api/v1/sources/tokens/revoke',
    input: z.strictObject({
      id: z.number().int().positive(),
      reason: reason.min(1, 'Say why it is revoked'),
    }),
    output: out<{ entry: SourceTokenView }>(),
  },
  'audit.list': {
    method: 'GET',
    path: '/api/v1/audit',
    access: 'operator_or_control',
    input: empty,
    output: out<{ entries: AuditEntryView[] }>(),
  },
} as const satisfies Record<string, RpcRoute>;

export type RpcName = keyof typeof RPC;
/** What a caller passes (before defaults are applied). */
export type RpcInput<N extends RpcName> = z.input<(typeof RPC)[N]['input']>;
/** What a handler receives (after parsing). */
export type RpcParsed<N extends RpcName> = z.output<(typeof RPC)[N]['input']>;
export type RpcOutput<N extends RpcName> = (typeof RPC)[N]['output'];

/** The live stream's path. */
export const EVENT_STREAM_PATH = '/api/v1/events/stream';

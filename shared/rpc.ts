import { z } from 'zod';
import type { StatusResponse } from './api.js';
import { EXCEPTION_STATUSES } from './exception-kinds.js';
import { hasRole, type OperatorRole } from './operator-roles.js';
import { COMMERCE_ROUTES } from './rpc-commerce-routes.js';
import { empty, ids, operatorName, out, reason, type RpcRoute } from './rpc-route.js';
import { STORE_ROUTES } from './rpc-store-routes.js';

export { out, type RpcAccess, type RpcRoute } from './rpc-route.js';
import {
  RECONCILE_FIXES,
  SHIPMENT_FIXES,
  type ExceptionPage,
  type ExceptionDetail,
  type OperationResult,
  type AuditEntryView,
  type MappingView,
  type MappingImportResult,
  type ReconcileFix,
  type ReconcileReport,
  type ShipmentFix,
  type ShipmentReconcileReport,
  type DestinationSummary,
  type DestinationTestResult,
  type ChannelSettings,
  type SettingsView,
  type SourceTokenView,
  type EntryResult,
  type ImportFileReport,
  type DestinationBreakerState,
} from './rpc-views.js';
import { WORKBENCH_SOURCE } from './stock-entry.js';

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

/** The most units a channel buffer may hold back: far above any shelf, low enough to catch a slipped digit. */
export const MAX_CHANNEL_BUFFER = 1_000_000;

export const RPC = {
  ...STORE_ROUTES,
  ...COMMERCE_ROUTES,
  'session.login': {
    method: 'POST',
    path: '/api/v1/session',
    access: 'public',
    input: z.strictObject({
      name: z.string().trim().min(1, 'Enter your name').max(100),
      token: z.string().min(1, 'Enter your password').max(1000),
    }),
    output: out<{ operator: string; role: OperatorRole }>(),
  },
  'session.me': {
    method: 'GET',
    path: '/api/v1/session',
    input: empty,
    output: out<{ operator: string; role: OperatorRole }>(),
  },
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
    role: 'manager',
    path: '/api/v1/exceptions/retry-matching',
    input: z.strictObject({ filter: exceptionFilterSchema, reason: reason.optional() }),
    output: out<{ matched: number; changed: number; skipped: number }>(),
  },
  'outbox.retry': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/outbox/retry',
    access: 'operator_or_control',
    input: z.strictObject({ ids, reason: reason.optional(), operator: operatorName.optional() }),
    output: out<OperationResult>(),
  },
  'outbox.replay': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/outbox/replay',
    access: 'operator_or_control',
    input: z.strictObject({ ids, reason: reason.optional(), operator: operatorName.optional() }),
    output: out<OperationResult>(),
  },
  'outbox.discard': {
    method: 'POST',
    role: 'manager',
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
  'exceptions.close': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/exceptions/close',
    input: z.strictObject({
      ids,
      reason: z
        .string({ error: 'Closing needs a reason' })
        .trim()
        .min(1, 'Closing needs a reason. Say why nothing else will be done.')
        .max(1000),
    }),
    output: out<OperationResult>(),
  },
  'exceptions.closeMatching': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/exceptions/close-matching',
    input: z.strictObject({
      filter: exceptionFilterSchema,
      reason: z
        .string()
        .trim()
        .min(1, 'Closing needs a reason. Say why nothing else will be done.')
        .max(1000),
    }),
    output: out<{ matched: number; changed: number }>(),
  },
  'exceptions.acknowledge': {
    method: 'POST',
    path: '/api/v1/exceptions/acknowledge',
    input: z.strictObject({ ids, note: reason.optional() }),
    output: out<OperationResult>(),
  },
  'exceptions.correct': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/exceptions/correct',
    input: z.strictObject({
      /** An open `unknown_sku` or `unknown_location` exception. */
      id: z.number().int().positive(),
      /** The right SKU or location. */
      to: z.string().trim().min(1, 'Enter the right SKU or location').max(255),
      reason: reason.min(1, 'Say why'),
    }),
    /** The correction events captured (each linked to the events it corrects). */
    output: out<{ seqs: number[]; detail: string }>(),
  },
  'settings.addLocation': {
    method: 'POST',
    role: 'admin',
    path: '/api/v1/settings/locations',
    input: z.strictObject({
      id: z
        .string()
        .trim()
        .min(1, 'Enter the location id')
        .max(64)
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Use letters, digits, ".", "_" and "-" only'),
      name: z.string().trim().max(200).optional(),
      reason: reason.min(1, 'Say why the location is added'),
    }),
    output: out<{ id: string; resolved: number }>(),
  },
  'imports.fixRow': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/imports/fix-row',
    input: z.strictObject({
      /** An open `bad_import_row` exception. */
      id: z.number().int().positive(),
      /** The row's event as fixed (validated like the ingest API). */
      event: z.record(z.string(), z.unknown()),
    }),
    output: out<EntryResult & { resolved: number }>(),
  },
  'imports.reimport': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/imports/reimport',
    input: z.strictObject({
      /** An open `bad_import_file` exception. */
      id: z.number().int().positive(),
      fileName: z.string().trim().min(1).max(255),
      content: z.string().min(1, 'Choose the fixed file').max(50_000_000),
    }),
    output: out<ImportFileReport>(),
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
    role: 'manager',
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
    role: 'manager',
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
    role: 'manager',
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
    role: 'manager',
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
  'reconcile.shipments': {
    method: 'POST',
    path: '/api/v1/reconcile/shipments',
    input: z.strictObject({ destination: z.string().min(1, 'Choose a destination').max(64) }),
    output: out<ShipmentReconcileReport>(),
  },
  'reconcile.fixShipment': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/reconcile/shipments/fix',
    input: z.strictObject({
      destination: z.string().min(1).max(64),
      orderId: z.string().min(1).max(255),
      action: z.enum(SHIPMENT_FIXES),
      reason: reason.min(1, 'Say why'),
    }),
    output: out<{ action: ShipmentFix; detail: string }>(),
  },
  'reconcile.last': {
    method: 'GET',
    path: '/api/v1/reconcile/last',
    input: z.strictObject({ destination: z.string().min(1).max(64) }),
    output: out<{ report: ReconcileReport | null }>(),
  },
  'settings.get': {
    method: 'GET',
    role: 'manager',
    path: '/api/v1/settings',
    input: empty,
    output: out<SettingsView>(),
  },
  'channels.setBuffer': {
    method: 'POST',
    role: 'manager',
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
  'destinations.list': {
    method: 'GET',
    path: '/api/v1/destinations',
    input: empty,
    /** `reconcile.everyMinutes`: the reconciliation schedule (0: off). */
    output: out<{ destinations: DestinationSummary[]; reconcile: { everyMinutes: number } }>(),
  },
  /** Restarts a destination paused on refused credentials or setup, once they are fixed (the exception's Resume). */
  'destinations.resume': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/destinations/:id/resume',
    access: 'operator_or_control',
    /** `id` from the path; the body is optional (an operator token names its operator, a reason may be left out). */
    input: z.object({
      id: z.string().min(1),
      operator: z.string().min(1).optional(),
      reason: z.string().optional(),
    }),
    output: out<{ destination: string; state: DestinationBreakerState }>(),
  },
  'destinations.test': {
    method: 'POST',
    role: 'admin',
    path: '/api/v1/destinations/test',
    input: z.strictObject({ destination: z.string().min(1, 'Choose a destination').max(64) }),
    /** Reads only: checks reachability and credentials, changes nothing remote. */
    output: out<DestinationTestResult>(),
  },
  'sources.list': {
    method: 'GET',
    role: 'admin',
    path: '/api/v1/sources',
    input: empty,
    output: out<{ configured: { id: string }[]; tokens: SourceTokenView[] }>(),
  },
  'sources.createToken': {
    method: 'POST',
    role: 'admin',
    path: '/api/v1/sources/tokens',
    input: z.strictObject({
      source: z
        .string()
        .trim()
        .min(1, 'Enter the POS source id')
        .max(64, 'At most 64 characters')
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Use letters, digits, ".", "_" and "-" only')
        .refine((source) => source !== WORKBENCH_SOURCE, {
          message: `"${WORKBENCH_SOURCE}" is the workbench's own source`,
        }),
      label: z.string().trim().min(1, 'Say which till or system it is for').max(200),
    }),
    /** `token` is shown this once; only its hash is kept. */
    output: out<{ token: string; entry: SourceTokenView }>(),
  },
  'sources.revokeToken': {
    method: 'POST',
    role: 'admin',
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

/** The least operator role that may call `route` (the agent's guard and the UI both ask this). */
export function leastRoleOf(route: RpcRoute): OperatorRole {
  return route.role ?? 'clerk';
}

/** Whether an operator of `role` may call the route `name` (the UI shows only what it may). */
export function mayCall(role: OperatorRole, name: RpcName): boolean {
  return hasRole(role, leastRoleOf(RPC[name]));
}
/** What a caller passes (before defaults are applied). */
export type RpcInput<N extends RpcName> = z.input<(typeof RPC)[N]['input']>;
/** What a handler receives (after parsing). */
export type RpcParsed<N extends RpcName> = z.output<(typeof RPC)[N]['input']>;
export type RpcOutput<N extends RpcName> = (typeof RPC)[N]['output'];

/** The live stream's path. */
export const EVENT_STREAM_PATH = '/api/v1/events/stream';

import { z } from 'zod';
import { EXCEPTION_STATUSES, type ExceptionStatus } from './exception-kinds.js';
import { OUTBOX_ITEM_STATES, type OutboxItemState } from './outbox-item-states.js';
import { RPC, out, type RpcRoute } from './rpc.js';
import { type ImportFileReport, type MappingImportResult } from './rpc-views.js';

/**
 * The agent's whole API: the UI's routes (`RPC`) and the local CLI's control calls (`CONTROL_RPC`), one map of
 * `name -> { method, path, access, input, output }`. The agent's router registers every name of it and its handler
 * table does not compile without a handler for each; the CLI's client (`src-main/cli/agent-client.ts`) calls the
 * control names (and `status.get`) through it. The control calls stay out of `RPC`, so the UI cannot name them.
 */

export type { ImportRowProblem, ImportFileReport } from './rpc-views.js';

/** A channel's buffer as `backroom channels` lists it (`src-main/ledger/channel-buffers.ts`). */
export type ChannelBufferView = Readonly<{
  channel: string;
  /** The buffer in effect: the override when there is one, else the config's. */
  buffer: number;
  /** The config file's buffer (0 for a channel only named by a destination). */
  configured: number;
  /** Whether the config's `channels` declares it (else a level destination implies it). */
  isDeclared: boolean;
  override: Readonly<{ buffer: number; setBy: string; setAt: number; reason: string }> | null;
  /** The level destinations publishing to it. */
  destinations: readonly string[];
}>;

/** The CLI's `channels`: nothing to list, or a change (the UI's `channels.setBuffer` plus who made it). */
const channelsControl = z.strictObject({
  change: RPC['channels.setBuffer'].input
    .extend({ operator: z.string().trim().min(1, 'Say who changes it').max(100) })
    .optional(),
});

/** The local CLI's calls to a running agent (it is the database's only writer), by the lock file's token. */
export const CONTROL_RPC = {
  'control.importFile': {
    method: 'POST',
    path: '/api/v1/import',
    access: 'control',
    input: z.object({ path: z.string().min(1), source: z.string().min(1) }),
    output: out<ImportFileReport>(),
  },
  'control.importMappings': {
    method: 'POST',
    path: '/api/v1/control/mappings/import',
    access: 'control',
    /** `origin`: who the import is audited under. */
    input: z.object({ csv: z.string().min(1), origin: z.string().min(1).max(100) }),
    output: out<MappingImportResult>(),
  },
  'control.channels': {
    method: 'POST',
    path: '/api/v1/control/channels',
    access: 'control',
    input: channelsControl,
    output: out<{ channels: ChannelBufferView[] }>(),
  },
} as const satisfies Record<`control.${string}`, RpcRoute>;

/** An outbox item as the operator API lists it (`GET /api/v1/outbox`). */
export type OutboxItemView = {
  id: number;
  destinationId: string;
  eventSeq: number;
  eventId: string;
  source: string;
  type: string;
  location: string;
  reference: string | null;
  idempotencyKey: string;
  state: OutboxItemState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
  /**
   * For a pending item behind another in its lane (same destination and location): the item it waits for, with
   * that item's last error, so staff see what holds it back. Null when nothing does.
   */
  blockedBy: { id: number; lastError: string | null; nextAttemptAt: number } | null;
};

/** An exception as stored (the table's columns), as the operator API lists it (`GET /api/v1/exceptions`). */
export type StoredException = {
  id: number;
  kind: string;
  status: ExceptionStatus;
  dedupe_key: string | null;
  message: string;
  /** JSON object with the business objects involved. */
  details: string;
  source: string | null;
  event_seq: number | null;
  sku: string | null;
  location: string | null;
  destination_id: string | null;
  occurrences: number;
  created_at: number;
  last_seen_at: number;
  resolved_at: number | null;
  resolution: string | null;
  /** Who marked it seen (being handled) without closing it, when and with what note; null until then. */
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  acknowledged_note: string | null;
};

export type { DestinationBreakerState } from './rpc-views.js';

/**
 * The operator API for scripts (README, "Outbox operations"): an operator token, or the local CLI naming the
 * operator. The UI uses the paged routes of `RPC` instead.
 */
export const OPERATOR_RPC = {
  'outbox.list': {
    method: 'GET',
    path: '/api/v1/outbox',
    access: 'operator_or_control',
    input: z.object({
      destination: z.string().min(1).optional(),
      state: z.enum(OUTBOX_ITEM_STATES).optional(),
      afterId: z.coerce.number().int().min(0).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
    output: out<{ items: OutboxItemView[] }>(),
  },
  'exceptions.list': {
    method: 'GET',
    path: '/api/v1/exceptions',
    access: 'operator_or_control',
    input: z.object({
      status: z.enum(EXCEPTION_STATUSES).optional(),
      kind: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(5000).optional(),
    }),
    output: out<{ exceptions: StoredException[] }>(),
  },
} as const satisfies Record<string, RpcRoute>;

/** Every route of the agent's API: the UI's, the operator API's and the CLI's. */
export const AGENT_API = { ...RPC, ...OPERATOR_RPC, ...CONTROL_RPC } as const satisfies Record<
  string,
  RpcRoute
>;

export type ApiName = keyof typeof AGENT_API;
/** What a caller passes (before defaults are applied). */
export type ApiInput<N extends ApiName> = z.input<(typeof AGENT_API)[N]['input']>;
/** What a handler receives (after parsing). */
export type ApiParsed<N extends ApiName> = z.output<(typeof AGENT_API)[N]['input']>;
export type ApiOutput<N extends ApiName> = (typeof AGENT_API)[N]['output'];

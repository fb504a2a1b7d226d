import { z } from 'zod';
import { RPC, out, type MappingImportResult, type RpcRoute } from './rpc.js';

/**
 * The agent's whole API: the UI's routes (`RPC`) and the local CLI's control calls (`CONTROL_RPC`), one map of
 * `name -> { method, path, access, input, output }`. The agent's router registers every name of it and its handler
 * table does not compile without a handler for each; the CLI's client (`src-main/cli/agent-client.ts`) calls the
 * control names (and `status.get`) through it. The control calls stay out of `RPC`, so the UI cannot name them.
 */

/** A line of an export file that was not captured (it is also raised as a `bad_import_row` exception). */
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

/** A channel's buffer as `backroom channels` lists it (`src-main/ledger/channel-buffers.ts`). */
export type ChannelBufferView = Readonly<{
  channel: string;
  /** The buffer in effect: the override when there is one, else the config's. */
  buffer: number;
  /** The config file's buffer (0 for a channel only named by a destination). */
  configured: number;
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

/** Every route of the agent's API, the UI's and the CLI's. */
export const AGENT_API = { ...RPC, ...CONTROL_RPC } as const satisfies Record<string, RpcRoute>;

export type ApiName = keyof typeof AGENT_API;
/** What a caller passes (before defaults are applied). */
export type ApiInput<N extends ApiName> = z.input<(typeof AGENT_API)[N]['input']>;
/** What a handler receives (after parsing). */
export type ApiParsed<N extends ApiName> = z.output<(typeof AGENT_API)[N]['input']>;
export type ApiOutput<N extends ApiName> = (typeof AGENT_API)[N]['output'];

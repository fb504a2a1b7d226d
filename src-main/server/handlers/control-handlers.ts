import type { ImportReport } from '../../capture/import-file.js';
import type { MappingImportReport } from '../../mappings/id-mapping-repo.js';
import type { ChannelBuffer } from '../../ledger/channel-buffers.js';
import { ApiFailure } from '../api-failure.js';
import type { HandlerTable } from '../rpc-router.js';

export type ControlHandlerDeps = Readonly<{
  /** Captures an export file once (`backroom import` while the agent runs). */
  importFile: (path: string, source: string) => Promise<ImportReport>;
  /** Imports a mapping CSV (`backroom mappings import` while the agent runs), audited under `origin`. */
  importMappings: (csv: string, origin: string) => MappingImportReport;
  /** `backroom channels` while the agent runs: an optional buffer change, then every channel's buffer. */
  channels: (
    change?: Readonly<{ channel: string; buffer: number | null; reason: string; operator: string }>,
  ) => ChannelBuffer[];
}>;

/**
 * The local CLI's writes while the agent runs (it is the database's only writer), by the lock file's token: the
 * same work the CLI does itself when no agent runs.
 */
export function controlHandlers(
  deps: ControlHandlerDeps,
): Pick<HandlerTable, 'control.importFile' | 'control.importMappings' | 'control.channels'> {
  return {
    'control.importFile': ({ path, source }) => deps.importFile(path, source),
    'control.importMappings': ({ csv, origin }) => deps.importMappings(csv, origin),
    'control.channels': ({ change }) => {
      try {
        return { channels: deps.channels(change) };
      } catch (error) {
        // A buffer the ledger refuses (out of range) is the caller's mistake, said in the ledger's words.
        if (error instanceof RangeError) throw new ApiFailure('bad_shape', error.message);
        throw error;
      }
    },
  };
}

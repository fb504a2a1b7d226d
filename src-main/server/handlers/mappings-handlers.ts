import type { ResolvedConfig } from '../../../shared/config.js';
import type { MappingView } from '../../../shared/rpc.js';
import type { IdMappingRepo, MappingKind } from '../../connectors/id-mapping-repo.js';
import type { AuditLog } from '../../exceptions/audit-log.js';
import { unknownDestination } from '../api-failure.js';
import type { HandlerTable } from '../rpc-router.js';

export type MappingsHandlerDeps = Readonly<{
  config: Pick<ResolvedConfig, 'destinations'>;
  mappings: IdMappingRepo;
  audit: AuditLog;
}>;

/** Mappings listed at most per request; the page filters within them. */
const MAPPING_LIST_LIMIT = 5000;

function toView(m: Readonly<MappingView>): MappingView {
  return {
    destinationId: m.destinationId,
    kind: m.kind,
    localId: m.localId,
    remoteId: m.remoteId,
    origin: m.origin,
    updatedAt: m.updatedAt,
  };
}

/**
 * Identifier mappings (a local SKU or location and the id a destination knows it by), set by hand or imported
 * from a CSV. Every write is in the audit log with the operator, what was there before and after, and the reason.
 */
export function mappingsHandlers(
  deps: MappingsHandlerDeps,
): Pick<HandlerTable, 'mappings.list' | 'mappings.set' | 'mappings.remove' | 'mappings.import'> {
  const { mappings, audit } = deps;
  const destinationIds = new Set(deps.config.destinations.map((d) => d.id));
  const mappingOf = (destinationId: string, kind: MappingKind, localId: string): MappingView | null => {
    const found = mappings.list({ destinationId, kind, localId, limit: 1 })[0];
    return found === undefined ? null : toView(found);
  };

  return {
    'mappings.list': ({ destination, kind, local }) => ({
      mappings: mappings
        .list({
          ...(destination !== undefined ? { destinationId: destination } : {}),
          ...(kind !== undefined ? { kind } : {}),
          ...(local !== undefined ? { localId: local } : {}),
          limit: MAPPING_LIST_LIMIT,
        })
        .map(toView),
    }),

    'mappings.set': (input, { operator }) => {
      if (!destinationIds.has(input.destination)) throw unknownDestination(input.destination);
      const before = mappingOf(input.destination, input.kind, input.local);
      // The same mapping again changes nothing (and keeps who made it).
      if (before?.remoteId === input.remote) return { mapping: before };
      // Setting it releases the destination's held items and resolves the unmapped exception, in one transaction.
      mappings.set({
        destinationId: input.destination,
        kind: input.kind,
        localId: input.local,
        remoteId: input.remote,
        origin: operator,
      });
      const after = mappingOf(input.destination, input.kind, input.local);
      audit.record({
        operator,
        action: 'mappings.set',
        subject: `mapping:${input.destination}:${input.kind}:${input.local}`,
        reason: input.reason === undefined || input.reason === '' ? null : input.reason,
        before: before === null ? null : { remote: before.remoteId, origin: before.origin },
        after: { remote: input.remote },
      });
      // Written just above, in this same synchronous handler: it is there.
      return { mapping: after! };
    },

    'mappings.remove': (input, { operator }) => {
      if (!destinationIds.has(input.destination)) throw unknownDestination(input.destination);
      const before = mappingOf(input.destination, input.kind, input.local);
      if (before === null) return { removed: false };
      const removed = mappings.remove(input.destination, input.kind, input.local);
      audit.record({
        operator,
        action: 'mappings.remove',
        subject: `mapping:${input.destination}:${input.kind}:${input.local}`,
        reason: input.reason,
        before: { remote: before.remoteId, origin: before.origin },
        after: null,
      });
      return { removed };
    },

    'mappings.import': ({ csv }, { operator }) => {
      const report = mappings.importCsv(csv);
      // One entry per import, not per row: an import may hold thousands of rows; the file's rows are its record.
      if (report.imported > 0 || report.errors.length > 0)
        audit.record({
          operator,
          action: 'mappings.import',
          subject: 'mappings',
          reason: null,
          before: null,
          after: { imported: report.imported, unchanged: report.unchanged, errors: report.errors.length },
        });
      return { imported: report.imported, unchanged: report.unchanged, errors: [...report.errors] };
    },
  };
}

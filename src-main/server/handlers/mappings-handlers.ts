import type { ResolvedConfig } from '../../../shared/config.js';
import type { MappingView } from '../../../shared/rpc-views.js';
import type { IdMappingRepo, MappingKind } from '../../mappings/id-mapping-repo.js';
import type { MappingChanges } from '../../mappings/mapping-changes.js';
import { unknownDestination } from '../api-failure.js';
import type { HandlerTable } from '../rpc-router.js';

export type MappingsHandlerDeps = Readonly<{
  config: Pick<ResolvedConfig, 'destinations'>;
  mappings: IdMappingRepo;
  /** People's changes to mappings, each audited in one place. */
  mappingChanges: MappingChanges;
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
 * from a CSV. Every write goes through `MappingChanges`, which audits it with the operator, what was there before
 * and after, and the reason.
 */
export function mappingsHandlers(
  deps: MappingsHandlerDeps,
): Pick<HandlerTable, 'mappings.list' | 'mappings.set' | 'mappings.remove' | 'mappings.import'> {
  const { mappings, mappingChanges } = deps;
  const destinationIds = new Set(deps.config.destinations.map((d) => d.id));
  const refOf = (input: Readonly<{ destination: string; kind: MappingKind; local: string }>) => {
    if (!destinationIds.has(input.destination)) throw unknownDestination(input.destination);
    return { destinationId: input.destination, kind: input.kind, localId: input.local };
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

    // Setting one releases the destination's held items and resolves the unmapped exception, in one transaction.
    'mappings.set': (input, { operator }) => ({
      mapping: toView(
        mappingChanges.set(refOf(input), input.remote, {
          operator,
          reason: input.reason === undefined || input.reason === '' ? null : input.reason,
        }),
      ),
    }),

    'mappings.remove': (input, { operator }) => ({
      removed: mappingChanges.remove(refOf(input), { operator, reason: input.reason }),
    }),

    'mappings.import': ({ csv }, { operator }) => {
      const report = mappingChanges.importCsv(csv, { operator, origin: 'csv', isNoOpAudited: false });
      return { imported: report.imported, unchanged: report.unchanged, errors: [...report.errors] };
    },
  };
}

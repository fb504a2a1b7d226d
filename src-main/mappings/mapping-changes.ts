import type { AuditLog } from '../exceptions/audit-log.js';
import type { IdMappingRepo, Mapping, MappingImportReport, MappingKind } from './id-mapping-repo.js';

/** Who changes mappings, and why (a reason is optional to set one). */
export type MappingActor = Readonly<{ operator: string; reason: string | null }>;

/** Which mapping: a destination's item (SKU) or location, by its local id. */
export type MappingRef = Readonly<{ destinationId: string; kind: MappingKind; localId: string }>;

/**
 * The changes people make to mappings (the UI's mapping page, a mapping CSV from the UI or the CLI): each is
 * applied through `IdMappingRepo`, which releases what waited for it, and written to the audit log here, the one
 * place that audits mapping changes. Mappings a connector discovers go straight to `IdMappingRepo`: no person
 * made them.
 */
export class MappingChanges {
  readonly #mappings: IdMappingRepo;
  readonly #audit: AuditLog;
  readonly #onItemsMapped: (destinationIds: readonly string[] | 'all') => void;

  /**
   * `onItemsMapped` is told after item mappings were set (of these destinations, or of any after a CSV import),
   * so what waits for a remote item (an order read with it unmapped) can be read again.
   */
  constructor(
    mappings: IdMappingRepo,
    audit: AuditLog,
    onItemsMapped: (destinationIds: readonly string[] | 'all') => void = () => undefined,
  ) {
    this.#mappings = mappings;
    this.#audit = audit;
    this.#onItemsMapped = onItemsMapped;
  }

  /** The mapping of one item or location, or null when there is none. */
  find(ref: MappingRef): Mapping | null {
    return this.#mappings.list({ ...ref, limit: 1 })[0] ?? null;
  }

  /**
   * Sets a mapping made by `actor.operator` (its origin) and releases what waited for it, in one transaction.
   * The same mapping again changes nothing and keeps who made it. Returns the mapping as stored. Throws naming
   * the field when the destination is unknown or an id is empty (`IdMappingRepo.set`).
   */
  set(ref: MappingRef, remoteId: string, actor: MappingActor): Mapping {
    const before = this.find(ref);
    if (before?.remoteId === remoteId) return before;
    this.#mappings.set({ ...ref, remoteId, origin: actor.operator });
    const after = this.find(ref);
    // Written just above, synchronously by this same process (the database's only writer).
    if (after === null) throw new Error(`the mapping of ${subjectOf(ref)} was not stored`);
    this.#audit.record({
      operator: actor.operator,
      action: 'mappings.set',
      subject: subjectOf(ref),
      reason: actor.reason,
      before: before === null ? null : { remote: before.remoteId, origin: before.origin },
      after: { remote: remoteId },
    });
    if (ref.kind === 'item') this.#onItemsMapped([ref.destinationId]);
    return after;
  }

  /** Removes a mapping; items sent later with it are held again. Returns whether there was one. */
  remove(ref: MappingRef, actor: MappingActor): boolean {
    const before = this.find(ref);
    if (before === null) return false;
    const isRemoved = this.#mappings.remove(ref.destinationId, ref.kind, ref.localId);
    this.#audit.record({
      operator: actor.operator,
      action: 'mappings.remove',
      subject: subjectOf(ref),
      reason: actor.reason,
      before: { remote: before.remoteId, origin: before.origin },
      after: null,
    });
    return isRemoved;
  }

  /**
   * Imports a mapping CSV (`IdMappingRepo.importCsv`), its mappings made by `origin`, audited under `operator`:
   * one entry per import, not per row (an import may hold thousands of rows; the file's rows are its record).
   * The UI audits an import only when it set a mapping or found a bad row; the CLI audits every import it is
   * handed (`isNoOpAudited`).
   */
  importCsv(
    csv: string,
    who: Readonly<{ operator: string; origin: string; isNoOpAudited: boolean }>,
  ): MappingImportReport {
    const report = this.#mappings.importCsv(csv, who.origin);
    if (who.isNoOpAudited || report.imported > 0 || report.errors.length > 0)
      this.#audit.record({
        operator: who.operator,
        action: 'mappings.import',
        subject: 'mappings',
        reason: null,
        before: null,
        after: { imported: report.imported, unchanged: report.unchanged, errors: report.errors.length },
      });
    if (report.imported > 0) this.#onItemsMapped('all');
    return report;
  }
}

/** The audit subject of one mapping. */
function subjectOf(ref: MappingRef): string {
  return `mapping:${ref.destinationId}:${ref.kind}:${ref.localId}`;
}

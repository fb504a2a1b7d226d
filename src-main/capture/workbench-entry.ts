import type { IngestResult } from '../../shared/api.js';
import type { OperatorRole } from '../../shared/operator-roles.js';
import type { EntryResult } from '../../shared/rpc-views.js';
import { WORKBENCH_SOURCE } from '../../shared/stock-entry.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { Catalog } from '../ledger/catalog.js';
import { InputRefusal } from '../platform/errors.js';
import type { CaptureService } from './capture-service.js';

/** Who enters: the operator's name and the role they act in (null for a name that is no configured operator). */
export type Actor = Readonly<{ operator: string; role: OperatorRole | null }>;

/** Input refused on one field: `bad_shape` (400) unless the thing named was not found (404). */
export function refuse(
  path: string,
  message: string,
  reason: 'bad_shape' | 'not_found' = 'bad_shape',
): InputRefusal {
  return new InputRefusal(reason, [{ path, message }]);
}

/** An event as the workbench builds it, before `occurredAt` is set. */
export type Draft = {
  id: string;
  type: 'receipt' | 'adjustment' | 'transfer_out' | 'transfer_in' | 'count';
  location: string;
  reference?: string;
  lines: { sku: string; qty: number }[];
  meta: Record<string, unknown>;
};

export type WorkbenchEntryDeps = Readonly<{
  db: AgentDatabase;
  capture: CaptureService;
  catalog: Catalog;
  audit: AuditLog;
}>;

/** The operator and role an entry records in its event's `meta`. */
export function metaOf(actor: Actor): Record<string, unknown> {
  return { operator: actor.operator, role: actor.role };
}

/**
 * What every workbench entry shares (stock entry, count sessions): scanned codes read as SKUs, and one entry
 * captured through `capture()` under `WORKBENCH_SOURCE` with its own id (a resend is a `duplicate`, never a
 * second movement), then written to the audit log.
 */
export class WorkbenchEntry {
  readonly #d: WorkbenchEntryDeps;

  constructor(deps: WorkbenchEntryDeps) {
    this.#d = deps;
  }

  /** A scanned code as its SKU: a barcode the catalog knows becomes its item's SKU; anything else stays. */
  skuOf(code: string): string {
    if (this.#d.catalog.isEnabled && this.#d.catalog.has(code)) return code;
    return this.#d.catalog.find(code)?.sku ?? code;
  }

  lines(lines: readonly { sku: string; qty: number }[]): { sku: string; qty: number }[] {
    return lines.map((l) => ({ sku: this.skuOf(l.sku), qty: l.qty }));
  }

  unknown(skus: readonly string[]): string[] {
    return [...new Set(skus)].filter((sku) => !this.#d.catalog.has(sku));
  }

  /** The event captured under this entry id from the workbench, if any. */
  existing(id: string): { seq: number; type: string; occurredAt: string } | undefined {
    const row = this.#d.db
      .prepare('SELECT seq, type, occurred_at FROM events WHERE source = ? AND event_id = ?')
      .get(WORKBENCH_SOURCE, id) as { seq: number; type: string; occurred_at: string } | undefined;
    return row === undefined ? undefined : { seq: row.seq, type: row.type, occurredAt: row.occurred_at };
  }

  /**
   * Captures one entry and audits it when it was new. A resend keeps the first send's `occurredAt`, so the same
   * entry is the same content (`duplicate`) and another content under its id is a conflict (400 naming `id`).
   * `lineOf` maps a captured line's index back to the input's, so errors name the line staff entered.
   */
  async enter(
    action: string,
    draft: Draft,
    actor: Actor,
    reason: string | null,
    lineOf: (i: number) => number = (i) => i,
    extra: Record<string, unknown> = {},
    subject = `entry:${draft.id}`,
  ): Promise<EntryResult> {
    let result: IngestResult | undefined;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const existing = this.existing(draft.id);
      const occurredAt = existing?.occurredAt ?? new Date().toISOString();
      [result] = await this.#d.capture.capture(WORKBENCH_SOURCE, [{ ...draft, occurredAt }]);
      // A conflict with no event seen before: the same entry sent at the same moment was captured first; judge
      // this one against it.
      const isRace =
        existing === undefined && result?.status === 'rejected' && result.errors.some((e) => e.path === 'id');
      if (!isRace) break;
    }
    if (result === undefined) throw new Error('capture answered no result');
    if (result.status === 'rejected') {
      throw new InputRefusal(
        'bad_shape',
        result.errors.map((e) => ({
          path: e.path.replace(/^lines\.(\d+)/, (_m, i: string) => `lines.${lineOf(Number(i))}`),
          message: e.message,
        })),
      );
    }
    const unknownSkus = this.unknown(draft.lines.map((l) => l.sku));
    if (result.status === 'accepted') {
      this.#d.audit.record({
        operator: actor.operator,
        action,
        subject,
        reason,
        before: null,
        after: {
          eventId: draft.id,
          seq: result.seq,
          type: draft.type,
          location: draft.location,
          reference: draft.reference ?? null,
          lines: draft.lines,
          ...extra,
        },
      });
    }
    return { status: result.status, eventId: draft.id, seq: result.seq, unknownSkus };
  }
}

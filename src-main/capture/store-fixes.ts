import { InputRefusal } from '../platform/errors.js';
import type { ExceptionFilter } from '../../shared/rpc.js';
import type { EntryResult, ImportFileReport, OperationResult } from '../../shared/rpc-views.js';
import { parseEvent, type FieldError } from '../../shared/events.js';
import { WORKBENCH_SOURCE } from '../../shared/stock-entry.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import { openExceptionIds } from '../exceptions/exception-views.js';
import type { ExceptionRow, ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Catalog } from '../ledger/catalog.js';
import type { LocationRegistry } from '../ledger/location-registry.js';
import type { StockRepo } from '../ledger/stock-repo.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import type { Routing } from '../outbox/routing.js';
import type { CaptureService } from './capture-service.js';
import { importContent, type ImportDeps } from './import-file.js';

/** A fix refused for one field (or these `errors`): nothing was changed. */
function refusal(
  reason: 'bad_shape' | 'not_found',
  field: string,
  message: string,
  errors?: FieldError[],
): InputRefusal {
  return new InputRefusal(reason, errors ?? [{ path: field, message }], `${field}: ${message}`);
}

export type StoreFixesDeps = Readonly<{
  db: AgentDatabase;
  capture: CaptureService;
  exceptions: ExceptionsRepo;
  audit: AuditLog;
  catalog: Catalog;
  stock: StockRepo;
  outbox: OutboxRepo;
  routing: Routing;
  locations: LocationRegistry;
  /** What `imports.reimport` imports with (the drop folder's deps). */
  importDeps: ImportDeps;
  /** Wakes every dispatcher (levels marked dirty outside a capture). */
  wake: () => void;
}>;

/** Who acts. */
export type FixActor = Readonly<{ operator: string }>;

/** How a bad import row fixed here is resolved (the start of its resolution). */
const FIXED_ROW = 'fixed in the workbench';

/** Most original events a correction's `meta.correctionOf` lists (the rest are found by SKU and location). */
const MAX_LINKED = 200;

/**
 * The ways out of the exceptions that nothing resolves by itself (README, "Exceptions and their way out"): close
 * or acknowledge any of them; add the unknown item or location; correct an unknown SKU or location with new
 * events; fix a bad import row or re-import a bad file. Every action is audited with its operator and reason,
 * and nothing stored is lost: exceptions are closed, never deleted, and a correction is new events.
 */
export class StoreFixes {
  readonly #d: StoreFixesDeps;

  constructor(deps: StoreFixesDeps) {
    this.#d = deps;
  }

  /** Closes open exceptions as `discarded` ("closed by X: reason"); the rest are answered with why. */
  close(ids: readonly number[], reason: string, actor: FixActor): OperationResult {
    const { exceptions, audit, db } = this.#d;
    const resolution = `closed by ${actor.operator}: ${reason}`;
    return db.transaction(() => {
      const result = exceptions.closeByIds(ids, 'discarded', resolution);
      for (const id of result.changed)
        audit.record({
          operator: actor.operator,
          action: 'exceptions.close',
          subject: `exception:${id}`,
          reason,
          before: { status: 'open' },
          after: { status: 'discarded' },
        });
      return result;
    });
  }

  /** Closes every open exception the filter matches, as `close` does. */
  closeMatching(
    filter: ExceptionFilter,
    reason: string,
    actor: FixActor,
  ): { matched: number; changed: number } {
    const ids = openExceptionIds(this.#d.db, filter, Date.now());
    if (ids.length === 0) return { matched: 0, changed: 0 };
    const { exceptions, audit, db } = this.#d;
    return db.transaction(() => {
      const { changed } = exceptions.closeByIds(ids, 'discarded', `closed by ${actor.operator}: ${reason}`);
      // One entry for the selection: a bulk close may cover thousands of rows, listed in `after`.
      audit.record({
        operator: actor.operator,
        action: 'exceptions.closeMatching',
        subject: 'exceptions',
        reason,
        before: { filter },
        after: { closed: changed },
      });
      return { matched: ids.length, changed: changed.length };
    });
  }

  /** Marks open exceptions as seen (they stay open), with an optional note. */
  acknowledge(ids: readonly number[], note: string | null, actor: FixActor): OperationResult {
    const { exceptions, audit, db } = this.#d;
    return db.transaction(() => {
      const result = exceptions.acknowledge(ids, actor.operator, note);
      for (const id of result.changed)
        audit.record({
          operator: actor.operator,
          action: 'exceptions.acknowledge',
          subject: `exception:${id}`,
          reason: note,
          before: null,
          after: { acknowledgedBy: actor.operator },
        });
      return result;
    });
  }

  /**
   * Adds an item to the catalog (or updates the one of that SKU) and resolves its open `unknown_sku`. Nothing
   * waits in the outbox for an unknown SKU (its events were captured and queued as usual), but its levels are
   * marked changed for every level destination, so marketplaces get the item's stock now it is a known item.
   */
  addItem(
    item: Readonly<{ sku: string; name: string; barcode: string | null; reason: string | null }>,
    actor: FixActor,
  ): { sku: string; resolved: number } {
    const { catalog, exceptions, audit, db, stock, routing, outbox } = this.#d;
    if (item.barcode !== null) {
      const owner = catalog.skuOfBarcode(item.barcode);
      if (owner !== null && owner !== item.sku)
        throw refusal('bad_shape', 'barcode', `is already the barcode of ${owner}`);
    }
    const resolved = db.transaction(() => {
      const before = catalog.find(item.sku) ?? null;
      catalog.add({ sku: item.sku, name: item.name, barcode: item.barcode });
      const now = Date.now();
      for (const level of stock.levels({ sku: item.sku, limit: 100_000 }))
        for (const destinationId of routing.levelDestinations(level.location))
          outbox.markDirty(destinationId, item.sku, level.location, now);
      const isResolved = exceptions.resolveByKey(
        EXCEPTION_CATALOG.unknown_sku.key(item.sku),
        `added to the catalog by ${actor.operator}`,
        now,
      );
      audit.record({
        operator: actor.operator,
        action: 'items.add',
        subject: `item:${item.sku}`,
        reason: item.reason,
        before,
        after: { sku: item.sku, name: item.name, barcode: item.barcode },
      });
      return isResolved ? 1 : 0;
    });
    this.#d.wake();
    return { sku: item.sku, resolved };
  }

  /**
   * Corrects an open `unknown_sku` (moving its stock to the right SKU) or `unknown_location` (moving the stock
   * recorded there to the right location) with new `adjustment` events captured under the workbench's source;
   * each names the events it corrects in `meta.correctionOf`. The original events stay as they were. Event ids
   * derive from the exception, so a request retried after it was captured captures nothing twice. Then resolves
   * the exception, naming the correction's seqs.
   */
  async correct(
    id: number,
    to: string,
    reason: string,
    actor: FixActor,
  ): Promise<{ seqs: number[]; detail: string }> {
    const exception = this.#openException(id, ['unknown_sku', 'unknown_location']);
    const events =
      exception.kind === 'unknown_sku'
        ? this.#skuCorrection(exception, to, reason, actor)
        : this.#locationCorrection(exception, to, reason, actor);
    const results = events.length === 0 ? [] : await this.#d.capture.capture(WORKBENCH_SOURCE, events);
    const seqs: number[] = [];
    for (const r of results) {
      if (r.status === 'rejected')
        throw new Error(
          `a correction event was refused: ${r.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
        );
      seqs.push(r.seq);
    }
    const what =
      exception.kind === 'unknown_sku'
        ? `SKU ${exception.sku ?? ''}`
        : `location ${exception.location ?? ''}`;
    const detail =
      seqs.length === 0
        ? `nothing to move: no stock was recorded under ${what}`
        : `stock of ${what} moved to ${to} by correction event${seqs.length === 1 ? '' : 's'} ${seqs.join(', ')}`;
    const { db, exceptions, audit } = this.#d;
    db.transaction(() => {
      exceptions.closeByIds([id], 'resolved', `corrected to ${to} by ${actor.operator}: ${detail}`);
      audit.record({
        operator: actor.operator,
        action: 'exceptions.correct',
        subject: `exception:${id}`,
        reason,
        before: { kind: exception.kind, sku: exception.sku, location: exception.location },
        after: { to, seqs },
      });
    });
    return { seqs, detail };
  }

  #skuCorrection(
    exception: ExceptionRow,
    to: string,
    reason: string,
    actor: FixActor,
  ): Record<string, unknown>[] {
    const { catalog, stock } = this.#d;
    const from = exception.sku ?? '';
    if (to === from) throw refusal('bad_shape', 'to', 'is the unknown SKU itself; name the right one');
    if (!catalog.isEnabled || catalog.find(to)?.sku !== to)
      throw refusal('bad_shape', 'to', `names no SKU of the catalog ("${to}")`);
    const occurredAt = new Date().toISOString();
    return stock
      .levels({ sku: from, limit: 100_000 })
      .filter((l) => l.on_hand !== 0)
      .map((l, n) => ({
        id: `correct-${exception.id}-${n + 1}`,
        type: 'adjustment',
        location: l.location,
        occurredAt,
        reference: `exception ${exception.id}`,
        lines: [
          { sku: from, qty: -l.on_hand },
          { sku: to, qty: l.on_hand },
        ],
        meta: this.#meta(this.#eventsWith({ sku: from, location: l.location }), reason, actor),
      }));
  }

  #locationCorrection(
    exception: ExceptionRow,
    to: string,
    reason: string,
    actor: FixActor,
  ): Record<string, unknown>[] {
    const from = exception.location ?? '';
    if (to === from) throw refusal('bad_shape', 'to', 'is the unknown location itself; name the right one');
    if (!this.#d.locations.has(to))
      throw refusal('bad_shape', 'to', `names no configured location ("${to}")`);
    const occurredAt = new Date().toISOString();
    return this.#d.stock
      .levels({ location: from, limit: 100_000 })
      .filter((l) => l.on_hand !== 0)
      .flatMap((l, n) => {
        const meta = this.#meta(this.#eventsWith({ sku: l.sku, location: from }), reason, actor);
        const base = { type: 'adjustment', occurredAt, reference: `exception ${exception.id}`, meta };
        return [
          {
            ...base,
            id: `correct-${exception.id}-${2 * n + 1}`,
            location: from,
            lines: [{ sku: l.sku, qty: -l.on_hand }],
          },
          {
            ...base,
            id: `correct-${exception.id}-${2 * n + 2}`,
            location: to,
            lines: [{ sku: l.sku, qty: l.on_hand }],
          },
        ];
      });
  }

  #meta(
    originals: { seq: number; source: string; eventId: string }[],
    reason: string,
    actor: FixActor,
  ): Record<string, unknown> {
    return { correctionOf: originals, operator: actor.operator, reason };
  }

  /** The events that moved a SKU at a location (the ones a correction corrects), oldest first. */
  #eventsWith(
    at: Readonly<{ sku: string; location: string }>,
  ): { seq: number; source: string; eventId: string }[] {
    return this.#d.db
      .prepare(
        `SELECT DISTINCT e.seq AS seq, e.source AS source, e.event_id AS eventId
         FROM movements m JOIN events e ON e.seq = m.event_seq
         WHERE m.sku = ? AND m.location = ? ORDER BY e.seq LIMIT ?`,
      )
      .all(at.sku, at.location, MAX_LINKED) as { seq: number; source: string; eventId: string }[];
  }

  /**
   * Adds a location to the known ones (stored; the capture check sees it at once) and resolves its open
   * `unknown_location`. Refused, naming `id`, when it is already configured.
   */
  addLocation(
    l: Readonly<{ id: string; name: string | null; reason: string }>,
    actor: FixActor,
  ): { id: string; resolved: number } {
    const { locations, exceptions, audit, db } = this.#d;
    return db.transaction(() => {
      if (!locations.add({ id: l.id, name: l.name, by: actor.operator, reason: l.reason }))
        throw refusal('bad_shape', 'id', `is already a configured location ("${l.id}")`);
      const isResolved = exceptions.resolveByKey(
        EXCEPTION_CATALOG.unknown_location.key(l.id),
        `location added in the workbench by ${actor.operator}`,
      );
      audit.record({
        operator: actor.operator,
        action: 'settings.addLocation',
        subject: `location:${l.id}`,
        reason: l.reason,
        before: null,
        after: { id: l.id, name: l.name },
      });
      return { id: l.id, resolved: isResolved ? 1 : 0 };
    });
  }

  /**
   * Captures a bad import row as fixed: `event` is validated like the ingest API (refused naming its fields,
   * nothing stored), then captured under the file's source with an id made of the file and its first line
   * (`import-fix:<hash>:<line>`), so a retried fix is a duplicate, never a second capture. Resolves every open
   * `bad_import_row` of the file on the event's lines.
   */
  async fixRow(
    id: number,
    raw: Record<string, unknown>,
    actor: FixActor,
  ): Promise<EntryResult & { resolved: number }> {
    const exception = this.#d.exceptions.byId(id);
    if (exception === undefined || exception.kind !== 'bad_import_row')
      throw refusal('not_found', 'id', `names no bad import row (${id})`);
    // A row fixed here before answers its capture again (a duplicate); one closed otherwise stays closed.
    if (exception.status !== 'open' && !(exception.resolution ?? '').startsWith(FIXED_ROW))
      throw refusal('bad_shape', 'id', `exception ${id} is not open (${exception.resolution ?? ''})`);
    const details = JSON.parse(exception.details) as Record<string, unknown>;
    const contentHash = details['contentHash'];
    const fileLines = details['fileLines'];
    if (typeof contentHash !== 'string' || !Array.isArray(fileLines) || fileLines.length === 0)
      throw refusal(
        'bad_shape',
        'id',
        'this row was reported before rows were kept for fixing here; fix it in the file and drop the file in again',
      );
    const lines = fileLines.filter((l): l is number => typeof l === 'number');
    const parsed = parseEvent(raw);
    if (!parsed.ok)
      throw refusal(
        'bad_shape',
        'event',
        parsed.errors.map((e) => `${e.path} ${e.message}`).join('; '),
        parsed.errors.map((e) => ({ path: `event.${e.path}`, message: e.message })),
      );
    const originalId = parsed.event.id;
    const source = exception.source ?? WORKBENCH_SOURCE;
    // The file dropped in again once fixed captures the row under its own id: fixing it here too would count
    // it twice.
    const captured = this.#d.db
      .prepare('SELECT seq FROM events WHERE source = ? AND event_id = ?')
      .get(source, originalId) as { seq: number } | undefined;
    if (captured !== undefined)
      throw refusal(
        'bad_shape',
        'event.id',
        `event "${originalId}" of ${source} was already captured (seq ${captured.seq}), likely from the file dropped in again; close this row instead`,
      );
    const fixed = {
      ...raw,
      id: `import-fix:${contentHash.slice(0, 16)}:${Math.min(...lines)}`,
      meta: { ...(parsed.event.meta ?? {}), originalId, fixedBy: actor.operator },
    };
    const [result] = await this.#d.capture.capture(source, [fixed]);
    if (result === undefined || result.status === 'rejected')
      throw refusal(
        'bad_shape',
        'event',
        (result?.errors ?? []).map((e) => `${e.path} ${e.message}`).join('; '),
        (result?.errors ?? []).map((e) => ({ path: `event.${e.path}`, message: e.message })),
      );
    const { db, exceptions, audit, catalog } = this.#d;
    const resolved = db.transaction(() => {
      const open = db
        .prepare(
          `SELECT id FROM exceptions WHERE status = 'open' AND kind = 'bad_import_row'
             AND json_extract(details, '$.contentHash') = ?
             AND json_extract(details, '$.line') IN (SELECT value FROM json_each(?))`,
        )
        .all(contentHash, JSON.stringify(lines)) as { id: number }[];
      const { changed } = exceptions.closeByIds(
        open.map((r) => r.id),
        'resolved',
        `${FIXED_ROW} by ${actor.operator} (seq ${result.seq})`,
      );
      if (result.status === 'accepted')
        audit.record({
          operator: actor.operator,
          action: 'imports.fixRow',
          subject: `exception:${id}`,
          reason: null,
          before: { file: details['file'] ?? null, lines, event: details['event'] ?? null },
          after: { seq: result.seq, eventId: fixed.id, resolved: changed },
        });
      return changed.length;
    });
    return {
      status: result.status,
      eventId: fixed.id,
      seq: result.seq,
      unknownSkus: [...new Set(parsed.event.lines.map((l) => l.sku).filter((sku) => !catalog.has(sku)))],
      resolved,
    };
  }

  /**
   * Imports the fixed content of a file that could not be imported (an open `bad_import_file`), under the same
   * source, and resolves it when the new content is processed. When it fails too, the old one stays open and
   * the new failure is raised as usual.
   */
  async reimport(id: number, fileName: string, content: string, actor: FixActor): Promise<ImportFileReport> {
    const exception = this.#openException(id, ['bad_import_file']);
    const source = exception.source ?? WORKBENCH_SOURCE;
    const report = await importContent(this.#d.importDeps, source, fileName, Buffer.from(content, 'utf8'));
    const { db, exceptions, audit } = this.#d;
    db.transaction(() => {
      if (report.outcome === 'processed')
        exceptions.closeByIds([id], 'resolved', `re-imported as ${fileName} by ${actor.operator}`);
      audit.record({
        operator: actor.operator,
        action: 'imports.reimport',
        subject: `exception:${id}`,
        reason: null,
        before: { status: 'open' },
        after: { file: fileName, contentHash: report.contentHash, outcome: report.outcome },
      });
    });
    return report;
  }

  #openException(id: number, kinds: readonly string[]): ExceptionRow {
    const exception = this.#d.exceptions.byId(id);
    if (exception === undefined || !kinds.includes(exception.kind))
      throw refusal('not_found', 'id', `names no ${kinds.join(' or ')} exception (${id})`);
    if (exception.status !== 'open')
      throw refusal('bad_shape', 'id', `exception ${id} is not open (${exception.status})`);
    return exception;
  }
}

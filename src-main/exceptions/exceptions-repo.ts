import type { ExceptionKind } from '../../shared/exception-kinds.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { ExceptionsTable } from '../db/schema.js';
import { EXCEPTION_CATALOG, type DedupeKey } from './exception-catalog.js';

/**
 * An exception to raise: its kind with a dedupe key of that same kind (both from `EXCEPTION_CATALOG`), so a key
 * can never be filed under another kind.
 */
export type RaiseException = { [K in ExceptionKind]: RaiseOf<K> }[ExceptionKind];

type RaiseOf<K extends ExceptionKind> = Readonly<{
  kind: K;
  /**
   * Exceptions with the same key while one is open count up on that one instead of adding a row, so a SKU sold
   * a hundred times before it is mapped is one exception with 100 occurrences. `null` always adds a row.
   */
  dedupeKey: DedupeKey<K> | null;
  message: string;
  details: Record<string, unknown>;
  source?: string | null;
  eventSeq?: number | null;
  sku?: string | null;
  location?: string | null;
  destinationId?: string | null;
}>;

export type ExceptionRow = Omit<ExceptionsTable, 'id'> & { id: number };

/** Exceptions: failures a person must look at, in business words, with what to do about them. */
export class ExceptionsRepo {
  readonly #db: AgentDatabase;
  readonly #raise;
  readonly #resolveByKey;
  readonly #closeOfOutboxItem;
  readonly #isSettled;

  constructor(db: AgentDatabase) {
    this.#db = db;
    this.#raise = db.sqlite.prepare(
      `INSERT INTO exceptions (kind, status, dedupe_key, message, details, source, event_seq, sku, location,
                               destination_id, occurrences, created_at, last_seen_at)
       VALUES (@kind, 'open', @dedupeKey, @message, @details, @source, @eventSeq, @sku, @location, @destinationId,
               1, @now, @now)
       ON CONFLICT (dedupe_key) WHERE status = 'open'
       DO UPDATE SET occurrences = occurrences + 1, last_seen_at = excluded.last_seen_at,
         message = CASE WHEN @isRestated = 1 THEN excluded.message ELSE message END,
         details = CASE WHEN @isRestated = 1 THEN excluded.details ELSE details END`,
    );
    this.#resolveByKey = db.sqlite.prepare(
      `UPDATE exceptions SET status = 'resolved', resolved_at = ?, resolution = ?
       WHERE dedupe_key = ? AND status = 'open'`,
    );
    // Uses exceptions_by_status (status, kind, id): settled rows of one kind, then the key.
    this.#isSettled = db.sqlite.prepare<[string, string, string]>(
      `SELECT 1 FROM exceptions
       WHERE status IN ('resolved', 'discarded') AND kind = ? AND dedupe_key = ?
         AND json_extract(details, '$.version') = ?
       LIMIT 1`,
    );
    this.#closeOfOutboxItem = db.sqlite.prepare(
      `UPDATE exceptions SET status = ?, resolved_at = ?, resolution = ?
       WHERE status = 'open' AND dedupe_key IN (?, ?)`,
    );
  }

  /** Raises an exception (or counts one more occurrence of the open one with the same key). */
  raise(e: RaiseException, now = Date.now()): void {
    this.#raise.run({
      kind: e.kind,
      dedupeKey: e.dedupeKey,
      message: e.message,
      details: JSON.stringify(e.details),
      source: e.source ?? null,
      eventSeq: e.eventSeq ?? null,
      sku: e.sku ?? null,
      location: e.location ?? null,
      destinationId: e.destinationId ?? null,
      isRestated: 'isRestated' in EXCEPTION_CATALOG[e.kind] ? 1 : 0,
      now,
    });
  }

  /** Resolves the open exception with this key, if any (for conditions that clear by themselves). */
  resolveByKey(dedupeKey: DedupeKey, resolution: string, now = Date.now()): boolean {
    return this.#resolveByKey.run(now, resolution, dedupeKey).changes > 0;
  }

  /**
   * Closes what an outbox item has open (refused, or out of attempts) once a person acted on it: `resolved` when
   * it was retried or replayed as new, `discarded` when it was given up. Runs inside the caller's transaction.
   */
  closeOfOutboxItem(
    outboxId: number,
    status: 'resolved' | 'discarded',
    resolution: string,
    now = Date.now(),
  ): void {
    this.#closeOfOutboxItem.run(
      status,
      now,
      resolution,
      EXCEPTION_CATALOG.delivery_rejected.key(outboxId),
      EXCEPTION_CATALOG.delivery_dead_letter.key(outboxId),
    );
  }

  /** One exception as stored, or undefined when there is none of that id. */
  byId(id: number): ExceptionRow | undefined {
    return this.#db.first(this.#db.query.selectFrom('exceptions').selectAll().where('id', '=', id));
  }

  /**
   * Ends open exceptions by id: `resolved` when their cause was fixed, `discarded` when a person closed them with
   * nothing else to do. The rows stay (with the resolution); ids not open are answered with why.
   */
  closeByIds(
    ids: readonly number[],
    status: 'resolved' | 'discarded',
    resolution: string,
    now = Date.now(),
  ): { changed: number[]; skipped: { id: number; why: string }[] } {
    const changed: number[] = [];
    const skipped: { id: number; why: string }[] = [];
    const close = this.#db.sqlite.prepare<[string, number, string, number]>(
      `UPDATE exceptions SET status = ?, resolved_at = ?, resolution = ? WHERE id = ? AND status = 'open'`,
    );
    this.#db.transaction(() => {
      for (const id of ids) {
        if (close.run(status, now, resolution, id).changes > 0) changed.push(id);
        else {
          const row = this.byId(id);
          skipped.push({ id, why: row === undefined ? 'not found' : `not open (${row.status})` });
        }
      }
    });
    return { changed, skipped };
  }

  /** Marks open exceptions as seen by `by` (they stay open); ids not open are answered with why. */
  acknowledge(
    ids: readonly number[],
    by: string,
    note: string | null,
    now = Date.now(),
  ): { changed: number[]; skipped: { id: number; why: string }[] } {
    const changed: number[] = [];
    const skipped: { id: number; why: string }[] = [];
    const mark = this.#db.sqlite.prepare<[string, number, string | null, number]>(
      `UPDATE exceptions SET acknowledged_by = ?, acknowledged_at = ?, acknowledged_note = ?
       WHERE id = ? AND status = 'open'`,
    );
    this.#db.transaction(() => {
      for (const id of ids) {
        if (mark.run(by, now, note, id).changes > 0) changed.push(id);
        else {
          const row = this.byId(id);
          skipped.push({ id, why: row === undefined ? 'not found' : `not open (${row.status})` });
        }
      }
    });
    return { changed, skipped };
  }

  /** The open exceptions of one kind (of one destination, when given), oldest first. */
  openOfKind(kind: ExceptionKind, destinationId?: string): ExceptionRow[] {
    let q = this.#db.query
      .selectFrom('exceptions')
      .selectAll()
      .where('status', '=', 'open')
      .where('kind', '=', kind);
    if (destinationId !== undefined) q = q.where('destination_id', '=', destinationId);
    return this.#db.all(q.orderBy('id'));
  }

  /**
   * Whether an exception of this kind and key was already settled (closed by a person, or resolved) about exactly
   * this version of its subject (`details.version`), so a subject read again unchanged (an order re-read within a
   * pull's overlap) is not raised again after someone closed it. A new version raises as usual.
   */
  isSettled(kind: ExceptionKind, dedupeKey: DedupeKey, version: string): boolean {
    return this.#isSettled.get(kind, dedupeKey, version) !== undefined;
  }

  /** Open exceptions counted by kind. */
  openCountsByKind(): { kind: string; count: number }[] {
    return this.#db.all(
      this.#db.query
        .selectFrom('exceptions')
        .select(['kind', (eb) => eb.fn.countAll<number>().as('count')])
        .where('status', '=', 'open')
        .groupBy('kind')
        .orderBy('kind'),
    );
  }

  /** Exceptions, newest first, optionally by status and kind. */
  list(
    filter: Readonly<{ status?: ExceptionRow['status']; kind?: string; limit?: number }> = {},
  ): ExceptionRow[] {
    let q = this.#db.query.selectFrom('exceptions').selectAll();
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    return this.#db.all(q.orderBy('id', 'desc').limit(filter.limit ?? 500));
  }
}

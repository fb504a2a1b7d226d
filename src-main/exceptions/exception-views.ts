import type { ExceptionFilter } from '../../shared/rpc.js';
import type { ExceptionPage, ExceptionView } from '../../shared/rpc-views.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { StoredException } from '../../shared/agent-api.js';

/** The exceptions as the UI reads them: pages of a filter, one with its details, and what a bulk retry covers. */

/** A row of `EXCEPTION_COLUMNS`: the stored exception and the outbox item its details name. */
type ExceptionRowSql = Omit<StoredException, 'dedupe_key' | 'source'> & { outbox_id: number | null };

const EXCEPTION_COLUMNS = `id, kind, status, message, sku, location, destination_id, event_seq,
  json_extract(details, '$.outboxId') AS outbox_id, occurrences, created_at, last_seen_at, resolved_at,
  resolution, details, acknowledged_by, acknowledged_at, acknowledged_note`;

function toView(r: ExceptionRowSql): ExceptionView {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    message: r.message,
    sku: r.sku,
    location: r.location,
    destinationId: r.destination_id,
    eventSeq: r.event_seq,
    outboxId: r.outbox_id,
    occurrences: r.occurrences,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    resolvedAt: r.resolved_at,
    resolution: r.resolution,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedNote: r.acknowledged_note,
  };
}

/** SQL for an exception filter. Each combination of fields is one statement text, prepared once and cached. */
function whereOf(filter: ExceptionFilter, now: number): { sql: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (filter.status !== undefined) {
    // With a kind, the index (status, kind, id) yields rows in id order. Without one, `+status` keeps SQLite off
    // that index, so it walks the table backwards by id and stops after a page instead of sorting every open row.
    clauses.push(filter.kind === undefined ? '+status = ?' : 'status = ?');
    params.push(filter.status);
  }
  if (filter.kind !== undefined) {
    clauses.push('kind = ?');
    params.push(filter.kind);
  }
  if (filter.destination !== undefined) {
    clauses.push('destination_id = ?');
    params.push(filter.destination);
  }
  if (filter.sku !== undefined) {
    // Delivery exceptions name the event, not its SKUs: match through the event's movements too.
    clauses.push('(sku = ? OR event_seq IN (SELECT event_seq FROM movements WHERE sku = ?))');
    params.push(filter.sku, filter.sku);
  }
  if (filter.olderThanMinutes !== undefined && filter.olderThanMinutes > 0) {
    clauses.push('created_at <= ?');
    params.push(now - filter.olderThanMinutes * 60_000);
  }
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** One page of the exceptions a filter matches, newest first, with how many match in all. */
export function exceptionPage(
  db: AgentDatabase,
  filter: ExceptionFilter,
  page: Readonly<{ offset: number; limit: number }>,
  now: number,
): ExceptionPage {
  const { sql, params } = whereOf(filter, now);
  // Counting does use the status index (a covering scan); `+status` is for the ordered page only.
  const total = (
    db.prepare(`SELECT COUNT(*) AS n FROM exceptions ${sql.replace('+status', 'status')}`).get(...params) as {
      n: number;
    }
  ).n;
  const rows = db
    .prepare(`SELECT ${EXCEPTION_COLUMNS} FROM exceptions ${sql} ORDER BY id DESC LIMIT ? OFFSET ?`)
    .all(...params, page.limit, page.offset) as ExceptionRowSql[];
  return { total, offset: page.offset, rows: rows.map(toView) };
}

/** One exception with its details (the JSON it was raised with), or null when there is none of that id. */
export function exceptionWithDetails(
  db: AgentDatabase,
  id: number,
): (ExceptionView & { details: Record<string, unknown> }) | null {
  const row = db.prepare(`SELECT ${EXCEPTION_COLUMNS} FROM exceptions WHERE id = ?`).get(id) as
    ExceptionRowSql | undefined;
  return row ? { ...toView(row), details: JSON.parse(row.details) as Record<string, unknown> } : null;
}

/** The outbox items named by the open exceptions a filter matches (whatever status the filter asks for). */
export function outboxIdsOfOpenExceptions(db: AgentDatabase, filter: ExceptionFilter, now: number): number[] {
  const { sql, params } = whereOf({ ...filter, status: 'open' }, now);
  return (
    db
      .prepare(
        `SELECT DISTINCT json_extract(details, '$.outboxId') AS id FROM exceptions ${sql}
           AND json_extract(details, '$.outboxId') IS NOT NULL`,
      )
      .all(...params) as { id: number }[]
  ).map((r) => r.id);
}

/** The ids of the open exceptions a filter matches (whatever status the filter asks for), oldest first. */
export function openExceptionIds(db: AgentDatabase, filter: ExceptionFilter, now: number): number[] {
  const { sql, params } = whereOf({ ...filter, status: 'open' }, now);
  return (db.prepare(`SELECT id FROM exceptions ${sql} ORDER BY id`).all(...params) as { id: number }[]).map(
    (r) => r.id,
  );
}

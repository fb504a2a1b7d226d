import type { Selectable } from 'kysely';
import type { CountLineView, CountSessionView } from '../../shared/rpc-views.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { CountLinesTable, CountSessionsTable } from '../db/schema.js';
import type { StockRepo } from './stock-repo.js';

export type CountSessionRow = Selectable<CountSessionsTable>;
export type CountLineRow = Selectable<CountLinesTable>;
export type CountStatus = CountSessionRow['status'];

/** A session as listed: without its lines. */
export type CountSessionSummary = Omit<CountSessionView, 'lines'>;

/**
 * Count sessions at the workbench and what was counted in them. Each counted line keeps the ledger point it was
 * counted at (`counted_at_seq`, the capture chain's head then, and `ledger_at_count`, on hand at that seq), so
 * posting can keep what moved after counting (see `CaptureWriter`'s count rule). The rows here are working
 * state, not ledger: the ledger only changes when a session is posted, as one `count` event.
 */
export class CountSessions {
  readonly #db: AgentDatabase;
  readonly #stock: StockRepo;

  constructor(db: AgentDatabase, stock: StockRepo) {
    this.#db = db;
    this.#stock = stock;
  }

  /** Opens a session of `skus` (in this order, each once) at `location`; returns its id. */
  create(
    input: Readonly<{ location: string; label: string | null; skus: readonly string[]; createdBy: string }>,
    now = Date.now(),
  ): number {
    return this.#db.transaction(() => {
      const { id } = this.#db
        .prepare(
          `INSERT INTO count_sessions (location, label, status, created_by, created_at) VALUES (?, ?, 'open', ?, ?)
           RETURNING id`,
        )
        .get(input.location, input.label, input.createdBy, now) as { id: number };
      const add = this.#db.prepare('INSERT INTO count_lines (session_id, sku, line_no) VALUES (?, ?, ?)');
      [...new Set(input.skus)].forEach((sku, i) => add.run(id, sku, i + 1));
      return id;
    });
  }

  session(id: number): CountSessionRow | undefined {
    return this.#db.first(this.#db.query.selectFrom('count_sessions').selectAll().where('id', '=', id));
  }

  lines(sessionId: number): CountLineRow[] {
    return this.#db.all(
      this.#db.query
        .selectFrom('count_lines')
        .selectAll()
        .where('session_id', '=', sessionId)
        .orderBy('line_no'),
    );
  }

  /** Sessions newest first, at most 500. */
  list(status?: CountStatus): CountSessionSummary[] {
    let q = this.#db.query.selectFrom('count_sessions').selectAll();
    if (status !== undefined) q = q.where('status', '=', status);
    return this.#db.all(q.orderBy('id', 'desc').limit(500)).map(summaryOf);
  }

  /**
   * Records what was counted of `sku` (adding it to the session when it is not on the list yet): `set` makes
   * `qty` the counted level, `add` adds it to what was counted so far. Either way the ledger point is read now:
   * the capture chain's head and the level at it. Returns the counted quantity. The session must be open.
   */
  record(
    input: Readonly<{
      sessionId: number;
      location: string;
      sku: string;
      mode: 'set' | 'add';
      qty: number;
      by: string;
    }>,
    now = Date.now(),
  ): number {
    return this.#db.transaction(() => {
      const existing = this.#db
        .prepare('SELECT counted FROM count_lines WHERE session_id = ? AND sku = ?')
        .get(input.sessionId, input.sku) as { counted: number | null } | undefined;
      const counted = input.mode === 'add' ? (existing?.counted ?? 0) + input.qty : input.qty;
      // Reads and captures run on this one thread, between capture transactions: the head and the level agree.
      const seq = this.headSeq();
      const ledgerAtCount = this.#stock.onHandAt(input.sku, input.location, seq);
      if (existing === undefined) {
        const { next } = this.#db
          .prepare('SELECT COALESCE(MAX(line_no), 0) + 1 AS next FROM count_lines WHERE session_id = ?')
          .get(input.sessionId) as { next: number };
        this.#db
          .prepare('INSERT INTO count_lines (session_id, sku, line_no) VALUES (?, ?, ?)')
          .run(input.sessionId, input.sku, next);
      }
      this.#db
        .prepare(
          `UPDATE count_lines SET counted = ?, ledger_at_count = ?, counted_at_seq = ?, counted_at = ?, counted_by = ?
           WHERE session_id = ? AND sku = ?`,
        )
        .run(counted, ledgerAtCount, seq, now, input.by, input.sessionId, input.sku);
      return counted;
    });
  }

  /** How many items a session lists. */
  lineCount(sessionId: number): number {
    return (
      this.#db.prepare('SELECT COUNT(*) AS n FROM count_lines WHERE session_id = ?').get(sessionId) as {
        n: number;
      }
    ).n;
  }

  /** Marks an open session posted as the count event of `seq`. */
  markPosted(id: number, seq: number, by: string, now = Date.now()): void {
    this.#db
      .prepare(
        `UPDATE count_sessions SET status = 'posted', posted_seq = ?, closed_at = ?, closed_by = ? WHERE id = ? AND status = 'open'`,
      )
      .run(seq, now, by, id);
  }

  /** Marks an open session cancelled, with why. */
  cancel(id: number, by: string, reason: string, now = Date.now()): void {
    this.#db
      .prepare(
        `UPDATE count_sessions SET status = 'cancelled', closed_at = ?, closed_by = ?, cancel_reason = ?
         WHERE id = ? AND status = 'open'`,
      )
      .run(now, by, reason, id);
  }

  /** The capture chain's head: the seq of the newest captured event, 0 before the first. */
  headSeq(): number {
    return (this.#db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM events').get() as { seq: number }).seq;
  }

  /** A session with every line as the review shows it, or undefined when there is none of that id. */
  view(id: number): CountSessionView | undefined {
    const session = this.session(id);
    if (session === undefined) return undefined;
    const names = this.#db.prepare('SELECT name FROM items WHERE sku = ?');
    const lines = this.lines(id).map((line): CountLineView => {
      const levelNow = this.#stock.onHand(line.sku, session.location);
      const price = this.lastUnitPrice(line.sku);
      const isCounted = line.counted !== null && line.ledger_at_count !== null;
      const difference = isCounted ? line.counted! - line.ledger_at_count! : 0;
      return {
        sku: line.sku,
        name: (names.get(line.sku) as { name: string | null } | undefined)?.name ?? null,
        counted: line.counted,
        ledgerAtCount: line.ledger_at_count,
        countedAtSeq: line.counted_at_seq,
        countedAt: line.counted_at,
        countedBy: line.counted_by,
        levelNow,
        movedSinceCount: line.ledger_at_count === null ? 0 : levelNow - line.ledger_at_count,
        difference,
        unitPrice: price?.unitPrice ?? null,
        currency: price?.currency ?? null,
        value: isCounted && price !== undefined ? multiplyDecimal(price.unitPrice, difference) : null,
      };
    });
    return { ...summaryOf(session), lines };
  }

  /**
   * The newest unit price captured for `sku` (on a line of any event that moved it, at any location), with its
   * currency, or undefined when no event carried one.
   */
  lastUnitPrice(sku: string): { unitPrice: string; currency: string | null } | undefined {
    const row = this.#db
      .prepare(
        `SELECT json_extract(l.value, '$.unitPrice') AS unit_price, json_extract(l.value, '$.currency') AS currency
         FROM movements m JOIN events e ON e.seq = m.event_seq, json_each(e.body, '$.lines') l
         WHERE m.sku = ? AND json_extract(l.value, '$.sku') = m.sku AND json_extract(l.value, '$.unitPrice') IS NOT NULL
         ORDER BY m.id DESC LIMIT 1`,
      )
      .get(sku) as { unit_price: string | number; currency: string | null } | undefined;
    return row === undefined ? undefined : { unitPrice: String(row.unit_price), currency: row.currency };
  }
}

function summaryOf(row: CountSessionRow): CountSessionSummary {
  return {
    id: row.id,
    location: row.location,
    label: row.label,
    status: row.status,
    createdBy: row.created_by,
    createdAt: row.created_at,
    closedAt: row.closed_at,
    postedSeq: row.posted_seq,
  };
}

/**
 * `price × qty` exactly, as a decimal string with at least two decimals (`multiplyDecimal('9.99', -2)` is
 * `'-19.98'`). Prices are stored as text so they never pass through a float.
 */
export function multiplyDecimal(price: string, qty: number): string {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(price.trim());
  if (match === null) return (Number(price) * qty).toFixed(2);
  const decimals = Math.max(2, match[2]?.length ?? 0);
  const units = BigInt(match[1]! + (match[2] ?? '').padEnd(decimals, '0')) * BigInt(qty);
  const isNegative = units < 0n;
  const digits = (isNegative ? -units : units).toString().padStart(decimals + 1, '0');
  return `${isNegative ? '-' : ''}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

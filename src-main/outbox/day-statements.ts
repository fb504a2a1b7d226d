import type { PosEvent } from '../../shared/events.js';
import type {
  BusinessDayView,
  DayCloseView,
  DayStatementView,
  RefusedStatementLineView,
} from '../../shared/rpc-views.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { StatementLinesTable, StatementsTable } from '../db/schema.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import { InputRefusal } from '../platform/errors.js';
import { Money } from '../../shared/money.js';

/** Minutes since midnight of a local time `HH:MM`. */
export function minutesOf(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/**
 * The business day of an event: the calendar day of its `occurredAt` as the POS wrote it (its own wall clock,
 * whatever its offset), where a day ends at `dayEndsAt` (`HH:MM`, default midnight): with `"04:00"`, a sale at
 * 01:30 on the 6th belongs to the 5th.
 */
export function businessDayOf(event: Pick<PosEvent, 'occurredAt'>, dayEndsAt = '00:00'): string {
  const shift = minutesOf(dayEndsAt);
  if (shift === 0) return event.occurredAt.slice(0, 10);
  // The wall clock read as if it were UTC, so that no time zone of this machine moves it.
  const wall = Date.parse(`${event.occurredAt.slice(0, 16)}Z`);
  return new Date(wall - shift * 60_000).toISOString().slice(0, 10);
}

/** A statement row with its lines, as the sender posts it. */
export type DueStatement = Readonly<{
  id: number;
  destinationId: string;
  location: string;
  day: string;
  number: number;
  reference: string;
  attempts: number;
  /** The lines to post (pending), in a stable order. */
  lines: readonly Readonly<{
    sku: string;
    unitPrice: string;
    currency: string;
    sold: number;
    returned: number;
  }>[];
}>;

type StatementRow = Pick<
  StatementsTable,
  | 'destination_id'
  | 'location'
  | 'day'
  | 'number'
  | 'reference'
  | 'state'
  | 'last_error'
  | 'remote_id'
  | 'posted_at'
> & { id: number; attempts: number };
type LineRow = StatementLinesTable;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `day` is a real calendar day written `YYYY-MM-DD` (not 2026-02-30). */
function isDay(day: string): boolean {
  const at = Date.parse(`${day}T00:00:00Z`);
  return DAY.test(day) && !Number.isNaN(at) && new Date(at).toISOString().slice(0, 10) === day;
}

type DayTotals = { sales: number; returns: number; unitsSold: number; unitsReturned: number; value: Money };

function addTo(totals: DayTotals, event: PosEvent): void {
  const isReturn = event.type === 'return';
  if (isReturn) totals.returns += 1;
  else totals.sales += 1;
  for (const line of event.lines) {
    if (isReturn) totals.unitsReturned += line.qty;
    else totals.unitsSold += line.qty;
    if (line.unitPrice !== undefined)
      totals.value.add(line.currency ?? '', line.unitPrice, isReturn ? -line.qty : line.qty);
  }
}

/**
 * Business days and their statements for the `daily_statement` destinations (migration 0013): each sale or return
 * is recorded at capture against its location's business day (`record`, in the capture transaction); closing a
 * day (`closeDay`: a manager, or the configured close time) makes its statement of every event recorded for it,
 * one line per (SKU, unit price, currency); an event that arrives after its day was closed waits in the day as
 * `late` until `collectLate` makes the next supplementary statement of it (never another day's, never lost).
 * The `StatementSender` posts what is pending and records the outcome here.
 */
export class DayStatements {
  readonly #db: AgentDatabase;
  readonly #agentId: string;
  readonly #exceptions: ExceptionsRepo;
  readonly #dayEndsAt: ReadonlyMap<string, string>;
  readonly #insertEvent;
  /** Each day's event totals once read (`#totalsOf`), kept up by `record`. */
  readonly #totals = new Map<string, DayTotals>();

  /**
   * `dayEndsAt`: per destination, where its business days end (`dayClose.dayEndsAt`, `HH:MM`); midnight for a
   * destination not named.
   */
  constructor(
    db: AgentDatabase,
    agentId: string,
    exceptions: ExceptionsRepo,
    dayEndsAt: ReadonlyMap<string, string> = new Map(),
  ) {
    this.#db = db;
    this.#agentId = agentId;
    this.#exceptions = exceptions;
    this.#dayEndsAt = dayEndsAt;
    this.#insertEvent = db.sqlite.prepare<[string, number, string, string]>(
      `INSERT OR IGNORE INTO statement_events (destination_id, event_seq, location, day, statement_id)
       VALUES (?, ?, ?, ?, NULL)`,
    );
  }

  /** Records a captured sale or return for a `daily_statement` destination; call inside the capture transaction. */
  record(destinationId: string, seq: number, event: PosEvent): void {
    const day = businessDayOf(event, this.#dayEndsAt.get(destinationId));
    this.#insertEvent.run(destinationId, seq, event.location, day);
    // Kept up only once read; a rolled-back capture drops the whole cache (`forgetTotals`).
    const totals = this.#totals.get(`${destinationId}\u0000${event.location}\u0000${day}`);
    if (totals !== undefined) addTo(totals, event);
  }

  /** Drops the days' cached totals (after a capture transaction was rolled back). */
  forgetTotals(): void {
    this.#totals.clear();
  }

  /** The reference of a day's statement number `number` (0: the day's own, then `:s1`, `:s2`...). */
  referenceOf(location: string, day: string, number: number): string {
    return `${this.#agentId}:${location}:${day}${number === 0 ? '' : `:s${number}`}`;
  }

  /**
   * Closes a location's business day at every given destination: its statement (number 0) is made of the events
   * recorded for the day, and it is queued for the ERP. A day with no events closes with no statement. Refused,
   * naming the day, when it is not a day (`YYYY-MM-DD`) or is closed already (its late events go into a
   * supplementary statement by themselves); nothing changes then.
   */
  closeDay(
    destinationIds: readonly string[],
    location: string,
    day: string,
    by: string,
    now = Date.now(),
  ): { statements: number } {
    if (!isDay(day))
      throw new InputRefusal('bad_shape', [
        { path: 'day', message: `"${day}" is not a day like 2026-12-05` },
      ]);
    if (destinationIds.length === 0)
      throw new InputRefusal('bad_shape', [
        {
          path: 'location',
          message: 'no destination posts daily statements (postingMode "daily_statement")',
        },
      ]);
    return this.#db.sqlite.transaction(() => {
      let statements = 0;
      for (const destinationId of destinationIds) {
        const closed = this.#db.sqlite
          .prepare<[string, string, string], { closed_at: number; closed_by: string }>(
            'SELECT closed_at, closed_by FROM business_days WHERE destination_id = ? AND location = ? AND day = ?',
          )
          .get(destinationId, location, day);
        if (closed !== undefined)
          throw new InputRefusal('bad_shape', [
            {
              path: 'day',
              message: `the business day ${day} of ${location} was closed already (by ${closed.closed_by} at ${new Date(closed.closed_at).toISOString()}); it takes only supplementary events now, which are posted by themselves`,
            },
          ]);
        this.#db.sqlite
          .prepare<[string, string, string, number, string]>(
            'INSERT INTO business_days (destination_id, location, day, closed_at, closed_by) VALUES (?, ?, ?, ?, ?)',
          )
          .run(destinationId, location, day, now, by);
        if (this.#makeStatement(destinationId, location, day, now)) statements += 1;
      }
      return { statements };
    })();
  }

  /**
   * The open days (with events) that the close time has passed: every day before `today`, and `today` itself
   * once `isPastCloseTime`. For the scheduled close.
   */
  openDaysBefore(
    destinationId: string,
    today: string,
    isPastCloseTime: boolean,
  ): { location: string; day: string }[] {
    return this.#db.sqlite
      .prepare<[string, string, number, string], { location: string; day: string }>(
        `SELECT DISTINCT se.location, se.day FROM statement_events se
         WHERE se.destination_id = ? AND (se.day < ? OR (? = 1 AND se.day = ?))
           AND NOT EXISTS (SELECT 1 FROM business_days b
             WHERE b.destination_id = se.destination_id AND b.location = se.location AND b.day = se.day)
         ORDER BY se.day, se.location`,
      )
      .all(destinationId, today, isPastCloseTime ? 1 : 0, today);
  }

  /**
   * Makes a supplementary statement of the late events of each closed day (events that came after the close):
   * the next number for that day, so they are posted under that day, never another. Returns how many were made.
   */
  collectLate(destinationId: string, now = Date.now()): number {
    const days = this.#db.sqlite
      .prepare<[string], { location: string; day: string }>(
        `SELECT DISTINCT se.location, se.day FROM statement_events se
         JOIN business_days b ON b.destination_id = se.destination_id AND b.location = se.location AND b.day = se.day
         WHERE se.destination_id = ? AND se.statement_id IS NULL`,
      )
      .all(destinationId);
    let made = 0;
    for (const { location, day } of days)
      if (this.#db.sqlite.transaction(() => this.#makeStatement(destinationId, location, day, now))())
        made += 1;
    return made;
  }

  /**
   * Makes the next statement of a closed day from the events not in a statement yet: one line per (SKU, unit
   * price, currency) with the units sold and returned. A line the events give no price for cannot be posted: it is
   * stored refused, with an exception naming it. Returns false when there was nothing to take.
   */
  #makeStatement(destinationId: string, location: string, day: string, now: number): boolean {
    const { sqlite } = this.#db;
    const events = sqlite
      .prepare<[string, string, string], { seq: number; body: string }>(
        `SELECT e.seq, e.body FROM statement_events se JOIN events e ON e.seq = se.event_seq
         WHERE se.destination_id = ? AND se.location = ? AND se.day = ? AND se.statement_id IS NULL
         ORDER BY e.seq`,
      )
      .all(destinationId, location, day);
    if (events.length === 0) return false;
    const number =
      sqlite
        .prepare<[string, string, string], { n: number | null }>(
          'SELECT MAX(number) AS n FROM statements WHERE destination_id = ? AND location = ? AND day = ?',
        )
        .get(destinationId, location, day)!.n ?? -1;
    const reference = this.referenceOf(location, day, number + 1);
    const { lastInsertRowid } = sqlite
      .prepare<[string, string, string, number, string, number, number]>(
        `INSERT INTO statements (destination_id, location, day, number, reference, state, next_at, created_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(destinationId, location, day, number + 1, reference, now, now);
    const id = Number(lastInsertRowid);
    const lines = new Map<
      string,
      { sku: string; unitPrice: string; currency: string; sold: number; returned: number }
    >();
    for (const { body } of events) {
      const event = JSON.parse(body) as PosEvent;
      for (const line of event.lines) {
        const unitPrice = line.unitPrice === undefined ? '' : Money.normalize(line.unitPrice);
        const currency = line.currency ?? '';
        const key = `${line.sku}\u0000${unitPrice}\u0000${currency}`;
        const sum = lines.get(key) ?? { sku: line.sku, unitPrice, currency, sold: 0, returned: 0 };
        if (event.type === 'return') sum.returned += line.qty;
        else sum.sold += line.qty;
        lines.set(key, sum);
      }
    }
    const insertLine = sqlite.prepare<
      [number, string, string, string, number, number, string, string | null]
    >(
      `INSERT INTO statement_lines (statement_id, sku, unit_price, currency, sold, returned, state, refusal)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const line of lines.values()) {
      if (line.unitPrice !== '') {
        insertLine.run(
          id,
          line.sku,
          line.unitPrice,
          line.currency,
          line.sold,
          line.returned,
          'pending',
          null,
        );
        continue;
      }
      const why = `the till sent these sales of ${line.sku} without a unit price, and an ERP sale needs the price of every line`;
      insertLine.run(id, line.sku, '', line.currency, line.sold, line.returned, 'refused', why);
      this.#raiseLine(destinationId, { location, day, reference }, line, why, now);
    }
    sqlite
      .prepare<[number, string, string, string]>(
        `UPDATE statement_events SET statement_id = ?
         WHERE destination_id = ? AND location = ? AND day = ? AND statement_id IS NULL`,
      )
      .run(id, destinationId, location, day);
    return true;
  }

  #raiseLine(
    destinationId: string,
    statement: Readonly<{ location: string; day: string; reference: string }>,
    line: Readonly<{ sku: string; unitPrice: string; currency: string; sold: number; returned: number }>,
    why: string,
    now: number,
  ): void {
    const entry = EXCEPTION_CATALOG.statement_refused;
    this.#exceptions.raise(
      {
        kind: 'statement_refused',
        dedupeKey: entry.key(
          destinationId,
          statement.reference,
          `line:${line.sku}|${line.unitPrice}|${line.currency}`,
        ),
        message: entry.message({
          destinationId,
          ...statement,
          line: {
            sku: line.sku,
            qty: line.sold - line.returned,
            unitPrice: line.unitPrice,
            currency: line.currency,
          },
          why,
        }),
        details: { reference: statement.reference, day: statement.day, unitPrice: line.unitPrice, why },
        sku: line.sku,
        location: statement.location,
        destinationId,
      },
      now,
    );
  }

  /** Pending statements of a destination due now, oldest day first, with their lines. */
  due(destinationId: string, now = Date.now(), limit = 20): DueStatement[] {
    const rows = this.#db.sqlite
      .prepare<[string, number, number], StatementRow>(
        `SELECT * FROM statements WHERE destination_id = ? AND state = 'pending' AND next_at <= ?
         ORDER BY day, location, number LIMIT ?`,
      )
      .all(destinationId, now, limit);
    return rows.map((row) => ({
      id: row.id,
      destinationId: row.destination_id,
      location: row.location,
      day: row.day,
      number: row.number,
      reference: row.reference,
      attempts: row.attempts,
      lines: this.#linesOf(row.id)
        .filter((l) => l.state === 'pending')
        .map((l) => ({
          sku: l.sku,
          unitPrice: l.unit_price,
          currency: l.currency,
          sold: l.sold,
          returned: l.returned,
        })),
    }));
  }

  #linesOf(statementId: number): LineRow[] {
    return this.#db.sqlite
      .prepare<[number], LineRow>(
        'SELECT * FROM statement_lines WHERE statement_id = ? ORDER BY sku, currency, unit_price',
      )
      .all(statementId);
  }

  /**
   * Records a statement the ERP took: its document id, its lines posted but for `refused` (each raising an
   * exception naming it), and the exceptions of the lines or the statement it carries resolved.
   */
  markPosted(
    statement: DueStatement,
    remoteId: string | null,
    refused: readonly Readonly<{ index: number; why: string }>[],
    now = Date.now(),
  ): void {
    const { sqlite } = this.#db;
    const entry = EXCEPTION_CATALOG.statement_refused;
    sqlite.transaction(() => {
      sqlite
        .prepare<[string | null, number, number]>(
          `UPDATE statements SET state = 'posted', remote_id = ?, posted_at = ?, last_error = NULL,
             attempts = attempts + 1 WHERE id = ?`,
        )
        .run(remoteId, now, statement.id);
      const setLine = sqlite.prepare<[string, string | null, number, string, string, string]>(
        `UPDATE statement_lines SET state = ?, refusal = ?
         WHERE statement_id = ? AND sku = ? AND unit_price = ? AND currency = ?`,
      );
      const whyOf = new Map(refused.map((r) => [r.index, r.why]));
      for (const [index, line] of statement.lines.entries()) {
        const why = whyOf.get(index);
        setLine.run(
          why === undefined ? 'posted' : 'refused',
          why ?? null,
          statement.id,
          line.sku,
          line.unitPrice,
          line.currency,
        );
        if (why !== undefined) this.#raiseLine(statement.destinationId, statement, line, why, now);
      }
      this.#exceptions.resolveByKey(
        entry.key(statement.destinationId, statement.reference, 'statement'),
        entry.resolvedAs({ reference: statement.reference }),
        now,
      );
      const origins = sqlite
        .prepare<
          [string, string, string],
          { reference: string; sku: string; unit_price: string; currency: string }
        >(
          `SELECT s.reference, l.sku, l.unit_price, l.currency FROM statement_lines l
           JOIN statements s ON s.id = l.statement_id
           WHERE l.state = 'moved' AND s.destination_id = ? AND s.location = ? AND s.day = ?`,
        )
        .all(statement.destinationId, statement.location, statement.day);
      // Lines sent again from an earlier statement: that statement's exception ends here (posted, or refused
      // again, which raised this statement's own exception for it above).
      const here = new Set(statement.lines.map((l) => `${l.sku}|${l.unitPrice}|${l.currency}`));
      for (const o of origins) {
        const what = `${o.sku}|${o.unit_price}|${o.currency}`;
        if (here.has(what))
          this.#exceptions.resolveByKey(
            entry.key(statement.destinationId, o.reference, `line:${what}`),
            entry.resolvedAs({ reference: statement.reference }),
            now,
          );
      }
    })();
  }

  /** Records a failed attempt: `retry` waits `delayMs`; `rejected` stops it with an exception until posted again. */
  markFailed(
    statement: DueStatement,
    outcome: 'retry' | 'rejected',
    detail: string,
    delayMs: number,
    now = Date.now(),
  ): void {
    this.#db.sqlite.transaction(() => {
      this.#db.sqlite
        .prepare<[string, number, string, number]>(
          'UPDATE statements SET state = ?, next_at = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?',
        )
        .run(outcome === 'retry' ? 'pending' : 'rejected', now + delayMs, detail, statement.id);
      if (outcome !== 'rejected') return;
      const entry = EXCEPTION_CATALOG.statement_refused;
      this.#exceptions.raise(
        {
          kind: 'statement_refused',
          dedupeKey: entry.key(statement.destinationId, statement.reference, 'statement'),
          message: entry.message({ ...statement, line: null, why: detail }),
          details: { reference: statement.reference, day: statement.day, why: detail },
          location: statement.location,
          destinationId: statement.destinationId,
        },
        now,
      );
    })();
  }

  /**
   * "Post again" on the Day close page: a statement the ERP rejected whole is queued again as it is (same
   * reference, so found if an earlier attempt made it after all); its refused lines, if it was posted, go into
   * the day's next supplementary statement. Refused naming the statement when neither applies.
   */
  postAgain(statementId: number, now = Date.now()): { reference: string } {
    const { sqlite } = this.#db;
    return sqlite.transaction(() => {
      const row = sqlite
        .prepare<[number], StatementRow>('SELECT * FROM statements WHERE id = ?')
        .get(statementId);
      if (row === undefined)
        throw new InputRefusal('not_found', [
          { path: 'statement', message: `there is no statement ${statementId}` },
        ]);
      if (row.state === 'rejected') {
        sqlite
          .prepare<[number, number]>("UPDATE statements SET state = 'pending', next_at = ? WHERE id = ?")
          .run(now, statementId);
        return { reference: row.reference };
      }
      const refused = this.#linesOf(statementId).filter((l) => l.state === 'refused' && l.unit_price !== '');
      if (row.state !== 'posted' || refused.length === 0)
        throw new InputRefusal('bad_shape', [
          {
            path: 'statement',
            message: `the statement ${row.reference} is ${row.state === 'pending' ? 'still waiting to be posted' : 'posted with no refused line that has a price'}; there is nothing to post again`,
          },
        ]);
      const number =
        sqlite
          .prepare<[string, string, string], { n: number }>(
            'SELECT MAX(number) AS n FROM statements WHERE destination_id = ? AND location = ? AND day = ?',
          )
          .get(row.destination_id, row.location, row.day)!.n + 1;
      const reference = this.referenceOf(row.location, row.day, number);
      const { lastInsertRowid } = sqlite
        .prepare<[string, string, string, number, string, number, number]>(
          `INSERT INTO statements (destination_id, location, day, number, reference, state, next_at, created_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
        )
        .run(row.destination_id, row.location, row.day, number, reference, now, now);
      for (const line of refused) {
        sqlite
          .prepare<[number, string, string, string, number, number]>(
            `INSERT INTO statement_lines (statement_id, sku, unit_price, currency, sold, returned, state, refusal)
             VALUES (?, ?, ?, ?, ?, ?, 'pending', NULL)`,
          )
          .run(Number(lastInsertRowid), line.sku, line.unit_price, line.currency, line.sold, line.returned);
        sqlite
          .prepare<[string, number, string, string, string]>(
            `UPDATE statement_lines SET state = 'moved', refusal = refusal || ' (sent again in ' || ? || ')'
             WHERE statement_id = ? AND sku = ? AND unit_price = ? AND currency = ?`,
          )
          .run(reference, statementId, line.sku, line.unit_price, line.currency);
      }
      return { reference };
    })();
  }

  /** The destinations' business days (those with events or closed), newest first, with totals and statements. */
  days(destinationIds: readonly string[], limit = 60): Omit<DayCloseView, 'schedules'> {
    const { sqlite } = this.#db;
    const result: BusinessDayView[] = [];
    for (const destinationId of destinationIds) {
      const keys = sqlite
        .prepare<[string, string, number], { location: string; day: string }>(
          `SELECT location, day FROM (
             SELECT DISTINCT location, day FROM statement_events WHERE destination_id = ?
             UNION SELECT location, day FROM business_days WHERE destination_id = ?)
           ORDER BY day DESC, location LIMIT ?`,
        )
        .all(destinationId, destinationId, limit);
      for (const { location, day } of keys) result.push(this.day(destinationId, location, day));
    }
    result.sort((a, b) => b.day.localeCompare(a.day) || a.location.localeCompare(b.location));
    return { destinations: [...destinationIds], days: result };
  }

  /** One business day: its state, the totals of its events, its statements. */
  day(destinationId: string, location: string, day: string): BusinessDayView {
    const { sqlite } = this.#db;
    const closed = sqlite
      .prepare<[string, string, string], { closed_at: number; closed_by: string }>(
        'SELECT closed_at, closed_by FROM business_days WHERE destination_id = ? AND location = ? AND day = ?',
      )
      .get(destinationId, location, day);
    const totals = this.#totalsOf(destinationId, location, day);
    const late =
      closed === undefined
        ? 0
        : sqlite
            .prepare<[string, string, string], { n: number }>(
              `SELECT COUNT(*) AS n FROM statement_events
               WHERE destination_id = ? AND location = ? AND day = ? AND statement_id IS NULL`,
            )
            .get(destinationId, location, day)!.n;
    const statements = sqlite
      .prepare<[string, string, string], StatementRow>(
        'SELECT * FROM statements WHERE destination_id = ? AND location = ? AND day = ? ORDER BY number',
      )
      .all(destinationId, location, day)
      .map((row) => this.#statementView(row));
    const isPosted = statements.every((s) => s.state === 'posted') && late === 0;
    return {
      destinationId,
      location,
      day,
      state: closed === undefined ? 'open' : isPosted ? 'posted' : 'closing',
      closedAt: closed?.closed_at ?? null,
      closedBy: closed?.closed_by ?? null,
      sales: totals.sales,
      returns: totals.returns,
      unitsSold: totals.unitsSold,
      unitsReturned: totals.unitsReturned,
      value: totals.value.list(),
      late,
      statements,
    };
  }

  /**
   * A day's event totals: read once from its events, then kept up by `record` (a day's events never change, only
   * new ones come), so the Day close page, reloaded every few seconds, does not read a busy day's events again.
   */
  #totalsOf(destinationId: string, location: string, day: string): DayTotals {
    const key = `${destinationId}\u0000${location}\u0000${day}`;
    const cached = this.#totals.get(key);
    if (cached !== undefined) return cached;
    const totals: DayTotals = { sales: 0, returns: 0, unitsSold: 0, unitsReturned: 0, value: new Money() };
    const bodies = this.#db.sqlite
      .prepare<[string, string, string], { body: string }>(
        `SELECT e.body FROM statement_events se JOIN events e ON e.seq = se.event_seq
         WHERE se.destination_id = ? AND se.location = ? AND se.day = ?`,
      )
      .all(destinationId, location, day);
    for (const { body } of bodies) addTo(totals, JSON.parse(body) as PosEvent);
    this.#totals.set(key, totals);
    return totals;
  }

  #statementView(row: StatementRow): DayStatementView {
    const lines = this.#linesOf(row.id);
    const total = new Money();
    const refused: RefusedStatementLineView[] = [];
    for (const line of lines) {
      if (line.unit_price !== '') total.add(line.currency, line.unit_price, line.sold - line.returned);
      if (line.state === 'refused')
        refused.push({
          sku: line.sku,
          unitPrice: line.unit_price,
          currency: line.currency,
          qty: line.sold - line.returned,
          why: line.refusal ?? '',
        });
    }
    const events = this.#db.sqlite
      .prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM statement_events WHERE statement_id = ?')
      .get(row.id)!.n;
    return {
      id: row.id,
      number: row.number,
      reference: row.reference,
      state: row.state,
      lastError: row.last_error,
      remoteId: row.remote_id,
      events,
      lines: lines.length,
      total: total.list(),
      refused,
      postedAt: row.posted_at,
    };
  }

  /** Every statement of the destination with its lines' value per currency and state, for money reconciliation. */
  statementLines(destinationId: string): { statement: StatementRow; lines: LineRow[] }[] {
    return this.#db.sqlite
      .prepare<[string], StatementRow>(
        'SELECT * FROM statements WHERE destination_id = ? ORDER BY day, location, number',
      )
      .all(destinationId)
      .map((statement) => ({ statement, lines: this.#linesOf(statement.id) }));
  }
}

import type { AgentDatabase } from '../db/agent-database.js';
import type { PriceMarksTable } from '../db/schema.js';
import { HELD_UNTIL } from './delivery-repo.js';

/**
 * The price list of a destination's local override (a channel's price adopted by reconciliation): where an item
 * has one, it is the destination's price instead of its list's.
 */
export function overrideList(destinationId: string): string {
  return `override:${destinationId}`;
}

/** Which price list a destination takes its prices from (its config's `prices` section). */
export type PriceRoute = Readonly<{
  destinationId: string;
  /** The list whose amount is the selling price. */
  list: string;
  /** A list whose amount, above the selling price, is sent as the price before (`compareAtPrice`). */
  compareAtList: string | null;
  /** A new price more than this many percent under the last one sent is held. */
  floorPercent: number;
  /** Most price requests a second (a destination whose API states no limit); null: not paced here. */
  requestsPerSecond: number | null;
}>;

/** A due mark as the price sender claims it. */
export type DuePriceMark = Readonly<{
  sku: string;
  version: number;
  attempts: number;
  sentAmount: string | null;
  sentCurrency: string | null;
  confirmedAmount: string | null;
  keptAmount: string | null;
}>;

/** A mark as the UI shows it (the Prices page and the item page). */
export type PriceMarkRow = PriceMarksTable;

/**
 * The coalesced price marks (`price_marks`, migration 0014): one per (price destination, SKU). A change of one of
 * the lists a destination takes bumps the mark's version; the sender covers it by sending the price read at send
 * time. Marks are written in the transaction that stores the price change, so a price is never changed without
 * its updates queued.
 */
export class PriceMarks {
  readonly #db: AgentDatabase;
  readonly #routes: readonly PriceRoute[];
  readonly #bump;

  constructor(db: AgentDatabase, routes: readonly PriceRoute[]) {
    this.#db = db;
    this.#routes = routes;
    // A mark held for a missing mapping stays held (its item still has none); one held under the floor is
    // judged again with the new price.
    this.#bump = db.sqlite.prepare<[string, string, number, number]>(
      `INSERT INTO price_marks (destination_id, sku, version, marked_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (destination_id, sku) DO UPDATE SET version = version + 1, attempts = 0,
         marked_at = CASE WHEN version > sent_version THEN marked_at ELSE excluded.marked_at END,
         next_attempt_at = CASE WHEN held = 'unmapped' THEN ${HELD_UNTIL} ELSE ? END,
         held = CASE WHEN held = 'unmapped' THEN held ELSE NULL END,
         held_at = CASE WHEN held = 'unmapped' THEN held_at ELSE NULL END,
         held_amount = CASE WHEN held = 'unmapped' THEN held_amount ELSE NULL END`,
    );
  }

  /** The destinations that take prices, with their lists. */
  get routes(): readonly PriceRoute[] {
    return this.#routes;
  }

  route(destinationId: string): PriceRoute | undefined {
    return this.#routes.find((r) => r.destinationId === destinationId);
  }

  /**
   * The prices of `sku` on `lists` changed: every destination taking one of those lists gets its mark bumped.
   * Returns the destinations marked, and those whose mark was held under the floor (judged again now). Runs in
   * the caller's transaction.
   */
  markChanged(
    sku: string,
    lists: ReadonlySet<string>,
    now = Date.now(),
  ): { marked: string[]; wasBelowFloor: string[] } {
    const marked: string[] = [];
    const wasBelowFloor: string[] = [];
    for (const route of this.#routes) {
      if (!lists.has(route.list) && (route.compareAtList === null || !lists.has(route.compareAtList)))
        continue;
      if (this.#heldOf(route.destinationId, sku) === 'floor') wasBelowFloor.push(route.destinationId);
      this.#bump.run(route.destinationId, sku, now, 0);
      marked.push(route.destinationId);
    }
    return { marked, wasBelowFloor };
  }

  /**
   * Marks every item priced on a destination's list that has no mark yet (a destination given a `prices`
   * section, or a new one): its whole catalog goes out once. Returns how many were marked.
   */
  seed(now = Date.now()): number {
    let count = 0;
    for (const route of this.#routes)
      count += this.#db.sqlite
        .prepare(
          `INSERT OR IGNORE INTO price_marks (destination_id, sku, version, marked_at)
           SELECT ?, sku, 1, ? FROM item_prices WHERE list = ?`,
        )
        .run(route.destinationId, now, route.list).changes;
    return count;
  }

  /** Marks every priced item of a destination dirty again (push ours: the channel's prices are read back wrong). */
  markAll(destinationId: string, skus: readonly string[], now = Date.now()): void {
    this.#db.transaction(() => {
      for (const sku of skus) this.#bump.run(destinationId, sku, now, 0);
    });
  }

  #heldOf(destinationId: string, sku: string): PriceMarksTable['held'] {
    return (
      this.#db.sqlite
        .prepare<[string, string], { held: PriceMarksTable['held'] }>(
          'SELECT held FROM price_marks WHERE destination_id = ? AND sku = ?',
        )
        .get(destinationId, sku)?.held ?? null
    );
  }

  /** Due marks of a destination, oldest change first. */
  due(destinationId: string, now: number, limit: number): DuePriceMark[] {
    return this.#db.sqlite
      .prepare<[string, number, number], DuePriceMark>(
        `SELECT sku, version, attempts, sent_amount AS sentAmount, sent_currency AS sentCurrency,
           confirmed_amount AS confirmedAmount, kept_amount AS keptAmount
         FROM price_marks WHERE destination_id = ? AND version > sent_version AND next_attempt_at <= ?
         ORDER BY marked_at, sku LIMIT ?`,
      )
      .all(destinationId, now, limit);
  }

  /** When the next mark of a destination is due (epoch ms); null when none is waiting on time. */
  nextDueAt(destinationId: string): number | null {
    const row = this.#db.sqlite
      .prepare<[string], { t: number | null }>(
        `SELECT MIN(next_attempt_at) AS t FROM price_marks WHERE destination_id = ? AND version > sent_version`,
      )
      .get(destinationId);
    return row?.t == null || row.t >= HELD_UNTIL ? null : row.t;
  }

  /** The channel took this price: the mark is clean unless the price changed since `version`. */
  markSent(
    destinationId: string,
    sku: string,
    version: number,
    sent: Readonly<{ amount: string; currency: string; compareAt: string | null }> | null,
    now: number,
  ): void {
    this.#db.sqlite
      .prepare(
        `UPDATE price_marks SET sent_version = MAX(sent_version, @version), attempts = 0, next_attempt_at = 0,
           held = NULL, held_at = NULL, held_amount = NULL, last_error = @error,
           sent_amount = COALESCE(@amount, sent_amount), sent_currency = COALESCE(@currency, sent_currency),
           sent_compare_at = CASE WHEN @amount IS NULL THEN sent_compare_at ELSE @compareAt END,
           sent_at = CASE WHEN @amount IS NULL THEN sent_at ELSE @now END
         WHERE destination_id = @destinationId AND sku = @sku`,
      )
      .run({
        destinationId,
        sku,
        version,
        amount: sent?.amount ?? null,
        currency: sent?.currency ?? null,
        compareAt: sent?.compareAt ?? null,
        now,
        error: null,
      });
  }

  /** Covers `version` without sending (no price on the list, or the price a person kept), noting why. */
  markSkipped(destinationId: string, sku: string, version: number, why: string): void {
    this.#db.sqlite
      .prepare(
        `UPDATE price_marks SET sent_version = MAX(sent_version, ?), attempts = 0, next_attempt_at = 0, held = NULL,
           held_at = NULL, held_amount = NULL, last_error = ? WHERE destination_id = ? AND sku = ?`,
      )
      .run(version, why, destinationId, sku);
  }

  markRetry(
    destinationId: string,
    sku: string,
    at: number,
    error: string | null,
    countsAsAttempt: boolean,
  ): void {
    this.#db.sqlite
      .prepare(
        `UPDATE price_marks SET next_attempt_at = ?, attempts = attempts + ?, last_error = COALESCE(?, last_error)
         WHERE destination_id = ? AND sku = ?`,
      )
      .run(at, countsAsAttempt ? 1 : 0, error, destinationId, sku);
  }

  /** Held out of the queue: for a mapping (`unmapped`) or for a person (`floor`, with the price held). */
  markHeld(
    destinationId: string,
    sku: string,
    held: 'unmapped' | 'floor',
    amount: string | null,
    error: string,
    now: number,
  ): void {
    this.#db.sqlite
      .prepare(
        `UPDATE price_marks SET held = ?, held_at = ?, held_amount = ?, next_attempt_at = ${HELD_UNTIL},
           last_error = ? WHERE destination_id = ? AND sku = ?`,
      )
      .run(held, now, amount, error, destinationId, sku);
  }

  /** A mapping was set for `sku`: its marks held for it are due again. Runs in the caller's transaction. */
  releaseUnmapped(destinationId: string, sku: string): void {
    this.#db.sqlite
      .prepare(
        `UPDATE price_marks SET held = NULL, held_at = NULL, next_attempt_at = 0
         WHERE destination_id = ? AND sku = ? AND held = 'unmapped'`,
      )
      .run(destinationId, sku);
  }

  /**
   * A person confirms the price held under the floor: it is sent as it is (and any later price is judged against
   * it once sent). Returns the amount confirmed, or null when the mark is not held under the floor.
   */
  confirm(destinationId: string, sku: string): string | null {
    const row = this.get(destinationId, sku);
    if (row?.held !== 'floor' || row.held_amount === null) return null;
    this.#db.sqlite
      .prepare(
        `UPDATE price_marks SET held = NULL, held_at = NULL, confirmed_amount = held_amount, held_amount = NULL,
           next_attempt_at = 0, attempts = 0, last_error = NULL WHERE destination_id = ? AND sku = ?`,
      )
      .run(destinationId, sku);
    return row.held_amount;
  }

  /**
   * A person keeps the old price: the held price is not sent (now or when read again unchanged); the next change
   * of the item's price is judged afresh. Returns the amount refused, or null when nothing is held.
   */
  keep(destinationId: string, sku: string): string | null {
    const row = this.get(destinationId, sku);
    if (row?.held !== 'floor' || row.held_amount === null) return null;
    this.#db.sqlite
      .prepare(
        `UPDATE price_marks SET held = NULL, held_at = NULL, kept_amount = held_amount, held_amount = NULL,
           sent_version = version, next_attempt_at = 0, attempts = 0,
           last_error = 'the old price was kept: ' || held_amount || ' was not sent'
         WHERE destination_id = ? AND sku = ?`,
      )
      .run(destinationId, sku);
    return row.held_amount;
  }

  get(destinationId: string, sku: string): PriceMarkRow | undefined {
    return this.#db.sqlite
      .prepare<[string, string], PriceMarkRow>(
        'SELECT * FROM price_marks WHERE destination_id = ? AND sku = ?',
      )
      .get(destinationId, sku);
  }

  /** Every mark of an item, one per destination that takes prices. */
  ofItem(sku: string): PriceMarkRow[] {
    return this.#db.sqlite
      .prepare<[string], PriceMarkRow>('SELECT * FROM price_marks WHERE sku = ? ORDER BY destination_id')
      .all(sku);
  }

  /** Marks waiting to be sent or held, oldest change first (the Prices page), at most `limit`. */
  open(limit: number): PriceMarkRow[] {
    return this.#db.sqlite
      .prepare<[number], PriceMarkRow>(
        `SELECT * FROM price_marks WHERE version > sent_version
         ORDER BY CASE held WHEN 'floor' THEN 0 WHEN 'unmapped' THEN 1 ELSE 2 END, marked_at, sku LIMIT ?`,
      )
      .all(limit);
  }

  /** How many marks are waiting per destination (held ones included). */
  counts(): { destinationId: string; pending: number; held: number }[] {
    return this.#db.sqlite
      .prepare<[], { destinationId: string; pending: number; held: number }>(
        `SELECT destination_id AS destinationId, SUM(held IS NULL) AS pending, SUM(held IS NOT NULL) AS held
         FROM price_marks WHERE version > sent_version GROUP BY destination_id ORDER BY destination_id`,
      )
      .all();
  }
}

import type { AgentDatabase } from '../db/agent-database.js';

export type LevelRow = {
  sku: string;
  location: string;
  on_hand: number;
  reserved: number;
  updated_seq: number;
};

/**
 * Movements and the levels derived from them. Movements are append-only; `stock_levels` is their running sum,
 * kept in the same transaction, and `backroom verify` checks the two agree.
 */
export class StockRepo {
  readonly #db: AgentDatabase;
  readonly #getLevel;
  readonly #putLevel;
  readonly #insertMovement;
  readonly #onHandAt;
  readonly #reservationStatements: ReturnType<typeof prepareReservationStatements>;

  constructor(db: AgentDatabase) {
    this.#db = db;
    // Hot path (every line of every captured event): statements prepared once, bound directly.
    this.#getLevel = db.sqlite.prepare<[string, string], { on_hand: number; reserved: number }>(
      'SELECT on_hand, reserved FROM stock_levels WHERE sku = ? AND location = ?',
    );
    this.#putLevel = db.sqlite.prepare<[string, string, number, number]>(
      `INSERT INTO stock_levels (sku, location, on_hand, reserved, updated_seq) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (sku, location) DO UPDATE SET on_hand = excluded.on_hand, updated_seq = excluded.updated_seq`,
    );
    this.#insertMovement = db.sqlite.prepare<[number, number, string, string, number, number]>(
      'INSERT INTO movements (event_seq, line_no, sku, location, delta, on_hand_after) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // Walks the item's movements newest first (index movements_by_item) to the last one at or before the seq.
    this.#onHandAt = db.sqlite.prepare<[string, string, number], { on_hand_after: number }>(
      `SELECT on_hand_after FROM movements WHERE sku = ? AND location = ? AND event_seq <= ?
       ORDER BY id DESC LIMIT 1`,
    );
    this.#reservationStatements = prepareReservationStatements(db);
  }

  /**
   * Sets the open reservation of one order line to `qty` (0 closes it as `closedAs`) and moves `reserved` of
   * (sku, location) by the difference. Returns the change in reserved. Must run inside the capture transaction.
   */
  setReservation(
    r: ReservationLine & Readonly<{ qty: number }>,
    closedAs: 'released' | 'shipped' = 'released',
  ): number {
    const before = this.openReservation(r.channel, r.orderId, r.sku, r.location);
    const s = this.#reservationStatements;
    if (r.qty > 0) s.open.run(r.channel, r.orderId, r.sku, r.location, r.qty, r.seq);
    else if (before > 0) s.close.run(closedAs, r.seq, r.channel, r.orderId, r.sku, r.location);
    const change = r.qty - before;
    if (change !== 0) s.moveReserved.run(r.sku, r.location, change, r.seq, change);
    return change;
  }

  /**
   * Takes `qty` off the open reservation of one order line (never below zero), closing it as `closedAs` when
   * nothing is left; nothing happens when the line holds no open reservation. Inside the capture transaction.
   */
  takeFromReservation(r: ReservationLine, qty: number, closedAs: 'released' | 'shipped'): void {
    const open = this.openReservation(r.channel, r.orderId, r.sku, r.location);
    if (open > 0) this.setReservation({ ...r, qty: Math.max(0, open - qty) }, closedAs);
  }

  /**
   * Reserves one order line at what is left to ship of its `total`: the order's quantity less what was shipped
   * of it already (a partly shipped order, edited or read again, never reserves its shipped units twice). Nothing
   * left closes the line as shipped. Inside the capture transaction.
   */
  reserveLine(r: ReservationLine, total: number): void {
    const shipped =
      this.#reservationStatements.shipped.get(r.channel, r.orderId, r.sku, r.location)?.shipped ?? 0;
    this.setReservation({ ...r, qty: Math.max(0, total - shipped) }, shipped > 0 ? 'shipped' : 'released');
  }

  /**
   * Ships `qty` of one order line: takes it off the open reservation (never below zero, closing the line as
   * shipped when nothing is left) and counts it shipped, so only the shipped lines' reservations close and the
   * rest of the order stays reserved. A line the order never reserved here is left alone. Inside the capture
   * transaction.
   */
  shipFromReservation(r: ReservationLine, qty: number): void {
    this.takeFromReservation(r, qty, 'shipped');
    this.#reservationStatements.addShipped.run(qty, r.channel, r.orderId, r.sku, r.location);
  }

  /** What was shipped of an order under this channel, per (sku, location). */
  shippedOf(channel: string, orderId: string): { sku: string; location: string; shipped: number }[] {
    return this.#reservationStatements.shippedLines.all(channel, orderId);
  }

  /** The open reserved quantity of one order line, 0 when none. */
  openReservation(channel: string, orderId: string, sku: string, location: string): number {
    return this.#reservationStatements.openQty.get(channel, orderId, sku, location)?.qty ?? 0;
  }

  /** The open reservation lines of an order under this channel. */
  openReservationsOf(channel: string, orderId: string): { sku: string; location: string; qty: number }[] {
    return this.#reservationStatements.openLines.all(channel, orderId);
  }

  /** Whether an order has any reservation row (open or closed) under this channel. */
  hasOrder(channel: string, orderId: string): { isKnown: boolean; isOpen: boolean } {
    const row = this.#reservationStatements.order.get(channel, orderId);
    return { isKnown: (row?.n ?? 0) > 0, isOpen: (row?.open ?? 0) > 0 };
  }

  /** On hand and reserved of (sku, location); zeros for an item never seen there. Prepared: on the send path. */
  level(sku: string, location: string): { onHand: number; reserved: number } {
    const row = this.#getLevel.get(sku, location);
    return { onHand: row?.on_hand ?? 0, reserved: row?.reserved ?? 0 };
  }

  /** On hand of (sku, location); 0 for an item never seen there. */
  onHand(sku: string, location: string): number {
    return this.#getLevel.get(sku, location)?.on_hand ?? 0;
  }

  /**
   * On hand of (sku, location) as the ledger stood right after the event of capture seq `seq`: the level after
   * its last movement at or before that seq, 0 when it had none. Movements are written in seq order, so their id
   * order is seq order.
   */
  onHandAt(sku: string, location: string, seq: number): number {
    return this.#onHandAt.get(sku, location, seq)?.on_hand_after ?? 0;
  }

  /**
   * Records one movement and moves the level. Returns the level before and after.
   * Must run inside the capture transaction.
   */
  applyMovement(
    move: Readonly<{ seq: number; lineNo: number; sku: string; location: string; delta: number }>,
  ): { before: number; after: number } {
    const before = this.onHand(move.sku, move.location);
    const after = before + move.delta;
    this.#insertMovement.run(move.seq, move.lineNo, move.sku, move.location, move.delta, after);
    this.#putLevel.run(move.sku, move.location, after, move.seq);
    return { before, after };
  }

  /** The SKUs whose on hand at `location` is below zero, in SKU order. */
  skusBelowZero(location: string): string[] {
    return this.#db
      .all(
        this.#db.query
          .selectFrom('stock_levels')
          .select('sku')
          .where('location', '=', location)
          .where('on_hand', '<', 0)
          .orderBy('sku'),
      )
      .map((r) => r.sku);
  }

  /** Levels filtered by sku and/or location, ordered by sku then location. */
  levels(filter: Readonly<{ sku?: string; location?: string; limit?: number }>): LevelRow[] {
    let q = this.#db.query.selectFrom('stock_levels').selectAll();
    if (filter.sku !== undefined) q = q.where('sku', '=', filter.sku);
    if (filter.location !== undefined) q = q.where('location', '=', filter.location);
    return this.#db.all(
      q
        .orderBy('sku')
        .orderBy('location')
        .limit(filter.limit ?? 1000),
    );
  }
}

/** One order line's reservation key, with the capture seq that changes it. */
type ReservationLine = Readonly<{
  channel: string;
  orderId: string;
  sku: string;
  location: string;
  seq: number;
}>;

/** The reservations' statements, prepared once (reserve, release and ship events run them inside capture). */
function prepareReservationStatements(db: AgentDatabase) {
  const { sqlite } = db;
  return {
    openQty: sqlite.prepare<[string, string, string, string], { qty: number }>(
      `SELECT qty FROM reservations WHERE channel = ? AND order_id = ? AND sku = ? AND location = ? AND state = 'open'`,
    ),
    openLines: sqlite.prepare<[string, string], { sku: string; location: string; qty: number }>(
      `SELECT sku, location, qty FROM reservations WHERE channel = ? AND order_id = ? AND state = 'open' ORDER BY sku, location`,
    ),
    order: sqlite.prepare<[string, string], { n: number; open: number | null }>(
      `SELECT COUNT(*) AS n, SUM(state = 'open') AS open FROM reservations WHERE channel = ? AND order_id = ?`,
    ),
    open: sqlite.prepare<[string, string, string, string, number, number]>(
      `INSERT INTO reservations (channel, order_id, sku, location, qty, state, opened_seq) VALUES (?, ?, ?, ?, ?, 'open', ?)
       ON CONFLICT (channel, order_id, sku, location) DO UPDATE SET qty = excluded.qty, state = 'open', closed_seq = NULL`,
    ),
    close: sqlite.prepare<[string, number, string, string, string, string]>(
      `UPDATE reservations SET state = ?, closed_seq = ? WHERE channel = ? AND order_id = ? AND sku = ? AND location = ?`,
    ),
    shipped: sqlite.prepare<[string, string, string, string], { shipped: number }>(
      'SELECT shipped FROM reservations WHERE channel = ? AND order_id = ? AND sku = ? AND location = ?',
    ),
    // A closed line holds nothing: its qty (what is left reserved) is 0 once shipped.
    addShipped: sqlite.prepare<[number, string, string, string, string]>(
      `UPDATE reservations SET shipped = shipped + ?, qty = CASE WHEN state = 'open' THEN qty ELSE 0 END
       WHERE channel = ? AND order_id = ? AND sku = ? AND location = ?`,
    ),
    shippedLines: sqlite.prepare<[string, string], { sku: string; location: string; shipped: number }>(
      `SELECT sku, location, shipped FROM reservations WHERE channel = ? AND order_id = ? AND shipped > 0 ORDER BY sku`,
    ),
    moveReserved: sqlite.prepare<[string, string, number, number, number]>(
      `INSERT INTO stock_levels (sku, location, on_hand, reserved, updated_seq) VALUES (?, ?, 0, MAX(0, ?), ?)
       ON CONFLICT (sku, location) DO UPDATE SET reserved = MAX(0, reserved + ?), updated_seq = excluded.updated_seq`,
    ),
  };
}

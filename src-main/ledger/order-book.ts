import { orderKeyOf, rfc3339Problem, type FieldError, type PosEvent } from '../../shared/events.js';
import type { AgentDatabase } from '../db/agent-database.js';

/** The order a `ship` event is about: the reservations' channel and the order id under it. */
export type ShippedOrder = Readonly<{ channel: string; orderId: string; name: string }>;

/** How a `ship` event's reference resolved: an order, none known (a plain shipment), or several (refused). */
export type ShipmentTarget =
  | Readonly<{ kind: 'order'; order: ShippedOrder }>
  | Readonly<{ kind: 'none' }>
  | Readonly<{ kind: 'ambiguous'; channels: string[] }>;

/** One line of an order still to fulfil at a location. */
export type OpenOrderLine = { sku: string; ordered: number; shipped: number; reserved: number };

/** An order with something left to ship at a location, as the Fulfil page lists it. */
export type OpenOrder = {
  channel: string;
  orderId: string;
  name: string;
  location: string;
  placedAt: string | null;
  shipBy: string | null;
  openedSeq: number;
  lines: OpenOrderLine[];
};

/**
 * Marketplace and web orders as capture learnt them: the order row each `reserve` writes (its number, ship-by
 * date), which order a `ship` from the warehouse is about, whether its lines fit what is left of the order, and
 * the shipments with their carrier and tracking. Reservations themselves stay in `StockRepo`. Every write runs
 * inside the capture transaction.
 */
export class OrderBook {
  readonly #s: ReturnType<typeof prepare>;

  constructor(db: AgentDatabase) {
    this.#s = prepare(db);
  }

  /**
   * Records (or refreshes) the order a `reserve` describes: its number from `meta.order`, its placing time from
   * `meta.placedAt` and the marketplace's ship-by date from `meta.shipBy` (RFC 3339; anything else is ignored,
   * meta being the sender's own).
   */
  noteReserve(source: string, seq: number, event: PosEvent): void {
    const meta = event.meta ?? {};
    const name =
      typeof meta['order'] === 'string' && meta['order'] !== '' ? meta['order'] : orderKeyOf(event);
    this.#s.upsertOrder.run(
      source,
      orderKeyOf(event),
      name.slice(0, 255),
      event.location,
      dateOf(meta['placedAt']) ?? event.occurredAt,
      dateOf(meta['shipBy']),
      seq,
      seq,
    );
  }

  /**
   * Which order a `ship` captured from `source` ships. Its reference is looked up as the order's id, then as its
   * number: under the capturing source itself first (a web shop shipping its own order, or the marketplace's
   * own "fulfilled"), then under the channel `meta.channel` names (a destination id or a channel), then across
   * every channel. Two channels' orders answering the same reference are ambiguous, and the event is refused.
   */
  targetOf(source: string, event: PosEvent): ShipmentTarget {
    const ref = orderKeyOf(event);
    const hint = event.meta?.['channel'];
    const ordersBy = (channel: string | null): ShippedOrder[] => {
      const byId = this.#s.byId.all(ref, channel, channel);
      return byId.length > 0 ? byId : this.#s.byName.all(ref, channel, channel);
    };
    const own = this.#s.byId.all(ref, source, source);
    if (own.length > 0) return { kind: 'order', order: own[0]! };
    if (typeof hint === 'string' && hint !== '') {
      for (const channel of [hint, `orders:${hint}`]) {
        const found = ordersBy(channel);
        if (found.length === 1) return { kind: 'order', order: found[0]! };
      }
    }
    const found = ordersBy(null);
    if (found.length === 0) return { kind: 'none' };
    if (found.length === 1) return { kind: 'order', order: found[0]! };
    return { kind: 'ambiguous', channels: found.map((o) => o.channel) };
  }

  /**
   * The orders a reference names (their id, else their number), under `channel` when given: what a return is
   * received against.
   */
  ordersNamed(ref: string, channel: string | null): ShippedOrder[] {
    const byId = this.#s.byId.all(ref, channel, channel);
    return byId.length > 0 ? byId : this.#s.byName.all(ref, channel, channel);
  }

  /**
   * Why a `ship` from the warehouse (not the order's own channel) does not fit the order: it is at another
   * location, names an item the order lacks, or ships more of an item than is left to ship. Empty when it fits.
   */
  misfitsOf(order: ShippedOrder, event: PosEvent): FieldError[] {
    const rows = this.#s.lines.all(order.channel, order.orderId);
    const here = rows.filter((r) => r.location === event.location);
    if (here.length === 0) {
      const at = [...new Set(rows.map((r) => r.location))].join(', ');
      return [{ path: 'location', message: `order ${order.name} ships from ${at}, not ${event.location}` }];
    }
    const left = new Map(here.map((r) => [r.sku, r.state === 'open' ? r.qty : 0]));
    const errors: FieldError[] = [];
    const taken = new Map<string, number>();
    event.lines.forEach((line, i) => {
      const open = left.get(line.sku);
      if (open === undefined) {
        errors.push({ path: `lines.${i}.sku`, message: `${line.sku} is not on order ${order.name}` });
        return;
      }
      const total = (taken.get(line.sku) ?? 0) + line.qty;
      taken.set(line.sku, total);
      if (total > open)
        errors.push({
          path: `lines.${i}.qty`,
          message:
            open === 0
              ? `order ${order.name} has no ${line.sku} left to ship`
              : `${total} × ${line.sku} is more than order ${order.name} has left to ship (${open})`,
        });
    });
    return errors;
  }

  /** Records a captured shipment of a known order with its carrier and tracking. */
  recordShipment(seq: number, order: ShippedOrder, event: PosEvent): void {
    this.#s.insertShipment.run(
      seq,
      order.channel,
      order.orderId,
      event.location,
      event.carrier ?? null,
      event.trackingNumber ?? null,
      event.trackingUrl ?? null,
    );
  }

  /**
   * Queues the shipment (capture seq `seq`) of a marketplace order to be recorded at that marketplace
   * (`destinationId`) by its fulfilment sender. Inside the capture transaction.
   */
  queueFulfilment(seq: number, destinationId: string, orderId: string, now: number): void {
    this.#s.queueFulfilment.run(seq, destinationId, orderId, now, now);
  }

  /**
   * The orders with something left reserved at `location`, oldest promise first: the marketplace's ship-by date
   * (orders without one after those with one), then when they were placed, then when they were reserved.
   */
  openOrders(location: string): OpenOrder[] {
    const byOrder = new Map<string, OpenOrder>();
    for (const row of this.#s.openAt.all(location, location)) {
      const key = `${row.channel}\u0000${row.order_id}`;
      let order = byOrder.get(key);
      if (order === undefined) {
        order = {
          channel: row.channel,
          orderId: row.order_id,
          name: row.name ?? row.order_id,
          location,
          placedAt: row.placed_at,
          shipBy: row.ship_by,
          openedSeq: row.opened_seq,
          lines: [],
        };
        byOrder.set(key, order);
      }
      order.openedSeq = Math.min(order.openedSeq, row.opened_seq);
      order.lines.push({
        sku: row.sku,
        ordered: row.qty + row.shipped,
        shipped: row.shipped,
        reserved: row.state === 'open' ? row.qty : 0,
      });
    }
    return [...byOrder.values()]
      .filter((o) => o.lines.some((l) => l.reserved > 0))
      .sort(
        (a, b) =>
          compareDates(a.shipBy, b.shipBy) ||
          compareDates(a.placedAt, b.placedAt) ||
          a.openedSeq - b.openedSeq,
      );
  }

  /** The shipments of an order, oldest first. */
  shipmentsOf(
    channel: string,
    orderId: string,
  ): { seq: number; carrier: string | null; trackingNumber: string | null; trackingUrl: string | null }[] {
    return this.#s.shipmentsOf.all(channel, orderId);
  }
}

/** An RFC 3339 date-time from meta, or null. */
function dateOf(value: unknown): string | null {
  return typeof value === 'string' && rfc3339Problem(value) === undefined ? value : null;
}

/** Earlier first; a missing date after every date. */
function compareDates(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return Date.parse(a) - Date.parse(b);
}

function prepare(db: AgentDatabase) {
  const { sqlite } = db;
  // An order is known by its reservations (orders reserved before the orders table existed have no row there).
  const orderSelect = `SELECT DISTINCT r.channel AS channel, r.order_id AS orderId, COALESCE(o.name, r.order_id) AS name
    FROM reservations r LEFT JOIN orders o ON o.channel = r.channel AND o.order_id = r.order_id`;
  return {
    upsertOrder: sqlite.prepare<[string, string, string, string, string, string | null, number, number]>(
      `INSERT INTO orders (channel, order_id, name, location, placed_at, ship_by, opened_seq, updated_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (channel, order_id) DO UPDATE SET name = excluded.name, location = excluded.location,
         placed_at = excluded.placed_at, ship_by = excluded.ship_by, updated_seq = excluded.updated_seq`,
    ),
    byId: sqlite.prepare<[string, string | null, string | null], ShippedOrder>(
      `${orderSelect} WHERE r.order_id = ? AND (? IS NULL OR r.channel = ?) ORDER BY r.channel`,
    ),
    byName: sqlite.prepare<[string, string | null, string | null], ShippedOrder>(
      `SELECT o.channel AS channel, o.order_id AS orderId, o.name AS name FROM orders o
       WHERE o.name = ? AND (? IS NULL OR o.channel = ?) ORDER BY o.channel`,
    ),
    lines: sqlite.prepare<
      [string, string],
      { sku: string; location: string; qty: number; state: 'open' | 'released' | 'shipped' }
    >('SELECT sku, location, qty, state FROM reservations WHERE channel = ? AND order_id = ? ORDER BY sku'),
    insertShipment: sqlite.prepare<
      [number, string, string, string, string | null, string | null, string | null]
    >(
      `INSERT INTO shipments (event_seq, channel, order_id, location, carrier, tracking_number, tracking_url)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    queueFulfilment: sqlite.prepare<[number, string, string, number, number]>(
      `INSERT INTO fulfilments (event_seq, destination_id, order_id, state, next_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?)`,
    ),
    openAt: sqlite.prepare<
      [string, string],
      {
        channel: string;
        order_id: string;
        sku: string;
        qty: number;
        shipped: number;
        state: 'open' | 'released' | 'shipped';
        opened_seq: number;
        name: string | null;
        placed_at: string | null;
        ship_by: string | null;
      }
    >(
      // Every line of the orders that hold an open reservation here, so a partly shipped order shows its
      // shipped lines too.
      `SELECT r.channel, r.order_id, r.sku, r.qty, r.shipped, r.state, r.opened_seq, o.name, o.placed_at, o.ship_by
       FROM reservations r LEFT JOIN orders o ON o.channel = r.channel AND o.order_id = r.order_id
       WHERE r.location = ? AND r.state IN ('open', 'shipped') AND EXISTS (
         SELECT 1 FROM reservations x WHERE x.channel = r.channel AND x.order_id = r.order_id
           AND x.location = ? AND x.state = 'open')
       ORDER BY r.channel, r.order_id, r.sku`,
    ),
    shipmentsOf: sqlite.prepare<
      [string, string],
      { seq: number; carrier: string | null; trackingNumber: string | null; trackingUrl: string | null }
    >(
      `SELECT event_seq AS seq, carrier, tracking_number AS trackingNumber, tracking_url AS trackingUrl
       FROM shipments WHERE channel = ? AND order_id = ? ORDER BY event_seq`,
    ),
  };
}

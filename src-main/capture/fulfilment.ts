import { carrierOf, trackingUrlOf, type CarrierConfig } from '../../shared/carriers.js';
import type { FulfilReturnInput, FulfilShipInput } from '../../shared/fulfilment.js';
import type { EntryResult } from '../../shared/rpc-views.js';
import type { FulfilOrdersView, FulfilOrderView, ShipResult } from '../../shared/rpc-views.js';
import { WORKBENCH_SOURCE } from '../../shared/stock-entry.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Catalog } from '../ledger/catalog.js';
import type { OpenOrder, OrderBook } from '../ledger/order-book.js';
import type { StockRepo } from '../ledger/stock-repo.js';
import { InputRefusal } from '../platform/errors.js';
import type { CaptureService } from './capture-service.js';
import type { Actor } from './workbench-entry.js';

export type FulfilmentDeps = Readonly<{
  db: AgentDatabase;
  capture: CaptureService;
  catalog: Catalog;
  stock: StockRepo;
  orders: OrderBook;
  audit: AuditLog;
  exceptions: ExceptionsRepo;
  /** The carriers the store ships with (the config's, or the common ones). */
  carriers: readonly CarrierConfig[];
}>;

/** The marketplace destination of a pulled order's channel (`orders:<destination>`), or null. */
function destinationOf(channel: string): string | null {
  return channel.startsWith('orders:') ? channel.slice('orders:'.length) : null;
}

/**
 * Fulfilling orders at the workbench: the open orders of a location, oldest promise first, with what each holds
 * and what the shelf lacks for it; and a picked order shipped, captured through `capture()` as a `ship` event of
 * the workbench under the shipment's own id (a resend is a `duplicate`) with the carrier, the tracking number and
 * the carrier's tracking page. Capture checks the lines against the order (its items, no more than is left), so
 * a wrong pick is refused naming the line and nothing is captured.
 */
export class Fulfilment {
  readonly #d: FulfilmentDeps;

  constructor(deps: FulfilmentDeps) {
    this.#d = deps;
  }

  /**
   * The orders with something left to ship at `location`. `short` allocates the location's on hand to the
   * orders in promise order: an order is short of what the orders promised before it leave it lacking.
   */
  orders(location: string): FulfilOrdersView {
    const { catalog, stock } = this.#d;
    const allocated = new Map<string, number>();
    const orders = this.#d.orders.openOrders(location).map((order): FulfilOrderView => {
      const lines = order.lines.map((line) => {
        const item = catalog.find(line.sku);
        const taken = allocated.get(line.sku) ?? 0;
        const free = Math.max(0, stock.onHand(line.sku, location) - taken);
        allocated.set(line.sku, taken + line.reserved);
        return {
          sku: line.sku,
          name: item?.name ?? null,
          barcode: item?.barcode ?? null,
          ordered: line.ordered,
          shipped: line.shipped,
          reserved: line.reserved,
          short: Math.max(0, line.reserved - free),
        };
      });
      return {
        channel: order.channel,
        destination: destinationOf(order.channel),
        orderId: order.orderId,
        name: order.name,
        placedAt: order.placedAt,
        shipBy: order.shipBy,
        lines,
      };
    });
    const carriers = this.#d.carriers.map((c) => ({
      id: c.id,
      name: c.name,
      hasTrackingPage: c.trackingUrl !== undefined,
    }));
    return { location, orders, carriers };
  }

  /**
   * Ships what was picked of an open order. Refused, with nothing captured: an order not open here (`orderId`),
   * a carrier the store does not ship with (`carrier`), and (by capture) an item not on the order or more than
   * is left to ship (`lines.N.sku`, `lines.N.qty`).
   */
  async ship(input: FulfilShipInput, actor: Actor): Promise<ShipResult> {
    const carrier = carrierOf(this.#d.carriers, input.carrier);
    const sent = this.#sentBefore(input);
    if (sent !== null) return sent;
    const order = this.#openOrder(input.location, input.channel, input.orderId);
    if (carrier === undefined)
      throw new InputRefusal('bad_shape', [
        {
          path: 'carrier',
          message: `"${input.carrier}" is no carrier of this store; choose one of ${this.#d.carriers.map((c) => c.name).join(', ')}`,
        },
      ]);
    const trackingUrl = trackingUrlOf(carrier, input.trackingNumber);
    const event = {
      id: input.id,
      type: 'ship',
      location: input.location,
      occurredAt: new Date().toISOString(),
      reference: order.orderId,
      lines: input.lines,
      carrier: carrier.id,
      trackingNumber: input.trackingNumber,
      ...(trackingUrl !== undefined ? { trackingUrl } : {}),
      meta: { channel: order.channel, order: order.name, operator: actor.operator, role: actor.role },
    };
    const [result] = await this.#d.capture.capture(WORKBENCH_SOURCE, [event]);
    if (result === undefined) throw new Error('capture answered no result');
    if (result.status === 'rejected') throw new InputRefusal('bad_shape', result.errors);
    const left = this.#leftOf(input.location, order.channel, order.orderId);
    if (result.status === 'accepted')
      this.#d.audit.record({
        operator: actor.operator,
        action: 'fulfil.ship',
        subject: `order:${order.name}`,
        reason: null,
        before: null,
        after: {
          eventId: input.id,
          seq: result.seq,
          location: input.location,
          order: order.orderId,
          lines: input.lines,
          carrier: carrier.id,
          trackingNumber: input.trackingNumber,
        },
      });
    return {
      status: result.status,
      eventId: input.id,
      seq: result.seq,
      unknownSkus: input.lines.filter((l) => !this.#d.catalog.has(l.sku)).map((l) => l.sku),
      order: order.name,
      carrier: carrier.name,
      trackingNumber: input.trackingNumber,
      trackingUrl: trackingUrl ?? null,
      left,
    };
  }

  /**
   * Goods of an order coming back (a return, or a parcel of an order cancelled after it shipped), scanned in at
   * the warehouse: a `return` event of the order (on hand rises) and, when they are damaged, an `adjustment` of
   * the same lines with the reason `damaged` (written off), captured together. Refused with nothing captured: an
   * order not known here, or one two channels share (`order`), an item it did not ship here, or more than it
   * shipped less what came back already (`lines.N`). An open `order_cancelled_shipped` or
   * `order_return_expected` of the order is resolved.
   */
  async receiveReturn(
    input: FulfilReturnInput,
    actor: Actor,
  ): Promise<EntryResult & { order: string; condition: FulfilReturnInput['condition'] }> {
    const existing = this.#d.db.sqlite
      .prepare<[string, string], { seq: number; body: string }>(
        'SELECT seq, body FROM events WHERE source = ? AND event_id = ?',
      )
      .get(WORKBENCH_SOURCE, input.id);
    if (existing !== undefined) {
      const before = JSON.parse(existing.body) as { meta?: { order?: string } };
      return {
        status: 'duplicate',
        eventId: input.id,
        seq: existing.seq,
        unknownSkus: [],
        order: before.meta?.order ?? input.order,
        condition: input.condition,
      };
    }
    const found = this.#d.orders.ordersNamed(input.order, input.channel ?? null);
    if (found.length !== 1)
      throw new InputRefusal(found.length === 0 ? 'not_found' : 'bad_shape', [
        {
          path: 'order',
          message:
            found.length === 0
              ? `no order ${input.order} was shipped from here`
              : `names orders on ${found.length} channels (${found.map((o) => o.channel).join(', ')}); choose the channel`,
        },
      ]);
    const order = found[0]!;
    const shipped = new Map<string, number>();
    for (const s of this.#d.stock.shippedOf(order.channel, order.orderId))
      if (s.location === input.location) shipped.set(s.sku, s.shipped);
    const returned = this.#returnedOf(order.channel, order.orderId, input.location);
    const errors: { path: string; message: string }[] = [];
    const taken = new Map<string, number>();
    input.lines.forEach((line, i) => {
      const out = shipped.get(line.sku) ?? 0;
      if (out === 0) {
        errors.push({
          path: `lines.${i}.sku`,
          message: `${line.sku} was not shipped from ${input.location} on order ${order.name}`,
        });
        return;
      }
      const total = (taken.get(line.sku) ?? 0) + line.qty;
      taken.set(line.sku, total);
      const left = out - (returned.get(line.sku) ?? 0);
      if (total > left)
        errors.push({
          path: `lines.${i}.qty`,
          message: `${total} × ${line.sku} is more than came back of order ${order.name} could be (${out} shipped, ${out - left} returned already)`,
        });
    });
    if (errors.length > 0) throw new InputRefusal('bad_shape', errors);
    const occurredAt = new Date().toISOString();
    const meta = {
      channel: order.channel,
      order: order.name,
      condition: input.condition,
      operator: actor.operator,
      role: actor.role,
      ...(input.note ? { note: input.note } : {}),
    };
    const events: Record<string, unknown>[] = [
      {
        id: input.id,
        type: 'return',
        location: input.location,
        occurredAt,
        reference: order.orderId,
        lines: input.lines,
        meta,
      },
    ];
    if (input.condition === 'damaged')
      events.push({
        id: `${input.id.slice(0, 118)}:written-off`,
        type: 'adjustment',
        location: input.location,
        occurredAt,
        reference: order.orderId,
        lines: input.lines.map((l) => ({ sku: l.sku, qty: -l.qty })),
        meta: { ...meta, reason: 'damaged', returnOf: input.id },
      });
    const results = await this.#d.capture.capture(WORKBENCH_SOURCE, events);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? r.errors : []));
    if (refused.length > 0) throw new InputRefusal('bad_shape', refused);
    const [result] = results;
    if (result === undefined || result.status === 'rejected') throw new Error('capture answered no result');
    this.#d.audit.record({
      operator: actor.operator,
      action: 'fulfil.return',
      subject: `order:${order.name}`,
      reason: input.note ?? null,
      before: null,
      after: {
        eventId: input.id,
        seq: result.seq,
        location: input.location,
        order: order.orderId,
        lines: input.lines,
        condition: input.condition,
      },
    });
    if (order.channel.startsWith('orders:')) {
      const destinationId = order.channel.slice('orders:'.length);
      const entry = EXCEPTION_CATALOG.order_cancelled_shipped;
      this.#d.exceptions.resolveByKey(
        entry.key(destinationId, order.orderId),
        entry.resolvedAs({ order: order.name }),
      );
      // A return the marketplace recorded: what came back was received here (as staff found it in the parcel).
      const expected = EXCEPTION_CATALOG.order_return_expected;
      this.#d.exceptions.resolveByKey(
        expected.key(destinationId, order.orderId),
        expected.resolvedAs({ order: order.name }),
      );
    }
    return {
      status: result.status,
      eventId: input.id,
      seq: result.seq,
      unknownSkus: input.lines.filter((l) => !this.#d.catalog.has(l.sku)).map((l) => l.sku),
      order: order.name,
      condition: input.condition,
    };
  }

  /** What came back of an order at a location so far (its returns received here), per SKU. */
  #returnedOf(channel: string, orderId: string, location: string): Map<string, number> {
    const bodies = this.#d.db.sqlite
      .prepare<[string, string, string], { body: string }>(
        `SELECT body FROM events WHERE type = 'return' AND location = ?
           AND json_extract(body, '$.reference') = ? AND json_extract(body, '$.meta.channel') = ?`,
      )
      .all(location, orderId, channel);
    const totals = new Map<string, number>();
    for (const { body } of bodies)
      for (const line of (JSON.parse(body) as { lines: { sku: string; qty: number }[] }).lines)
        totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.qty);
    return totals;
  }

  /**
   * The answer to a shipment sent again (a double click, a resend after a lost answer): `duplicate` when its id
   * was captured with the same order, lines, carrier and tracking number, even though the order has moved on
   * since; a refusal naming `id` when that id shipped something else. Null for a new shipment.
   */
  #sentBefore(input: FulfilShipInput): ShipResult | null {
    const row = this.#d.db.sqlite
      .prepare<[string, string], { seq: number; body: string }>(
        'SELECT seq, body FROM events WHERE source = ? AND event_id = ?',
      )
      .get(WORKBENCH_SOURCE, input.id);
    if (row === undefined) return null;
    const before = JSON.parse(row.body) as {
      reference?: string;
      lines: { sku: string; qty: number }[];
      carrier?: string;
      trackingNumber?: string;
      trackingUrl?: string;
      meta?: { channel?: string; order?: string };
    };
    const carrier = carrierOf(this.#d.carriers, input.carrier);
    const isSame =
      before.reference === input.orderId &&
      before.meta?.channel === input.channel &&
      before.carrier === carrier?.id &&
      before.trackingNumber === input.trackingNumber &&
      JSON.stringify(before.lines) === JSON.stringify(input.lines);
    if (!isSame)
      throw new InputRefusal('bad_shape', [
        {
          path: 'id',
          message: `shipment ${input.id} was already captured (event ${row.seq}) with other content`,
        },
      ]);
    return {
      status: 'duplicate',
      eventId: input.id,
      seq: row.seq,
      unknownSkus: [],
      order: before.meta?.order ?? input.orderId,
      carrier: carrier?.name ?? input.carrier,
      trackingNumber: input.trackingNumber,
      trackingUrl: before.trackingUrl ?? null,
      left: this.#leftOf(input.location, input.channel, input.orderId),
    };
  }

  /** Units of the order still to ship at `location`. */
  #leftOf(location: string, channel: string, orderId: string): number {
    return (
      this.#d.orders
        .openOrders(location)
        .find((o) => o.channel === channel && o.orderId === orderId)
        ?.lines.reduce((sum, l) => sum + l.reserved, 0) ?? 0
    );
  }

  #openOrder(location: string, channel: string, orderId: string): OpenOrder {
    const order = this.#d.orders
      .openOrders(location)
      .find((o) => o.channel === channel && o.orderId === orderId);
    if (order === undefined)
      throw new InputRefusal('not_found', [
        { path: 'orderId', message: `no order ${orderId} is open to ship at ${location}` },
      ]);
    return order;
  }
}

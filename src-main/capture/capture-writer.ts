import type { IngestResult } from '../../shared/api.js';
import {
  assertNever,
  describeEvent,
  lineDelta,
  orderKeyOf,
  type FieldError,
  type PosEvent,
} from '../../shared/events.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Catalog } from '../ledger/catalog.js';
import { OrderBook, type ShippedOrder } from '../ledger/order-book.js';
import type { StockRepo } from '../ledger/stock-repo.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import type { Routing } from '../outbox/routing.js';
import type { DayStatements } from '../outbox/day-statements.js';
import { GENESIS_HASH, linkHash } from './hash-chain.js';

/** An event validated and canonicalized outside the transaction, ready to be written. */
export type PreparedEvent = Readonly<{ event: PosEvent; body: string; contentHash: string }>;

/** One item of a capture request: a prepared event, or one that failed validation (answered, not stored). */
export type CaptureItem =
  PreparedEvent | Readonly<{ rejected: Extract<IngestResult, { status: 'rejected' }> }>;

export type ChainState = Readonly<{ seq: number; hash: string }>;

export type CaptureWriterDeps = Readonly<{
  db: AgentDatabase;
  agentId: string;
  stock: StockRepo;
  outbox: OutboxRepo;
  exceptions: ExceptionsRepo;
  routing: Routing;
  catalog: Catalog;
  /**
   * The known locations (the config's and those added in the workbench, live); an event at any other location
   * raises `unknown_location`.
   */
  locations: Readonly<{ has: (location: string) => boolean }>;
  /**
   * The marketplaces that record the warehouse's shipments (a fulfilment sender runs for each): a `ship` of one
   * of their orders captured from any other source is queued for it in the same transaction.
   */
  fulfilmentDestinations?: ReadonlySet<string>;
  /** Business days of the `daily_statement` destinations: a sale or return is recorded in its day. */
  statements?: DayStatements;
}>;

/**
 * Writes captured events: the hash-chained event row, its movements and levels, its outbox rows and dirty marks,
 * and the exceptions it raises. Every method here runs inside the caller's transaction; the caller owns commit
 * and, on rollback, restores the chain state with `resetTo`.
 */
export class CaptureWriter {
  readonly #deps: CaptureWriterDeps;
  readonly #findEvent;
  readonly #insertEvent;
  readonly #putHead;
  readonly #orders: OrderBook;
  #head: ChainState;

  constructor(deps: CaptureWriterDeps) {
    this.#deps = deps;
    this.#orders = new OrderBook(deps.db);
    const { sqlite } = deps.db;
    this.#findEvent = sqlite.prepare<[string, string], { seq: number; content_hash: string }>(
      'SELECT seq, content_hash FROM events WHERE source = ? AND event_id = ?',
    );
    this.#insertEvent = sqlite.prepare<
      [number, string, string, string, string, string, number, string, string, string, string]
    >(
      `INSERT INTO events (seq, source, event_id, type, location, occurred_at, received_at, body, content_hash, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#putHead = sqlite.prepare<[number, string]>(
      `INSERT INTO chain_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
    );
    const head = sqlite.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as
      ChainState | undefined;
    this.#head = head ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** The last captured event's seq and link hash. */
  get head(): ChainState {
    return this.#head;
  }

  /** Puts the in-memory chain state back after a rollback. */
  resetTo(state: ChainState): void {
    this.#head = state;
    // The days' totals counted what was rolled back: read again when next asked.
    this.#deps.statements?.forgetTotals();
  }

  /** Records the chain head; call once per transaction, after the last `write`. */
  saveHead(): void {
    if (this.#head.seq > 0) this.#putHead.run(this.#head.seq, this.#head.hash);
  }

  /** Writes one request's events from `source`, answering each in order. */
  write(source: string, items: readonly CaptureItem[], now: number): IngestResult[] {
    return items.map((item) => ('rejected' in item ? item.rejected : this.#writeOne(source, item, now)));
  }

  #writeOne(source: string, prepared: PreparedEvent, now: number): IngestResult {
    const { event, body, contentHash } = prepared;
    const existing = this.#findEvent.get(source, event.id);
    if (existing) {
      if (existing.content_hash === contentHash)
        return { id: event.id, status: 'duplicate', seq: existing.seq };
      return {
        id: event.id,
        status: 'rejected',
        errors: [
          {
            path: 'id',
            message: `conflict: event "${event.id}" was already captured (seq ${existing.seq}) with different content`,
          },
        ],
      };
    }
    const shipped = event.type === 'ship' ? this.#shipmentTarget(source, event) : null;
    if (shipped !== null && 'errors' in shipped)
      return { id: event.id, status: 'rejected', errors: shipped.errors };
    const seq = this.#head.seq + 1;
    const hash = linkHash(this.#head.hash, { seq, source, receivedAt: now, body });
    this.#insertEvent.run(
      seq,
      source,
      event.id,
      event.type,
      event.location,
      event.occurredAt,
      now,
      body,
      contentHash,
      this.#head.hash,
      hash,
    );
    this.#head = { seq, hash };
    if (shipped !== null) {
      this.#orders.recordShipment(seq, shipped, event);
      // Made here, not by the marketplace (whose own word comes under its channel): the marketplace hears it.
      const destination = shipped.channel.startsWith('orders:') ? shipped.channel.slice(7) : null;
      if (
        destination !== null &&
        source !== shipped.channel &&
        this.#deps.fulfilmentDestinations?.has(destination) === true
      )
        this.#orders.queueFulfilment(seq, destination, shipped.orderId, now);
    }
    this.#applyLines(source, seq, event, now, shipped);
    const key = `${this.#deps.agentId}:${source}:${event.id}`;
    // An adjustment that adopts a destination's level (reconciliation) already matches that destination: it
    // goes to every other ledger destination, never back to the one it came from.
    const adoptedFrom = event.type === 'adjustment' ? event.meta?.['adoptedFrom'] : undefined;
    for (const destinationId of this.#deps.routing.ledgerDestinations(event.type, event.location)) {
      if (destinationId !== adoptedFrom)
        this.#deps.outbox.enqueue(destinationId, seq, event.location, key, now);
    }
    // A daily-statement destination takes the sale or return in its business day's statement (a supplementary one
    // when that day is closed already).
    for (const destinationId of this.#deps.routing.statementDestinations(event.type, event.location))
      this.#deps.statements?.record(destinationId, seq, event);
    return { id: event.id, status: 'accepted', seq };
  }

  /**
   * Moves the reservations of the event's order (its reference) at its location: `reserve` sets each SKU's
   * reserved quantity to the order's total for it (a second reserve of the same order replaces the first, and
   * a SKU the edited order no longer has is released), less what was shipped of it already; `release` and `ship`
   * take their quantities off the open reservation (never below zero), closing it when nothing is left, so a
   * partial shipment closes only its lines' reservations. Nothing to release is not an error: the
   * order may never have been reserved here. Returns the SKUs whose reserved quantity may have moved.
   */
  #applyReservations(
    source: string,
    seq: number,
    event: PosEvent,
    shipped: ShippedOrder | null,
  ): Set<string> {
    const { stock } = this.#deps;
    // A shipment of a known order moves that order's reservations, whichever source captured it (the warehouse
    // ships what the marketplace reserved).
    const channel = shipped?.channel ?? source;
    const orderId = shipped?.orderId ?? orderKeyOf(event);
    const totals = new Map<string, number>();
    for (const line of event.lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.qty);
    const touched = new Set(totals.keys());
    if (event.type === 'reserve') {
      this.#orders.noteReserve(source, seq, event);
      for (const open of stock.openReservationsOf(source, orderId)) {
        if (open.location !== event.location || totals.has(open.sku)) continue;
        stock.setReservation({
          channel: source,
          orderId,
          sku: open.sku,
          location: open.location,
          seq,
          qty: 0,
        });
        touched.add(open.sku);
      }
    }
    for (const [sku, qty] of totals) {
      const r = { channel, orderId, sku, location: event.location, seq };
      if (event.type === 'reserve') stock.reserveLine(r, qty);
      else if (event.type === 'ship') stock.shipFromReservation(r, qty);
      else stock.takeFromReservation(r, qty, 'released');
    }
    return touched;
  }

  /**
   * The known order a `ship` ships, or null for a shipment of no order known here (captured as a plain shipment,
   * as before orders were kept). A shipment from the warehouse (any source but the order's own channel, whose
   * word is a fact already happened) must fit the order: its location, its items, no more than is left to ship;
   * otherwise it is refused with the lines at fault, and nothing of it is stored.
   */
  #shipmentTarget(source: string, event: PosEvent): ShippedOrder | null | { errors: FieldError[] } {
    const target = this.#orders.targetOf(source, event);
    switch (target.kind) {
      case 'none':
        return null;
      case 'ambiguous':
        return {
          errors: [
            {
              path: 'reference',
              message: `names an order on ${target.channels.length} channels (${target.channels.join(', ')}); say which in meta.channel`,
            },
          ],
        };
      case 'order': {
        if (target.order.channel === source) return target.order;
        const errors = this.#orders.misfitsOf(target.order, event);
        return errors.length > 0 ? { errors } : target.order;
      }
      default:
        return assertNever(target);
    }
  }

  #applyLines(source: string, seq: number, event: PosEvent, now: number, shipped: ShippedOrder | null): void {
    const { stock, exceptions, catalog, routing, outbox, locations } = this.#deps;
    const what = describeEvent(event);
    if (!locations.has(event.location)) {
      exceptions.raise(
        {
          kind: 'unknown_location',
          dedupeKey: EXCEPTION_CATALOG.unknown_location.key(event.location),
          message: EXCEPTION_CATALOG.unknown_location.message({ what, location: event.location }),
          details: { eventId: event.id, reference: event.reference ?? null },
          source,
          eventSeq: seq,
          location: event.location,
        },
        now,
      );
    }
    const levelDestinations = routing.levelDestinations(event.location);
    const reservedSkus =
      event.type === 'reserve' || event.type === 'release' || event.type === 'ship'
        ? this.#applyReservations(source, seq, event, shipped)
        : null;
    if (event.type === 'reserve' || event.type === 'release') {
      for (const sku of reservedSkus ?? [])
        for (const destinationId of levelDestinations)
          outbox.markDirty(destinationId, sku, event.location, now);
      return;
    }
    const countedAt = event.type === 'count' ? countedAtSeqs(event.meta) : null;
    const countedSkus = new Set<string>();
    event.lines.forEach((line, lineNo) => {
      let delta: number;
      if (event.type === 'count') {
        // A count sets the level to what was counted. When it says at which ledger point each item was counted
        // (`meta.countedAt`, a workbench count session), the movement is the difference from the level at that
        // point, so what moved between counting and posting (a sale at the till) is kept, not erased. A SKU's
        // second line in one event sets the level again, from where the first left it.
        const atSeq = countedSkus.has(line.sku) ? undefined : countedAt?.get(line.sku);
        countedSkus.add(line.sku);
        const base =
          atSeq === undefined
            ? stock.onHand(line.sku, event.location)
            : stock.onHandAt(line.sku, event.location, atSeq);
        delta = line.qty - base;
      } else {
        delta = lineDelta(event.type, line.qty);
      }
      const { before, after } = stock.applyMovement({
        seq,
        lineNo,
        sku: line.sku,
        location: event.location,
        delta,
      });
      for (const destinationId of levelDestinations)
        outbox.markDirty(destinationId, line.sku, event.location, now);
      if (!catalog.has(line.sku)) {
        exceptions.raise(
          {
            kind: 'unknown_sku',
            dedupeKey: EXCEPTION_CATALOG.unknown_sku.key(line.sku),
            message: EXCEPTION_CATALOG.unknown_sku.message({ what, sku: line.sku, location: event.location }),
            details: { eventId: event.id, reference: event.reference ?? null, line: lineNo },
            source,
            eventSeq: seq,
            sku: line.sku,
            location: event.location,
          },
          now,
        );
      }
      const negative = EXCEPTION_CATALOG.negative_stock;
      const negativeKey = negative.key(line.sku, event.location);
      if (after < 0 && before >= 0) {
        exceptions.raise(
          {
            kind: 'negative_stock',
            dedupeKey: negativeKey,
            message: negative.message({ what, sku: line.sku, location: event.location, after }),
            details: { eventId: event.id, reference: event.reference ?? null, before, after },
            source,
            eventSeq: seq,
            sku: line.sku,
            location: event.location,
          },
          now,
        );
      } else if (after >= 0 && before < 0) {
        exceptions.resolveByKey(negativeKey, negative.resolvedAs({ what, after }), now);
      }
    });
  }
}

/**
 * The ledger point (capture seq) each SKU of a count was counted at, from `meta.countedAt` (`{ [sku]: seq }`).
 * Meta is kept as the sender wrote it, so anything but an object of non-negative whole numbers is ignored
 * (that SKU, or the whole map), and the count then sets the level as at posting.
 */
export function countedAtSeqs(meta: PosEvent['meta']): Map<string, number> {
  const seqs = new Map<string, number>();
  const raw = meta?.['countedAt'];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return seqs;
  for (const [sku, seq] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0) seqs.set(sku, seq);
  }
  return seqs;
}

import { createHash } from 'node:crypto';
import type { IngestResult } from '../../shared/api.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { Logger } from '../platform/logger.js';
import type { OrderSource, RemoteOrder } from '../connectors/port/connector-bundle.js';
import { ConnectorError } from '../connectors/port/connector-error.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { StockRepo } from '../ledger/stock-repo.js';
import type { CaptureService } from './capture-service.js';
import { PollingJob } from '../platform/polling-job.js';

export type OrderPullerOptions = Readonly<{
  destinationId: string;
  source: OrderSource;
  db: AgentDatabase;
  capture: CaptureService;
  stock: StockRepo;
  exceptions: ExceptionsRepo;
  logger: Logger;
  /** Local location of an order whose remote system does not name a mapped one. */
  defaultLocation: string;
  pollSeconds: number;
  overlapSeconds: number;
  /** Told after every pull: true when it reached the marketplace, false when it failed (oversell guard). */
  onPulled?: (isOk: boolean) => void;
  /** Most pages read in one pull; the rest waits for the next (the checkpoint only moves over what was read). */
  maxPages?: number;
  /**
   * The local SKU a remote item is now mapped to, or null (`IdMappings.skuOf`): `rereadMapped` asks it which
   * `order_unmapped_item` exceptions a new mapping answers.
   */
  skuOf?: (remoteItem: string) => string | null;
}>;

/** What one pull did. */
export type PullReport = {
  orders: number;
  reserved: number;
  released: number;
  shipped: number;
  pages: number;
};

/** The capture source of a destination's pulled orders; it is also the reservations' channel. */
export function orderSourceId(destinationId: string): string {
  return `orders:${destinationId}`;
}

/**
 * Pulls one marketplace's orders into capture as reservation events, on a timer and on demand. Each order maps
 * to events with ids derived from the order: `<order>:reserve:<version>` (open, when its lines differ from what
 * it holds reserved), `<order>:release:<version>` (cancelled while reserved) and `<order>:ship` (fulfilled, once),
 * where the version hashes the order's lines and update time. So pulling the same orders again captures nothing
 * new (capture deduplicates by id), and an edited open order re-reserves its new lines and releases dropped ones.
 *
 * The checkpoint is the newest `updatedAt` read; the next pull starts `overlapSeconds` before it, so an order
 * saved late in the remote system (its timestamp older than others already read) is still seen. It only moves
 * after every order of the pull was captured: a crash mid-pull reads the same orders again, harmlessly.
 *
 * Orders already fulfilled or cancelled when the first pull read them (last changed at or before that pull's
 * newest update, the baseline) are history, not stock movements, and are skipped; only open ones are reserved.
 */
export class OrderPuller {
  readonly #o: OrderPullerOptions;
  readonly #log: Logger;
  readonly #job: PollingJob<PullReport>;
  /** Where the next pull starts at the latest (set by `rereadMapped`; applied when that pull starts). */
  #rewindTo: string | null = null;

  constructor(options: OrderPullerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'order-puller', destination: options.destinationId });
    this.#job = new PollingJob(() => this.#pull(), {
      everyMs: options.pollSeconds * 1000,
      onError: (error) => this.#log.warn({ err: error }, 'order pull failed'),
    });
  }

  get destinationId(): string {
    return this.#o.destinationId;
  }

  /** Pulls now and then every `pollSeconds`. */
  start(): void {
    this.#job.start();
  }

  stop(): Promise<void> {
    return this.#job.stop();
  }

  /** Pulls once (joining a pull already running). Throws the `ConnectorError` of a failed pull. */
  pullNow(): Promise<PullReport> {
    return this.#job.runNow();
  }

  /**
   * Reads again the orders whose unmapped items are now mapped: for the open `order_unmapped_item` exceptions of
   * this destination whose remote item maps to a SKU, the checkpoint goes back to just before the earliest such
   * order's update, and a pull runs (after the one running, if any, so its checkpoint cannot undo the rewind).
   * The re-read order then reserves its lines (a reserve replaces the order's reservation, so nothing is reserved
   * twice) and its exception resolves itself. Returns whether a re-read was started.
   */
  rereadMapped(): boolean {
    const { skuOf, exceptions, destinationId } = this.#o;
    if (skuOf === undefined) return false;
    let earliest: number | null = null;
    for (const row of exceptions.openOfKind('order_unmapped_item', destinationId)) {
      const details = JSON.parse(row.details) as { remoteItem?: unknown; updatedAt?: unknown };
      if (typeof details.remoteItem !== 'string' || skuOf(details.remoteItem) === null) continue;
      // Raised before the order's update time was kept: read again from the first pull's baseline.
      const at = typeof details.updatedAt === 'string' ? Date.parse(details.updatedAt) : 0;
      earliest = earliest === null ? at : Math.min(earliest, at);
    }
    if (earliest === null) return false;
    const target = new Date(Math.max(0, earliest - 1000)).toISOString();
    this.#rewindTo =
      this.#rewindTo !== null && Date.parse(this.#rewindTo) < Date.parse(target) ? this.#rewindTo : target;
    const pull = () => {
      this.pullNow().catch((error: unknown) => this.#log.warn({ err: error }, 'order re-read failed'));
    };
    const running = this.#job.running;
    if (running === null) pull();
    else void running.catch(() => undefined).finally(pull);
    return true;
  }

  /** The remote items of this destination's open `order_unmapped_item` exceptions, by the order that raised them. */
  #unmappedItemsByOrder(): Map<string, string[]> {
    const byOrder = new Map<string, string[]>();
    for (const row of this.#o.exceptions.openOfKind('order_unmapped_item', this.#o.destinationId)) {
      const details = JSON.parse(row.details) as { orderId?: unknown; remoteItem?: unknown };
      if (typeof details.orderId !== 'string' || typeof details.remoteItem !== 'string') continue;
      byOrder.set(details.orderId, [...(byOrder.get(details.orderId) ?? []), details.remoteItem]);
    }
    return byOrder;
  }

  /** Moves the checkpoint back to `#rewindTo` (never forward, never before the baseline's first pull). */
  #applyRewind(): void {
    const target = this.#rewindTo;
    if (target === null) return;
    this.#rewindTo = null;
    const { db, destinationId } = this.#o;
    const row = db.sqlite
      .prepare<[string], { updated_after: string | null; baseline: string | null }>(
        'SELECT updated_after, baseline FROM order_checkpoints WHERE destination_id = ?',
      )
      .get(destinationId);
    if (row?.updated_after == null) return; // Never pulled: the first pull reads everything anyway.
    const floor = row.baseline !== null ? Date.parse(row.baseline) : 0;
    const at = Math.max(Date.parse(target), floor);
    if (at >= Date.parse(row.updated_after)) return;
    db.sqlite
      .prepare('UPDATE order_checkpoints SET updated_after = ? WHERE destination_id = ?')
      .run(new Date(at).toISOString(), destinationId);
    this.#log.info({ updatedAfter: new Date(at).toISOString() }, 'orders read again for a new item mapping');
  }

  async #pull(): Promise<PullReport> {
    const { destinationId, db } = this.#o;
    this.#applyRewind();
    const checkpoint = db.sqlite
      .prepare<[string], { updated_after: string | null; baseline: string | null }>(
        'SELECT updated_after, baseline FROM order_checkpoints WHERE destination_id = ?',
      )
      .get(destinationId);
    const isFirstPull = checkpoint?.updated_after == null;
    const baseline = checkpoint?.baseline ?? null;
    const since = isFirstPull
      ? null
      : new Date(Date.parse(checkpoint.updated_after!) - this.#o.overlapSeconds * 1000).toISOString();
    const report: PullReport = { orders: 0, reserved: 0, released: 0, shipped: 0, pages: 0 };
    const waiting = this.#unmappedItemsByOrder();
    let newest = checkpoint?.updated_after ?? null;
    let cursor: string | null = null;
    try {
      do {
        const signal = AbortSignal.any([this.#job.signal, AbortSignal.timeout(60_000)]);
        const page = await this.#o.source.pullOrders(since, cursor, signal);
        report.pages += 1;
        for (const order of page.orders) {
          report.orders += 1;
          const isHistory =
            isFirstPull || (baseline !== null && Date.parse(order.updatedAt) <= Date.parse(baseline));
          const kind = await this.#captureOrder(order, isHistory, waiting);
          if (kind) report[kind] += 1;
          if (newest === null || Date.parse(order.updatedAt) > Date.parse(newest)) newest = order.updatedAt;
        }
        cursor = page.nextCursor;
      } while (cursor !== null && report.pages < (this.#o.maxPages ?? 50) && !this.#job.signal.aborted);
    } catch (error) {
      this.#recordFailure(error);
      throw error;
    }
    db.sqlite
      .prepare(
        `INSERT INTO order_checkpoints (destination_id, updated_after, baseline, last_pull_at, last_error, orders_seen)
         VALUES (?, ?, ?, ?, NULL, ?)
         ON CONFLICT (destination_id) DO UPDATE SET updated_after = excluded.updated_after,
           baseline = COALESCE(baseline, excluded.baseline), last_pull_at = excluded.last_pull_at,
           last_error = NULL, orders_seen = orders_seen + excluded.orders_seen`,
      )
      .run(
        destinationId,
        newest,
        isFirstPull ? (newest ?? new Date(0).toISOString()) : null,
        Date.now(),
        report.orders,
      );
    const pullFailed = EXCEPTION_CATALOG.order_pull_failed;
    this.#o.exceptions.resolveByKey(pullFailed.key(destinationId), pullFailed.resolvedAs());
    this.#o.onPulled?.(true);
    if (report.reserved + report.released + report.shipped > 0) this.#log.info(report, 'orders pulled');
    return report;
  }

  #recordFailure(error: unknown): void {
    const { destinationId } = this.#o;
    const message = error instanceof Error ? error.message : String(error);
    this.#o.db.sqlite
      .prepare(
        `INSERT INTO order_checkpoints (destination_id, last_error) VALUES (?, ?)
         ON CONFLICT (destination_id) DO UPDATE SET last_error = excluded.last_error`,
      )
      .run(destinationId, message);
    this.#o.onPulled?.(false);
    if (this.#job.signal.aborted) return;
    const isAuth = error instanceof ConnectorError && error.reason === 'auth_failed';
    this.#o.exceptions.raise({
      kind: 'order_pull_failed',
      dedupeKey: EXCEPTION_CATALOG.order_pull_failed.key(destinationId),
      message: EXCEPTION_CATALOG.order_pull_failed.message({ destinationId, error: message, isAuth }),
      details: { error: message, reason: error instanceof ConnectorError ? error.reason : 'unexpected' },
      destinationId,
    });
  }

  /**
   * Captures what changed about one order; returns which kind of event it captured, if any. Its unmapped items
   * are raised, and those it raised before that are now mapped are resolved.
   */
  async #captureOrder(
    order: RemoteOrder,
    isHistory: boolean,
    waiting: ReadonlyMap<string, readonly string[]>,
  ): Promise<'reserved' | 'released' | 'shipped' | null> {
    const { destinationId } = this.#o;
    const location = order.location ?? this.#o.defaultLocation;
    for (const remoteItem of order.unmappedItems ?? []) {
      this.#o.exceptions.raise({
        kind: 'order_unmapped_item',
        dedupeKey: EXCEPTION_CATALOG.order_unmapped_item.key(destinationId, remoteItem),
        message: EXCEPTION_CATALOG.order_unmapped_item.message({
          destinationId,
          order: order.name ?? order.orderId,
          remoteItem,
        }),
        details: { orderId: order.orderId, remoteItem, updatedAt: order.updatedAt },
        destinationId,
        location,
      });
    }
    const kind = await this.#captureOrderEvents(order, isHistory, location);
    this.#returnsExpected(order, location);
    // The order read again with an item it lacked now mapped: the item's exception raised by this order ends.
    const unmapped = new Set(order.unmappedItems ?? []);
    const entry = EXCEPTION_CATALOG.order_unmapped_item;
    for (const remoteItem of waiting.get(order.orderId) ?? []) {
      if (unmapped.has(remoteItem)) continue;
      this.#o.exceptions.resolveByKey(
        entry.key(destinationId, remoteItem),
        entry.resolvedAs({ order: order.name ?? order.orderId }),
      );
    }
    return kind;
  }

  /** Captures the order's reserve, release or ship event when it changed; returns which, if any. */
  async #captureOrderEvents(
    order: RemoteOrder,
    isHistory: boolean,
    location: string,
  ): Promise<'reserved' | 'released' | 'shipped' | null> {
    const { destinationId, stock } = this.#o;
    const channel = orderSourceId(destinationId);
    if (order.lines.length === 0) return null;
    const { isKnown, isOpen } = stock.hasOrder(channel, order.orderId);
    // What the order holds now, read once: it decides whether an open order changed, and what to release.
    const held = isOpen ? stock.openReservationsOf(channel, order.orderId) : [];
    // What the warehouse shipped of it here already (a partial shipment, or all of it before the marketplace
    // heard): never reserved again, never shipped a second time when the marketplace says "fulfilled".
    const shippedHere = new Map<string, number>();
    for (const s of isKnown ? stock.shippedOf(channel, order.orderId) : [])
      if (s.location === location) shippedHere.set(s.sku, s.shipped);
    const base = {
      location,
      occurredAt: order.updatedAt,
      reference: order.orderId,
      lines: order.lines.map((l) => ({ sku: l.sku, qty: l.qty })),
      meta: {
        channel: destinationId,
        order: order.name ?? order.orderId,
        ...(order.placedAt !== undefined ? { placedAt: order.placedAt } : {}),
        ...(order.shipBy !== undefined ? { shipBy: order.shipBy } : {}),
      },
    };
    const unshipped = leftOf(base.lines, shippedHere);
    // Reserve and release ids name this version of the order (its lines and update time): pulling it again is a
    // duplicate, while an edit, even one back to earlier lines, or a reopened order is a new event. A shipment
    // moves stock, so its id is the order's alone: it can happen once.
    const version = createHash('sha256')
      .update(JSON.stringify([base.lines, order.updatedAt]))
      .digest('hex')
      .slice(0, 12);
    let event: Record<string, unknown> | null = null;
    let kind: 'reserved' | 'released' | 'shipped' | null = null;
    switch (order.status) {
      case 'open': {
        if (isOpen && reservesExactly(held, location, unshipped)) break;
        // Shipped whole by the warehouse, the marketplace not told yet: nothing is left to reserve.
        if (!isOpen && unshipped.length === 0) break;
        event = { ...base, id: `${order.orderId}:reserve:${version}`, type: 'reserve' };
        kind = 'reserved';
        break;
      }
      case 'cancelled':
        if (!isOpen && shippedHere.size > 0) this.#cancelledAfterShipping(order, location, shippedHere);
        if (isOpen)
          [event, kind] = [
            { ...base, id: `${order.orderId}:release:${version}`, type: 'release' },
            'released',
          ];
        break;
      case 'fulfilled':
        // Shipped from here: on hand falls. An order first seen already shipped before the first pull is history.
        // What the warehouse shipped already is not shipped again: only the rest (all of it when nothing was).
        if ((isKnown || !isHistory) && unshipped.length > 0)
          [event, kind] = [
            { ...base, lines: unshipped, id: `${order.orderId}:ship`, type: 'ship' },
            'shipped',
          ];
        break;
    }
    const events = event === null ? [] : [event];
    if (order.status === 'fulfilled' && isOpen) {
      // What stays reserved once the shipped lines are off (a line cancelled before shipping) is released in
      // the same transaction, so a shipped order never leaves stock reserved.
      const shipped = new Map<string, number>();
      for (const l of event === null ? [] : unshipped) shipped.set(l.sku, (shipped.get(l.sku) ?? 0) + l.qty);
      const rest = held
        .filter((r) => r.location === location)
        .map((r) => ({ sku: r.sku, qty: r.qty - (shipped.get(r.sku) ?? 0) }))
        .filter((l) => l.qty > 0);
      if (rest.length > 0)
        events.push({ ...base, lines: rest, id: `${order.orderId}:release:${version}`, type: 'release' });
    }
    if (events.length === 0) return null;
    if (isOpen) {
      // The order moved to another location (a fulfilment location reassigned in the shop): what it held where
      // it was is released, in the same transaction.
      const elsewhere = new Map<string, { sku: string; qty: number }[]>();
      for (const r of held) {
        if (r.location === location) continue;
        elsewhere.set(r.location, [...(elsewhere.get(r.location) ?? []), { sku: r.sku, qty: r.qty }]);
      }
      for (const [at, lines] of elsewhere)
        events.push({
          ...base,
          location: at,
          lines,
          id: `${order.orderId}:release:${version}:${at}`,
          type: 'release',
        });
    }
    const [result] = await this.#o.capture.capture(channel, events);
    return this.#judge(order, result) ? kind : null;
  }

  /**
   * An order cancelled on the marketplace after the warehouse shipped it: nothing to release, the goods are on
   * their way. A person decides (the parcel may come back as a return, or be settled with the customer).
   */
  #cancelledAfterShipping(order: RemoteOrder, location: string, shipped: ReadonlyMap<string, number>): void {
    const { destinationId } = this.#o;
    const entry = EXCEPTION_CATALOG.order_cancelled_shipped;
    const dedupeKey = entry.key(destinationId, order.orderId);
    if (this.#o.exceptions.isSettled('order_cancelled_shipped', dedupeKey, order.updatedAt)) return;
    this.#o.exceptions.raise({
      kind: 'order_cancelled_shipped',
      dedupeKey,
      message: entry.message({
        destinationId,
        order: order.name ?? order.orderId,
        location,
        shipped: [...shipped].map(([sku, qty]) => `${qty} × ${sku}`).join(', '),
      }),
      details: { orderId: order.orderId, shipped: Object.fromEntries(shipped), version: order.updatedAt },
      destinationId,
      location,
    });
  }

  /**
   * Goods the marketplace records as coming back (`order.returned`: a return, a refund that restocks) that were
   * shipped from here and not received yet: one exception per order until the warehouse receives them as a
   * `return` with their condition (the Fulfil page, which resolves it), resolved here once what came back covers
   * it. Closed by a person for the same units, it stays closed.
   */
  #returnsExpected(order: RemoteOrder, location: string): void {
    const { destinationId, stock, exceptions } = this.#o;
    const entry = EXCEPTION_CATALOG.order_return_expected;
    const dedupeKey = entry.key(destinationId, order.orderId);
    const name = order.name ?? order.orderId;
    if (order.returned === undefined || order.returned.length === 0) return;
    const channel = orderSourceId(destinationId);
    if (!stock.hasOrder(channel, order.orderId).isKnown) return;
    const shipped = new Map<string, number>();
    for (const s of stock.shippedOf(channel, order.orderId))
      if (s.location === location) shipped.set(s.sku, s.shipped);
    const received = new Map<string, number>();
    const bodies = this.#o.db.sqlite
      .prepare<[string, string, string], { body: string }>(
        `SELECT body FROM events WHERE type = 'return' AND location = ?
           AND json_extract(body, '$.reference') = ? AND json_extract(body, '$.meta.channel') = ?`,
      )
      .all(location, order.orderId, channel);
    for (const { body } of bodies)
      for (const line of (JSON.parse(body) as { lines: { sku: string; qty: number }[] }).lines)
        received.set(line.sku, (received.get(line.sku) ?? 0) + line.qty);
    const coming = order.returned
      .map((l) => ({
        sku: l.sku,
        qty: Math.min(l.qty, shipped.get(l.sku) ?? 0) - (received.get(l.sku) ?? 0),
      }))
      .filter((l) => l.qty > 0);
    if (coming.length === 0) {
      exceptions.resolveByKey(dedupeKey, entry.resolvedAs({ order: name }));
      return;
    }
    const version = JSON.stringify(order.returned);
    if (exceptions.isSettled('order_return_expected', dedupeKey, version)) return;
    exceptions.raise({
      kind: 'order_return_expected',
      dedupeKey,
      message: entry.message({
        destinationId,
        order: name,
        location,
        coming: coming.map((l) => `${l.qty} × ${l.sku}`).join(', '),
      }),
      details: {
        orderId: order.orderId,
        coming: Object.fromEntries(coming.map((l) => [l.sku, l.qty])),
        version,
      },
      destinationId,
      location,
    });
  }

  /** True when the event was newly captured; a rejected one becomes an exception naming the order. */
  #judge(order: RemoteOrder, result: IngestResult | undefined): boolean {
    if (result?.status === 'accepted') return true;
    if (result?.status === 'rejected') {
      const why = result.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
      const dedupeKey = EXCEPTION_CATALOG.order_rejected.key(this.#o.destinationId, order.orderId);
      // Closed by a person for this very version of the order: a re-read of it (the pull's overlap) stays closed.
      if (this.#o.exceptions.isSettled('order_rejected', dedupeKey, order.updatedAt)) return false;
      this.#o.exceptions.raise({
        kind: 'order_rejected',
        dedupeKey,
        message: EXCEPTION_CATALOG.order_rejected.message({
          destinationId: this.#o.destinationId,
          order: order.name ?? order.orderId,
          why,
        }),
        details: { orderId: order.orderId, errors: result.errors, version: order.updatedAt },
        destinationId: this.#o.destinationId,
      });
    }
    return false;
  }
}

/** The order's lines less what was shipped of each SKU already (`shipped`), keeping only what is left. */
function leftOf(
  lines: readonly { sku: string; qty: number }[],
  shipped: ReadonlyMap<string, number>,
): { sku: string; qty: number }[] {
  const already = new Map(shipped);
  const left: { sku: string; qty: number }[] = [];
  for (const line of lines) {
    const taken = Math.min(line.qty, already.get(line.sku) ?? 0);
    already.set(line.sku, (already.get(line.sku) ?? 0) - taken);
    if (line.qty - taken > 0) left.push({ sku: line.sku, qty: line.qty - taken });
  }
  return left;
}

/** True when an order's open reservations (`held`) are exactly these lines, all at `location`. */
function reservesExactly(
  held: readonly { sku: string; location: string; qty: number }[],
  location: string,
  lines: readonly { sku: string; qty: number }[],
): boolean {
  const want = new Map<string, number>();
  for (const l of lines) want.set(l.sku, (want.get(l.sku) ?? 0) + l.qty);
  return held.length === want.size && held.every((r) => r.location === location && want.get(r.sku) === r.qty);
}

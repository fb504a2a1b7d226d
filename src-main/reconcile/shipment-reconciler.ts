import { createHash } from 'node:crypto';
import type {
  ShipmentDriftCause,
  ShipmentDriftRow,
  ShipmentFix,
  ShipmentReconcileReport,
} from '../../shared/rpc-views.js';
import type { CaptureService } from '../capture/capture-service.js';
import type { ConnectorBundle, RemoteFulfilled } from '../connectors/port/connector-bundle.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Logger } from '../platform/logger.js';
import { AgentError } from '../platform/errors.js';

export type ShipmentReconcilerDeps = Readonly<{
  db: AgentDatabase;
  capture: CaptureService;
  audit: AuditLog;
  connectorOf: (destinationId: string) => ConnectorBundle | undefined;
  /** Puts an order's recorded or refused fulfilments back in the destination's sender; how many. */
  resendFulfilments: (destinationId: string, orderId: string) => number;
  /** The destinations whose orders are pulled and fulfilled from here (the scheduled passes' list). */
  destinations: () => readonly string[];
  exceptions: ExceptionsRepo;
  logger: Logger;
}>;

/** Most orders one run compares (the newest first). */
const MAX_ORDERS = 200;

type Line = { sku: string; qty: number };
type LocalOrder = {
  orderId: string;
  order: string;
  location: string;
  shipped: Map<string, number>;
  open: Map<string, number>;
};

const linesOf = (m: ReadonlyMap<string, number>): Line[] =>
  [...m].filter(([, qty]) => qty > 0).map(([sku, qty]) => ({ sku, qty }));
const describe = (lines: readonly Line[]) =>
  lines.length === 0 ? 'nothing' : lines.map((l) => `${l.qty} × ${l.sku}`).join(', ');

/**
 * Shipment status in reconciliation (README.md beside this file): for a marketplace whose connector reads an
 * order's fulfilment back (`FulfilmentTarget.readFulfilled`), compares each order's units shipped from here with
 * what the marketplace shows fulfilled, and explains the difference with its fix:
 *
 * - shipped here, not fulfilled there: `pending_fulfilment` while its fulfilment is queued (settles by itself),
 *   else `not_fulfilled_remote` (refused, or undone there): `resend` puts the order's fulfilments back in the
 *   sender as unsure, so each is read back before it is sent, and nothing is fulfilled twice;
 * - fulfilled there, still reserved here: `not_shipped_local`: `adopt` captures a `ship` of those units under the
 *   order's own source (`orders:<destination>`), so the reservation closes, on hand falls, and nothing is sent
 *   back to the marketplace;
 * - shipped here, cancelled there: `cancelled_remote`, no fix here (the `order_cancelled_shipped` exception's way
 *   out: the return, or the customer).
 */
export class ShipmentReconciler {
  readonly #d: ShipmentReconcilerDeps;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #isRunning = false;

  constructor(deps: ShipmentReconcilerDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ module: 'shipment-reconciler' });
  }

  /** Checks every destination that can be every `everyMinutes` (0: never), as the level reconciliation does. */
  startSchedule(everyMinutes: number): void {
    this.stop();
    if (everyMinutes <= 0) return;
    this.#timer = setInterval(() => {
      this.runScheduled().catch((error: unknown) =>
        this.#log.warn({ err: error }, 'scheduled shipment reconciliation failed'),
      );
    }, everyMinutes * 60_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * One scheduled pass: a destination with orders drifting that a fix here settles (resend, adopt) gets one open
   * `shipment_drift` exception, restated by each pass and resolved by a pass finding every order in step.
   */
  async runScheduled(): Promise<void> {
    if (this.#isRunning) return;
    this.#isRunning = true;
    try {
      for (const id of this.#d.destinations().filter((d) => this.canReconcile(d))) {
        let report: ShipmentReconcileReport;
        try {
          report = await this.run(id);
        } catch (error) {
          this.#log.warn({ err: error, destination: id }, 'shipment reconciliation could not read orders');
          continue;
        }
        const entry = EXCEPTION_CATALOG.shipment_drift;
        // What a fix here settles; a queue settles by itself, and an order cancelled after shipping has its own
        // exception (order_cancelled_shipped).
        const drifting = report.rows.filter((r) => r.fixes.length > 0);
        if (drifting.length === 0) {
          this.#d.exceptions.resolveByKey(entry.key(id), entry.resolvedAs());
          continue;
        }
        this.#d.exceptions.raise({
          kind: 'shipment_drift',
          dedupeKey: entry.key(id),
          message: entry.message({ destinationId: id, count: drifting.length, example: drifting[0]! }),
          details: {
            orders: drifting
              .slice(0, 20)
              .map((r) => ({ orderId: r.orderId, order: r.order, cause: r.cause })),
          },
          destinationId: id,
        });
      }
    } finally {
      this.#isRunning = false;
    }
  }

  /** Whether the destination's connector can read its orders' fulfilment back. */
  canReconcile(destinationId: string): boolean {
    return this.#d.connectorOf(destinationId)?.fulfilments?.readFulfilled !== undefined;
  }

  /** Compares the destination's orders shipped or still reserved here with what it shows fulfilled. */
  async run(destinationId: string, signal?: AbortSignal): Promise<ShipmentReconcileReport> {
    const read = this.#reader(destinationId);
    const rows: ShipmentDriftRow[] = [];
    const orders = this.#localOrders(destinationId);
    for (const local of orders) {
      const remote = await read(local.orderId, signal ?? AbortSignal.timeout(60_000));
      const row = this.#compare(destinationId, local, remote);
      if (row !== null) rows.push(row);
    }
    return {
      destinationId,
      at: Date.now(),
      summary: {
        orders: orders.length,
        inStep: orders.length - rows.length,
        drifting: rows.filter((r) => r.cause !== 'pending_fulfilment').length,
        pending: rows.filter((r) => r.cause === 'pending_fulfilment').length,
      },
      rows,
    };
  }

  /** Acts on one order's shipment drift, after reading it again; audited with the operator and reason. */
  async fix(
    input: Readonly<{
      destinationId: string;
      orderId: string;
      action: ShipmentFix;
      reason: string;
      operator: string;
    }>,
  ): Promise<{ action: ShipmentFix; detail: string }> {
    const { destinationId, orderId } = input;
    const read = this.#reader(destinationId);
    const local = this.#localOrders(destinationId, orderId)[0];
    if (local === undefined)
      throw new AgentError(
        'not_found',
        `no order ${orderId} of ${destinationId} was shipped or reserved here`,
      );
    const remote = await read(orderId, AbortSignal.timeout(60_000));
    const row = this.#compare(destinationId, local, remote);
    if (row === null || !row.fixes.includes(input.action))
      throw new AgentError(
        'invalid_request',
        row === null
          ? `order ${local.order} is in step with ${destinationId}: nothing to ${input.action}`
          : `order ${local.order} cannot be fixed by ${input.action} (${row.cause}); ${row.explanation}`,
      );
    let detail: string;
    let after: unknown;
    switch (input.action) {
      case 'resend': {
        const count = this.#d.resendFulfilments(destinationId, orderId);
        detail =
          count === 0
            ? `order ${local.order} has no shipment recorded for ${destinationId} to send again`
            : `${count} shipment${count === 1 ? '' : 's'} of order ${local.order} go to ${destinationId} again (each read back first)`;
        after = { resent: count };
        break;
      }
      case 'adopt': {
        const fulfilled = new Map(remote?.fulfilled.map((l) => [l.sku, l.qty]) ?? []);
        const lines = linesOf(
          new Map(
            [...local.open].map(([sku, open]) => [
              sku,
              Math.min(open, (fulfilled.get(sku) ?? 0) - (local.shipped.get(sku) ?? 0)),
            ]),
          ),
        );
        const version = createHash('sha256').update(JSON.stringify(lines)).digest('hex').slice(0, 12);
        const [result] = await this.#d.capture.capture(`orders:${destinationId}`, [
          {
            id: `${orderId}:ship:adopted:${version}`.slice(0, 128),
            type: 'ship',
            location: local.location,
            occurredAt: new Date().toISOString(),
            reference: orderId,
            lines,
            meta: {
              channel: destinationId,
              order: local.order,
              adoptedFrom: destinationId,
              operator: input.operator,
              reason: input.reason,
            },
          },
        ]);
        if (result?.status !== 'accepted' && result?.status !== 'duplicate')
          throw new AgentError(
            'invalid_request',
            `the shipment was not recorded: ${result?.status === 'rejected' ? result.errors.map((e) => e.message).join('; ') : 'no result'}`,
          );
        detail = `recorded ${describe(lines)} of order ${local.order} as shipped from ${local.location}, as ${destinationId} shows`;
        after = { lines, eventSeq: result.seq };
        break;
      }
    }
    this.#d.audit.record({
      operator: input.operator,
      action: `reconcile.shipment.${input.action}`,
      subject: `order:${destinationId}:${orderId}`,
      reason: input.reason,
      before: { cause: row.cause, shippedHere: row.shippedHere, fulfilledThere: row.fulfilledThere },
      after,
    });
    return { action: input.action, detail };
  }

  #reader(destinationId: string): NonNullable<NonNullable<ConnectorBundle['fulfilments']>['readFulfilled']> {
    const read = this.#d.connectorOf(destinationId)?.fulfilments?.readFulfilled;
    if (read === undefined)
      throw new AgentError(
        'not_supported',
        `${destinationId} cannot read its orders' fulfilments back, so their shipment status cannot be reconciled`,
      );
    return read;
  }

  /** The destination's orders with units shipped or still reserved here, newest first (or the one asked). */
  #localOrders(destinationId: string, orderId?: string): LocalOrder[] {
    const channel = `orders:${destinationId}`;
    const rows = this.#d.db.sqlite
      .prepare<
        [string, string | null, string | null, number],
        {
          order_id: string;
          name: string | null;
          sku: string;
          location: string;
          shipped: number;
          open: number;
        }
      >(
        `SELECT r.order_id, o.name, r.sku, r.location, r.shipped,
                CASE WHEN r.state = 'open' THEN r.qty ELSE 0 END AS open
         FROM reservations r LEFT JOIN orders o ON o.channel = r.channel AND o.order_id = r.order_id
         WHERE r.channel = ? AND (? IS NULL OR r.order_id = ?)
           AND r.order_id IN (
             SELECT order_id FROM reservations WHERE channel = r.channel AND (shipped > 0 OR state = 'open')
             GROUP BY order_id ORDER BY MAX(opened_seq) DESC LIMIT ?)
         ORDER BY r.opened_seq DESC`,
      )
      .all(channel, orderId ?? null, orderId ?? null, MAX_ORDERS);
    const orders = new Map<string, LocalOrder>();
    for (const r of rows) {
      const order = orders.get(r.order_id) ?? {
        orderId: r.order_id,
        order: r.name ?? r.order_id,
        location: r.location,
        shipped: new Map<string, number>(),
        open: new Map<string, number>(),
      };
      order.shipped.set(r.sku, (order.shipped.get(r.sku) ?? 0) + r.shipped);
      order.open.set(r.sku, (order.open.get(r.sku) ?? 0) + r.open);
      orders.set(r.order_id, order);
    }
    return [...orders.values()].filter((o) => linesOf(o.shipped).length > 0 || linesOf(o.open).length > 0);
  }

  /** Whether any shipment of the order is still queued for the marketplace. */
  #isPending(destinationId: string, orderId: string): boolean {
    return (
      this.#d.db.sqlite
        .prepare<[string, string], { n: number }>(
          `SELECT COUNT(*) AS n FROM fulfilments WHERE destination_id = ? AND order_id = ? AND state = 'pending'`,
        )
        .get(destinationId, orderId)!.n > 0
    );
  }

  #compare(
    destinationId: string,
    local: LocalOrder,
    remote: RemoteFulfilled | null,
  ): ShipmentDriftRow | null {
    const fulfilled = new Map(remote?.fulfilled.map((l) => [l.sku, l.qty]) ?? []);
    const shippedHere = linesOf(local.shipped);
    const row = (cause: ShipmentDriftCause, explanation: string, fixes: ShipmentFix[]): ShipmentDriftRow => ({
      orderId: local.orderId,
      order: local.order,
      location: local.location,
      shippedHere,
      fulfilledThere: linesOf(fulfilled),
      cause,
      explanation,
      fixes,
    });
    const unfulfilled = linesOf(
      new Map([...local.shipped].map(([sku, qty]) => [sku, qty - (fulfilled.get(sku) ?? 0)])),
    );
    const unshipped = linesOf(
      new Map(
        [...local.open].map(([sku, open]) => [
          sku,
          Math.min(open, (fulfilled.get(sku) ?? 0) - (local.shipped.get(sku) ?? 0)),
        ]),
      ),
    );
    if (shippedHere.length > 0 && (remote === null || remote.isCancelled))
      return row(
        'cancelled_remote',
        remote === null
          ? `${destinationId} has no order ${local.order} any more, though ${describe(shippedHere)} shipped from ${local.location}: settle it there or with the customer.`
          : `Order ${local.order} is cancelled on ${destinationId}, though ${describe(shippedHere)} shipped from ${local.location}: receive the return when it comes back, or settle it with the customer.`,
        [],
      );
    if (unfulfilled.length > 0) {
      if (this.#isPending(destinationId, local.orderId))
        return row(
          'pending_fulfilment',
          `${describe(unfulfilled)} shipped from ${local.location}; its fulfilment is still queued for ${destinationId} and settles once sent.`,
          [],
        );
      return row(
        'not_fulfilled_remote',
        `${describe(unfulfilled)} shipped from ${local.location} but ${destinationId} shows it unfulfilled: the fulfilment was refused there, or undone in its admin. Send it again (it is read back first, so nothing is fulfilled twice).`,
        ['resend'],
      );
    }
    if (unshipped.length > 0)
      return row(
        'not_shipped_local',
        `${destinationId} shows ${describe(unshipped)} fulfilled, still reserved here at ${local.location}: fulfilled there by hand, or by another warehouse. Adopt ${destinationId}'s state (the units are recorded as shipped from ${local.location}) unless they are still on the shelf here.`,
        ['adopt'],
      );
    return null;
  }
}

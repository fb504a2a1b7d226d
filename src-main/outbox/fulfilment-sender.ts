import type { PosEvent } from '../../shared/events.js';
import type {
  FulfilmentOutcome,
  FulfilmentTarget,
  OutgoingShipment,
} from '../connectors/port/connector-bundle.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Logger } from '../platform/logger.js';
import { SenderLoop } from '../platform/sender-loop.js';

export type FulfilmentSenderOptions = Readonly<{
  destinationId: string;
  target: FulfilmentTarget;
  db: AgentDatabase;
  exceptions: ExceptionsRepo;
  logger: Logger;
  agentId: string;
  /** How often due fulfilments are looked for (they are also sent at once on `wake`). Default 5 s. */
  tickMs?: number;
  /** The longest wait between two attempts of one fulfilment. Default 5 minutes. */
  maxDelayMs?: number;
}>;

type DueRow = {
  event_seq: number;
  order_id: string;
  attempts: number;
  is_unsure: number;
  source: string;
  body: string;
  name: string | null;
};

/**
 * Tells one marketplace, exactly once, what the warehouse shipped of its orders (the `fulfilments` rows capture
 * queues for each `ship` of a marketplace order made elsewhere than the marketplace). Each row is sent on its own:
 * a refused one becomes a `fulfilment_rejected` exception in business words and the others go on.
 *
 * Exactly once: a fulfilment cannot be made twice for the same lines, and a marketplace without an idempotency
 * key might make a second one if a call is simply repeated. So after an `unknown` outcome (sent, no answer) the
 * row is marked unsure, and the next attempt first reads the order's fulfilments back (`target.find`): found, it
 * is done; not found, it is sent again. `retry` (nothing was applied) sends again after a backoff.
 */
export class FulfilmentSender {
  readonly #o: FulfilmentSenderOptions;
  readonly #log: Logger;
  readonly #loop: SenderLoop;

  constructor(options: FulfilmentSenderOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'fulfilment-sender', destination: options.destinationId });
    this.#loop = new SenderLoop(() => this.#runOnce(), {
      everyMs: options.tickMs ?? 5000,
      onError: (error) => this.#log.warn({ err: error }, 'fulfilment run failed'),
    });
  }

  get destinationId(): string {
    return this.#o.destinationId;
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Sends what is due now, soon (a shipment was just captured). */
  wake(): void {
    this.#loop.wake();
  }

  /**
   * Sends an order's recorded or refused shipments again (reconciliation found the order still open on the
   * marketplace): each goes back to pending as unsure, so it is read back first and sent only when the
   * marketplace does not show it. Returns how many shipments go again; wakes the sender.
   */
  resendOrder(orderId: string): number {
    const { changes } = this.#o.db.sqlite
      .prepare<[number, string, string]>(
        `UPDATE fulfilments SET state = 'pending', is_unsure = 1, next_at = 0, updated_at = ?
         WHERE destination_id = ? AND order_id = ? AND state IN ('sent', 'rejected')`,
      )
      .run(Date.now(), this.#o.destinationId, orderId);
    if (changes > 0) this.wake();
    return changes;
  }

  /** Sends every fulfilment due now (joining a run under way, then running again); returns how many were tried. */
  runDue(): Promise<number> {
    return this.#loop.run();
  }

  async #runOnce(): Promise<number> {
    const { db, destinationId } = this.#o;
    const due = db.sqlite
      .prepare<[string, number], DueRow>(
        `SELECT f.event_seq, f.order_id, f.attempts, f.is_unsure, e.source, e.body, o.name
         FROM fulfilments f JOIN events e ON e.seq = f.event_seq
         LEFT JOIN orders o ON o.channel = 'orders:' || f.destination_id AND o.order_id = f.order_id
         WHERE f.destination_id = ? AND f.state = 'pending' AND f.next_at <= ?
         ORDER BY f.event_seq LIMIT 50`,
      )
      .all(destinationId, Date.now());
    // One order's shipments go in capture order: a later one waits while an earlier one is still pending.
    const waiting = new Set<string>();
    let tried = 0;
    for (const row of due) {
      if (this.#loop.signal.aborted) break;
      if (waiting.has(row.order_id) || this.#hasEarlierPending(row)) {
        waiting.add(row.order_id);
        continue;
      }
      tried += 1;
      await this.#attempt(row);
      if (this.#isPending(row)) waiting.add(row.order_id);
    }
    return tried;
  }

  #hasEarlierPending(row: DueRow): boolean {
    return (
      this.#o.db.sqlite
        .prepare<[string, string, number], { n: number }>(
          `SELECT COUNT(*) AS n FROM fulfilments
           WHERE destination_id = ? AND order_id = ? AND event_seq < ? AND state = 'pending'`,
        )
        .get(this.#o.destinationId, row.order_id, row.event_seq)!.n > 0
    );
  }

  #isPending(row: DueRow): boolean {
    return (
      this.#o.db.sqlite
        .prepare<[string, number], { state: string }>(
          'SELECT state FROM fulfilments WHERE destination_id = ? AND event_seq = ?',
        )
        .get(this.#o.destinationId, row.event_seq)?.state === 'pending'
    );
  }

  /** What the shipments of this order recorded before `row` carried. */
  #sentBefore(row: DueRow): { sku: string; qty: number }[] {
    const bodies = this.#o.db.sqlite
      .prepare<[string, string, number], { body: string }>(
        `SELECT e.body FROM fulfilments f JOIN events e ON e.seq = f.event_seq
         WHERE f.destination_id = ? AND f.order_id = ? AND f.event_seq < ? AND f.state = 'sent'`,
      )
      .all(this.#o.destinationId, row.order_id, row.event_seq);
    const totals = new Map<string, number>();
    for (const { body } of bodies)
      for (const line of (JSON.parse(body) as PosEvent).lines)
        totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.qty);
    return [...totals].map(([sku, qty]) => ({ sku, qty }));
  }

  async #attempt(row: DueRow): Promise<void> {
    const event = JSON.parse(row.body) as PosEvent;
    const shipment: OutgoingShipment = {
      orderId: row.order_id,
      orderName: row.name ?? row.order_id,
      lines: event.lines.map((l) => ({ sku: l.sku, qty: l.qty })),
      carrier: event.carrier ?? null,
      trackingNumber: event.trackingNumber ?? null,
      trackingUrl: event.trackingUrl ?? null,
      idempotencyKey: `${this.#o.agentId}:${row.source}:${event.id}`,
      shipmentNo: row.event_seq,
      sentBefore: this.#sentBefore(row),
    };
    const signal = AbortSignal.any([this.#loop.signal, AbortSignal.timeout(60_000)]);
    let outcome: FulfilmentOutcome;
    try {
      // Unsure whether the last send took effect: ask before sending again.
      const found = row.is_unsure === 1 ? await this.#o.target.find(shipment, signal) : null;
      outcome =
        found !== null ? { kind: 'delivered', remoteId: found } : await this.#o.target.send(shipment, signal);
    } catch (error) {
      outcome = { kind: 'retry', detail: error instanceof Error ? error.message : String(error) };
      if (row.is_unsure === 1) outcome = { kind: 'unknown', detail: outcome.detail };
    }
    this.#record(row, shipment, outcome);
  }

  #record(row: DueRow, shipment: OutgoingShipment, outcome: FulfilmentOutcome): void {
    const { db, destinationId } = this.#o;
    const now = Date.now();
    const update = db.sqlite.prepare<
      [string, number, number, string | null, string | null, number, string, string]
    >(
      `UPDATE fulfilments SET state = ?, is_unsure = ?, next_at = ?, remote_id = ?, last_error = ?,
         attempts = attempts + 1, updated_at = ${now}
       WHERE event_seq = ? AND destination_id = ? AND order_id = ?`,
    );
    switch (outcome.kind) {
      case 'delivered':
        update.run('sent', 0, now, outcome.remoteId, null, row.event_seq, destinationId, row.order_id);
        this.#log.info({ order: shipment.orderName, remote: outcome.remoteId }, 'fulfilment recorded');
        return;
      case 'retry':
      case 'unknown': {
        const delay = Math.min(this.#o.maxDelayMs ?? 300_000, 1000 * 2 ** Math.min(row.attempts, 16));
        const isUnsure = outcome.kind === 'unknown' || row.is_unsure === 1 ? 1 : 0;
        update.run(
          'pending',
          isUnsure,
          now + delay,
          null,
          outcome.detail,
          row.event_seq,
          destinationId,
          row.order_id,
        );
        return;
      }
      case 'rejected': {
        update.run('rejected', 0, now, null, outcome.detail, row.event_seq, destinationId, row.order_id);
        const entry = EXCEPTION_CATALOG.fulfilment_rejected;
        this.#o.exceptions.raise({
          kind: 'fulfilment_rejected',
          dedupeKey: entry.key(destinationId, row.order_id, row.event_seq),
          message: entry.message({
            destinationId,
            order: shipment.orderName,
            why: outcome.why,
            detail: outcome.detail,
          }),
          details: {
            orderId: row.order_id,
            why: outcome.why,
            detail: outcome.detail,
            trackingNumber: shipment.trackingNumber,
          },
          destinationId,
          eventSeq: row.event_seq,
        });
        return;
      }
    }
  }
}

import { EVENT_PAYLOAD_VERSION } from '../../shared/events.js';
import type { AgentDatabase } from '../db/agent-database.js';

export type QueueStats = { destinationId: string; pending: number; oldestPendingAt: number | null };

/**
 * The outbox: a row per (event, ledger destination) and a dirty mark per (level destination, sku, location).
 * Rows are written in the capture transaction, so an event is never captured without its deliveries queued.
 */
export class OutboxRepo {
  readonly #db: AgentDatabase;
  readonly #enqueue;
  readonly #markDirty;
  readonly #republishAll;

  constructor(db: AgentDatabase) {
    this.#db = db;
    this.#enqueue = db.sqlite.prepare<[string, number, string, string, number, number]>(
      `INSERT INTO outbox (destination_id, event_seq, location, idempotency_key, state, attempts, next_attempt_at, created_at,
                           payload_version)
       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ${EVENT_PAYLOAD_VERSION})`,
    );
    this.#markDirty = db.sqlite.prepare<[string, string, string, number]>(
      `INSERT INTO level_dirty (destination_id, sku, location, version, sent_version, marked_at)
       VALUES (?, ?, ?, 1, 0, ?)
       ON CONFLICT (destination_id, sku, location)
       DO UPDATE SET version = version + 1,
                     marked_at = CASE WHEN version = sent_version THEN excluded.marked_at ELSE marked_at END`,
    );
    this.#republishAll = db.sqlite.prepare<[number, string]>(
      `UPDATE level_dirty SET version = version + 1, next_attempt_at = 0,
         marked_at = CASE WHEN version = sent_version THEN ? ELSE marked_at END
       WHERE destination_id = ? AND held_at IS NULL`,
    );
  }

  /** Queues one event for one ledger destination. The idempotency key travels with every attempt. */
  enqueue(
    destinationId: string,
    eventSeq: number,
    location: string,
    idempotencyKey: string,
    now: number,
  ): void {
    this.#enqueue.run(destinationId, eventSeq, location, idempotencyKey, now, now);
  }

  /**
   * Marks (sku, location) as changed for a level destination. The version goes up on every change; the
   * dispatcher sends the level current at send time and records the version it sent, so any number of changes
   * coalesce into one update. `marked_at` keeps the time of the oldest unsent change.
   */
  markDirty(destinationId: string, sku: string, location: string, now: number): void {
    this.#markDirty.run(destinationId, sku, location, now);
  }

  /**
   * Marks every level a level destination publishes as changed, due now (held ones wait for their mapping), so
   * a new rule for what it is sent (a buffer, a tightening, its restore) reaches it, coalesced and rate-limited.
   */
  republishAll(destinationId: string, now: number): void {
    this.#republishAll.run(now, destinationId);
  }

  /** Depth and oldest pending time per destination, both for ledger rows and dirty level marks. */
  queueStats(): QueueStats[] {
    // Counted from the covering index (destination_id, state, id); the oldest pending row is the one with the
    // lowest id, so its time is one lookup instead of a read of every pending row (a scrape of a deep queue
    // would otherwise block capture for a noticeable time).
    const counts = this.#db.all(
      this.#db.query
        .selectFrom('outbox')
        .select((eb) => [
          'destination_id',
          eb.fn.countAll<number>().as('pending'),
          eb.fn.min<number>('id').as('first_id'),
        ])
        // Held items (waiting for a mapping) are unsynced too: they count, and their age shows.
        .where('state', 'in', ['pending', 'in_flight', 'held'])
        .groupBy('destination_id'),
    );
    const ledger = counts.map((r) => ({
      destination_id: r.destination_id,
      pending: r.pending,
      oldest:
        this.#db.first(this.#db.query.selectFrom('outbox').select('created_at').where('id', '=', r.first_id))
          ?.created_at ?? null,
    }));
    const level = this.#db.all(
      this.#db.query
        .selectFrom('level_dirty')
        .select((eb) => [
          'destination_id',
          eb.fn.countAll<number>().as('pending'),
          eb.fn.min<number>('marked_at').as('oldest'),
        ])
        .whereRef('version', '>', 'sent_version')
        .groupBy('destination_id'),
    );
    return [...ledger, ...level].map((r) => ({
      destinationId: r.destination_id,
      pending: r.pending,
      oldestPendingAt: r.oldest,
    }));
  }
}

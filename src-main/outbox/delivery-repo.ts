import type { AgentDatabase } from '../db/agent-database.js';
import type { LedgerItem, ResultKind } from '../connectors/port/connector.js';
import type { IdMappingsTable } from '../db/schema.js';
import type { PosEvent } from '../../shared/events.js';
import { readEventPayload } from './payload.js';

export type LaneHead = { location: string; id: number; nextAttemptAt: number };
export type LevelMark = {
  sku: string;
  location: string;
  version: number;
  attempts: number;
  markedAt: number;
};

/** `next_attempt_at` of a held level mark: never due by time, only by a mapping arriving. */
export const HELD_UNTIL = Number.MAX_SAFE_INTEGER;

/** The dispatcher's side of the outbox: claiming lanes under a lease and recording results. */
export class DeliveryRepo {
  readonly #db: AgentDatabase;
  readonly #durableSeq: () => number;

  /**
   * `durableSeq`: the last capture seq known to be on disk (the group committer's); items of later events are
   * not claimed yet, so nothing leaves the agent for an event a power cut could still take back.
   */
  constructor(db: AgentDatabase, options: Readonly<{ durableSeq?: () => number }> = {}) {
    this.#db = db;
    this.#durableSeq = options.durableSeq ?? (() => Number.MAX_SAFE_INTEGER);
  }

  /** At start nothing is in flight: a crash or kill left leases behind; their items are sent again (same key). */
  resetLeases(): number {
    return this.#db.sqlite
      .prepare(`UPDATE outbox SET state = 'pending', lease_until = NULL WHERE state = 'in_flight'`)
      .run().changes;
  }

  /**
   * The head of every lane (location) of a destination that has pending items, walking the lane index one
   * location at a time (a loose index scan), so it costs a few lookups however deep the queue is.
   */
  laneHeads(destinationId: string): LaneHead[] {
    const next = this.#db.prepare(
      `SELECT location, id, state, next_attempt_at FROM outbox
       WHERE destination_id = ? AND location > ? AND state IN ('pending', 'in_flight')
       ORDER BY location, id LIMIT 1`,
    );
    const heads: LaneHead[] = [];
    let after = '';
    for (;;) {
      const row = next.get(destinationId, after) as
        { location: string; id: number; state: string; next_attempt_at: number } | undefined;
      if (!row) return heads;
      if (row.state === 'pending')
        heads.push({ location: row.location, id: row.id, nextAttemptAt: row.next_attempt_at });
      after = row.location;
    }
  }

  /** Claims up to `limit` items from the head of a lane, in capture order, under a lease. */
  /**
   * An item whose payload this Backroom cannot read (queued by a newer version) leaves the lane as `rejected`, and
   * `onUnreadable` is told, so the rest of the lane flows and a person sees why.
   */
  claimLane(
    destinationId: string,
    location: string,
    limit: number,
    leaseUntil: number,
    onUnreadable: (item: { outboxId: number; seq: number; source: string; error: string }) => void = () => {},
  ): LedgerItem[] {
    return this.#db.transaction(() => {
      const rows = this.#db
        .prepare(
          `SELECT o.id, o.event_seq, o.idempotency_key, o.attempts, o.payload_version, e.source, e.body, e.received_at
           FROM outbox o JOIN events e ON e.seq = o.event_seq
           WHERE o.destination_id = ? AND o.location = ? AND o.state IN ('pending', 'in_flight')
             AND o.event_seq <= ?
           ORDER BY o.id LIMIT ?`,
        )
        .all(destinationId, location, this.#durableSeq(), limit) as {
        id: number;
        event_seq: number;
        idempotency_key: string;
        attempts: number;
        payload_version: number;
        source: string;
        body: string;
        received_at: number;
      }[];
      const claim = this.#db.prepare(
        `UPDATE outbox SET state = 'in_flight', lease_until = ? WHERE id = ? AND state = 'pending'`,
      );
      const levelsOf = this.#db.prepare(
        'SELECT sku, on_hand_after FROM movements WHERE event_seq = ? ORDER BY line_no',
      );
      // A daily-statement destination gets a day's sales when the day's statement is posted: what a count sets it
      // to leaves out the sales and returns before the count that no posted statement carries yet (they still
      // arrive, with their statement, and take the level to the ledger's then).
      const unposted = this.#db.prepare(
        `SELECT m.sku, SUM(m.delta) AS delta FROM statement_events se
         JOIN movements m ON m.event_seq = se.event_seq AND m.location = se.location
         LEFT JOIN statements s ON s.id = se.statement_id
         WHERE se.destination_id = ? AND se.location = ? AND se.event_seq < ?
           AND (s.id IS NULL OR s.state <> 'posted')
         GROUP BY m.sku`,
      );
      const levelsAfter = (seq: number): Record<string, number> => {
        const levels = levelsAfterOf(levelsOf.all(seq) as MovementLevel[]);
        for (const { sku, delta } of unposted.all(destinationId, location, seq) as {
          sku: string;
          delta: number;
        }[])
          if (sku in levels) levels[sku] = levels[sku]! - delta;
        return levels;
      };
      const items: LedgerItem[] = [];
      for (const row of rows) {
        let event: PosEvent;
        try {
          event = readEventPayload(row.payload_version, row.body);
        } catch (error) {
          const message = (error as Error).message;
          this.markFailed(row.id, 'rejected', message);
          onUnreadable({ outboxId: row.id, seq: row.event_seq, source: row.source, error: message });
          continue;
        }
        if (claim.run(leaseUntil, row.id).changes === 0) break; // already in flight: the lane is busy
        items.push({
          outboxId: row.id,
          seq: row.event_seq,
          source: row.source,
          idempotencyKey: row.idempotency_key,
          event,
          receivedAt: row.received_at,
          attempts: row.attempts,
          ...(event.type === 'count' ? { levelsAfter: levelsAfter(row.event_seq) } : {}),
        });
      }
      return items;
    });
  }

  markDelivered(outboxId: number, now: number): void {
    this.#db
      .prepare(
        `UPDATE outbox SET state = 'delivered', delivered_at = ?, lease_until = NULL, attempts = attempts + 1 WHERE id = ?`,
      )
      .run(now, outboxId);
  }

  /** Back to pending; `countsAsAttempt` false when nothing was tried (stop, open breaker, paused). */
  markRetry(outboxId: number, nextAttemptAt: number, error: string | null, countsAsAttempt: boolean): void {
    this.#db
      .prepare(
        `UPDATE outbox SET state = 'pending', lease_until = NULL, next_attempt_at = ?, last_error = COALESCE(?, last_error),
         attempts = attempts + ? WHERE id = ?`,
      )
      .run(nextAttemptAt, error, countsAsAttempt ? 1 : 0, outboxId);
  }

  /** Out of the lane until a mapping is added (`releaseHeld` puts it back); not counted as an attempt. */
  markHeld(outboxId: number, error: string): void {
    this.#db
      .prepare(`UPDATE outbox SET state = 'held', lease_until = NULL, last_error = ? WHERE id = ?`)
      .run(error, outboxId);
  }

  /** A level mark waits for a mapping: not due until `releaseHeld` clears `held_at`. */
  markLevelHeld(destinationId: string, sku: string, location: string, now: number): void {
    this.#db
      .prepare(
        `UPDATE level_dirty SET held_at = ?, next_attempt_at = ? WHERE destination_id = ? AND sku = ? AND location = ?`,
      )
      .run(now, HELD_UNTIL, destinationId, sku, location);
  }

  /**
   * A mapping was set: every held item of the destination goes back to `pending`, due now, and is judged again
   * (one still unmapped is held again at once; capture order holds, since they keep their ids); the level marks
   * held for the mapped SKU or location are due again, and so is the SKU's held price mark. Runs inside the
   * caller's transaction.
   */
  releaseHeld(
    destinationId: string,
    mapped: Readonly<{ kind: IdMappingsTable['kind']; localId: string }>,
    now: number,
  ): void {
    this.#db.sqlite
      .prepare(
        `UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE destination_id = ? AND state = 'held'`,
      )
      .run(now, destinationId);
    if (mapped.kind === 'item') {
      this.#db.sqlite
        .prepare(
          `UPDATE level_dirty SET held_at = NULL, next_attempt_at = 0 WHERE destination_id = ? AND sku = ? AND held_at IS NOT NULL`,
        )
        .run(destinationId, mapped.localId);
      // The item's price held for the same mapping (price_marks, migration 0014).
      this.#db.sqlite
        .prepare(
          `UPDATE price_marks SET held = NULL, held_at = NULL, next_attempt_at = 0
           WHERE destination_id = ? AND sku = ? AND held = 'unmapped'`,
        )
        .run(destinationId, mapped.localId);
    } else
      this.#db.sqlite
        .prepare(
          `UPDATE level_dirty SET held_at = NULL, next_attempt_at = 0 WHERE destination_id = ? AND location = ? AND held_at IS NOT NULL`,
        )
        .run(destinationId, mapped.localId);
  }

  /** Out of the lane, waiting for a person: `rejected` by the destination or `dead` after too many attempts. */
  markFailed(outboxId: number, state: 'rejected' | 'dead', error: string): void {
    this.#db
      .prepare(
        `UPDATE outbox SET state = ?, lease_until = NULL, last_error = ?, attempts = attempts + 1 WHERE id = ?`,
      )
      .run(state, error, outboxId);
  }

  recordAttempt(
    a: Readonly<{
      outboxId: number | null;
      destinationId: string;
      sku?: string;
      location?: string;
      at: number;
      result: ResultKind;
      detail: string | null;
    }>,
  ): void {
    this.#db
      .prepare(
        `INSERT INTO delivery_attempts (outbox_id, destination_id, sku, location, at, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.outboxId, a.destinationId, a.sku ?? null, a.location ?? null, a.at, a.result, a.detail);
  }

  /**
   * Earliest time a dirty level mark of the destination is due; null when none is dirty. (Ledger lanes need no
   * such query: `laneHeads` gives each lane's due time.) Served by the partial index `level_dirty_due`.
   */
  nextLevelDueAt(destinationId: string): number | null {
    const row = this.#db
      .prepare(
        `SELECT MIN(next_attempt_at) AS t FROM level_dirty WHERE destination_id = ? AND version > sent_version`,
      )
      .get(destinationId) as { t: number | null };
    return row.t === HELD_UNTIL ? null : row.t;
  }

  /** Dirty marks of a level destination that are due, oldest change first. */
  dueLevelMarks(destinationId: string, now: number, limit: number): LevelMark[] {
    return this.#db
      .prepare(
        `SELECT sku, location, version, attempts, marked_at AS markedAt FROM level_dirty
         WHERE destination_id = ? AND version > sent_version AND next_attempt_at <= ?
         ORDER BY marked_at LIMIT ?`,
      )
      .all(destinationId, now, limit) as LevelMark[];
  }

  /** The destination has `version` of (sku, location): if the level changed since, the mark stays dirty. */
  markLevelSent(destinationId: string, sku: string, location: string, version: number): void {
    this.#db
      .prepare(
        `UPDATE level_dirty SET sent_version = MAX(sent_version, ?), attempts = 0, next_attempt_at = 0
         WHERE destination_id = ? AND sku = ? AND location = ?`,
      )
      .run(version, destinationId, sku, location);
  }

  markLevelRetry(
    destinationId: string,
    sku: string,
    location: string,
    nextAttemptAt: number,
    countsAsAttempt: boolean,
  ): void {
    this.#db
      .prepare(
        `UPDATE level_dirty SET next_attempt_at = ?, attempts = attempts + ? WHERE destination_id = ? AND sku = ? AND location = ?`,
      )
      .run(nextAttemptAt, countsAsAttempt ? 1 : 0, destinationId, sku, location);
  }

  setPaused(destinationId: string, reason: string | null, now: number): void {
    this.#db
      .prepare(
        `INSERT INTO destination_state (destination_id, paused_reason, paused_at) VALUES (?, ?, ?)
         ON CONFLICT (destination_id) DO UPDATE SET paused_reason = excluded.paused_reason, paused_at = excluded.paused_at`,
      )
      .run(destinationId, reason, reason === null ? null : now);
  }

  pausedReason(destinationId: string): string | null {
    const row = this.#db
      .prepare('SELECT paused_reason FROM destination_state WHERE destination_id = ?')
      .get(destinationId) as { paused_reason: string | null } | undefined;
    return row?.paused_reason ?? null;
  }

  /**
   * Saves a destination's pacing so a restart keeps it: the end of its 429 pause (epoch ms, or null) and the rate
   * AIMD learned (or null for the configured rate).
   */
  savePacing(
    destinationId: string,
    pacing: Readonly<{ rateLimitedUntil: number | null; pacedRate: number | null }>,
  ): void {
    this.#db
      .prepare(
        `INSERT INTO destination_state (destination_id, rate_limited_until, paced_rate) VALUES (?, ?, ?)
         ON CONFLICT (destination_id) DO UPDATE SET rate_limited_until = excluded.rate_limited_until,
         paced_rate = excluded.paced_rate`,
      )
      .run(destinationId, pacing.rateLimitedUntil, pacing.pacedRate);
  }

  /**
   * The pacing `savePacing` kept for a destination (null when none was kept), and when it last delivered (null if
   * never).
   */
  pacing(destinationId: string): {
    rateLimitedUntil: number | null;
    pacedRate: number | null;
    lastDeliveryAt: number | null;
  } {
    const row = this.#db
      .prepare(
        'SELECT rate_limited_until, paced_rate, last_delivery_at FROM destination_state WHERE destination_id = ?',
      )
      .get(destinationId) as
      | { rate_limited_until: number | null; paced_rate: number | null; last_delivery_at: number | null }
      | undefined;
    return {
      rateLimitedUntil: row?.rate_limited_until ?? null,
      pacedRate: row?.paced_rate ?? null,
      lastDeliveryAt: row?.last_delivery_at ?? null,
    };
  }

  recordDelivery(destinationId: string, now: number): void {
    this.#db
      .prepare(
        `INSERT INTO destination_state (destination_id, last_delivery_at) VALUES (?, ?)
         ON CONFLICT (destination_id) DO UPDATE SET last_delivery_at = excluded.last_delivery_at`,
      )
      .run(destinationId, now);
  }
}

type MovementLevel = { sku: string; on_hand_after: number };

/** Each SKU's on hand after the event's movements (a SKU's last line wins, as the ledger applied them). */
function levelsAfterOf(rows: readonly MovementLevel[]): Record<string, number> {
  const levels: Record<string, number> = {};
  for (const row of rows) levels[row.sku] = row.on_hand_after;
  return levels;
}

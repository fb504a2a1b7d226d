import { AgentError } from '../platform/errors.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { OutboxItemState } from '../../shared/outbox-item-states.js';
import type { OutboxItemView } from '../../shared/agent-api.js';
import type { OperationResult } from '../../shared/rpc-views.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import { ExceptionsRepo } from '../exceptions/exceptions-repo.js';

/** Who acts and why; every operation is written to the audit log with both. */
export type Actor = Readonly<{ operator: string; reason: string | null }>;

const RETRYABLE: readonly OutboxItemState[] = ['rejected', 'dead', 'pending', 'held'];

/**
 * What staff can do to outbox items: retry (same idempotency key), replay as new (a new key, so the destination
 * applies it again: explicit, for an item the destination lost or rolled back), and discard with a reason.
 * Related open exceptions are resolved, and each action goes into the audit log.
 */
export class OutboxOperations {
  readonly #db: AgentDatabase;
  readonly #audit: AuditLog;
  /** Closes the exceptions of the items acted on (the exceptions module owns that table). */
  readonly #exceptions: ExceptionsRepo;
  readonly #onChange: () => void;

  constructor(db: AgentDatabase, audit: AuditLog, onChange: () => void) {
    this.#db = db;
    this.#audit = audit;
    this.#exceptions = new ExceptionsRepo(db);
    this.#onChange = onChange;
  }

  list(
    filter: Readonly<{ destinationId?: string; state?: OutboxItemState; afterId?: number; limit?: number }>,
  ): OutboxItemView[] {
    const { query } = this.#db;
    let q = query
      .selectFrom('outbox as o')
      .innerJoin('events as e', 'e.seq', 'o.event_seq')
      .select([
        'o.id',
        'o.destination_id',
        'o.event_seq',
        'e.event_id',
        'e.source',
        'e.type',
        'o.location',
        'e.body',
        'o.idempotency_key',
        'o.state',
        'o.attempts',
        'o.next_attempt_at',
        'o.last_error',
        'o.created_at',
        'o.delivered_at',
      ]);
    if (filter.destinationId !== undefined) q = q.where('o.destination_id', '=', filter.destinationId);
    if (filter.state !== undefined) q = q.where('o.state', '=', filter.state);
    if (filter.afterId !== undefined) q = q.where('o.id', '>', filter.afterId);
    return this.#db.all(q.orderBy('o.id').limit(filter.limit ?? 200)).map((r) => ({
      id: r.id,
      destinationId: r.destination_id,
      eventSeq: r.event_seq,
      eventId: r.event_id,
      source: r.source,
      type: r.type,
      location: r.location,
      reference: (JSON.parse(r.body) as { reference?: string }).reference ?? null,
      idempotencyKey: r.idempotency_key,
      state: r.state,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      lastError: r.last_error,
      createdAt: r.created_at,
      deliveredAt: r.delivered_at,
      blockedBy:
        r.state === 'pending' || r.state === 'in_flight'
          ? this.#laneHead(r.destination_id, r.location, r.id)
          : null,
    }));
  }

  /** The first waiting item of a lane, when it is not `id` itself. */
  #laneHead(destinationId: string, location: string, id: number): OutboxItemView['blockedBy'] {
    const head = this.#db
      .prepare(
        `SELECT id, last_error, next_attempt_at FROM outbox
         WHERE destination_id = ? AND location = ? AND state IN ('pending', 'in_flight') ORDER BY id LIMIT 1`,
      )
      .get(destinationId, location) as
      { id: number; last_error: string | null; next_attempt_at: number } | undefined;
    if (!head || head.id === id) return null;
    return { id: head.id, lastError: head.last_error, nextAttemptAt: head.next_attempt_at };
  }

  /** Sends the items again now, with their own idempotency keys. */
  retry(ids: readonly number[], actor: Actor): OperationResult {
    return this.#each(ids, 'outbox.retry', actor, (row, now) => {
      if (!RETRYABLE.includes(row.state)) return `is ${row.state}`;
      this.#db
        .prepare(
          `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE id = ?`,
        )
        .run(now, row.id);
      this.#exceptions.closeOfOutboxItem(row.id, 'resolved', `retried by ${actor.operator}`, now);
      return { state: 'pending' };
    });
  }

  /** Queues a copy under a new idempotency key (the old item is discarded), so the destination applies it anew. */
  replayAsNew(ids: readonly number[], actor: Actor): OperationResult {
    return this.#each(ids, 'outbox.replay', actor, (row, now) => {
      if (row.state === 'in_flight') return 'is being sent right now';
      const replays = this.#db
        .prepare(
          `SELECT COUNT(*) AS n FROM outbox WHERE event_seq = ? AND destination_id = ? AND idempotency_key LIKE ?`,
        )
        .get(
          row.event_seq,
          row.destination_id,
          `${row.idempotency_key.replace(/:replay-\d+$/, '')}:replay-%`,
        ) as { n: number };
      const key = `${row.idempotency_key.replace(/:replay-\d+$/, '')}:replay-${replays.n + 1}`;
      const inserted = this.#db
        .prepare(
          `INSERT INTO outbox (destination_id, event_seq, location, idempotency_key, state, attempts, next_attempt_at, created_at,
                               payload_version)
           VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, (SELECT payload_version FROM outbox WHERE id = ?))`,
        )
        .run(row.destination_id, row.event_seq, row.location, key, now, now, row.id);
      this.#db
        .prepare(`UPDATE outbox SET state = 'discarded', last_error = ? WHERE id = ?`)
        .run(`replayed as ${String(inserted.lastInsertRowid)}`, row.id);
      this.#exceptions.closeOfOutboxItem(row.id, 'resolved', `replayed as new by ${actor.operator}`, now);
      return { state: 'discarded', replayedAs: Number(inserted.lastInsertRowid), idempotencyKey: key };
    });
  }

  /** Gives up on the items; a reason is required. */
  discard(ids: readonly number[], actor: Actor): OperationResult {
    if (actor.reason === null || actor.reason.trim() === '') {
      throw new AgentError(
        'reason_required',
        'Discarding needs a reason: say why this will never be delivered.',
      );
    }
    return this.#each(ids, 'outbox.discard', actor, (row, now) => {
      if (row.state === 'delivered' || row.state === 'discarded') return `is already ${row.state}`;
      if (row.state === 'in_flight') return 'is being sent right now';
      this.#db.prepare(`UPDATE outbox SET state = 'discarded', lease_until = NULL WHERE id = ?`).run(row.id);
      this.#exceptions.closeOfOutboxItem(
        row.id,
        'discarded',
        `discarded by ${actor.operator}: ${actor.reason}`,
        now,
      );
      return { state: 'discarded' };
    });
  }

  #each(
    ids: readonly number[],
    action: string,
    actor: Actor,
    apply: (
      row: {
        id: number;
        state: OutboxItemState;
        event_seq: number;
        destination_id: string;
        location: string;
        idempotency_key: string;
        attempts: number;
      },
      now: number,
    ) => string | Record<string, unknown>,
  ): OperationResult {
    if (actor.operator.trim() === '')
      throw new AgentError('operator_required', 'Every action needs a named operator.');
    const result: OperationResult = { changed: [], skipped: [] };
    const now = Date.now();
    this.#db.transaction(() => {
      const find = this.#db.prepare(
        'SELECT id, state, event_seq, destination_id, location, idempotency_key, attempts FROM outbox WHERE id = ?',
      );
      for (const id of ids) {
        const row = find.get(id) as Parameters<typeof apply>[0] | undefined;
        if (!row) {
          result.skipped.push({ id, why: 'no such item' });
          continue;
        }
        const outcome = apply(row, now);
        if (typeof outcome === 'string') {
          result.skipped.push({ id, why: outcome });
          continue;
        }
        this.#audit.record(
          {
            operator: actor.operator,
            action,
            subject: `outbox:${id}`,
            reason: actor.reason,
            before: { state: row.state, attempts: row.attempts },
            after: outcome,
          },
          now,
        );
        result.changed.push(id);
      }
    });
    if (result.changed.length > 0) this.#onChange();
    return result;
  }
}

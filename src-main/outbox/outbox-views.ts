import type { DeliveryAttemptView, ExceptionDetail } from '../../shared/rpc-views.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { OutboxItemState } from '../../shared/outbox-item-states.js';

/** The outbox and its delivery attempts as the UI reads them. */

/** One outbox item as an exception's detail shows it, or null when there is none of that id. */
export function outboxItemSummary(db: AgentDatabase, id: number): ExceptionDetail['outbox'] {
  const outbox = db
    .prepare(
      'SELECT id, destination_id, state, idempotency_key, attempts, last_error FROM outbox WHERE id = ?',
    )
    .get(id) as
    | {
        id: number;
        destination_id: string;
        state: OutboxItemState;
        idempotency_key: string;
        attempts: number;
        last_error: string | null;
      }
    | undefined;
  return outbox
    ? {
        id: outbox.id,
        destinationId: outbox.destination_id,
        state: outbox.state,
        idempotencyKey: outbox.idempotency_key,
        attempts: outbox.attempts,
        lastError: outbox.last_error,
      }
    : null;
}

/** Every delivery attempt of an outbox item, oldest first. */
export function deliveryAttemptsOf(db: AgentDatabase, outboxId: number): DeliveryAttemptView[] {
  return db
    .prepare('SELECT id, at, result, detail FROM delivery_attempts WHERE outbox_id = ? ORDER BY id')
    .all(outboxId) as DeliveryAttemptView[];
}

/** Outbox items that wait for a person: rejected, or out of attempts. */
export function itemsWaitingForPerson(db: AgentDatabase): number {
  return (
    db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE state IN ('rejected', 'dead')`).get() as { n: number }
  ).n;
}

/** The id of the newest delivery attempt, 0 before the first. A read by primary key: cheap once a tick. */
export function lastDeliveryAttemptId(db: AgentDatabase): number {
  return (db.prepare('SELECT MAX(id) AS n FROM delivery_attempts').get() as { n: number | null }).n ?? 0;
}

/** Deliveries (delivered or already applied) per destination among the attempts with ids in (afterId, upToId]. */
export function deliveriesBetween(
  db: AgentDatabase,
  afterId: number,
  upToId: number,
): { destinationId: string; count: number }[] {
  return (
    db
      .prepare(
        `SELECT destination_id AS d, COUNT(*) AS n FROM delivery_attempts
         WHERE id > ? AND id <= ? AND result IN ('delivered', 'already_applied') GROUP BY destination_id`,
      )
      .all(afterId, upToId) as { d: string; n: number }[]
  ).map((r) => ({ destinationId: r.d, count: r.n }));
}

/** How far back (in attempts) the last error of a destination is looked for: a bounded read, never a scan. */
const LAST_ERROR_WINDOW = 10_000;

/**
 * Each destination's last error: why it is paused, else the detail of its newest attempt when that attempt
 * failed (null once the newest attempt delivered, or when it has none among the last 10,000 attempts).
 */
export function lastErrors(db: AgentDatabase): Map<string, string> {
  const errors = new Map<string, string>();
  const rows = db
    .prepare(
      `SELECT a.destination_id AS d, a.result AS result, a.detail AS detail FROM delivery_attempts a
       JOIN (SELECT destination_id, MAX(id) AS id FROM delivery_attempts WHERE id > ? GROUP BY destination_id) n
         ON n.id = a.id`,
    )
    .all(lastDeliveryAttemptId(db) - LAST_ERROR_WINDOW) as {
    d: string;
    result: string;
    detail: string | null;
  }[];
  for (const r of rows)
    if (r.result !== 'delivered' && r.result !== 'already_applied')
      errors.set(r.d, `${r.result}: ${r.detail ?? ''}`);
  const paused = db
    .prepare(
      'SELECT destination_id AS d, paused_reason AS reason FROM destination_state WHERE paused_reason IS NOT NULL',
    )
    .all() as { d: string; reason: string }[];
  for (const p of paused) errors.set(p.d, `paused: ${p.reason}`);
  return errors;
}

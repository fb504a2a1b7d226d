import type { AgentDatabase } from '../db/agent-database.js';

export type RetentionPolicy = Readonly<{
  /** Delivered outbox rows older than this are deleted. */
  deliveredMaxAgeMs: number;
  /** Delivery attempts older than this are deleted. */
  attemptsMaxAgeMs: number;
}>;

/**
 * Keeps the database bounded: delivered outbox rows and old delivery attempts are pruned, a slice at a time so
 * that capture never waits long for the write lock. Events and movements are never pruned: they are the ledger.
 */
export function pruneDelivered(
  db: AgentDatabase,
  policy: RetentionPolicy,
  now = Date.now(),
  slice = 5000,
): { outbox: number; attempts: number } {
  let outbox = 0;
  let attempts = 0;
  const deleteOutbox = db.prepare(
    `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'delivered' AND delivered_at < ? LIMIT ?)`,
  );
  const deleteAttempts = db.prepare(
    `DELETE FROM delivery_attempts WHERE id IN (SELECT id FROM delivery_attempts WHERE at < ? LIMIT ?)`,
  );
  for (;;) {
    const n = db.transaction(() => deleteOutbox.run(now - policy.deliveredMaxAgeMs, slice).changes);
    outbox += n;
    if (n < slice) break;
  }
  for (;;) {
    const n = db.transaction(() => deleteAttempts.run(now - policy.attemptsMaxAgeMs, slice).changes);
    attempts += n;
    if (n < slice) break;
  }
  return { outbox, attempts };
}

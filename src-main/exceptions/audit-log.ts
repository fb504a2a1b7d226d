import type { Selectable } from 'kysely';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLogTable } from '../db/schema.js';

export type AuditEntry = Readonly<{
  operator: string;
  /** What was done, as `domain.verb` (`outbox.retry`, `outbox.discard`, `destination.resume`). */
  action: string;
  /** What it was done to (`outbox:17`, `destination:hq`). */
  subject: string;
  reason: string | null;
  before: unknown;
  after: unknown;
}>;

/** A stored entry: the row as the database holds it (before/after as JSON text). */
export type AuditRow = Selectable<AuditLogTable>;

/** The append-only audit log: every human action with its operator, time, reason, before and after. */
export class AuditLog {
  readonly #db: AgentDatabase;

  constructor(db: AgentDatabase) {
    this.#db = db;
  }

  record(entry: AuditEntry, now = Date.now()): void {
    this.#db.run(
      this.#db.query.insertInto('audit_log').values({
        at: now,
        operator: entry.operator,
        action: entry.action,
        subject: entry.subject,
        reason: entry.reason,
        before: entry.before === undefined ? null : JSON.stringify(entry.before),
        after: entry.after === undefined ? null : JSON.stringify(entry.after),
      }),
    );
  }

  /** Newest first. */
  list(filter: Readonly<{ subject?: string; limit?: number }> = {}): AuditRow[] {
    let q = this.#db.query.selectFrom('audit_log').selectAll();
    if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
    return this.#db.all(q.orderBy('id', 'desc').limit(filter.limit ?? 200));
  }
}

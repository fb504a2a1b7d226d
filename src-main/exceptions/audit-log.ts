import type { Selectable } from 'kysely';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLogTable } from '../db/schema.js';
import type { OperatorRole } from '../../shared/operator-roles.js';

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

/**
 * The append-only audit log: every human action with its operator, the role they acted in, time, reason, before
 * and after. The role is looked up once here (`roleOf`, from the config's operators) rather than carried by
 * every caller, so no action can be recorded without it.
 */
export class AuditLog {
  readonly #db: AgentDatabase;
  readonly #roleOf: (operator: string) => OperatorRole | null;

  constructor(db: AgentDatabase, roleOf: (operator: string) => OperatorRole | null = () => null) {
    this.#db = db;
    this.#roleOf = roleOf;
  }

  record(entry: AuditEntry, now = Date.now()): void {
    this.#db.run(
      this.#db.query.insertInto('audit_log').values({
        at: now,
        operator: entry.operator,
        role: this.#roleOf(entry.operator),
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

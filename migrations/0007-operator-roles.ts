import type { MigrationDb } from './migration.js';

/**
 * The role an operator acted in, on each audit entry (clerk, manager or admin). Entries written before roles
 * existed, and actions of the local CLI under a name that is no configured operator, have none (NULL).
 */
export function up(db: MigrationDb): void {
  db.exec(`ALTER TABLE audit_log ADD COLUMN role TEXT CHECK (role IN ('clerk', 'manager', 'admin'));`);
}

import type { MigrationDb } from './migration.js';

/**
 * Outbox rows say which version of the event payload they carry, so an upgraded agent still reads (and
 * delivers) what an older one queued. Rows written before this migration carry version 1, the only one so far.
 */
export function up(db: MigrationDb): void {
  db.exec(`ALTER TABLE outbox ADD COLUMN payload_version INTEGER NOT NULL DEFAULT 1;`);
}

import type { MigrationDb } from './migration.js';

/**
 * The ways out of exceptions at the workbench: an exception can be acknowledged (seen, being handled) without
 * being closed, by whom, when and with what note; and locations added in the workbench (to an `unknown_location`)
 * are kept here, merged with the config file's at start. Nothing existing is changed: the new columns are NULL on
 * every exception raised before.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    ALTER TABLE exceptions ADD COLUMN acknowledged_by TEXT;
    ALTER TABLE exceptions ADD COLUMN acknowledged_at INTEGER;
    ALTER TABLE exceptions ADD COLUMN acknowledged_note TEXT;

    CREATE TABLE locations (
      id        TEXT PRIMARY KEY,
      name      TEXT,
      added_by  TEXT NOT NULL,
      added_at  INTEGER NOT NULL,
      reason    TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
  `);
}

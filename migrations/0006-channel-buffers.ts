import type { MigrationDb } from './migration.js';

/**
 * A channel's buffer as staff set it in the UI, over the config file's value: what it is, who set it, when and
 * why. No row: the config's buffer applies. The audit log keeps every change; this table only the current one.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    CREATE TABLE channel_buffers (
      channel  TEXT PRIMARY KEY,
      buffer   INTEGER NOT NULL CHECK (buffer >= 0),
      set_by   TEXT NOT NULL,
      set_at   INTEGER NOT NULL,
      reason   TEXT NOT NULL
    ) STRICT;
  `);
}

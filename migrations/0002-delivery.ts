import type { MigrationDb } from './migration.js';

/**
 * Delivery bookkeeping: every attempt with its result (for the exception detail view), the state of each
 * destination (paused on an auth failure), and the append-only audit log of human actions.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    CREATE TABLE delivery_attempts (
      id              INTEGER PRIMARY KEY,
      outbox_id       INTEGER,
      destination_id  TEXT NOT NULL,
      sku             TEXT,
      location        TEXT,
      at              INTEGER NOT NULL,
      result          TEXT NOT NULL,
      detail          TEXT
    ) STRICT;
    CREATE INDEX delivery_attempts_by_item ON delivery_attempts (outbox_id);

    CREATE TABLE destination_state (
      destination_id  TEXT PRIMARY KEY,
      paused_reason   TEXT,
      paused_at       INTEGER,
      last_delivery_at INTEGER
    ) STRICT, WITHOUT ROWID;

    -- The head of each (destination, location) lane is the first entry here.
    CREATE INDEX outbox_lanes ON outbox (destination_id, location, id) WHERE state IN ('pending', 'in_flight');

    -- Level updates back off like ledger rows do.
    ALTER TABLE level_dirty ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE level_dirty ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
    -- Dirty marks by due time: the dispatcher's look for work costs an index range, not a scan.
    CREATE INDEX level_dirty_due ON level_dirty (destination_id, next_attempt_at) WHERE version > sent_version;

    CREATE TABLE audit_log (
      id          INTEGER PRIMARY KEY,
      at          INTEGER NOT NULL,
      operator    TEXT NOT NULL,
      action      TEXT NOT NULL,
      subject     TEXT NOT NULL,
      reason      TEXT,
      before      TEXT,
      after       TEXT
    ) STRICT;
  `);
}

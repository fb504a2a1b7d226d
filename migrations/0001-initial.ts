import type { MigrationDb } from './migration.js';

/**
 * The capture schema: the hash-chained event log, ledger movements and levels, the outbox (a row per event and
 * ledger destination, a dirty mark per level destination, sku and location), exceptions, the item catalog and
 * the drop-folder bookkeeping.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    CREATE TABLE events (
      seq           INTEGER PRIMARY KEY,
      source        TEXT NOT NULL,
      event_id      TEXT NOT NULL,
      type          TEXT NOT NULL,
      location      TEXT NOT NULL,
      occurred_at   TEXT NOT NULL,
      received_at   INTEGER NOT NULL,
      body          TEXT NOT NULL,
      content_hash  TEXT NOT NULL,
      prev_hash     TEXT NOT NULL,
      hash          TEXT NOT NULL,
      UNIQUE (source, event_id)
    ) STRICT;

    -- The newest link of the hash chain, so that deleting the last events is detected too.
    CREATE TABLE chain_head (
      id    INTEGER PRIMARY KEY CHECK (id = 1),
      seq   INTEGER NOT NULL,
      hash  TEXT NOT NULL
    ) STRICT;

    CREATE TABLE movements (
      id             INTEGER PRIMARY KEY,
      event_seq      INTEGER NOT NULL,
      line_no        INTEGER NOT NULL,
      sku            TEXT NOT NULL,
      location       TEXT NOT NULL,
      delta          INTEGER NOT NULL,
      on_hand_after  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX movements_by_item ON movements (sku, location, id);
    CREATE INDEX movements_by_event ON movements (event_seq);

    CREATE TABLE stock_levels (
      sku          TEXT NOT NULL,
      location     TEXT NOT NULL,
      on_hand      INTEGER NOT NULL,
      reserved     INTEGER NOT NULL DEFAULT 0,
      updated_seq  INTEGER NOT NULL,
      PRIMARY KEY (sku, location)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE outbox (
      id               INTEGER PRIMARY KEY,
      destination_id   TEXT NOT NULL,
      event_seq        INTEGER NOT NULL,
      location         TEXT NOT NULL,
      idempotency_key  TEXT NOT NULL,
      state            TEXT NOT NULL,
      attempts         INTEGER NOT NULL DEFAULT 0,
      next_attempt_at  INTEGER NOT NULL,
      lease_until      INTEGER,
      last_error       TEXT,
      created_at       INTEGER NOT NULL,
      delivered_at     INTEGER
    ) STRICT;
    CREATE INDEX outbox_by_state ON outbox (destination_id, state, id);

    CREATE TABLE level_dirty (
      destination_id  TEXT NOT NULL,
      sku             TEXT NOT NULL,
      location        TEXT NOT NULL,
      version         INTEGER NOT NULL,
      sent_version    INTEGER NOT NULL DEFAULT 0,
      marked_at       INTEGER NOT NULL,
      PRIMARY KEY (destination_id, sku, location)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE items (
      sku      TEXT PRIMARY KEY,
      name     TEXT,
      barcode  TEXT
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX items_by_barcode ON items (barcode) WHERE barcode IS NOT NULL;

    CREATE TABLE exceptions (
      id              INTEGER PRIMARY KEY,
      kind            TEXT NOT NULL,
      status          TEXT NOT NULL,
      dedupe_key      TEXT,
      message         TEXT NOT NULL,
      details         TEXT NOT NULL,
      source          TEXT,
      event_seq       INTEGER,
      sku             TEXT,
      location        TEXT,
      destination_id  TEXT,
      occurrences     INTEGER NOT NULL DEFAULT 1,
      created_at      INTEGER NOT NULL,
      last_seen_at    INTEGER NOT NULL,
      resolved_at     INTEGER,
      resolution      TEXT
    ) STRICT;
    -- At most one open exception per dedupe key: repeats count up on it instead of piling up rows.
    CREATE UNIQUE INDEX exceptions_open_key ON exceptions (dedupe_key) WHERE status = 'open';
    CREATE INDEX exceptions_by_status ON exceptions (status, kind, id);

    CREATE TABLE imported_files (
      content_hash     TEXT PRIMARY KEY,
      file_name        TEXT NOT NULL,
      imported_at      INTEGER NOT NULL,
      outcome          TEXT NOT NULL,
      events_accepted  INTEGER NOT NULL,
      events_duplicate INTEGER NOT NULL,
      rows_rejected    INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
  `);
}

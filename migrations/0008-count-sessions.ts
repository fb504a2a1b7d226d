import type { MigrationDb } from './migration.js';

/**
 * Count sessions at the workbench: which items of a location staff are counting, and per item what they counted
 * and the ledger point it was counted at (the capture seq and the level then), so a sale between counting and
 * posting is kept. Posting captures one `count` event; the session then only records that it was posted.
 *
 * And two partial indexes over events, for the transfers a location expects: transfers out by destination
 * (`meta.to`) and transfers in by location and reference. Only transfer events pay for them at capture.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    CREATE TABLE count_sessions (
      id             INTEGER PRIMARY KEY,
      location       TEXT NOT NULL,
      label          TEXT,
      status         TEXT NOT NULL CHECK (status IN ('open', 'posted', 'cancelled')),
      created_by     TEXT NOT NULL,
      created_at     INTEGER NOT NULL,
      closed_at      INTEGER,
      closed_by      TEXT,
      -- Why it was cancelled (the audit log keeps it too).
      cancel_reason  TEXT,
      -- The seq of the count event it was posted as.
      posted_seq     INTEGER
    ) STRICT;
    CREATE INDEX count_sessions_by_status ON count_sessions (status, id);

    CREATE TABLE count_lines (
      session_id       INTEGER NOT NULL REFERENCES count_sessions (id),
      sku              TEXT NOT NULL,
      -- The order items were listed or scanned in.
      line_no          INTEGER NOT NULL,
      -- NULL while not counted yet.
      counted          INTEGER CHECK (counted >= 0),
      -- The ledger's level at the capture seq the item was counted at.
      ledger_at_count  INTEGER,
      counted_at_seq   INTEGER,
      counted_at       INTEGER,
      counted_by       TEXT,
      PRIMARY KEY (session_id, sku)
    ) STRICT;

    CREATE INDEX events_transfers_out ON events (json_extract(body, '$.meta.to')) WHERE type = 'transfer_out';
    CREATE INDEX events_transfers_in ON events (location, json_extract(body, '$.reference')) WHERE type = 'transfer_in';
  `);
}

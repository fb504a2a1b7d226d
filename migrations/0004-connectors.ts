import type { MigrationDb } from './migration.js';

/**
 * What the connectors need: identifier mappings per destination, a small key-value store per destination,
 * marketplace order reservations, the order-pull checkpoint per destination, and the hold of items waiting
 * for a mapping (`held` outbox rows; level marks with `held_at`).
 */
export function up(db: MigrationDb): void {
  db.exec(`
    -- Local id to remote id, per destination: kind 'item' (sku) or 'location'.
    CREATE TABLE id_mappings (
      destination_id  TEXT NOT NULL,
      kind            TEXT NOT NULL CHECK (kind IN ('item', 'location')),
      local_id        TEXT NOT NULL,
      remote_id       TEXT NOT NULL,
      origin          TEXT NOT NULL,
      updated_at      INTEGER NOT NULL,
      PRIMARY KEY (destination_id, kind, local_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX id_mappings_by_remote ON id_mappings (destination_id, kind, remote_id);

    CREATE TABLE connector_state (
      destination_id  TEXT NOT NULL,
      key             TEXT NOT NULL,
      value           TEXT NOT NULL,
      updated_at      INTEGER NOT NULL,
      PRIMARY KEY (destination_id, key)
    ) STRICT, WITHOUT ROWID;

    -- One row per order line reserved at a location; closed by a release or a shipment. The channel is the
    -- capturing source (\`orders:<destination>\` for pulled orders).
    CREATE TABLE reservations (
      channel         TEXT NOT NULL,
      order_id        TEXT NOT NULL,
      sku             TEXT NOT NULL,
      location        TEXT NOT NULL,
      qty             INTEGER NOT NULL,
      state           TEXT NOT NULL CHECK (state IN ('open', 'released', 'shipped')),
      opened_seq      INTEGER NOT NULL,
      closed_seq      INTEGER,
      PRIMARY KEY (channel, order_id, sku, location)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX reservations_open ON reservations (sku, location) WHERE state = 'open';

    CREATE TABLE order_checkpoints (
      destination_id  TEXT PRIMARY KEY,
      updated_after   TEXT,
      -- The checkpoint after the first pull: orders last changed before it are history, never shipped here.
      baseline        TEXT,
      last_pull_at    INTEGER,
      last_error      TEXT,
      orders_seen     INTEGER NOT NULL DEFAULT 0
    ) STRICT, WITHOUT ROWID;

    -- A level mark waiting for a mapping is not due until the mapping arrives.
    ALTER TABLE level_dirty ADD COLUMN held_at INTEGER;
    CREATE INDEX outbox_held ON outbox (destination_id) WHERE state = 'held';
  `);
}

import type { MigrationDb } from './migration.js';

/**
 * Orders to shipment: what a marketplace order is (its number, where it ships from, the promise it carries) and
 * what was shipped of it, with which carrier and tracking number.
 * - `reservations.shipped`: units of the line shipped so far, so an edited or re-read order reserves only what is
 *   left to ship, and the marketplace's own "fulfilled" never ships again what the warehouse sent already. Lines
 *   reserved before this version start at 0 (nothing of an open order was shipped by a partial shipment then).
 * - `orders`: written by each `reserve` (the order's name and ship-by date come in its `meta`).
 * - `shipments`: one row per captured `ship` event of a known order, with its carrier and tracking.
 * - `fulfilments`: a shipment the warehouse made of a marketplace order, to be told to that marketplace exactly
 *   once: pending until it is sent (or found there after an unknown outcome), rejected when the marketplace
 *   refuses it (an exception then says why and what to do).
 * Nothing existing changes: orders reserved before this version are listed from their reservations alone.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    ALTER TABLE reservations ADD COLUMN shipped INTEGER NOT NULL DEFAULT 0;

    CREATE TABLE orders (
      channel      TEXT NOT NULL,
      order_id     TEXT NOT NULL,
      name         TEXT NOT NULL,
      location     TEXT NOT NULL,
      placed_at    TEXT NOT NULL,
      ship_by      TEXT,
      opened_seq   INTEGER NOT NULL,
      updated_seq  INTEGER NOT NULL,
      PRIMARY KEY (channel, order_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX orders_by_name ON orders (name);

    CREATE TABLE shipments (
      event_seq        INTEGER PRIMARY KEY,
      channel          TEXT NOT NULL,
      order_id         TEXT NOT NULL,
      location         TEXT NOT NULL,
      carrier          TEXT,
      tracking_number  TEXT,
      tracking_url     TEXT
    ) STRICT;
    CREATE INDEX shipments_by_order ON shipments (channel, order_id);

    CREATE TABLE fulfilments (
      event_seq       INTEGER NOT NULL,
      destination_id  TEXT NOT NULL,
      order_id        TEXT NOT NULL,
      state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'rejected')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      -- The last attempt's outcome was unknown (sent, no answer): read back before sending again.
      is_unsure       INTEGER NOT NULL DEFAULT 0,
      next_at         INTEGER NOT NULL,
      remote_id       TEXT,
      last_error      TEXT,
      updated_at      INTEGER NOT NULL,
      PRIMARY KEY (event_seq, destination_id)
    ) STRICT;
    CREATE INDEX fulfilments_due ON fulfilments (destination_id, next_at) WHERE state = 'pending';
  `);
}

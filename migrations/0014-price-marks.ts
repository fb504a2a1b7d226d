import type { MigrationDb } from './migration.js';

/**
 * Prices out to channels, coalesced like levels: one mark per (destination, SKU).
 *
 * - A change of an item's price bumps `version`; the price sender sends the price read at send time and records
 *   the version it covered in `sent_version`, so any number of changes before a send become one update, and a
 *   change while one was in flight leaves the mark due again.
 * - `held`: why a due mark is not sent: `unmapped` (the channel has no item for the SKU; released by setting the
 *   mapping, as levels are) or `floor` (the new price is more than the destination's floor under the last price
 *   sent: a person confirms it or keeps the old price). `held_amount` is the price that was held.
 * - `sent_*`: what the channel last accepted (price, compare-at price, currency, when): the floor's reference and
 *   what the item page shows. `confirmed_amount`: a price under the floor a person confirmed; it is sent as is.
 * - `kept_amount`: a price a person refused ("keep the old price"); it is not sent again until the price changes.
 * Nothing existing changes; the table starts empty (no price was sent before this version).
 */
export function up(db: MigrationDb): void {
  db.exec(`
    CREATE TABLE price_marks (
      destination_id    TEXT NOT NULL,
      sku               TEXT NOT NULL,
      version           INTEGER NOT NULL,
      sent_version      INTEGER NOT NULL DEFAULT 0,
      marked_at         INTEGER NOT NULL,
      attempts          INTEGER NOT NULL DEFAULT 0,
      next_attempt_at   INTEGER NOT NULL DEFAULT 0,
      held              TEXT CHECK (held IN ('unmapped', 'floor')),
      held_at           INTEGER,
      held_amount       TEXT,
      last_error        TEXT,
      sent_amount       TEXT,
      sent_compare_at   TEXT,
      sent_currency     TEXT,
      sent_at           INTEGER,
      confirmed_amount  TEXT,
      kept_amount       TEXT,
      PRIMARY KEY (destination_id, sku)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX price_marks_due ON price_marks (destination_id, next_attempt_at) WHERE version > sent_version;
  `);
}

import type { MigrationDb } from './migration.js';

/**
 * The item master: the catalog becomes the store's copy of the ERP's items, fed by more than one source (the
 * catalog CSV, a Tryton pull, the workbench).
 *
 * - `items` gains the unit, an active flag (an item deactivated at its source stays, inactive, with its history),
 *   the source that last changed it, which source set each field and when (`origins`, JSON
 *   `{ "<field>": { "source": "...", "at": <epoch ms> } }`), and `change_seq`: the catalog's own change counter,
 *   which orders changes for the tills' `GET /api/v1/items?since=` (a cursor is a `change_seq`).
 * - `item_barcodes`: several barcodes per item, each unique across items (the primary key). `items.barcode` stays
 *   as the item's first barcode, which existing screens show.
 * - `item_prices`: a price per (item, price list or channel): amount as decimal text, ISO 4217 currency, source.
 * - `item_history`: one row per stored change of an item (what changed, from what to what, by which source), so
 *   nothing about an item is ever lost when its source changes it.
 * - `catalog_checkpoints`: per catalog source, how far its pull has read (moved only with the page it stored).
 *
 * Data moved: every existing item becomes active, from source `legacy`, numbered in SKU order and dated now (when
 * it last changed before is not known, and tills must not read 1970); its barcode goes
 * into `item_barcodes`. Should two existing items share a barcode (nothing refused that before), the first by SKU
 * keeps it there and the other keeps it only in `items.barcode`, where it was: nothing is deleted.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    ALTER TABLE items ADD COLUMN unit TEXT;
    ALTER TABLE items ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE items ADD COLUMN source TEXT NOT NULL DEFAULT 'legacy';
    ALTER TABLE items ADD COLUMN origins TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE items ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE items ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

    CREATE TEMP TABLE item_numbers AS
      SELECT sku, ROW_NUMBER() OVER (ORDER BY sku) AS n FROM items;
    UPDATE items SET change_seq = (SELECT n FROM item_numbers WHERE item_numbers.sku = items.sku),
      updated_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
    DROP TABLE item_numbers;
    CREATE UNIQUE INDEX items_by_change ON items (change_seq);

    CREATE TABLE item_barcodes (
      barcode   TEXT PRIMARY KEY,
      sku       TEXT NOT NULL,
      position  INTEGER NOT NULL,
      source    TEXT NOT NULL,
      added_at  INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX item_barcodes_by_sku ON item_barcodes (sku);
    INSERT OR IGNORE INTO item_barcodes (barcode, sku, position, source, added_at)
      SELECT barcode, sku, 0, 'legacy', 0 FROM items WHERE barcode IS NOT NULL ORDER BY sku;

    CREATE TABLE item_prices (
      sku         TEXT NOT NULL,
      list        TEXT NOT NULL,
      amount      TEXT NOT NULL,
      currency    TEXT NOT NULL,
      source      TEXT NOT NULL,
      updated_at  INTEGER NOT NULL,
      PRIMARY KEY (sku, list)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE item_history (
      id          INTEGER PRIMARY KEY,
      sku         TEXT NOT NULL,
      change_seq  INTEGER NOT NULL,
      source      TEXT NOT NULL,
      at          INTEGER NOT NULL,
      changes     TEXT NOT NULL
    ) STRICT;
    CREATE INDEX item_history_by_sku ON item_history (sku, id);

    CREATE TABLE catalog_checkpoints (
      source_id     TEXT PRIMARY KEY,
      since         TEXT,
      pull_mark     TEXT,
      phase         INTEGER NOT NULL DEFAULT 0,
      after_id      INTEGER NOT NULL DEFAULT 0,
      last_pull_at  INTEGER,
      last_error    TEXT,
      items_seen    INTEGER NOT NULL DEFAULT 0
    ) STRICT, WITHOUT ROWID;
  `);
}

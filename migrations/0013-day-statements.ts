import type { MigrationDb } from './migration.js';

/**
 * Daily statements (a `tryton` destination in `daily_statement` posting mode): the store's POS sales and returns
 * posted to the ERP as one sale per location and business day.
 * - `business_days`: a (destination, location, day) that was closed, when and by whom. A day with no row is open.
 * - `statements`: one per (destination, location, day, number): number 0 is the day's statement, made when the
 *   day closes; 1, 2... are supplementary statements made of events that came after (a till that was offline).
 *   `reference` is the key searched in the ERP (`<agentId>:<location>:<day>`, `...:s1`); pending until posted.
 * - `statement_events`: each sale or return for such a destination, with its business day and, once a statement
 *   took it, that statement. The events themselves stay in `events`, untouched.
 * - `statement_lines`: a statement's lines, one per (SKU, unit price, currency): units sold and returned, and
 *   whether the ERP took the line (a refused line says why).
 */
export function up(db: MigrationDb): void {
  db.exec(`
    CREATE TABLE business_days (
      destination_id  TEXT NOT NULL,
      location        TEXT NOT NULL,
      day             TEXT NOT NULL,
      closed_at       INTEGER NOT NULL,
      closed_by       TEXT NOT NULL,
      PRIMARY KEY (destination_id, location, day)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE statements (
      id              INTEGER PRIMARY KEY,
      destination_id  TEXT NOT NULL,
      location        TEXT NOT NULL,
      day             TEXT NOT NULL,
      number          INTEGER NOT NULL CHECK (number >= 0),
      reference       TEXT NOT NULL,
      state           TEXT NOT NULL CHECK (state IN ('pending', 'posted', 'rejected')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_at         INTEGER NOT NULL,
      last_error      TEXT,
      remote_id       TEXT,
      created_at      INTEGER NOT NULL,
      posted_at       INTEGER,
      UNIQUE (destination_id, location, day, number),
      UNIQUE (destination_id, reference)
    ) STRICT;
    CREATE INDEX statements_due ON statements (destination_id, next_at) WHERE state = 'pending';

    CREATE TABLE statement_events (
      destination_id  TEXT NOT NULL,
      event_seq       INTEGER NOT NULL,
      location        TEXT NOT NULL,
      day             TEXT NOT NULL,
      statement_id    INTEGER REFERENCES statements (id),
      PRIMARY KEY (destination_id, event_seq)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX statement_events_by_day ON statement_events (destination_id, location, day, statement_id);

    CREATE TABLE statement_lines (
      statement_id    INTEGER NOT NULL REFERENCES statements (id),
      sku             TEXT NOT NULL,
      -- The decimal text as the events gave it, '' when they gave none (such a line is refused).
      unit_price      TEXT NOT NULL,
      currency        TEXT NOT NULL,
      sold            INTEGER NOT NULL,
      returned        INTEGER NOT NULL,
      -- moved: refused, then sent again in a later (supplementary) statement.
      state           TEXT NOT NULL CHECK (state IN ('pending', 'posted', 'refused', 'moved')),
      refusal         TEXT,
      PRIMARY KEY (statement_id, sku, unit_price, currency)
    ) STRICT, WITHOUT ROWID;
  `);
}

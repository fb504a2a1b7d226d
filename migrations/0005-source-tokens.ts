import type { MigrationDb } from './migration.js';

/**
 * POS source tokens created in the UI, beside the ones in the config file: only a hash of each token is kept
 * (it is shown once, when it is created), with who created it and, once revoked, who revoked it and when.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    CREATE TABLE source_tokens (
      id           INTEGER PRIMARY KEY,
      source_id    TEXT NOT NULL,
      label        TEXT NOT NULL,
      -- sha256 of the token, hex: the token itself is never stored.
      token_hash   TEXT NOT NULL UNIQUE,
      -- The token's last four characters, so staff can tell tokens apart.
      hint         TEXT NOT NULL,
      created_at   INTEGER NOT NULL,
      created_by   TEXT NOT NULL,
      revoked_at   INTEGER,
      revoked_by   TEXT
    ) STRICT;
  `);
}

import type { MigrationDb } from './migration.js';

/**
 * Delivery pacing survives a restart: the end of a destination's `429` pause (`Retry-After`, epoch ms) and the
 * sending rate AIMD has learned (requests per second; NULL: the configured rate). Both NULL on every existing
 * destination, which is what they meant before: no pause, the configured rate.
 */
export function up(db: MigrationDb): void {
  db.exec(`
    ALTER TABLE destination_state ADD COLUMN rate_limited_until INTEGER;
    ALTER TABLE destination_state ADD COLUMN paced_rate REAL;
  `);
}

import { sql as initial } from './0001-initial.js';
import { sql as relay } from './0002-relay.js';

/** A PostgreSQL migration of the fleet service: SQL run once, in its own transaction, in version order. */
export type FleetMigration = Readonly<{ version: number; name: string; sql: string }>;

/**
 * Every migration of the fleet's PostgreSQL schema, in order (the agent's SQLite has its own, in migrations/).
 * A test checks this list against the files in this folder.
 */
export const fleetMigrations: readonly FleetMigration[] = [
  { version: 1, name: '0001-initial', sql: initial },
  { version: 2, name: '0002-relay', sql: relay },
];

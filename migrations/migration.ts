/**
 * What a migration may use of the database: plain SQL, nothing of the app. Migrations are frozen in time, so
 * they never import application code whose shape may change later.
 */
export type MigrationDb = {
  exec(sql: string): unknown;
  prepare(sql: string): {
    run(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
    get(...params: unknown[]): unknown;
  };
};

export type Migration = { version: number; name: string; up: (db: MigrationDb) => void };

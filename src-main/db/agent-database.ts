import BetterSqlite3 from 'better-sqlite3';
import {
  DummyDriver,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Compilable,
} from 'kysely';
import { migrations as allMigrations, type Migration } from '../../migrations/index.js';
import { AgentError } from '../platform/errors.js';
import type { Database } from './schema.js';

export type OpenOptions = Readonly<{
  /** Open for reading only (`backroom status`, `verify` while an agent runs). Migrations are not applied. */
  isReadonly?: boolean;
  /** The migrations to apply; tests pass a prefix to build an older database. */
  migrations?: readonly Migration[];
}>;

/**
 * The agent's SQLite database: better-sqlite3 for synchronous, transactional execution and Kysely as the typed
 * query builder. Kysely only compiles here (its DummyDriver); statements run synchronously through better-sqlite3
 * so that a whole capture fits in one transaction on one thread.
 *
 * Durability: WAL with `synchronous = FULL`, so every commit is fsynced to the WAL before `transaction()`
 * returns. An event acknowledged to a POS therefore survives a power cut. (`NORMAL` would be faster but may lose
 * the last commits on power loss, which breaks promise 1.)
 */
export class AgentDatabase {
  readonly sqlite: BetterSqlite3.Database;
  /** Query builder only: pass what it builds to `all`, `first` or `run`. */
  readonly query: Kysely<Database>;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  private constructor(sqlite: BetterSqlite3.Database) {
    this.sqlite = sqlite;
    this.query = new Kysely<Database>({
      dialect: {
        createAdapter: () => new SqliteAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new SqliteIntrospector(db),
        createQueryCompiler: () => new SqliteQueryCompiler(),
      },
    });
  }

  /**
   * Opens (creating if needed) the database at `file`, sets the pragmas and applies pending migrations, each in
   * its own transaction. Refuses a database written by a newer version of Backroom.
   */
  static open(file: string, options: OpenOptions = {}): AgentDatabase {
    const sqlite = new BetterSqlite3(file, {
      readonly: options.isReadonly ?? false,
      fileMustExist: options.isReadonly ?? false,
    });
    try {
      sqlite.pragma('busy_timeout = 5000');
      if (!options.isReadonly) {
        sqlite.pragma('journal_mode = WAL');
        sqlite.pragma('synchronous = FULL');
      }
      const db = new AgentDatabase(sqlite);
      db.#migrate(options.migrations ?? allMigrations, options.isReadonly ?? false);
      return db;
    } catch (error) {
      sqlite.close();
      throw error;
    }
  }

  /** Rows of a query built with `query`. */
  all<O>(q: Compilable<O>): O[] {
    const compiled = q.compile();
    return this.prepare(compiled.sql).all(...compiled.parameters) as O[];
  }

  /** The first row of a query built with `query`, or `undefined`. */
  first<O>(q: Compilable<O>): O | undefined {
    const compiled = q.compile();
    return this.prepare(compiled.sql).get(...compiled.parameters) as O | undefined;
  }

  /** Runs a write built with `query`; returns the number of rows changed. */
  run(q: Compilable<unknown>): number {
    const compiled = q.compile();
    return this.prepare(compiled.sql).run(...compiled.parameters).changes;
  }

  /** A cached prepared statement, for hot paths that bind values directly. */
  prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.sqlite.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in a transaction (a savepoint when nested); commits durably when the outermost one returns. */
  transaction<T>(fn: () => T): T {
    return this.sqlite.transaction(fn)();
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close();
  }

  #migrate(list: readonly Migration[], isReadonly: boolean): void {
    const hasTable = this.sqlite
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
      .get();
    if (!hasTable) {
      if (isReadonly)
        throw new AgentError('database_uninitialized', 'The database has not been initialized yet.');
      this.sqlite.exec(
        `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`,
      );
    }
    const applied = this.sqlite.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    const current = applied.v ?? 0;
    const newest = list.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new AgentError(
        'database_too_new',
        `The database is at schema version ${current}, but this Backroom knows versions up to ${newest}. ` +
          'It was written by a newer Backroom; run that version, or restore a backup made by this one.',
      );
    }
    if (isReadonly) return;
    for (const migration of list) {
      if (migration.version <= current) continue;
      this.sqlite.transaction(() => {
        migration.up(this.sqlite);
        this.sqlite
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(migration.version, migration.name, Date.now());
      })();
    }
  }
}

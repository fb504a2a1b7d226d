import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { migrations, type Migration } from '../../migrations/index.js';
import type { ConfigInput } from '../../shared/config.js';
import { Agent, DATABASE_FILE } from '../../src-main/agent/agent.js';
import { AgentError } from '../../src-main/platform/errors.js';
import { parseConfig } from '../../src-main/agent/config-loader.js';
import { LOCK_FILE } from '../../src-main/agent/data-dir-lock.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { verifyChain } from '../../src-main/capture/hash-chain.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { makeEvent, ROOT, tempDir, testConfig } from '../support/harness.js';

const MIGRATIONS_DIR = join(ROOT, 'migrations');
const NEWEST = migrations.at(-1)!.version;

type AppliedRow = { version: number; name: string; applied_at: number };

function startAgent(config: ConfigInput): Promise<Agent> {
  return Agent.start({
    config: parseConfig(config, process.cwd(), {}),
    logger: createLogger({ level: 'silent' }),
    isServing: false,
  });
}

function applied(db: BetterSqlite3.Database | AgentDatabase): AppliedRow[] {
  const sqlite = db instanceof AgentDatabase ? db.sqlite : db;
  return sqlite.prepare('SELECT * FROM schema_migrations ORDER BY version').all() as AppliedRow[];
}

/** Tables of the app (not SQLite's own, not the migration bookkeeping). */
function tablesOf(db: BetterSqlite3.Database): string[] {
  return (
    db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
      )
      .all() as { name: string }[]
  ).map((r) => r.name);
}

function columnsOf(db: BetterSqlite3.Database, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((r) => r.name);
}

/** Every row of `table`, only `columns`, sorted: compares contents regardless of physical order. */
function rowsOf(db: BetterSqlite3.Database, table: string, columns: readonly string[]): string[] {
  return db
    .prepare(`SELECT ${columns.join(', ')} FROM ${table}`)
    .all()
    .map((r) => JSON.stringify(r))
    .sort();
}

function expectAgentError(reason: string, fn: () => unknown): AgentError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AgentError, `expected an AgentError, got ${String(caught)}`);
  assert.equal(caught.reason, reason);
  return caught;
}

describe('the migration registry', () => {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.ts'));
  const numbered = files.filter((f) => /^\d{4}-[a-z0-9-]+\.ts$/.test(f)).sort();

  test('every file in migrations/ is a numbered migration, index.ts or migration.ts', () => {
    assert.deepEqual(
      files.filter((f) => !numbered.includes(f) && f !== 'index.ts' && f !== 'migration.ts'),
      [],
      'a migration file must be named NNNN-name.ts',
    );
  });

  test('lists every numbered file exactly once, in order, named after its file', () => {
    assert.deepEqual(
      migrations.map((m) => `${m.name}.ts`),
      numbered,
    );
  });

  test('versions are contiguous from 1 and match the number in the file name', () => {
    assert.deepEqual(
      migrations.map((m) => m.version),
      migrations.map((_, i) => i + 1),
    );
    for (const m of migrations) assert.equal(m.version, Number(m.name.slice(0, 4)), m.name);
  });

  test("each entry runs its own file's up()", async () => {
    for (const m of migrations) {
      const module = (await import(pathToFileURL(join(MIGRATIONS_DIR, `${m.name}.ts`)).href)) as {
        up: Migration['up'];
      };
      assert.equal(m.up, module.up, `${m.name} is registered with the up() of another file`);
    }
  });
});

describe('opening databases', () => {
  test('a new database gets every migration, each recorded with its version and name', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const db = AgentDatabase.open(join(dir.path, 'new.db'));
    t.after(() => db.close());
    assert.deepEqual(
      applied(db).map(({ version, name }) => ({ version, name })),
      migrations.map(({ version, name }) => ({ version, name })),
    );
  });

  test('opening a database that holds data applies nothing new and keeps the data', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const config = testConfig(dataDir);
    const agent = await startAgent(config);
    try {
      await agent.capture.capture('pos-1', [
        makeEvent({ id: 'a', type: 'receipt', lines: [{ sku: 'X', qty: 5 }] }),
        makeEvent({ id: 'b', lines: [{ sku: 'X', qty: 2 }] }),
      ]);
    } finally {
      await agent.stop();
    }
    const file = join(dataDir, DATABASE_FILE);
    const raw = new BetterSqlite3(file, { readonly: true });
    const before = {
      applied: applied(raw),
      tables: Object.fromEntries(tablesOf(raw).map((tb) => [tb, rowsOf(raw, tb, columnsOf(raw, tb))])),
    };
    raw.close();
    assert.equal(before.applied.length, migrations.length);

    const db = AgentDatabase.open(file);
    try {
      assert.deepEqual(applied(db), before.applied, 'no migration ran again (applied_at unchanged)');
      const tables = Object.fromEntries(
        tablesOf(db.sqlite).map((tb) => [tb, rowsOf(db.sqlite, tb, columnsOf(db.sqlite, tb))]),
      );
      assert.deepEqual(tables, before.tables);
    } finally {
      db.close();
    }

    const again = await startAgent(config);
    try {
      assert.deepEqual(applied(again.db), before.applied);
      assert.equal(
        (
          again.db.sqlite.prepare('SELECT on_hand FROM stock_levels WHERE sku = ?').get('X') as {
            on_hand: number;
          }
        ).on_hand,
        3,
      );
    } finally {
      await again.stop();
    }
  });

  test('a database from a newer Backroom is refused with database_too_new, and left as it is', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const file = join(dir.path, 'future.db');
    AgentDatabase.open(file).close();
    const raw = new BetterSqlite3(file);
    raw
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(NEWEST + 1, `${String(NEWEST + 1).padStart(4, '0')}-from-the-future`, Date.now());
    raw.close();

    const error = expectAgentError('database_too_new', () => AgentDatabase.open(file));
    assert.ok(error.message.includes(`version ${NEWEST + 1}`), error.message);
    assert.ok(error.message.includes(String(NEWEST)), error.message);
    expectAgentError('database_too_new', () => AgentDatabase.open(file, { isReadonly: true }));

    const check = new BetterSqlite3(file, { readonly: true });
    assert.equal(applied(check).at(-1)!.version, NEWEST + 1);
    check.close();
  });

  test('the agent refuses to start on a newer database and releases its data folder', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    mkdirSync(dataDir);
    const file = join(dataDir, DATABASE_FILE);
    AgentDatabase.open(file).close();
    const raw = new BetterSqlite3(file);
    raw
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(NEWEST + 1, 'future', Date.now());
    raw.close();
    await assert.rejects(
      startAgent(testConfig(dataDir)),
      (error: unknown) => error instanceof AgentError && error.reason === 'database_too_new',
    );
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'the lock was released');
  });

  test('a migration that fails is rolled back whole and the database stays at the version before it', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const file = join(dir.path, 'broken.db');
    AgentDatabase.open(file).close();
    const broken: Migration = {
      version: NEWEST + 1,
      name: 'broken',
      up: (db) => {
        db.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('boom');
      },
    };
    assert.throws(() => AgentDatabase.open(file, { migrations: [...migrations, broken] }), /boom/);
    const raw = new BetterSqlite3(file, { readonly: true });
    assert.equal(applied(raw).at(-1)!.version, NEWEST);
    assert.ok(!tablesOf(raw).includes('half_done'));
    raw.close();
    AgentDatabase.open(file).close();
  });
});

describe('migrating an existing database forward', () => {
  /**
   * A database filled by the real agent at the newest version: its rows are what older databases held, cut
   * down to the columns each older schema had.
   */
  async function filledByAgent(dir: string, extra: Partial<ConfigInput>): Promise<string> {
    const dataDir = join(dir, 'source-data');
    const agent = await startAgent(testConfig(dataDir, extra));
    try {
      const results = await agent.capture.capture('pos-1', [
        makeEvent({ id: 'r1', type: 'receipt', lines: [{ sku: 'SKU-1', qty: 10 }] }),
        makeEvent({ id: 's1', lines: [{ sku: 'SKU-1', qty: 3, unitPrice: '9.99', currency: 'EUR' }] }),
        makeEvent({ id: 's2', location: 'S9', lines: [{ sku: 'GHOST', qty: 1 }] }),
        makeEvent({ id: 'c1', type: 'count', location: 'S2', lines: [{ sku: 'SKU-2', qty: 4 }] }),
      ]);
      assert.ok(results.every((r) => r.status === 'accepted'));
    } finally {
      await agent.stop();
    }
    return join(dataDir, DATABASE_FILE);
  }

  // Every proper prefix of the registry is an older Backroom's database, down to an empty one.
  for (let k = 0; k < migrations.length; k += 1) {
    test(`a database at version ${k} migrates to ${NEWEST} keeping its rows, and the agent carries on with it`, async (t) => {
      const dir = tempDir();
      t.after(dir.cleanup);
      const config = (dataDir: string) =>
        testConfig(dataDir, {
          destinations: [
            { id: 'hq', type: 'webhook', url: 'http://127.0.0.1:9/events', secret: 's' },
            { id: 'shop', type: 'shopify', url: 'http://127.0.0.1:9', accessToken: 't' },
          ],
        });
      const sourceFile = await filledByAgent(dir.path, config(join(dir.path, 'source-data')));

      const dataDir = join(dir.path, 'data');
      mkdirSync(dataDir);
      const file = join(dataDir, DATABASE_FILE);
      const old = AgentDatabase.open(file, { migrations: migrations.slice(0, k) });
      assert.equal(applied(old).length, k);
      old.close();

      // Copy the rows into the older schema, and add a table of our own that no migration knows.
      const source = new BetterSqlite3(sourceFile, { readonly: true });
      const target = new BetterSqlite3(file);
      const kept: Record<string, { columns: string[]; rows: string[] }> = {};
      target.exec(
        "CREATE TABLE test_sentinel (note TEXT NOT NULL); INSERT INTO test_sentinel VALUES ('kept')",
      );
      for (const table of tablesOf(target)) {
        const columns = columnsOf(target, table);
        if (table !== 'test_sentinel') {
          const rows = source.prepare(`SELECT ${columns.join(', ')} FROM ${table}`).all() as Record<
            string,
            unknown
          >[];
          const insert = target.prepare(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
          );
          for (const row of rows) insert.run(row);
        }
        kept[table] = { columns, rows: rowsOf(target, table, columns) };
      }
      source.close();
      target.close();
      if (k >= 1) assert.equal(kept.events?.rows.length, 4, 'the old database holds events');

      const db = AgentDatabase.open(file);
      try {
        assert.deepEqual(
          applied(db).map((r) => r.version),
          migrations.map((m) => m.version),
        );
        for (const [table, { columns, rows }] of Object.entries(kept)) {
          assert.deepEqual(rowsOf(db.sqlite, table, columns), rows, `${table} kept its rows`);
        }
      } finally {
        db.close();
      }

      const agent = await startAgent(config(dataDir));
      try {
        assert.deepEqual(verifyChain(agent.db).problems, []);
        const lastSeq = k >= 1 ? 4 : 0;
        const results = await agent.capture.capture('pos-1', [
          makeEvent({ id: 'after-upgrade', lines: [{ sku: 'SKU-1', qty: 1 }] }),
        ]);
        assert.deepEqual(results, [{ id: 'after-upgrade', status: 'accepted', seq: lastSeq + 1 }]);
        if (k >= 1) {
          const again = await agent.capture.capture('pos-1', [
            makeEvent({ id: 'r1', type: 'receipt', lines: [{ sku: 'SKU-1', qty: 10 }] }),
          ]);
          assert.deepEqual(again, [{ id: 'r1', status: 'duplicate', seq: 1 }]);
          assert.equal(
            (
              agent.db.sqlite
                .prepare("SELECT on_hand FROM stock_levels WHERE sku = 'SKU-1' AND location = 'S1'")
                .get() as {
                on_hand: number;
              }
            ).on_hand,
            6,
          );
        }
        assert.deepEqual(verifyChain(agent.db).problems, []);
      } finally {
        await agent.stop();
      }
    });
  }

  test('migration 0011 numbers existing items, keeps them active and moves each barcode to item_barcodes', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const file = join(dir.path, 'v10.db');
    const v10 = AgentDatabase.open(file, { migrations: migrations.slice(0, 10) });
    const put = v10.sqlite.prepare('INSERT INTO items (sku, name, barcode) VALUES (?, ?, ?)');
    put.run('B-TEE', 'Tee', '222');
    put.run('A-MUG', 'Mug', '111');
    put.run('C-CAP', null, null);
    // Nothing refused a shared barcode before: the first by SKU keeps it in item_barcodes, the other keeps it
    // where it was.
    put.run('D-DUP', 'Dup', '111');
    v10.close();
    const before = Date.now() - 1000;
    const db = AgentDatabase.open(file, { migrations: migrations.slice(0, 11) });
    try {
      const dated = db.sqlite.prepare('SELECT MIN(updated_at) AS t FROM items').get() as { t: number };
      assert.ok(dated.t >= before, 'existing items are dated when they were migrated');
      assert.deepEqual(
        db.sqlite
          .prepare('SELECT sku, name, barcode, is_active, source, change_seq FROM items ORDER BY sku')
          .all(),
        [
          { sku: 'A-MUG', name: 'Mug', barcode: '111', is_active: 1, source: 'legacy', change_seq: 1 },
          { sku: 'B-TEE', name: 'Tee', barcode: '222', is_active: 1, source: 'legacy', change_seq: 2 },
          { sku: 'C-CAP', name: null, barcode: null, is_active: 1, source: 'legacy', change_seq: 3 },
          { sku: 'D-DUP', name: 'Dup', barcode: '111', is_active: 1, source: 'legacy', change_seq: 4 },
        ],
      );
      assert.deepEqual(db.sqlite.prepare('SELECT barcode, sku FROM item_barcodes ORDER BY barcode').all(), [
        { barcode: '111', sku: 'A-MUG' },
        { barcode: '222', sku: 'B-TEE' },
      ]);
    } finally {
      db.close();
    }
  });

  test('migration 0002 gives existing dirty marks no attempts and no wait, so they are sent at once', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const file = join(dir.path, 'v1.db');
    const v1 = AgentDatabase.open(file, { migrations: migrations.slice(0, 1) });
    v1.sqlite
      .prepare(
        'INSERT INTO level_dirty (destination_id, sku, location, version, sent_version, marked_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run('shop', 'SKU-1', 'S1', 3, 1, 1_700_000_000_000);
    v1.close();
    const db = AgentDatabase.open(file, { migrations: migrations.slice(0, 2) });
    try {
      assert.deepEqual(db.sqlite.prepare('SELECT * FROM level_dirty').all(), [
        {
          destination_id: 'shop',
          sku: 'SKU-1',
          location: 'S1',
          version: 3,
          sent_version: 1,
          marked_at: 1_700_000_000_000,
          attempts: 0,
          next_attempt_at: 0,
        },
      ]);
    } finally {
      db.close();
    }
  });
});

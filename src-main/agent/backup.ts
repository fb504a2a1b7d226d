import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { verifyChain } from '../capture/hash-chain.js';
import { AgentDatabase } from '../db/agent-database.js';
import { AgentError } from '../platform/errors.js';
import { DATABASE_FILE } from './agent.js';
import { DataDirLock } from './data-dir-lock.js';
import { VERSION } from '../platform/version.js';

/** Where a database's event log ends: what `restore` compares to decide whether a backup is older. */
export type LogEnd = Readonly<{
  /** The last capture sequence number; 0 for an empty log. */
  lastSeq: number;
  /** The link hash of the last event, or null for an empty log. */
  lastHash: string | null;
  /** When the newest event was captured (epoch ms, the agent's clock), or null for an empty log. */
  newestReceivedAt: number | null;
  events: number;
}>;

export type BackupReport = Readonly<{ file: string; bytes: number; end: LogEnd }>;

export type RestoreOptions = Readonly<{
  dataDir: string;
  agentId: string;
  /** The backup file to restore. */
  backup: string;
  /** Restore even when the current database holds newer events than the backup. */
  isForced?: boolean;
  now?: Date;
}>;

export type RestoreReport = Readonly<{
  /** The database restored into the data directory. */
  database: string;
  /** Where the database that was replaced now lies (with its -wal/-shm beside it), or null if there was none. */
  keptAside: string | null;
  restored: LogEnd;
  replaced: LogEnd | null;
}>;

/** Reads where the event log of an open database ends, in one read transaction. */
export function readLogEnd(db: AgentDatabase | BetterSqlite3.Database): LogEnd {
  const sqlite = db instanceof AgentDatabase ? db.sqlite : db;
  return sqlite.transaction(() => {
    const last = sqlite
      .prepare('SELECT seq, hash, received_at FROM events ORDER BY seq DESC LIMIT 1')
      .get() as { seq: number; hash: string; received_at: number } | undefined;
    const maxReceived = sqlite.prepare('SELECT MAX(received_at) AS t, COUNT(*) AS n FROM events').get() as {
      t: number | null;
      n: number;
    };
    return {
      lastSeq: last?.seq ?? 0,
      lastHash: last?.hash ?? null,
      newestReceivedAt: maxReceived.t,
      events: maxReceived.n,
    };
  })();
}

/** Makes a file's content (or a folder's entries) durable. Folders cannot be fsynced on Windows; that is fine there. */
function fsyncPath(path: string, isDirectory = false): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (isDirectory) return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!isDirectory) throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the database of `dataDir` to `out` while the agent keeps running (or when it does not).
 *
 * Why `VACUUM INTO` on our own read-only connection, and not better-sqlite3's `db.backup()` or a request to
 * the running agent: in WAL mode a read transaction sees one snapshot and never blocks the writer, and
 * `VACUUM INTO` copies that snapshot in one statement, so the copy is consistent (every event acknowledged
 * before it began is in it, with its movements and outbox rows) however fast events arrive. The online backup
 * API instead restarts whenever another connection writes between its steps, so under continuous ingest it may
 * never finish; and going through the agent would put a long copy on the single writer's event loop. The
 * agent stays the only writer: this connection only reads.
 *
 * The copy is written under a temporary name, fsynced, checked with the hash chain and only then renamed to
 * `out`, so `out` is either a complete, verified backup or absent. An existing `out` is never overwritten.
 */
export function backupDatabase(dataDir: string, out: string): BackupReport {
  const source = join(dataDir, DATABASE_FILE);
  if (!existsSync(source))
    throw new AgentError('no_database', `No database at ${source}: there is nothing to back up yet.`);
  if (existsSync(out)) throw new AgentError('exists', `${out} already exists; choose another --out.`);
  mkdirSync(dirname(out), { recursive: true });
  const partial = join(dirname(out), `.${basename(out)}.partial`);
  rmSync(partial, { force: true });
  const db = AgentDatabase.open(source, { isReadonly: true });
  try {
    db.sqlite.prepare('VACUUM INTO ?').run(partial);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
  try {
    fsyncPath(partial);
    const end = checkBackup(partial);
    renameSync(partial, out);
    fsyncPath(dirname(out), true);
    return { file: out, bytes: statSync(out).size, end };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

/**
 * Checks that `file` is a whole Backroom database this version can run: SQLite's own structure check, a schema
 * version it knows, and an intact hash chain with levels matching their movements. Returns where its log ends;
 * throws an AgentError (`bad_backup`) naming the first problems otherwise.
 */
export function checkBackup(file: string): LogEnd {
  if (!existsSync(file)) throw new AgentError('not_found', `No backup at ${file}.`);
  let db: AgentDatabase;
  try {
    db = AgentDatabase.open(file, { isReadonly: true });
  } catch (error) {
    if (error instanceof AgentError && error.reason === 'database_too_new') throw error;
    throw new AgentError(
      'bad_backup',
      `${file} is not a Backroom database this version can read: ${(error as Error).message}`,
    );
  }
  try {
    const check = db.sqlite.pragma('quick_check', { simple: true }) as string;
    if (check !== 'ok')
      throw new AgentError('bad_backup', `${file} is damaged (SQLite quick_check: ${check}).`);
    const report = verifyChain(db, 5);
    if (!report.isOk) {
      const problems = report.problems.map((p) => `${p.seq === null ? '' : `event ${p.seq}: `}${p.problem}`);
      throw new AgentError(
        'bad_backup',
        `${file} fails verification (hash chain or levels):\n  ${problems.join('\n  ')}`,
        { problems },
      );
    }
    return readLogEnd(db);
  } catch (error) {
    if (error instanceof AgentError) throw error;
    throw new AgentError('bad_backup', `${file} cannot be read: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

function describeEnd(end: LogEnd): string {
  if (end.lastSeq === 0) return 'no events';
  const at =
    end.newestReceivedAt === null ? '' : `, newest captured ${new Date(end.newestReceivedAt).toISOString()}`;
  return `events up to seq ${end.lastSeq}${at}`;
}

/**
 * Whether the database ending at `current` holds anything the backup ending at `backup` lacks: a higher seq, a
 * newer capture time, or a different event at the backup's last seq (the two logs went separate ways).
 */
export function isNewerThan(current: LogEnd, backup: LogEnd, hashAtBackupEnd: string | null): boolean {
  if (current.lastSeq > backup.lastSeq) return true;
  if ((current.newestReceivedAt ?? 0) > (backup.newestReceivedAt ?? 0)) return true;
  return current.lastSeq === backup.lastSeq && hashAtBackupEnd !== backup.lastHash;
}

/**
 * Restores a backup into a data directory. Refuses while an agent runs there (it takes the data directory's
 * lock for the whole restore, so none can start meanwhile); refuses a backup that fails `checkBackup`; refuses
 * to replace a database that holds newer events than the backup unless `isForced`. The replaced database is
 * renamed, never deleted: `backroom.db.replaced-<time>` (its `-wal` and `-shm` renamed alike, so it still opens).
 */
export function restoreDatabase(options: RestoreOptions): RestoreReport {
  const { dataDir, backup } = options;
  const restored = checkBackup(backup);
  mkdirSync(dataDir, { recursive: true });
  let lock: DataDirLock;
  try {
    lock = DataDirLock.acquire(dataDir, options.agentId, VERSION);
  } catch (error) {
    if (error instanceof AgentError && error.reason === 'data_dir_locked') {
      throw new AgentError(
        'agent_running',
        `Cannot restore while an agent runs: ${error.message.replace(/ Stop it first, or use its address\.$/, '')} ` +
          'Stop it first (SIGTERM, or stop the service), then restore.',
        { ...error.details },
      );
    }
    throw error;
  }
  try {
    const target = join(dataDir, DATABASE_FILE);
    let replaced: LogEnd | null = null;
    if (existsSync(target)) {
      // Read raw, not through AgentDatabase.open: a database of a newer schema must still be compared (and kept).
      const current = new BetterSqlite3(target, { readonly: true, fileMustExist: true });
      try {
        replaced = readLogEnd(current);
        const atBackupEnd = current.prepare('SELECT hash FROM events WHERE seq = ?').get(restored.lastSeq) as
          { hash: string } | undefined;
        const hashAtEnd = restored.lastSeq === 0 ? null : (atBackupEnd?.hash ?? null);
        if (!options.isForced && isNewerThan(replaced, restored, hashAtEnd)) {
          throw new AgentError(
            'database_newer',
            `The database in ${dataDir} holds ${describeEnd(replaced)}; the backup ${backup} holds ` +
              `${describeEnd(restored)}. Restoring would drop what was captured after the backup. ` +
              'Add --force to restore anyway (the current database is kept aside, not deleted).',
            { current: replaced, backup: restored },
          );
        }
      } finally {
        current.close();
      }
    }
    const keptAside = existsSync(target) ? keepAside(target, options.now ?? new Date()) : null;
    // Copy under a temporary name in the same folder, fsync, then rename: the data directory never holds a
    // half-written backroom.db.
    const partial = `${target}.restoring`;
    rmSync(partial, { force: true });
    copyFileSync(backup, partial);
    fsyncPath(partial);
    renameSync(partial, target);
    fsyncPath(dataDir, true);
    return { database: target, keptAside, restored, replaced };
  } finally {
    lock.release();
  }
}

/**
 * Renames the database and its WAL files to `<file>.replaced-<time>`, `-wal` and `-shm` alike: SQLite finds a
 * WAL by the database's name plus `-wal`, so the kept copy still opens with everything it had committed.
 * Checkpoints first, so that the kept copy is usually one self-contained file.
 */
function keepAside(target: string, now: Date): string {
  try {
    const raw = new BetterSqlite3(target, { fileMustExist: true });
    try {
      raw.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      raw.close();
    }
  } catch {
    // A database that cannot be opened is kept aside as it is.
  }
  const aside = `${target}.replaced-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(target, aside);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(target + suffix)) renameSync(target + suffix, aside + suffix);
  }
  return aside;
}

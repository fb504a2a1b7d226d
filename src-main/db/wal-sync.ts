import { open, type FileHandle } from 'node:fs/promises';

/** Makes what was committed to the WAL durable; `sync()` resolves once every commit made before it is on disk. */
export type DurableSync = Readonly<{ sync: () => Promise<void>; close?: () => Promise<void> }>;

/**
 * Syncs a WAL-mode database's write-ahead log (`<file>-wal`) with fdatasync on libuv's thread pool, so the
 * writer's commits can skip their own fsync (`synchronous = NORMAL`) and the event loop never waits for the disk.
 *
 * Why this is enough: a WAL commit writes its frames and commit record to the WAL with write(2); only the fsync
 * is skipped. Once the WAL file's data is synced, the commit survives a power cut exactly as with
 * `synchronous = FULL` (recovery replays the WAL up to its last valid commit record). Frames an earlier
 * checkpoint already copied are in the database file, which the checkpoint synced before the WAL could restart.
 *
 * Calls are coalesced: while one sync runs, every caller that arrives waits for the next one, which starts when
 * the running one ends and covers all of them (a sync that started before a commit may not include it).
 */
export class WalSync implements DurableSync {
  readonly #walFile: string;
  readonly #dbFile: string;
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;
  #syncs = 0;
  #handle: FileHandle | null = null;

  constructor(dbFile: string) {
    this.#dbFile = dbFile;
    this.#walFile = `${dbFile}-wal`;
  }

  /** How many syncs ran (each covering one or more commits). */
  get syncs(): number {
    return this.#syncs;
  }

  sync(): Promise<void> {
    if (this.#running === null) return this.#start();
    this.#next ??= this.#running
      .catch(() => {})
      .then(() => {
        this.#next = null;
        return this.#start();
      });
    return this.#next;
  }

  #start(): Promise<void> {
    const running = this.#syncOnce().finally(() => {
      if (this.#running === running) this.#running = null;
    });
    this.#running = running;
    return running;
  }

  async #syncOnce(): Promise<void> {
    this.#syncs += 1;
    // The WAL is opened once and kept: SQLite truncates or rewrites it in place and deletes it only when the last
    // connection closes, and the agent's own connection stays open for as long as it captures (`close` first).
    if (this.#handle === null) {
      try {
        this.#handle = await open(this.#walFile, 'r');
      } catch (error) {
        // No WAL file yet: nothing is waiting in one; the database file holds everything committed.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        const db = await open(this.#dbFile, 'r');
        try {
          await db.datasync();
        } finally {
          await db.close();
        }
        return;
      }
    }
    await this.#handle.datasync();
  }

  /** Waits for the syncs under way and lets go of the WAL file. */
  async close(): Promise<void> {
    await Promise.allSettled([this.#running, this.#next]);
    await this.#handle?.close();
    this.#handle = null;
  }
}

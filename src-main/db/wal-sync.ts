import { open } from 'node:fs/promises';

/** Makes what was committed to the WAL durable; `sync()` resolves once every commit made before it is on disk. */
export type DurableSync = Readonly<{ sync: () => Promise<void> }>;

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
    // Opened per sync rather than kept: the path always names the live WAL, whatever SQLite did to the file.
    let handle;
    try {
      handle = await open(this.#walFile, 'r');
    } catch (error) {
      // No WAL file: nothing is waiting in one (it is created on the first write); the database file holds all.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      handle = await open(this.#dbFile, 'r');
    }
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}

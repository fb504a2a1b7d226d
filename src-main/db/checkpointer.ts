import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export type CheckpointerOptions = Readonly<{
  /** The database file (WAL mode). */
  file: string;
  /** How often to checkpoint. */
  intervalMs?: number;
}>;

// Runs in the worker: its own connection, PASSIVE checkpoints (they never block the writer), then a wait.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer);
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
    db.close();
    parentPort.close();
  }
});
`;

/**
 * Copies the WAL back into the database file from a worker thread, so that the agent's single writer never pays
 * for a checkpoint (writing and fsyncing the database file) inside a capture commit: with SQLite's automatic
 * checkpoints, every few thousand pages one unlucky commit (and every request waiting on it) would take several
 * times longer. The writer keeps a high automatic-checkpoint threshold as a safety net should the worker stop.
 */
export class Checkpointer {
  readonly #worker: Worker;
  #stopped: Promise<void> | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  static start(options: CheckpointerOptions, onError: (message: string) => void): Checkpointer {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_CODE, {
      eval: true,
      workerData: { driver, file: options.file, intervalMs: options.intervalMs ?? 250 },
    });
    worker.on('message', (message: { error?: string }) => {
      if (message.error !== undefined) onError(message.error);
    });
    worker.on('error', (error) => onError(error.message));
    // The agent must be able to exit even if the worker hangs in a checkpoint.
    worker.unref();
    return new Checkpointer(worker);
  }

  /** Runs a last checkpoint and ends the worker. */
  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.#worker.terminate().then(() => resolve()), 5000);
      this.#worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#worker.postMessage('stop');
    });
    return this.#stopped;
  }
}

import type { IngestResult } from '../../shared/api.js';
import { AgentError } from '../platform/errors.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { DurableSync } from '../db/wal-sync.js';
import type { CaptureItem, CaptureWriter } from './capture-writer.js';

type Outcome = { results: IngestResult[] } | { error: unknown };

type Job = {
  source: string;
  items: readonly CaptureItem[];
  resolve: (results: IngestResult[]) => void;
  reject: (error: unknown) => void;
};

export type CommitObserver = (info: { requests: number; events: number; seconds: number }) => void;

export type GroupCommitOptions = Readonly<{
  /** Most events written in one transaction; the rest wait for the next commit. Bounds each request's wait. */
  maxEventsPerCommit?: number;
  /** Called once a commit is durable (and before its requests are answered). */
  onCommit?: CommitObserver;
  /**
   * How commits become durable. Given, each commit skips its own fsync (`synchronous = NORMAL`) and its requests
   * are answered only after `durable.sync()` (a WAL sync on the thread pool) has resolved, so the event loop
   * parses, validates and gathers the next group while the disk works. Absent, each commit is fsynced inside
   * the transaction (`synchronous = FULL`), on the event loop.
   */
  durable?: DurableSync;
}>;

/**
 * Group commit: capture requests that arrive while a commit is under way are written together in the next
 * transaction and share its fsync, so durability does not cost throughput. A request waits at most for the
 * commit in progress and its own (both bounded by `maxEventsPerCommit`).
 *
 * If writing one request fails unexpectedly, only that request is answered with the error and the others still
 * commit (the batch is then written again with a savepoint per request). Promises resolve only once the commit
 * is on disk: after the commit's own fsync, or (with `durable`) after a WAL sync that began after the commit.
 * While a sync runs, the loop goes on parsing and validating, and the requests that arrive meanwhile are
 * gathered into the next group, committed as soon as the sync ends and synced in turn.
 */
export class GroupCommitter {
  readonly #db: AgentDatabase;
  readonly #writer: CaptureWriter;
  readonly #maxEvents: number;
  readonly #onCommit: CommitObserver | undefined;
  readonly #durable: DurableSync | undefined;
  #queue: Job[] = [];
  #isScheduled = false;
  #isClosed = false;
  #idleWaiters: (() => void)[] = [];
  /** Commits whose sync has not resolved yet. */
  #syncing = 0;
  #durableSeq: number;

  constructor(db: AgentDatabase, writer: CaptureWriter, options: GroupCommitOptions = {}) {
    this.#db = db;
    this.#writer = writer;
    this.#maxEvents = options.maxEventsPerCommit ?? 20_000;
    this.#onCommit = options.onCommit;
    this.#durable = options.durable;
    this.#durableSeq = writer.head.seq;
  }

  /**
   * The last capture seq known to be on disk. Everything up to it may leave the agent; an event above it is
   * committed but its sync is still running, and the dispatchers wait for it (power cut in between: the till
   * was not answered and sends it again, so nothing must have gone out for it).
   */
  get durableSeq(): number {
    return this.#durable === undefined ? this.#writer.head.seq : this.#durableSeq;
  }

  /** Queues one request's events; resolves with one result per item once they are durably stored. */
  submit(source: string, items: readonly CaptureItem[]): Promise<IngestResult[]> {
    if (this.#isClosed)
      return Promise.reject(new AgentError('unavailable', 'The agent is stopping; send again later.'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ source, items, resolve, reject });
      this.#schedule();
    });
  }

  /** Stops taking requests; resolves when everything queued has been committed. */
  async close(): Promise<void> {
    this.#isClosed = true;
    await this.whenIdle();
    await this.#durable?.close?.();
  }

  /** Resolves once nothing is queued. */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#isScheduled) return;
    // While a sync runs, requests are gathered rather than committed: none of them could be answered before the
    // next sync anyway, and one commit of the whole group when the sync ends writes each changed page once,
    // where a commit per turn of the loop would write the same index and table pages again and again.
    if (this.#syncing > 0) return;
    this.#isScheduled = true;
    // setImmediate, not a timer: everything that arrived in this turn of the event loop joins the commit, and no
    // request waits for a clock.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#isScheduled = false;
    const batch: Job[] = [];
    let events = 0;
    while (
      this.#queue.length > 0 &&
      (batch.length === 0 || events + this.#queue[0]!.items.length <= this.#maxEvents)
    ) {
      const job = this.#queue.shift()!;
      batch.push(job);
      events += job.items.length;
    }
    if (batch.length > 0) this.#commit(batch, events);
    this.#next();
  }

  /** After a commit or a sync: the next group if requests wait, else the idle waiters are told. */
  #next(): void {
    if (this.#queue.length > 0) this.#schedule();
    else this.#notifyIfIdle();
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && !this.#isScheduled && this.#syncing === 0;
  }

  #notifyIfIdle(): void {
    if (this.#isIdle()) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #commit(batch: Job[], events: number): void {
    const started = performance.now();
    const initial = this.#writer.head;
    const now = Date.now();
    let outcomes: Outcome[];
    const durable = this.#durable;
    if (durable !== undefined) this.#db.sqlite.exec('PRAGMA synchronous = NORMAL');
    try {
      outcomes = this.#writeFast(batch, now) ?? this.#writeIsolated(batch, now);
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is stored.
      this.#writer.resetTo(initial);
      for (const job of batch) job.reject(error);
      return;
    } finally {
      // Every other write on this connection (the dispatchers', the workbench's) keeps its own fsync.
      if (durable !== undefined) this.#db.sqlite.exec('PRAGMA synchronous = FULL');
    }
    const answer = () => {
      this.#onCommit?.({ requests: batch.length, events, seconds: (performance.now() - started) / 1000 });
      batch.forEach((job, i) => {
        const outcome = outcomes[i]!;
        if ('error' in outcome) job.reject(outcome.error);
        else job.resolve(outcome.results);
      });
    };
    if (durable === undefined) {
      answer();
      return;
    }
    const committedSeq = this.#writer.head.seq;
    this.#syncing += 1;
    durable.sync().then(
      () => {
        this.#durableSeq = Math.max(this.#durableSeq, committedSeq);
        this.#syncing -= 1;
        answer();
        this.#next();
      },
      (error: unknown) => {
        // Committed, but not known to be on disk: no request is acknowledged. A till sending again is answered
        // `duplicate` with the stored seq once a later sync succeeds.
        this.#syncing -= 1;
        const failure = new AgentError(
          'unavailable',
          `The events were written but could not be synced to disk (${(error as Error).message}); send them again.`,
        );
        for (const job of batch) job.reject(failure);
        this.#next();
      },
    );
  }

  /**
   * The common case: the whole batch in one transaction without savepoints. A savepoint makes SQLite copy every
   * page it changes into a sub-journal, which costs a good share of capture's CPU and is only needed when a
   * request fails. If one does, this attempt is rolled back completely and `undefined` returned, so that the
   * caller writes the batch again with a savepoint per request; a lone request is simply answered with its error.
   * A failure of the commit itself is thrown, as before.
   */
  #writeFast(batch: readonly Job[], now: number): Outcome[] | undefined {
    const initial = this.#writer.head;
    let hasRequestFailed = false;
    try {
      return this.#db.transaction(() => {
        const outcomes = batch.map((job): Outcome => {
          try {
            return { results: this.#writer.write(job.source, job.items, now) };
          } catch (error) {
            hasRequestFailed = true;
            throw error;
          }
        });
        this.#writer.saveHead();
        return outcomes;
      });
    } catch (error) {
      this.#writer.resetTo(initial);
      if (!hasRequestFailed) throw error;
      return batch.length === 1 ? [{ error }] : undefined;
    }
  }

  /** Each request in its own savepoint: one that fails is answered with its error, the others still commit. */
  #writeIsolated(batch: readonly Job[], now: number): Outcome[] {
    const outcomes: Outcome[] = [];
    this.#db.transaction(() => {
      for (const job of batch) {
        const before = this.#writer.head;
        try {
          outcomes.push({
            results: this.#db.transaction(() => this.#writer.write(job.source, job.items, now)),
          });
        } catch (error) {
          this.#writer.resetTo(before);
          outcomes.push({ error });
        }
      }
      this.#writer.saveHead();
    });
    return outcomes;
  }
}

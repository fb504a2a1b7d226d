import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleType,
  noJitterGenerator,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { assertNever } from '../../shared/events.js';
import type { Logger } from '../platform/logger.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type {
  Connector,
  DeliveryResult,
  LedgerItem,
  LevelItem,
  SendOutcome,
} from '../connectors/port/connector.js';
import { DeliveryPacing } from './delivery-pacing.js';
import type { DeliveryRepo } from './delivery-repo.js';
import type { RetryBudget } from './retry-budget.js';
import { ResultRecorder, type DispatchCounters } from './result-recorder.js';
import type { RetryPolicy } from './retry-policy.js';
import type { TokenBucket } from './token-bucket.js';

export type DispatcherOptions = Readonly<{
  destinationId: string;
  connector: Connector;
  db: AgentDatabase;
  repo: DeliveryRepo;
  exceptions: ExceptionsRepo;
  policy: RetryPolicy;
  /** The destination's rate limit; its rate is paced by AIMD (`token-bucket.ts`). */
  bucket: TokenBucket;
  /** The destination's retry budget. Default: 10 quick retries, half a token back per successful request. */
  retryBudget?: RetryBudget;
  logger: Logger;
  /** Level mode: the available-to-sell to publish for (sku, location), read at send time. */
  quantityFor?: (sku: string, location: string) => number;
  /** Called with each item's result (metrics). */
  onResult?: (kind: DeliveryResult['kind']) => void;
  /** Longest wait between looks at the queue when nothing wakes the dispatcher. */
  tickMs?: number;
  /**
   * Ledger lanes (locations) sent to at the same time. Each lane still has at most one request in flight, so
   * order within a lane holds; a lane stuck on a hanging or failing item no longer holds up the others.
   */
  maxConcurrentLanes?: number;
  /** A send taking longer is aborted (its outcome is unknown). */
  sendTimeoutMs?: number;
  /** Consecutive transient failures that open the breaker. */
  breakerThreshold?: number;
  /** The breaker's half-open probe waits grow from 1 s up to this. */
  breakerMaxDelayMs?: number;
}>;

/** Thrown inside the breaker so that it counts a transient failure; carries the outcome to record. */
class TransientFailure extends Error {
  constructor(readonly outcome: SendOutcome) {
    super('transient failure');
  }
}

const isTransient = (r: DeliveryResult | undefined) => r?.kind === 'retry' || r?.kind === 'unknown';

/**
 * One dispatcher per destination (modelled on Signal Desktop's JobManager): claims a batch from one lane under a
 * lease, sends it through the connector, records one result per item, and sleeps until the next item is due or
 * capture wakes it. Ledger lanes are per location and keep capture order: an item that must be retried holds
 * back the items after it in its lane (and only that lane); a rejected item leaves the lane as an exception, so
 * the rest flow. A transient failure is retried quickly (tens of milliseconds) while the destination's retry
 * budget lasts, and backs off exponentially once failures dominate (`delivery-pacing.ts`); a 429 pauses the whole
 * destination for its `Retry-After` and halves the sending rate, which successes raise again (AIMD). A circuit
 * breaker stops requests to a destination that keeps failing and probes it, half-open, at growing intervals, so
 * an hour-long outage costs a few dozen requests.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #abort = new AbortController();
  readonly #log: Logger;
  #wake: (() => void) | null = null;
  /** A wake that came while the loop was not asleep: the next sleep returns at once. */
  #hasPendingWake = false;
  /** Ledger sends in flight, one per lane. */
  readonly #tasks = new Set<Promise<void>>();
  #loop: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  #isIdle = false;
  /** Requests sent, by result kind of their first item (for metrics and tests). */
  readonly counters: DispatchCounters = {
    requests: 0,
    retries: 0,
    delivered: 0,
    failures: new Map<string, number>(),
    quickRetries: 0,
    backoffs: 0,
  };
  /** What each result means: the items' next state and the exceptions to raise. */
  readonly #results: ResultRecorder;
  /** Rate (AIMD), 429 pause and retry budget; restored from the database here, saved as they change. */
  readonly pacing: DeliveryPacing;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'dispatcher', destination: options.destinationId });
    this.pacing = new DeliveryPacing({
      destinationId: options.destinationId,
      repo: options.repo,
      bucket: options.bucket,
      policy: options.policy,
      ...(options.retryBudget ? { budget: options.retryBudget } : {}),
    });
    this.pacing.restore();
    this.#results = new ResultRecorder({
      ...options,
      pacing: this.pacing,
      logger: this.#log,
      counters: this.counters,
    });
    this.#breaker = circuitBreaker(handleType(TransientFailure), {
      // No jitter: cockatiel's default (decorrelated jitter) can wait almost 0 ms before a probe, so a down
      // destination would be probed far sooner than "1 s, doubling" promises.
      halfOpenAfter: new ExponentialBackoff({
        generator: noJitterGenerator,
        initialDelay: 1000,
        maxDelay: options.breakerMaxDelayMs ?? 60_000,
      }),
      breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
    });
  }

  get destinationId(): string {
    return this.#o.destinationId;
  }

  /** `closed`, `open`, `half_open` or `paused` (after an auth failure, until resumed). */
  get state(): 'closed' | 'open' | 'half_open' | 'paused' {
    if (this.#o.repo.pausedReason(this.#o.destinationId) !== null) return 'paused';
    switch (this.#breaker.state) {
      case CircuitState.Open:
      case CircuitState.Isolated:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half_open';
      case CircuitState.Closed:
        return 'closed';
      default:
        return assertNever(this.#breaker.state);
    }
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Looks at the queue now (capture calls this after each commit). */
  wake(): void {
    this.#isIdle = false;
    this.#hasPendingWake = true;
    this.#wake?.();
  }

  /**
   * Resumes a destination paused by an auth failure (after the credentials were fixed) and resolves its
   * exception with `resolution`; if the credentials are still refused, the next send raises a new one.
   */
  resume(resolution = 'delivery resumed'): void {
    this.#results.resume(resolution);
    this.wake();
  }

  /** Resolves once nothing is due (tests); items waiting for a later retry do not count as due. */
  waitForIdle(): Promise<void> {
    if (this.#isIdle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops: aborts the send in flight (its items go back to the queue, same keys) and waits for the loop. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    await Promise.all(this.#tasks);
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#abort.signal.aborted) return;
    if (this.#hasPendingWake) {
      this.#hasPendingWake = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = null;
    this.#hasPendingWake = false;
  }

  async #run(): Promise<void> {
    const tick = this.#o.tickMs ?? 1000;
    while (!this.#abort.signal.aborted) {
      try {
        const waitMs = await this.#step();
        if (waitMs > 0) {
          // A wait of a tick or more means nothing is due soon (an empty queue, or only later retries).
          if (waitMs >= tick && this.#tasks.size === 0) this.#setIdle();
          await this.#sleep(Math.min(waitMs, tick));
        }
      } catch (error) {
        this.#log.error({ err: error }, 'dispatch step failed; trying again shortly');
        await this.#sleep(tick);
      }
    }
    this.#setIdle();
  }

  #setIdle(): void {
    this.#isIdle = true;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Sends one batch if one is due; returns how long to wait before the next step (0: go on at once). */
  async #step(): Promise<number> {
    const now = Date.now();
    if (this.#o.repo.pausedReason(this.#o.destinationId) !== null) return 60_000;
    const bucketWait = this.#o.bucket.waitTime(1);
    if (bucketWait > 0) return bucketWait;
    return this.#o.connector.mode === 'ledger' ? this.#stepLedger(now) : this.#stepLevel(now);
  }

  async #stepLedger(now: number): Promise<number> {
    const connector = this.#o.connector;
    if (connector.mode !== 'ledger') return 0;
    // Every lane allowed is busy: a finishing send wakes the loop.
    if (this.#tasks.size >= (this.#o.maxConcurrentLanes ?? 4)) return this.#o.tickMs ?? 1000;
    const heads = this.#o.repo.laneHeads(this.#o.destinationId);
    if (heads.length === 0) return Number.POSITIVE_INFINITY;
    const due = heads.filter((h) => h.nextAttemptAt <= now);
    if (due.length === 0) return Math.min(...heads.map((h) => h.nextAttemptAt)) - now;
    // The lane whose head has waited longest goes first, so no location starves.
    const lane = due.reduce((a, b) => (b.id < a.id ? b : a));
    const timeout = this.#o.sendTimeoutMs ?? 30_000;
    const items = this.#o.repo.claimLane(
      this.#o.destinationId,
      lane.location,
      connector.maxBatch,
      now + timeout * 2,
      (item) => this.#results.raiseUnreadable(item, lane.location),
    );
    // Nothing claimable (the lane is busy): look again shortly rather than spin.
    if (items.length === 0) return 10;
    // The token is taken now, before the send starts, so concurrent lanes never overdraw the bucket.
    this.#o.bucket.take(1);
    const task = this.#sendLane(items, timeout).finally(() => {
      this.#tasks.delete(task);
      this.wake();
    });
    this.#tasks.add(task);
    return 0;
  }

  /** Sends one lane's batch and records its results; runs beside the sends of other lanes. */
  async #sendLane(items: readonly LedgerItem[], timeoutMs: number): Promise<void> {
    const connector = this.#o.connector;
    if (connector.mode !== 'ledger') return;
    try {
      const isRetry = items.some((item) => item.attempts > 0);
      const outcome = await this.#send(
        () => connector.send(items, this.#signal(timeoutMs)),
        items.length,
        isRetry,
      );
      if (outcome === null) {
        // Not sent (breaker open, or stopping): back in the queue untried, looked at again in a second.
        this.#o.db.transaction(() => {
          for (const item of items) this.#o.repo.markRetry(item.outboxId, Date.now() + 1000, null, false);
        });
        return;
      }
      this.#o.db.transaction(() => this.#results.recordLedger(items, outcome));
    } catch (error) {
      this.#log.error({ err: error }, 'a lane send failed; its items go back to the queue');
      if (this.#o.db.sqlite.open) {
        for (const item of items) this.#o.repo.markRetry(item.outboxId, Date.now() + 1000, null, false);
      }
    }
  }

  async #stepLevel(now: number): Promise<number> {
    const connector = this.#o.connector;
    if (connector.mode !== 'level') return 0;
    const marks = this.#o.repo.dueLevelMarks(this.#o.destinationId, now, connector.maxBatch);
    if (marks.length === 0) {
      const next = this.#o.repo.nextLevelDueAt(this.#o.destinationId);
      return next === null ? Number.POSITIVE_INFINITY : Math.max(1, next - now);
    }
    // The quantity is read now, at send time: every change before this moment is in it.
    const quantityFor = this.#o.quantityFor ?? (() => 0);
    const items: LevelItem[] = marks.map((m) => ({ ...m, quantity: quantityFor(m.sku, m.location) }));
    const timeout = this.#o.sendTimeoutMs ?? 30_000;
    this.#o.bucket.take(1);
    const isRetry = marks.some((m) => m.attempts > 0);
    const outcome = await this.#send(
      () => connector.send(items, this.#signal(timeout)),
      items.length,
      isRetry,
    );
    if (outcome === null) {
      // Nothing was sent (breaker open, or stopping): look again in a second, as a ledger lane does. A backoff
      // drawn from the attempts would often be ~0 ms here, and the dispatcher would spin on the marks.
      const at = Date.now() + 1000;
      this.#o.db.transaction(() => {
        for (const m of marks)
          this.#o.repo.markLevelRetry(this.#o.destinationId, m.sku, m.location, at, false);
      });
      return this.#abort.signal.aborted ? 0 : 1000;
    }
    this.#o.db.transaction(() => this.#results.recordLevel(items, marks, outcome));
    return 0;
  }

  #signal(timeoutMs: number): AbortSignal {
    return AbortSignal.any([this.#abort.signal, AbortSignal.timeout(timeoutMs)]);
  }

  /** Sends through the breaker (`isRetry`: it carries an item tried before); null when nothing was sent (breaker open, or stopping). */
  async #send(
    send: () => Promise<SendOutcome>,
    count: number,
    isRetry: boolean,
  ): Promise<SendOutcome | null> {
    if (this.#abort.signal.aborted) return null;
    try {
      return await this.#breaker.execute(async () => {
        this.counters.requests += 1;
        if (isRetry) this.counters.retries += 1;
        let outcome: SendOutcome;
        try {
          outcome = await send();
        } catch (error) {
          if (this.#abort.signal.aborted) throw error;
          const detail = `send failed: ${(error as Error).message}`;
          outcome = { results: Array.from({ length: count }, () => ({ kind: 'retry', detail }) as const) };
        }
        if (outcome.rate) this.#o.bucket.adjust(outcome.rate);
        if (isTransient(outcome.results[0])) throw new TransientFailure(outcome);
        return outcome;
      });
    } catch (error) {
      if (error instanceof TransientFailure) return error.outcome;
      if (error instanceof BrokenCircuitError) return null;
      if (this.#abort.signal.aborted) return null;
      throw error;
    }
  }
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { seededRandom } from '../support/seeded-random.js';

/** One event as the sink received it: a JSON object. */
export type SinkEvent = Readonly<Record<string, unknown>>;

/** A latency in milliseconds: fixed, or drawn uniformly from `[min, max]` for each request. */
export type Latency = number | Readonly<{ min: number; max: number }>;

/** How a `429` tells the client when to come back. */
export type RetryAfterFormat = 'seconds' | 'date' | 'none';

/** A token bucket: `burst` tokens at most, refilled continuously at `perSecond`; each request takes one. */
export type RateLimit = Readonly<{ perSecond: number; burst: number }>;

/**
 * The faults a sink injects. Every field can be given to `FaultSink.start` and changed while it runs with
 * `setFaults`. Rates are probabilities in `[0, 1]`.
 *
 * For each request that arrives, one number is drawn from the seeded generator and mapped onto the request-level
 * faults in this order: `rateReset`, `rateHang`, `rate5xx`, `rate429`, `rate408`, `rateAppliedThenLost` (so
 * their sum must not exceed 1); the rest of the range is a normal answer. Latency is drawn right after. Both draws
 * happen in arrival order, so the same seed and the same sequence of requests give the same faults.
 */
export type FaultSettings = {
  /** Delay before the sink acts on a request (answers, resets, hangs or applies). Default 0. */
  latencyMs: Latency;
  /** Chance that a request is answered `serverErrorStatus` without being applied. Default 0. */
  rate5xx: number;
  /** The status of an injected server error. Default 503. */
  serverErrorStatus: number;
  /** Chance that a request is answered `429` with `Retry-After`, without being applied. Default 0. */
  rate429: number;
  /**
   * What an injected `429` (and a rate-limited one) asks the client to wait, in whole seconds. With the `date`
   * form the announced date is rounded up to the next whole second, as an HTTP date cannot say less. Default 1.
   */
  retryAfterSeconds: number;
  /** `Retry-After` as delay-seconds (`"1"`), as an HTTP date, or left out. Default `seconds`. */
  retryAfterFormat: RetryAfterFormat;
  /** Chance that a request is answered `408` without being applied. Default 0. */
  rate408: number;
  /**
   * Chance that an event is rejected with `422`. Drawn per idempotency key from a hash of the seed and the key,
   * not from the request stream: a resent event gets the same verdict, as real validation would. Default 0.
   */
  rate422: number;
  /** Events for which this returns `true` are rejected with `422`, deterministically. Default `null`. */
  rejectWhen: ((event: SinkEvent) => boolean) | null;
  /** Chance that a request is accepted and never answered (until `hangMs`, `setDown(true)` or `stop()`). */
  rateHang: number;
  /** How long a hung request is held before its socket is destroyed; `null` holds it until stop. Default `null`. */
  hangMs: number | null;
  /** Chance that the connection is reset (TCP RST) instead of answered; nothing is applied. Default 0. */
  rateReset: number;
  /**
   * Chance of the ambiguous case: the request is applied and recorded, then its socket is destroyed, so the
   * client sees a connection error and cannot tell that it succeeded. Default 0.
   */
  rateAppliedThenLost: number;
  /** Answer an already-applied key with `409` instead of `200` (both mean delivered). Default `false`. */
  conflictOnDuplicate: boolean;
  /**
   * A token bucket checked when each POST arrives (one token a request, whatever its number of events); an
   * empty bucket is answered `429` with `Retry-After` in `retryAfterFormat` (the time until the next token,
   * rounded up to whole seconds) and recorded in `rateLimitViolations`. Setting it (again) refills the bucket.
   * Default `null` (no limit).
   */
  rateLimit: RateLimit | null;
};

/** Options of `FaultSink.start`: the initial faults, plus what is fixed for the sink's lifetime. */
export type FaultSinkOptions = Readonly<
  Partial<FaultSettings> & {
    /** Port on 127.0.0.1; 0 (the default) picks a free one, kept across `setDown(true)`/`setDown(false)`. */
    port?: number;
    /** Seed of the fault generator; the same seed and request sequence give the same faults. Default 1. */
    seed?: number;
    /**
     * When set, every POST must carry `X-Backroom-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with
     * this secret; a missing or wrong one is answered `401`. Can be changed with `setSecret`.
     */
    secret?: string;
    /** Start with the sink down: the port is reserved, then closed, so connections are refused. */
    down?: boolean;
    /**
     * Slack when judging whether a request came before an announced `Retry-After` deadline: the client and the
     * sink may read different clocks (monotonic against wall time) with millisecond granularity. Default 10.
     */
    earlyToleranceMs?: number;
    /** Largest request body; larger gets `413`. Default 32 MiB. */
    maxBodyBytes?: number;
  }
>;

/** What happened to one request. `pending` until the sink has decided. */
export type SinkOutcome =
  | 'pending'
  | 'applied'
  | 'duplicate'
  | 'rejected'
  | 'unauthorized'
  | 'bad_request'
  | 'method_not_allowed'
  | 'too_large'
  | 'rate_limited'
  | 'throttled'
  | 'server_error'
  | 'request_timeout'
  | 'hang'
  | 'reset'
  | 'applied_then_lost'
  | 'dropped';

/** One request the sink received, in arrival order. */
export type SinkRequest = Readonly<{
  /** Arrival time (epoch ms). */
  at: number;
  method: string;
  /** The URL path, without query. */
  path: string;
  outcome: SinkOutcome;
  /** The status answered, or `null` when no answer was sent (hang, reset, lost, dropped) or not yet. */
  status: number | null;
  /** Idempotency keys the request carried, once its body was read. */
  keys: readonly string[];
}>;

/** One applied event. */
export type AppliedEvent = Readonly<{
  key: string;
  body: SinkEvent;
  /** When the request carrying it arrived (epoch ms). */
  receivedAt: number;
  path: string;
}>;

/** Request counters. */
export type RequestCounts = Readonly<{
  total: number;
  /** Answered requests by status code. */
  byStatus: Readonly<Record<number, number>>;
  /** Every decided request by outcome class. */
  byOutcome: Readonly<Partial<Record<SinkOutcome, number>>>;
  byPath: Readonly<Record<string, number>>;
}>;

/** A request that arrived before a `Retry-After` deadline the sink had announced. */
export type EarlyRequest = Readonly<{ at: number; path: string; notBefore: number }>;

/** A request that arrived while the token bucket was empty. */
export type RateLimitViolation = Readonly<{ at: number; path: string }>;

/** Where applied events break the expected order within one group. */
export type OrderViolation = Readonly<{
  /** The group's value (`location` by default), stringified. */
  group: string;
  key: string;
  previous: unknown;
  value: unknown;
}>;

const DEFAULT_FAULTS: Readonly<FaultSettings> = {
  latencyMs: 0,
  rate5xx: 0,
  serverErrorStatus: 503,
  rate429: 0,
  retryAfterSeconds: 1,
  retryAfterFormat: 'seconds',
  rate408: 0,
  rate422: 0,
  rejectWhen: null,
  rateHang: 0,
  hangMs: null,
  rateReset: 0,
  rateAppliedThenLost: 0,
  conflictOnDuplicate: false,
  rateLimit: null,
};

/** The request-level faults, in the order their ranges are laid out on the unit interval. */
const REQUEST_FAULTS = [
  'rateReset',
  'rateHang',
  'rate5xx',
  'rate429',
  'rate408',
  'rateAppliedThenLost',
] as const;
type RequestFault = (typeof REQUEST_FAULTS)[number] | 'none';

/** Mutable twin of `SinkRequest`, kept inside the sink. */
type RequestEntry = { -readonly [K in keyof SinkRequest]: SinkRequest[K] };

type Answer = Readonly<{
  status: number;
  outcome: SinkOutcome;
  body: unknown;
  headers?: Record<string, string>;
}>;

/**
 * The `X-Backroom-Signature` value for `body` (CONTRACT.md, "Webhook destination"): `sha256=` and the hex
 * HMAC-SHA256 of the exact bytes sent.
 */
export function signBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The idempotency key of one event of a batch (`{ "events": [...] }`):
 * 1. its `idempotencyKey` field when that is a non-empty string;
 * 2. otherwise `${agentId}:${source}:${id}` when each of the three is a non-empty string or a number —
 *    the key CONTRACT.md puts in the `Idempotency-Key` header of a single request;
 * 3. otherwise `null`, and the whole batch is answered `400`.
 *
 * A single-event request takes its key from the `Idempotency-Key` header only; without one it gets `400`.
 */
export function batchEventKey(event: SinkEvent): string | null {
  const explicit = event['idempotencyKey'];
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  const { agentId, source, id } = event;
  const isPart = (v: unknown): v is string | number =>
    (typeof v === 'string' && v !== '') || typeof v === 'number';
  return isPart(agentId) && isPart(source) && isPart(id) ? `${agentId}:${source}:${id}` : null;
}

function isObject(value: unknown): value is SinkEvent {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A number in `[0, 1)` that depends only on `seed` and `text` (FNV-1a, then one mulberry32 step). */
function hashUnit(seed: number, text: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return seededRandom(h)();
}

function validateFaults(f: Readonly<FaultSettings>): void {
  const rate = (name: keyof FaultSettings, value: number) => {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  };
  for (const name of REQUEST_FAULTS) rate(name, f[name]);
  rate('rate422', f.rate422);
  const sum = REQUEST_FAULTS.reduce((total, name) => total + f[name], 0);
  if (sum > 1 + 1e-9)
    throw new RangeError(`the request-level rates (${REQUEST_FAULTS.join(', ')}) sum to ${sum} > 1`);
  const { min, max } = typeof f.latencyMs === 'number' ? { min: f.latencyMs, max: f.latencyMs } : f.latencyMs;
  if (!(min >= 0 && max >= min && Number.isFinite(max)))
    throw new RangeError(`latencyMs must be >= 0 with min <= max, got ${JSON.stringify(f.latencyMs)}`);
  if (!(Number.isInteger(f.retryAfterSeconds) && f.retryAfterSeconds >= 0))
    throw new RangeError(`retryAfterSeconds must be a whole number >= 0, got ${f.retryAfterSeconds}`);
  if (!(Number.isInteger(f.serverErrorStatus) && f.serverErrorStatus >= 500 && f.serverErrorStatus <= 599))
    throw new RangeError(`serverErrorStatus must be a 5xx status, got ${f.serverErrorStatus}`);
  if (f.hangMs !== null && !(f.hangMs >= 0 && Number.isFinite(f.hangMs)))
    throw new RangeError(`hangMs must be >= 0 or null, got ${f.hangMs}`);
  if (f.rateLimit !== null && !(f.rateLimit.perSecond > 0 && f.rateLimit.burst >= 1))
    throw new RangeError(`rateLimit needs perSecond > 0 and burst >= 1, got ${JSON.stringify(f.rateLimit)}`);
}

/** The fault fields of `source` that are not `undefined` (an `undefined` field leaves the current value alone). */
function pickFaults(source: Readonly<Partial<FaultSettings>>): Partial<FaultSettings> {
  const picked: Partial<Record<keyof FaultSettings, unknown>> = {};
  for (const name of Object.keys(DEFAULT_FAULTS) as (keyof FaultSettings)[])
    if (source[name] !== undefined) picked[name] = source[name];
  return picked as Partial<FaultSettings>;
}

/**
 * A fault-injecting HTTP destination for tests, the demo and benchmarks: a real `node:http` server on
 * 127.0.0.1 that speaks the webhook destination of CONTRACT.md, applies each idempotency key once, and can be
 * slow, fail by class, rate-limit, hang, reset, lose answers after applying, or go down entirely.
 *
 * Request handling, in order: non-POST → `405`; token bucket taken and faults drawn on arrival; the body is
 * read and the drawn latency waited; empty bucket → `429`; the drawn request-level fault (reset, hang, `5xx`,
 * `429`, `408`); signature (`401`); JSON and keys (`400`); already-applied keys are duplicates (`200`, or `409`
 * with `conflictOnDuplicate`) and are never judged again; rejection (`rejectWhen`, `rate422` → `422`); apply;
 * then, with the applied-then-lost fault and something newly applied, the socket is destroyed instead of answered
 * (a request that applied nothing is answered as usual).
 *
 * A batch is atomic: if any of its new events is rejected, nothing of it is applied and the answer is `422` with
 * `rejected: [{ index, key, message }]` naming each rejected event, so a client can set those aside and resend
 * the rest. Otherwise the answer is `200` with `results: [{ key, status: 'applied' | 'duplicate' }]` (or `409`
 * when every event was already applied and `conflictOnDuplicate` is on).
 *
 * @example
 * const sink = await FaultSink.start({ secret: 's3cret', seed: 7, rate5xx: 0.1, latencyMs: { min: 5, max: 20 } });
 * // ... point a webhook destination at sink.url, run traffic ...
 * await sink.waitFor((s) => s.applied.length === 100, 10_000);
 * assert.ok(sink.isOrderedBy('seq'));
 * await sink.stop();
 */
export class FaultSink {
  readonly #seed: number;
  readonly #random: () => number;
  readonly #earlyToleranceMs: number;
  readonly #maxBodyBytes: number;
  #faults: Readonly<FaultSettings>;
  #secret: string | undefined;

  #server: Server | null = null;
  #port: number;
  #isStopped = false;
  #lifecycle: Promise<void> = Promise.resolve();
  readonly #sockets = new Set<Socket>();
  /** Pending sleeps (latency, hangMs); cancelling one resolves it with `false`. */
  readonly #sleeps = new Map<NodeJS.Timeout, (hasElapsed: boolean) => void>();

  readonly #applied: AppliedEvent[] = [];
  readonly #appliedKeys = new Set<string>();
  readonly #received = new Map<string, number>();
  #duplicates = 0;
  readonly #log: RequestEntry[] = [];
  readonly #byStatus: Record<number, number> = {};
  readonly #byOutcome: Partial<Record<SinkOutcome, number>> = {};
  readonly #byPath: Record<string, number> = {};
  readonly #early: EarlyRequest[] = [];
  readonly #violations: RateLimitViolation[] = [];
  /** The latest `Retry-After` deadline announced (epoch ms). */
  #notBefore = 0;
  #tokens = 0;
  #tokensAt = 0;
  /** Errors thrown by the sink's own request handling (bugs); `stop()` rejects with them. */
  readonly #internalErrors: unknown[] = [];

  private constructor(options: FaultSinkOptions) {
    this.#port = options.port ?? 0;
    this.#seed = options.seed ?? 1;
    this.#random = seededRandom(this.#seed);
    this.#secret = options.secret;
    this.#earlyToleranceMs = options.earlyToleranceMs ?? 10;
    this.#maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.#faults = { ...DEFAULT_FAULTS, ...pickFaults(options) };
    validateFaults(this.#faults);
    this.#fillBucket();
  }

  /**
   * Starts a sink listening on 127.0.0.1 (a free port unless `port` is given). With `down: true` the port is
   * reserved and closed again, so the sink starts refusing connections until `setDown(false)`.
   */
  static async start(options: FaultSinkOptions = {}): Promise<FaultSink> {
    const sink = new FaultSink(options);
    await sink.#listen();
    if (options.down === true) await sink.setDown(true);
    return sink;
  }

  /** Base URL, like `http://127.0.0.1:41234`; stays the same while the sink is down and after it is back. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The port; the same across outages. */
  get port(): number {
    return this.#port;
  }

  /** Whether the sink is down (refusing connections). */
  get isDown(): boolean {
    return this.#server === null && !this.#isStopped;
  }

  /** The current fault settings. */
  get faults(): Readonly<FaultSettings> {
    return this.#faults;
  }

  /**
   * Changes some fault settings at run time; fields left out (or `undefined`) keep their value. Throws a
   * `RangeError`, changing nothing, when the result is invalid (a rate outside `[0, 1]`, request-level rates
   * summing over 1, ...). Giving `rateLimit` refills the bucket.
   *
   * @example
   * sink.setFaults({ rate5xx: 0, rate429: 1, retryAfterFormat: 'date' });
   */
  setFaults(partial: Readonly<Partial<FaultSettings>>): void {
    const changes = pickFaults(partial);
    const next = { ...this.#faults, ...changes };
    validateFaults(next);
    this.#faults = next;
    if ('rateLimit' in changes) this.#fillBucket();
  }

  /** Sets (or, with `undefined`, removes) the secret that signatures are checked against. */
  setSecret(secret: string | undefined): void {
    this.#secret = secret;
  }

  /**
   * Takes the whole sink down or brings it back. Down: the listening socket is closed and every open connection
   * (hung ones too) destroyed; requests waiting on latency are dropped unapplied; a client now gets
   * `ECONNREFUSED`. Up: the sink listens again on the same port, with its records intact.
   */
  setDown(isDown: boolean): Promise<void> {
    return this.#serialize(async () => {
      if (this.#isStopped) throw new Error('the sink is stopped');
      if (isDown) await this.#close();
      else if (this.#server === null) await this.#listen();
    });
  }

  /**
   * Stops the sink for good: closes the listener, destroys every socket (hung ones too), cancels timers. Safe to
   * call twice. Rejects if the sink's own request handling threw at some point (a bug in the sink, not a fault).
   */
  async stop(): Promise<void> {
    await this.#serialize(async () => {
      this.#isStopped = true;
      await this.#close();
    });
    if (this.#internalErrors.length > 0)
      throw new AggregateError(this.#internalErrors, 'FaultSink: request handling failed');
  }

  /** Every applied event, in the order applied. */
  get applied(): readonly AppliedEvent[] {
    return this.#applied;
  }

  /** How many times `key` was applied: 1 once delivered, 0 if never; never more, as duplicates are not applied. */
  appliedCount(key: string): number {
    return this.#appliedKeys.has(key) ? 1 : 0;
  }

  /** How many times an event with `key` reached the sink's idempotency check (applied, duplicate or rejected). */
  receivedCount(key: string): number {
    return this.#received.get(key) ?? 0;
  }

  /** How many events arrived again after their key had been applied (answered as delivered, not re-applied). */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** Request counters: total, by answered status, by outcome class, by path. A fresh copy on each read. */
  get requests(): RequestCounts {
    return {
      total: this.#log.length,
      byStatus: { ...this.#byStatus },
      byOutcome: { ...this.#byOutcome },
      byPath: { ...this.#byPath },
    };
  }

  /** Every request received, in arrival order, with its outcome. */
  get log(): readonly SinkRequest[] {
    return this.#log;
  }

  /** Arrival times (epoch ms) of every request, in order. */
  get requestTimes(): readonly number[] {
    return this.#log.map((entry) => entry.at);
  }

  /**
   * Requests that arrived before the latest announced `Retry-After` deadline (less `earlyToleranceMs`). A
   * client that honours `Retry-After` leaves this empty — though with several requests in flight, one sent
   * before the client saw the `429` also lands here.
   */
  get earlyRequests(): readonly EarlyRequest[] {
    return this.#early;
  }

  /** Requests that arrived while the token bucket was empty (each answered `429`). */
  get rateLimitViolations(): readonly RateLimitViolation[] {
    return this.#violations;
  }

  /**
   * Whether, within each group (events with the same `groupBy` field, `location` by default), the applied
   * values of `field` (`seq` by default) strictly increase in the order applied — "in capture order per
   * location". An event whose `field` is not a finite number breaks the order.
   */
  isOrderedBy(field = 'seq', groupBy = 'location'): boolean {
    return this.orderViolations(field, groupBy).length === 0;
  }

  /** The places where `isOrderedBy(field, groupBy)` fails, for an assertion message. */
  orderViolations(field = 'seq', groupBy = 'location'): readonly OrderViolation[] {
    const last = new Map<string, unknown>();
    const violations: OrderViolation[] = [];
    for (const { key, body } of this.#applied) {
      const group = String(body[groupBy]);
      const value = body[field];
      const previous = last.get(group);
      const isNumber = typeof value === 'number' && Number.isFinite(value);
      if (!isNumber || (typeof previous === 'number' && value <= previous))
        violations.push({ group, key, previous, value });
      last.set(group, value);
    }
    return violations;
  }

  /**
   * Polls `predicate` against the sink every `intervalMs` until it holds; rejects once `timeoutMs` has passed.
   *
   * @example
   * await sink.waitFor((s) => s.appliedCount('a:pos-1:e-1') === 1, 5_000);
   */
  async waitFor(predicate: (sink: FaultSink) => boolean, timeoutMs = 5_000, intervalMs = 10): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (predicate(this)) return;
      if (Date.now() >= deadline)
        throw new Error(
          `FaultSink.waitFor: condition not met within ${timeoutMs} ms ` +
            `(applied ${this.#applied.length}, requests ${this.#log.length}, duplicates ${this.#duplicates})`,
        );
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))),
      );
    }
  }

  // ---- lifecycle ----

  /** Runs lifecycle changes one after another, so a quick down/up/stop never listens twice on the port. */
  #serialize(change: () => Promise<void>): Promise<void> {
    const done = this.#lifecycle.then(change);
    this.#lifecycle = done.catch(() => undefined);
    return done;
  }

  async #listen(): Promise<void> {
    const server = createServer((req, res) => this.#onRequest(req, res));
    // Hung requests are held on purpose; no server-side timeout may answer or close them behind our back.
    server.requestTimeout = 0;
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the sink has no TCP address');
    this.#port = address.port;
    this.#server = server;
  }

  async #close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const [timer, resolve] of this.#sleeps) {
      clearTimeout(timer);
      resolve(false);
    }
    this.#sleeps.clear();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server === null) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits `ms`; resolves `false` instead if the sink goes down or stops first. */
  #sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeps.delete(timer);
        resolve(true);
      }, ms);
      this.#sleeps.set(timer, resolve);
    });
  }

  // ---- request handling ----

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const at = Date.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: RequestEntry = {
      at,
      method: req.method ?? '',
      path,
      outcome: 'pending',
      status: null,
      keys: [],
    };
    this.#log.push(entry);
    this.#byPath[path] = (this.#byPath[path] ?? 0) + 1;
    if (at + this.#earlyToleranceMs < this.#notBefore)
      this.#early.push({ at, path, notBefore: this.#notBefore });

    if (req.method !== 'POST') {
      req.resume();
      this.#answer(res, entry, {
        status: 405,
        outcome: 'method_not_allowed',
        body: error('method_not_allowed'),
      });
      return;
    }
    // Drawn now, in arrival order, so the faults repeat for a given seed whatever the body timing.
    const limitedForS = this.#takeToken(at);
    if (limitedForS !== null) this.#violations.push({ at, path });
    const fault = this.#drawFault();
    const latencyMs = this.#drawLatency();
    this.#detach(this.#handle(req, res, entry, { limitedForS, fault, latencyMs }), req.socket);
  }

  async #handle(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RequestEntry,
    draw: Readonly<{ limitedForS: number | null; fault: RequestFault; latencyMs: number }>,
  ): Promise<void> {
    const raw = await readBody(req, this.#maxBodyBytes);
    if (raw === null) return this.#finish(entry, 'dropped', null);
    if (draw.latencyMs > 0 && !(await this.#sleep(draw.latencyMs)))
      return this.#finish(entry, 'dropped', null);
    if (raw === 'too_large')
      return this.#answer(res, entry, { status: 413, outcome: 'too_large', body: error('too_large') }, true);

    if (draw.limitedForS !== null)
      return this.#answer(res, entry, {
        status: 429,
        outcome: 'rate_limited',
        body: error('rate_limited'),
        headers: this.#retryAfter(draw.limitedForS),
      });

    switch (draw.fault) {
      case 'rateReset':
        this.#finish(entry, 'reset', null);
        req.socket.resetAndDestroy();
        return;
      case 'rateHang': {
        this.#finish(entry, 'hang', null);
        const { hangMs } = this.#faults;
        if (hangMs !== null && (await this.#sleep(hangMs))) req.socket.destroy();
        return;
      }
      case 'rate5xx':
        return this.#answer(res, entry, {
          status: this.#faults.serverErrorStatus,
          outcome: 'server_error',
          body: error('server_error'),
        });
      case 'rate429':
        return this.#answer(res, entry, {
          status: 429,
          outcome: 'throttled',
          body: error('throttled'),
          headers: this.#retryAfter(this.#faults.retryAfterSeconds),
        });
      case 'rate408':
        return this.#answer(
          res,
          entry,
          { status: 408, outcome: 'request_timeout', body: error('request_timeout') },
          true,
        );
      case 'rateAppliedThenLost':
      case 'none':
        break;
      default:
        return assertNever(draw.fault);
    }

    if (this.#secret !== undefined && !isSignedBy(this.#secret, raw, req.headers['x-backroom-signature']))
      return this.#answer(res, entry, { status: 401, outcome: 'unauthorized', body: error('bad_signature') });

    const parsed = parseEvents(raw, req.headers['idempotency-key']);
    if ('problem' in parsed)
      return this.#answer(res, entry, {
        status: 400,
        outcome: 'bad_request',
        body: error('bad_request', parsed.problem),
      });
    entry.keys = parsed.events.map((e) => e.key);

    const answer = this.#apply(parsed, entry);
    if (answer.outcome === 'applied' && draw.fault === 'rateAppliedThenLost') {
      this.#finish(entry, 'applied_then_lost', null);
      req.socket.destroy();
      return;
    }
    this.#answer(res, entry, answer);
  }

  /** Applies the events of one request (all or none) and says how to answer. */
  #apply(parsed: ParsedEvents, entry: RequestEntry): Answer {
    const seen = new Set<string>();
    const verdicts = parsed.events.map(({ key, event }, index) => {
      this.#received.set(key, (this.#received.get(key) ?? 0) + 1);
      const isDuplicate = this.#appliedKeys.has(key) || seen.has(key);
      seen.add(key);
      if (isDuplicate) return { index, key, event, verdict: 'duplicate' as const };
      const isRejected =
        this.#faults.rejectWhen?.(event) === true ||
        (this.#faults.rate422 > 0 && hashUnit(this.#seed, key) < this.#faults.rate422);
      return { index, key, event, verdict: isRejected ? ('rejected' as const) : ('applied' as const) };
    });

    const rejected = verdicts.filter((v) => v.verdict === 'rejected');
    if (rejected.length > 0)
      return {
        status: 422,
        outcome: 'rejected',
        body: {
          ...error('rejected', `${rejected.length} event(s) rejected; nothing of this request was applied`),
          rejected: rejected.map(({ index, key }) => ({ index, key, message: 'rejected by the sink' })),
        },
      };

    for (const { key, event, verdict } of verdicts) {
      if (verdict === 'duplicate') {
        this.#duplicates += 1;
        continue;
      }
      this.#appliedKeys.add(key);
      this.#applied.push({ key, body: event, receivedAt: entry.at, path: entry.path });
    }
    const isAllDuplicate = verdicts.every((v) => v.verdict === 'duplicate');
    const status = isAllDuplicate && this.#faults.conflictOnDuplicate ? 409 : 200;
    const outcome = isAllDuplicate ? 'duplicate' : 'applied';
    const body = parsed.isBatch
      ? { results: verdicts.map(({ key, verdict }) => ({ key, status: verdict })) }
      : { key: verdicts[0]?.key, status: verdicts[0]?.verdict };
    return { status, outcome, body };
  }

  #answer(res: ServerResponse, entry: RequestEntry, answer: Answer, shouldClose = false): void {
    this.#finish(entry, answer.outcome, answer.status);
    if (res.destroyed || res.headersSent) return;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...answer.headers };
    if (shouldClose) headers['connection'] = 'close';
    res.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
  }

  /**
   * Runs a request handler without awaiting it (the http server does not await handlers). A failure is a bug in
   * the sink: the connection is destroyed, so the client sees an error rather than a hang, and `stop()` reports it.
   */
  #detach(work: Promise<void>, socket: Socket): void {
    work.catch((cause: unknown) => {
      this.#internalErrors.push(cause);
      socket.destroy();
    });
  }

  #finish(entry: RequestEntry, outcome: SinkOutcome, status: number | null): void {
    entry.outcome = outcome;
    entry.status = status;
    this.#byOutcome[outcome] = (this.#byOutcome[outcome] ?? 0) + 1;
    if (status !== null) this.#byStatus[status] = (this.#byStatus[status] ?? 0) + 1;
  }

  /** The `Retry-After` header for a wait of `seconds`, recording the deadline it announces. */
  #retryAfter(seconds: number): Record<string, string> {
    const format = this.#faults.retryAfterFormat;
    if (format === 'none') return {};
    const now = Date.now();
    if (format === 'seconds') {
      this.#notBefore = Math.max(this.#notBefore, now + seconds * 1000);
      return { 'retry-after': String(seconds) };
    }
    // An HTTP date has whole seconds: round up, so the date never asks for less than `seconds`.
    const deadline = Math.ceil((now + seconds * 1000) / 1000) * 1000;
    this.#notBefore = Math.max(this.#notBefore, deadline);
    return { 'retry-after': new Date(deadline).toUTCString() };
  }

  #fillBucket(): void {
    this.#tokens = this.#faults.rateLimit?.burst ?? 0;
    this.#tokensAt = Date.now();
  }

  /**
   * Takes a token from the bucket: `null` when one was there (always, without a rate limit), otherwise the
   * whole seconds until the next token.
   */
  #takeToken(now: number): number | null {
    const limit = this.#faults.rateLimit;
    if (limit === null) return null;
    this.#tokens = Math.min(
      limit.burst,
      this.#tokens + (Math.max(0, now - this.#tokensAt) / 1000) * limit.perSecond,
    );
    this.#tokensAt = now;
    if (this.#tokens < 1) return Math.max(1, Math.ceil((1 - this.#tokens) / limit.perSecond));
    this.#tokens -= 1;
    return null;
  }

  #drawFault(): RequestFault {
    const u = this.#random();
    let edge = 0;
    for (const name of REQUEST_FAULTS) {
      edge += this.#faults[name];
      if (u < edge) return name;
    }
    return 'none';
  }

  #drawLatency(): number {
    const latency = this.#faults.latencyMs;
    if (typeof latency === 'number') return latency;
    return latency.min + this.#random() * (latency.max - latency.min);
  }
}

type ParsedEvents = Readonly<{
  isBatch: boolean;
  events: readonly Readonly<{ key: string; event: SinkEvent }>[];
}>;

/**
 * Reads one event (key from the header) or a batch `{ "events": [...] }` (keys per `batchEventKey`). A level
 * destination's batch `{ "levels": [...] }` (stock level updates, each with its `idempotencyKey`) is read the
 * same way.
 */
function parseEvents(raw: Buffer, header: string | string[] | undefined): ParsedEvents | { problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return { problem: 'the body is not JSON' };
  }
  if (!isObject(body)) return { problem: 'the body must be a JSON object: one event or { "events": [...] }' };
  const list = body['events'] ?? body['levels'];
  if (Array.isArray(list)) {
    if (list.length === 0) return { problem: 'the batch has no events' };
    const events: { key: string; event: SinkEvent }[] = [];
    for (const [index, event] of list.entries()) {
      if (!isObject(event)) return { problem: `events[${index}] is not an object` };
      const key = batchEventKey(event);
      if (key === null)
        return { problem: `events[${index}] has no idempotencyKey (nor agentId, source and id)` };
      events.push({ key, event });
    }
    return { isBatch: true, events };
  }
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || key === '') return { problem: 'the Idempotency-Key header is missing' };
  return { isBatch: false, events: [{ key, event: body }] };
}

function isSignedBy(secret: string, raw: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signBody(secret, raw));
  const given = Buffer.from(header.trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The whole body; `null` when the client went away first; `too_large` past `maxBytes` (the rest is drained). */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too_large' | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size <= maxBytes) chunks.push(buffer);
    }
  } catch {
    return null;
  }
  return size > maxBytes ? 'too_large' : Buffer.concat(chunks);
}

function error(reason: string, message: string = reason.replaceAll('_', ' ')): Record<string, string> {
  return { type: 'error', reason, message };
}

function assertNever(value: never): never {
  throw new Error(`unexpected value ${String(value)}`);
}

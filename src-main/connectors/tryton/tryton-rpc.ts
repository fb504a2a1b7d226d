import { z } from 'zod';
import type { Logger } from '../../platform/logger.js';
import { parseRetryAfter } from '../http/classify-status.js';
import { classifyTransportError } from '../http/classify-transport-error.js';
import { createHttpClient, type HttpClient } from '../http/create-http-client.js';
import { httpAnswer, type HttpAnswer } from '../http/http-answer.js';

/**
 * Why a Tryton call failed, in the terms the connector classifies by:
 * - `refused`: Tryton raised a `UserError` (validation, a domain, a missing field): the same call fails again.
 * - `warning`: Tryton raised a `UserWarning` that was not acknowledged (only from `call`, never from
 *   `callAcknowledging`, which acknowledges it).
 * - `auth`: the login was refused (wrong user or password), or a new session was refused too.
 * - `rate_limited`: 429 (Tryton limits logins), with Retry-After when given.
 * - `transient`: nothing was applied and a later try may work: connection refused, a timeout before the request
 *   was sent, 5xx, a `ConcurrencyException`, a server exception (SQLite busy, a deadlock), a failed read.
 * - `unknown`: a write was sent and no usable answer came back (timeout, connection cut, unreadable answer):
 *   Tryton may or may not have applied it.
 */
export type TrytonFailureKind = 'refused' | 'warning' | 'auth' | 'rate_limited' | 'transient' | 'unknown';

/** A failed Tryton call; `message` is in words staff can act on. */
export class TrytonCallError extends Error {
  readonly kind: TrytonFailureKind;
  /** For `rate_limited`: the wait Tryton asked for, when it said. */
  readonly retryAfterMs: number | null;
  /** For `warning`: the warning's name, which `res.user.warning` acknowledges. */
  readonly warningName: string | null;

  constructor(
    kind: TrytonFailureKind,
    message: string,
    extra: Readonly<{ retryAfterMs?: number | null; warningName?: string | null }> = {},
  ) {
    super(message);
    this.name = 'TrytonCallError';
    this.kind = kind;
    this.retryAfterMs = extra.retryAfterMs ?? null;
    this.warningName = extra.warningName ?? null;
  }
}

export type TrytonRpcOptions = Readonly<{
  /** The server's base URL (`http://erp:8000/`); calls go to `<url>/<database>/`. */
  url: string;
  database: string;
  username: string;
  password: string;
  /** Sent in the user agent. */
  agentId: string;
  /** Per-request timeout; a write that times out after it was sent is `unknown`. Default 20 s. */
  timeoutMs?: number;
  logger: Logger;
}>;

/** Options of one call. */
export type CallOptions = Readonly<{
  signal: AbortSignal;
  /**
   * Whether the call changes data. A write that fails after it was sent is `unknown` (it may have been applied);
   * a read that fails is `transient`.
   */
  isWrite: boolean;
  /** Keys added to the user's context (Tryton's `locations`, `stock_date_end`, ...). */
  context?: Readonly<Record<string, unknown>>;
}>;

/** A Tryton date as its JSON-RPC encodes it. */
export const trytonDateSchema = z.object({
  __class__: z.literal('date'),
  year: z.number().int(),
  month: z.number().int(),
  day: z.number().int(),
});
export type TrytonDate = z.output<typeof trytonDateSchema>;

/** A Decimal as Tryton's JSON-RPC encodes it. */
export function trytonDecimal(value: string): Readonly<{ __class__: 'Decimal'; decimal: string }> {
  return { __class__: 'Decimal', decimal: value };
}

const envelopeSchema = z.union([
  z.object({ id: z.unknown(), result: z.unknown() }),
  z.object({ id: z.unknown(), error: z.tuple([z.unknown(), z.unknown()]) }),
]);
const loginSchema = z.tuple([z.number().int().positive(), z.string().min(1)]);
const preferencesSchema = z.record(z.string(), z.unknown());
/** `UserError`: (message, description, domain); `UserWarning`: (name, message, description). */
const userErrorArgs = z.tuple([z.string(), z.string().nullish()]).rest(z.unknown());
const userWarningArgs = z.tuple([z.string(), z.string(), z.string().nullish()]).rest(z.unknown());
const loginErrorArgs = z.tuple([z.string(), z.string()]).rest(z.unknown());

type Session = Readonly<{ header: string; userId: number; context: Readonly<Record<string, unknown>> }>;
/** A login in progress or done; `value` is set once it succeeded. */
type PendingSession = { readonly promise: Promise<Session>; value: Session | null };

/** Most warnings acknowledged for one call; Tryton raises a handful at most (one per check), never endlessly. */
const MAX_WARNINGS = 5;

/** "the answer" in a message: Tryton's own words, first line, bounded. */
function words(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * A JSON-RPC client of one Tryton database, as the Tryton desktop client talks to it (Tryton 6.0): it logs in
 * with `common.db.login` (`[username, { password }]` → `[user id, session]`), sends
 * `Authorization: Session base64(username:user id:session)`, and passes the user's preferences as the context of
 * every call. A session that expired (401/403) is renewed once, by one login shared by concurrent calls.
 *
 * Every answer is parsed with zod; every failure is a `TrytonCallError` whose `kind` says what the caller may do
 * (see `TrytonFailureKind`). got's own retries are off: the delivery engine owns retries.
 */
export class TrytonRpc {
  readonly #options: TrytonRpcOptions;
  readonly #http: HttpClient;
  readonly #endpoint: string;
  #session: PendingSession | null = null;
  #nextId = 1;

  constructor(options: TrytonRpcOptions) {
    this.#options = options;
    const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
    this.#endpoint = new URL(`${encodeURIComponent(options.database)}/`, base).toString();
    this.#http = createHttpClient({
      agentId: options.agentId,
      timeoutMs: options.timeoutMs ?? 20_000,
      headers: { 'content-type': 'application/json' },
    });
  }

  /** The logged-in user's id (logging in first if needed); warnings are acknowledged in its name. */
  async userId(signal: AbortSignal): Promise<number> {
    return (await this.#currentSession(signal)).userId;
  }

  /** The user's context (company, language, ...) as Tryton gave it at login. */
  async userContext(signal: AbortSignal): Promise<Readonly<Record<string, unknown>>> {
    return (await this.#currentSession(signal)).context;
  }

  /**
   * Calls `model.<model>.<method>(...args, context)` and parses the result with `schema`.
   *
   * @example await rpc.call(z.array(z.number()), 'stock.shipment.internal', 'search', [[['reference', '=', key]]], { signal, isWrite: false })
   */
  async call<T>(
    schema: z.ZodType<T>,
    model: string,
    method: string,
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<T> {
    const name = `model.${model}.${method}`;
    for (let attempt = 0; ; attempt += 1) {
      const session = await this.#currentSession(options.signal);
      const context = { ...session.context, ...options.context };
      const answer = await this.#post(name, [...args, context], session.header, options);
      if (answer.status === 401 || answer.status === 403) {
        // The session expired (or was revoked): log in again once; a second refusal is a real one.
        this.#dropSession(session);
        if (attempt === 0) {
          this.#options.logger.info(
            { method: name, status: answer.status },
            'Tryton session expired; logging in again',
          );
          continue;
        }
        throw new TrytonCallError(
          'auth',
          `Tryton refused the session of user "${this.#options.username}" (HTTP ${answer.status})`,
        );
      }
      return this.#result(schema, name, answer, options);
    }
  }

  /**
   * Like `call`, for a call Tryton may answer with a user warning ("Stock moves have no origin"): the warning is
   * acknowledged as the Tryton client does when a person clicks "Yes" — a `res.user.warning` record with the
   * warning's name — and the call is made again. Each warning is logged.
   */
  async callAcknowledging<T>(
    schema: z.ZodType<T>,
    model: string,
    method: string,
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<T> {
    for (let warnings = 0; ; warnings += 1) {
      try {
        return await this.call(schema, model, method, args, options);
      } catch (error) {
        if (!(error instanceof TrytonCallError) || error.kind !== 'warning' || error.warningName === null)
          throw error;
        if (warnings >= MAX_WARNINGS)
          throw new TrytonCallError(
            'refused',
            `Tryton kept warning after ${warnings} acknowledgements: ${error.message}`,
          );
        this.#options.logger.info(
          { method: `model.${model}.${method}`, warning: error.warningName, message: error.message },
          'acknowledging a Tryton warning',
        );
        const user = await this.userId(options.signal);
        await this.call(
          z.array(z.number()),
          'res.user.warning',
          'create',
          [[{ user, name: error.warningName, always: false }]],
          { signal: options.signal, isWrite: true },
        );
      }
    }
  }

  #currentSession(signal: AbortSignal): Promise<Session> {
    if (this.#session === null) {
      const login: PendingSession = { promise: this.#login(signal), value: null };
      login.promise.then(
        (session) => (login.value = session),
        // A failed login is not kept: the next call tries again.
        () => {
          if (this.#session === login) this.#session = null;
        },
      );
      this.#session = login;
    }
    return this.#session.promise;
  }

  /** Forgets the session that was refused; a newer one (another call already logging in again) is kept. */
  #dropSession(session: Session): void {
    if (this.#session?.value === session) this.#session = null;
  }

  async #login(signal: AbortSignal): Promise<Session> {
    const { username, password } = this.#options;
    const options: CallOptions = { signal, isWrite: false };
    const answer = await this.#post('common.db.login', [username, { password }], null, options);
    if (answer.status === 401 || answer.status === 403)
      throw new TrytonCallError(
        'auth',
        `Tryton refused the login of user "${username}" (wrong user name or password)`,
      );
    if (answer.status === 404)
      throw new TrytonCallError(
        'transient',
        `Tryton has no database "${this.#options.database}", or cannot open it (HTTP 404)`,
      );
    const [userId, sessionKey] = this.#result(loginSchema, 'common.db.login', answer, options);
    const header = `Session ${Buffer.from(`${username}:${userId}:${sessionKey}`).toString('base64')}`;
    // The user's preferences are the context the Tryton client sends with every call (company, language...).
    const preferences = await this.#post('model.res.user.get_preferences', [true, {}], header, options);
    if (preferences.status === 401 || preferences.status === 403)
      throw new TrytonCallError('auth', `Tryton refused the new session of user "${username}"`);
    const context = this.#result(preferencesSchema, 'model.res.user.get_preferences', preferences, options);
    return { header, userId, context };
  }

  /** POSTs one JSON-RPC request; answers its status, body and Retry-After, or throws a classified failure. */
  async #post(
    method: string,
    params: readonly unknown[],
    authorization: string | null,
    options: CallOptions,
  ): Promise<HttpAnswer> {
    const id = this.#nextId++;
    try {
      const response = await this.#http.post(this.#endpoint, {
        body: JSON.stringify({ id, method, params }),
        signal: options.signal,
        headers: authorization === null ? {} : { authorization },
      });
      return httpAnswer(response);
    } catch (error) {
      const failure = classifyTransportError(error);
      if (failure?.kind === 'not_sent')
        throw new TrytonCallError(
          'transient',
          failure.timeout !== null
            ? `Tryton did not accept a connection in time (${failure.timeout})`
            : failure.code === 'ERR_ABORTED'
              ? `${method} was cut short (stopping)`
              : `Tryton is unreachable (${failure.code})`,
        );
      if (failure?.kind === 'maybe_sent')
        throw new TrytonCallError(
          options.isWrite ? 'unknown' : 'transient',
          failure.timeout === null
            ? `the connection to Tryton failed during ${method} (${failure.code}: ${failure.message})`
            : `Tryton did not answer ${method} in time`,
        );
      // An abort that got did not wrap (stop, or the engine's send timeout): the request may have left.
      if (options.signal.aborted)
        throw new TrytonCallError(
          options.isWrite ? 'unknown' : 'transient',
          `${method} was cut short (stopping)`,
        );
      throw error;
    }
  }

  /** Reads a JSON-RPC answer: the parsed result, or a classified failure. */
  #result<T>(schema: z.ZodType<T>, method: string, answer: HttpAnswer, options: CallOptions): T {
    const { status, body } = answer;
    const uncertain = options.isWrite ? 'unknown' : 'transient';
    if (status === 429)
      throw new TrytonCallError('rate_limited', 'Tryton asks to slow down (HTTP 429)', {
        retryAfterMs: parseRetryAfter(answer.retryAfter),
      });
    // A gateway that gave up waiting (504) may have left the request running.
    if (status === 504)
      throw new TrytonCallError(uncertain, `no answer from Tryton behind its proxy (HTTP 504)`);
    if (status === 408 || status === 425 || status >= 500)
      throw new TrytonCallError(
        'transient',
        `Tryton answered HTTP ${status}${body ? `: ${words(body)}` : ''}`,
      );
    if (status !== 200)
      throw new TrytonCallError(
        'refused',
        `Tryton answered HTTP ${status} to ${method}${body ? `: ${words(body)}` : ''}`,
      );
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new TrytonCallError(uncertain, `Tryton's answer to ${method} is not JSON`);
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success)
      throw new TrytonCallError(uncertain, `Tryton's answer to ${method} is not JSON-RPC`);
    if ('error' in envelope.data) throw this.#failure(method, envelope.data.error);
    const result = schema.safeParse(envelope.data.result);
    if (!result.success)
      throw new TrytonCallError(
        uncertain,
        `Tryton's answer to ${method} has an unexpected shape: ${result.error.issues[0]?.message ?? 'invalid'}`,
      );
    return result.data;
  }

  /** Classifies a JSON-RPC `error`: `[exception name, args]` for Tryton's exceptions, `[text, traceback]` else. */
  #failure(method: string, [name, args]: readonly [unknown, unknown]): TrytonCallError {
    switch (name) {
      case 'UserError': {
        const parsed = userErrorArgs.safeParse(args);
        if (!parsed.success) return new TrytonCallError('refused', `Tryton refused ${method}`);
        const [message, description] = parsed.data;
        return new TrytonCallError(
          'refused',
          description ? `${words(message)} (${words(description)})` : words(message),
        );
      }
      case 'UserWarning': {
        const parsed = userWarningArgs.safeParse(args);
        if (!parsed.success) return new TrytonCallError('refused', `Tryton warned about ${method}`);
        const [warningName, message] = parsed.data;
        return new TrytonCallError('warning', words(message), { warningName });
      }
      case 'LoginException': {
        const parsed = loginErrorArgs.safeParse(args);
        return new TrytonCallError(
          'auth',
          `Tryton asks for more to log in: ${parsed.success ? parsed.data[1] : 'a login step'}`,
        );
      }
      case 'ConcurrencyException':
        return new TrytonCallError(
          'transient',
          `Tryton saw a concurrent change: ${typeof args === 'string' ? words(args) : method}`,
        );
      default:
        // Any other exception rolled Tryton's transaction back: "database is locked", a deadlock, a bug. Retried;
        // one that never goes away ends as a dead letter with these words.
        return new TrytonCallError(
          'transient',
          `Tryton failed on ${method}: ${typeof name === 'string' ? words(name) : 'an internal error'}`,
        );
    }
  }
}

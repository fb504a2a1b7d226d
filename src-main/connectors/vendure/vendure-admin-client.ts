import type { z } from 'zod';
import type { Logger } from '../../platform/logger.js';
import { parseRetryAfter } from '../http/classify-status.js';
import { classifyTransportError } from '../http/classify-transport-error.js';
import { createHttpClient, type HttpClient } from '../http/create-http-client.js';
import { CallFailure } from '../port/call-failure.js';
import { graphQlEnvelopeSchema, loginSchema } from './vendure-schemas.js';

export type VendureAdminClientOptions = Readonly<{
  /** The server's base URL; requests go to `<url>/admin-api`. */
  url: string;
  username: string;
  password: string;
  /** Sent as `vendure-token` to work in that channel; absent: the default channel. */
  channelToken?: string;
  agentId: string;
  /** Longest wait for one answer; past it, a write's outcome is unknown. */
  timeoutMs: number;
  logger: Logger;
}>;

/** A failed Admin API call (see `CallFailure`). */
export class VendureFailure extends CallFailure {}

/** GraphQL error codes that mean "who you are is not allowed": log in again once, then `auth_failed`. */
const AUTH_CODES = new Set(['FORBIDDEN', 'UNAUTHORIZED', 'UNAUTHENTICATED']);
/** Error codes of a failure inside Vendure (its database busy or gone): worth a retry. */
const TRANSIENT_CODES = new Set(['INTERNAL_SERVER_ERROR']);
/**
 * Vendure passes database errors through without a code; these say the database was busy or unreachable
 * (worth a retry), unlike a constraint failure (rejected).
 */
const TRANSIENT_MESSAGE =
  /SQLITE_BUSY|database is locked|deadlock|lock wait timeout|connection (terminated|refused|reset|lost)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|too many connections/i;

/** One GraphQL operation: its document, and whether it changes anything (a write's lost answer is `unknown`). */
export type Operation = Readonly<{ name: string; query: string; isWrite: boolean }>;

/**
 * The Vendure Admin API over GraphQL, with a bearer session. It logs in with the `login` mutation and keeps the
 * token Vendure returns in the `vendure-auth-token` header (memory only; a restart logs in again). A call
 * refused as FORBIDDEN (a session expired or revoked) logs in once more and is sent again; refused again, or a
 * login refused, it fails as `auth_failed`, which pauses the destination. Every answer is parsed with zod; got's
 * own retries are off (the engine owns retries).
 */
export class VendureAdminClient {
  readonly #o: VendureAdminClientOptions;
  readonly #http: HttpClient;
  readonly #endpoint: string;
  #token: string | null = null;
  #loggingIn: Promise<string> | null = null;

  constructor(options: VendureAdminClientOptions) {
    this.#o = options;
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/admin-api`;
    this.#http = createHttpClient({
      agentId: options.agentId,
      timeoutMs: options.timeoutMs,
      headers: {
        'content-type': 'application/json',
        ...(options.channelToken === undefined ? {} : { 'vendure-token': options.channelToken }),
      },
    });
  }

  /**
   * Runs one operation and returns its `data` parsed by `schema`. Throws `VendureFailure` classified:
   * network error or timeout before sending → retry; a timeout or a cut connection after sending → unknown
   * (a read: retry); 429 → rate_limited; 5xx, 408, 425, INTERNAL_SERVER_ERROR → retry; FORBIDDEN twice or a
   * refused login → auth_failed; any other GraphQL error (validation, bad input, not found) → rejected; an
   * answer that is not the model → invalid_response.
   */
  async request<T>(
    operation: Operation,
    variables: Readonly<Record<string, unknown>>,
    schema: z.ZodType<T>,
    signal: AbortSignal,
  ): Promise<T> {
    const token = this.#token ?? (await this.#login(signal));
    try {
      return await this.#send(operation, variables, schema, token, signal);
    } catch (error) {
      if (!(error instanceof AuthRefused)) throw error;
      this.#o.logger.info({ operation: operation.name }, 'Vendure refused the session; logging in again');
      if (this.#token === token) this.#token = null;
      const fresh = this.#token ?? (await this.#login(signal));
      try {
        return await this.#send(operation, variables, schema, fresh, signal);
      } catch (again) {
        if (again instanceof AuthRefused)
          throw VendureFailure.authFailed(
            `Vendure refused ${operation.name} for user "${this.#o.username}" after a fresh login (${again.message}); check that the administrator has the permissions Backroom needs`,
          );
        throw again;
      }
    }
  }

  /** Logs in (one login at a time; concurrent callers share it) and returns the bearer token. */
  #login(signal: AbortSignal): Promise<string> {
    this.#loggingIn ??= this.#doLogin(signal).finally(() => {
      this.#loggingIn = null;
    });
    return this.#loggingIn;
  }

  async #doLogin(signal: AbortSignal): Promise<string> {
    const operation: Operation = {
      name: 'login',
      isWrite: false,
      query: `mutation BackroomLogin($username: String!, $password: String!) {
        login(username: $username, password: $password, rememberMe: true) {
          __typename
          ... on ErrorResult { message }
        }
      }`,
    };
    const { data, token } = await this.#post(
      operation,
      { username: this.#o.username, password: this.#o.password },
      null,
      signal,
    ).catch((error: unknown) => {
      if (error instanceof AuthRefused)
        throw VendureFailure.authFailed(`Vendure refused the login: ${error.message}`);
      throw error;
    });
    const parsed = loginSchema.safeParse(data);
    if (!parsed.success)
      throw VendureFailure.invalidResponse(`login: unexpected answer (${parsed.error.message})`, false);
    if (parsed.data.login.__typename !== 'CurrentUser')
      throw VendureFailure.authFailed(
        `Vendure refused the login of "${this.#o.username}": ${parsed.data.login.message ?? parsed.data.login.__typename}`,
      );
    if (token === null)
      throw VendureFailure.invalidResponse(
        'Vendure accepted the login but sent no vendure-auth-token header; its authOptions.tokenMethod must include "bearer"',
        false,
      );
    this.#token = token;
    return token;
  }

  async #send<T>(
    operation: Operation,
    variables: Readonly<Record<string, unknown>>,
    schema: z.ZodType<T>,
    token: string,
    signal: AbortSignal,
  ): Promise<T> {
    const { data } = await this.#post(operation, variables, token, signal);
    const parsed = schema.safeParse(data);
    if (!parsed.success)
      throw VendureFailure.invalidResponse(
        `${operation.name}: Vendure's answer does not match the expected model (${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')})`,
        operation.isWrite,
      );
    return parsed.data;
  }

  /** One HTTP round trip: the answer's `data` and the session token it carried, or a classified failure. */
  async #post(
    operation: Operation,
    variables: Readonly<Record<string, unknown>>,
    token: string | null,
    signal: AbortSignal,
  ): Promise<{ data: Record<string, unknown>; token: string | null }> {
    let response;
    try {
      response = await this.#http.post(this.#endpoint, {
        body: JSON.stringify({ query: operation.query, variables }),
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
        signal,
      });
    } catch (error) {
      const failure = classifyTransportError(error);
      if (failure === null) throw error;
      if (failure.timeout !== null) {
        if (failure.kind === 'not_sent')
          throw VendureFailure.retry(`${operation.name}: timed out connecting (${failure.timeout})`);
        throw operation.isWrite
          ? VendureFailure.unknown(
              `${operation.name}: no answer within ${this.#o.timeoutMs} ms after the request was sent`,
            )
          : VendureFailure.retry(`${operation.name}: no answer within ${this.#o.timeoutMs} ms`);
      }
      const said = `${operation.name}: ${failure.code}: ${failure.message}`;
      // A connection cut after a write was sent: Vendure may have applied it.
      throw failure.kind === 'maybe_sent' && operation.isWrite
        ? VendureFailure.unknown(said)
        : VendureFailure.retry(said);
    }
    const status = response.statusCode;
    const said = `${operation.name}: HTTP ${status}`;
    if (status === 429)
      throw VendureFailure.rateLimited(parseRetryAfter(header(response.headers['retry-after'])), said);
    if (status >= 500 || status === 408 || status === 425)
      throw VendureFailure.retry(`${said} ${response.body.slice(0, 200)}`);
    if (status === 401 || status === 403) throw new AuthRefused(said);
    let json: unknown;
    try {
      json = JSON.parse(response.body);
    } catch {
      if (status >= 300) throw VendureFailure.rejected(`${said}: ${response.body.slice(0, 200)}`);
      throw VendureFailure.invalidResponse(`${said}: the answer is not JSON`, operation.isWrite);
    }
    const envelope = graphQlEnvelopeSchema.safeParse(json);
    if (!envelope.success)
      throw VendureFailure.invalidResponse(`${said}: not a GraphQL answer`, operation.isWrite);
    const errors = envelope.data.errors ?? [];
    if (errors.length > 0) {
      const codes = errors.map((e) => e.extensions?.code ?? 'UNKNOWN');
      const message = `${operation.name}: ${errors
        .slice(0, 3)
        .map((e, i) => `${codes[i]}: ${e.message}`)
        .join('; ')}`;
      if (codes.some((c) => AUTH_CODES.has(c))) throw new AuthRefused(message);
      if (errors.every((e, i) => TRANSIENT_CODES.has(codes[i]!) || TRANSIENT_MESSAGE.test(e.message)))
        throw VendureFailure.retry(message);
      throw VendureFailure.rejected(message);
    }
    if (status >= 300) throw VendureFailure.rejected(`${said}: ${response.body.slice(0, 200)}`);
    if (envelope.data.data == null)
      throw VendureFailure.invalidResponse(`${said}: no data`, operation.isWrite);
    return { data: envelope.data.data, token: header(response.headers['vendure-auth-token']) ?? null };
  }
}

/** Vendure refused the session (FORBIDDEN, 401, 403): internal, turned into a re-login or `auth_failed`. */
class AuthRefused extends Error {}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

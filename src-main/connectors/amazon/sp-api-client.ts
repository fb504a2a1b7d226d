import type { IncomingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { z } from 'zod';
import type { Logger } from '../../platform/logger.js';
import { parseRetryAfter } from '../http/classify-status.js';
import { classifyTransportError } from '../http/classify-transport-error.js';
import { createHttpClient, type HttpClient } from '../http/create-http-client.js';
import { CallFailure } from '../port/call-failure.js';
import type { RateLimits, SpOperation } from './rate-limits.js';
import { errorListSchema, lwaErrorSchema, lwaTokenSchema } from './sp-api-schemas.js';

const gunzipAsync = promisify(gunzip);

export type SpApiClientOptions = Readonly<{
  /** The SP-API regional endpoint, e.g. `https://<region host>`; paths are appended to it. */
  endpoint: string;
  /** Login with Amazon's token endpoint. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  agentId: string;
  /** Longest wait for one HTTP answer. */
  requestTimeoutMs: number;
  limits: RateLimits;
  logger: Logger;
}>;

/** A failed SP-API call (see `CallFailure`). */
export class SpApiFailure extends CallFailure {}

/** An HTTP answer the caller judges: 2xx, and the 4xx other than 401, 403 and 429. */
export type SpAnswer = Readonly<{ status: number; body: string; headers: IncomingHttpHeaders }>;

/** How long a call may take and what stops it. */
export type CallBudget = Readonly<{
  /** Epoch ms after which no wait for a rate-limit token is started (the call is reported rate limited). */
  deadline: number;
  signal: AbortSignal;
}>;

export type SpRequest = Readonly<{
  op: SpOperation;
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  query?: Readonly<Record<string, string>>;
  json?: unknown;
}>;

/** The `x-amzn-RateLimit-Limit` of an answer: the operation's rate in requests per second. */
export function readRateLimitHeader(headers: IncomingHttpHeaders): number | null {
  const raw = headers['x-amzn-ratelimit-limit'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(text)) return null;
  const value = Number(text);
  return value > 0 ? value : null;
}

/** An SP-API error answer in a few words, for the exception staff read: `HTTP 400 InvalidInput: ...`. */
export function describeSpError(status: number, body: string): string {
  try {
    const parsed = errorListSchema.safeParse(JSON.parse(body));
    if (parsed.success && parsed.data.errors.length > 0)
      return `HTTP ${status} ${parsed.data.errors
        .map((e) => `${e.code}: ${e.message}${e.details ? ` (${e.details})` : ''}`)
        .join('; ')
        .slice(0, 400)}`;
  } catch {
    // not JSON: the start of the body
  }
  const text = body.trim().slice(0, 200);
  return text === '' ? `HTTP ${status}` : `HTTP ${status}: ${text}`;
}

/**
 * The Selling Partner API over HTTP: Login with Amazon access tokens (cached until shortly before they expire,
 * refreshed once on a 401/403), `x-amz-access-token` on every call, a token bucket per operation sized from the
 * documented usage plan and re-sized from `x-amzn-RateLimit-Limit`, and every failure classified once.
 * got's own retries are off: the engine (or the order puller) owns retries.
 */
export class SpApiClient {
  readonly #o: SpApiClientOptions;
  readonly #http: HttpClient;
  #token: { value: string; refreshAt: number } | null = null;
  #refreshing: Promise<string> | null = null;

  constructor(options: SpApiClientOptions) {
    this.#o = options;
    this.#http = createHttpClient({
      agentId: options.agentId,
      userAgentDetail: '(Language=TypeScript)',
      timeoutMs: options.requestTimeoutMs,
    });
  }

  /**
   * Calls one SP-API operation. Returns 2xx answers and the 4xx the caller judges (400, 404, ...); throws
   * `SpApiFailure` for everything else: no rate-limit token before the deadline, 429, 401/403 after one token
   * refresh, 408/425/5xx, network errors and timeouts.
   */
  async call(request: SpRequest, budget: CallBudget): Promise<SpAnswer> {
    const bucket = this.#o.limits.bucket(request.op);
    for (let attempt = 0; ; attempt += 1) {
      await this.#takeToken(request.op, budget);
      const token = await this.#accessToken(attempt > 0);
      const url = new URL(request.path, this.#o.endpoint);
      for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
      const response = await this.#send(request.method, url, request.op, budget.signal, {
        headers: {
          'x-amz-access-token': token,
          accept: 'application/json',
          ...(request.json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
      });
      const announced = readRateLimitHeader(response.headers);
      if (announced !== null) bucket.setAnnouncedRate(announced);
      const { statusCode: status, body } = response;
      if (status === 401 || status === 403) {
        if (attempt === 0) {
          // The token may have expired early or been revoked: one fresh token, then it is the credentials.
          this.#token = null;
          continue;
        }
        throw SpApiFailure.authFailed(`${request.op}: ${describeSpError(status, body)}`);
      }
      if (status === 429) {
        const waitMs = bucket.throttled(parseRetryAfter(header(response.headers, 'retry-after')));
        throw SpApiFailure.rateLimited(waitMs, `${request.op}: ${describeSpError(status, body)}`);
      }
      bucket.answered();
      if (status === 408 || status === 425 || status >= 500)
        throw SpApiFailure.retry(`${request.op}: ${describeSpError(status, body)}`);
      return { status, body, headers: response.headers };
    }
  }

  /**
   * Gets a new access token from Login with Amazon now, whatever the cached one (a connection test: it proves
   * the client id, secret and refresh token are accepted today). Throws `SpApiFailure`.
   */
  async renewAccessToken(): Promise<void> {
    await this.#accessToken(true);
  }

  /** Parses a JSON answer with `schema`; a mismatch is an `invalid_response` failure. */
  parse<S extends z.ZodType>(schema: S, answer: SpAnswer, what: string, isWrite: boolean): z.output<S> {
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      throw SpApiFailure.invalidResponse(`${what}: the answer is not JSON (HTTP ${answer.status})`, isWrite);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw SpApiFailure.invalidResponse(
        `${what}: unexpected answer (HTTP ${answer.status}): ${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
        isWrite,
      );
    return parsed.data;
  }

  /**
   * PUTs a feed document to the pre-signed URL `createFeedDocument` gave (no access token: the URL is the
   * credential). The content type must be the one the document was created with.
   */
  async upload(url: string, body: string, contentType: string, signal: AbortSignal): Promise<SpAnswer> {
    const response = await this.#send('PUT', new URL(url), 'feed document upload', signal, {
      headers: { 'content-type': contentType },
      body,
    });
    if (response.statusCode === 403 || response.statusCode === 408 || response.statusCode >= 500)
      throw SpApiFailure.retry(
        `feed document upload: ${describeSpError(response.statusCode, response.body)}`,
      );
    return { status: response.statusCode, body: response.body, headers: response.headers };
  }

  /** GETs a document from a pre-signed URL, gunzipped when `getFeedDocument` said GZIP. */
  async download(url: string, compression: 'GZIP' | undefined, signal: AbortSignal): Promise<string> {
    let response;
    try {
      response = await this.#http.get(new URL(url), { signal, responseType: 'buffer' });
    } catch (error) {
      throw this.#failure(error, 'GET', 'report download');
    }
    if (response.statusCode !== 200) throw SpApiFailure.retry(`report download: HTTP ${response.statusCode}`);
    try {
      const bytes = compression === 'GZIP' ? await gunzipAsync(response.body) : response.body;
      return bytes.toString('utf8');
    } catch (error) {
      throw SpApiFailure.invalidResponse(`report download: ${(error as Error).message}`, false);
    }
  }

  async #takeToken(op: SpOperation, budget: CallBudget): Promise<void> {
    let throttled;
    try {
      throttled = await this.#o.limits.acquire(op, budget.deadline, budget.signal);
    } catch {
      throw SpApiFailure.retry(`${op}: stopped while waiting for Amazon's rate limit`);
    }
    if (throttled !== null)
      throw SpApiFailure.rateLimited(
        throttled.waitMs,
        `${op}: Amazon's rate limit allows the next call in ${Math.ceil(throttled.waitMs / 1000)} s`,
      );
  }

  async #send(
    method: SpRequest['method'] | 'PUT',
    url: URL,
    what: string,
    signal: AbortSignal,
    options: Readonly<{ headers: Record<string, string>; body?: string }>,
  ) {
    try {
      return await this.#http(url, { method, signal, headers: options.headers, body: options.body });
    } catch (error) {
      throw this.#failure(error, method, what);
    }
  }

  /** A network error or timeout: `unknown` when a write may have reached Amazon, else `retry`. */
  #failure(error: unknown, method: string, what: string): SpApiFailure {
    const failure = classifyTransportError(error);
    if (failure === null) return SpApiFailure.retry(`${what}: ${String(error)}`);
    if (method !== 'GET' && failure.kind === 'maybe_sent')
      return SpApiFailure.unknown(`${what}: no answer after the request was sent (${failure.code})`);
    return SpApiFailure.retry(`${what}: ${failure.code}: ${failure.message}`);
  }

  /** A cached access token, or a new one (one refresh at a time, shared by concurrent callers). */
  async #accessToken(isForced: boolean): Promise<string> {
    if (!isForced && this.#token !== null && Date.now() < this.#token.refreshAt) return this.#token.value;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<string> {
    let response;
    try {
      response = await this.#http.post(this.#o.tokenUrl, {
        form: {
          grant_type: 'refresh_token',
          refresh_token: this.#o.refreshToken,
          client_id: this.#o.clientId,
          client_secret: this.#o.clientSecret,
        },
        headers: { accept: 'application/json' },
      });
    } catch (error) {
      throw this.#failure(error, 'GET', 'Login with Amazon token refresh');
    }
    const { statusCode: status, body } = response;
    if (status === 400 || status === 401) {
      let said = `HTTP ${status}`;
      try {
        const parsed = lwaErrorSchema.safeParse(JSON.parse(body));
        if (parsed.success)
          said = `${parsed.data.error}${parsed.data.error_description ? `: ${parsed.data.error_description}` : ''}`;
      } catch {
        // keep the status
      }
      throw SpApiFailure.authFailed(`Login with Amazon refused the refresh token (${said})`);
    }
    if (status === 429)
      throw SpApiFailure.rateLimited(
        parseRetryAfter(header(response.headers, 'retry-after')),
        'Login with Amazon: HTTP 429',
      );
    if (status !== 200) throw SpApiFailure.retry(`Login with Amazon token refresh: HTTP ${status}`);
    const token = this.parse(
      lwaTokenSchema,
      { status, body, headers: response.headers },
      'Login with Amazon',
      false,
    );
    const lifetimeMs = token.expires_in * 1000;
    // Renewed shortly before it expires: a minute early, or a tenth of its life when that is shorter.
    this.#token = {
      value: token.access_token,
      refreshAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 10),
    };
    this.#o.logger.debug({ expiresInS: token.expires_in }, 'Login with Amazon access token refreshed');
    return token.access_token;
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { parseRetryAfter } from '../http/classify-status.js';
import { classifyTransportError } from '../http/classify-transport-error.js';
import { createHttpClient, type HttpClient } from '../http/create-http-client.js';
import { ConnectorError } from '../port/connector-error.js';
import { httpAnswer, type HttpAnswer } from '../http/http-answer.js';
import { ShopifyThrottle, type ThrottleStatus } from './shopify-throttle.js';

/**
 * Why a request failed, in the terms the connector answers with:
 * - `retry`: nothing reached Shopify, or it answered that it failed (5xx, network error before sending), or a
 *   read's connection was cut;
 * - `unknown`: the request left and no answer came (timeout after sending, or a mutation's connection cut):
 *   a mutation may have been applied;
 * - `rate_limited`: `THROTTLED` or HTTP 429, or the bucket would not hold the request (not sent), `retryAfterMs`
 *   how long until it would;
 * - `auth_failed`: 401/403 or `ACCESS_DENIED`;
 * - `rejected`: Shopify refused the request itself (another 4xx, GraphQL errors);
 * - `invalid_response`: an answer that is not the documented shape.
 */
export type ShopifyFailure =
  | Readonly<{ kind: 'retry' | 'unknown' | 'auth_failed' | 'invalid_response'; detail: string }>
  /** `code`: the GraphQL error code, when Shopify gave one (`MAX_COST_EXCEEDED`, ...). */
  | Readonly<{ kind: 'rejected'; detail: string; code?: string }>
  | Readonly<{ kind: 'rate_limited'; retryAfterMs: number; detail: string }>;

/** Thrown by `ShopifyClient.request`; the connector classifies it into results or a `ConnectorError`. */
export class ShopifyRequestError extends Error {
  readonly failure: ShopifyFailure;

  constructor(failure: ShopifyFailure) {
    super(failure.detail);
    this.name = 'ShopifyRequestError';
    this.failure = failure;
  }
}

/** One GraphQL request: its document, variables, requested cost, and the shape of its `data`. */
export type ShopifyOperation<T> = Readonly<{
  name: string;
  query: string;
  variables: Readonly<Record<string, unknown>>;
  /** The requested cost by Shopify's rules; the request waits (or is refused) until the bucket holds it. */
  cost: number;
  data: z.ZodType<T>;
}>;

/** Sends one operation for a send or a read; `isMutation`: a lost answer leaves its outcome unknown. */
export type Requester = <T>(operation: ShopifyOperation<T>, isMutation?: boolean) => Promise<T>;

/** The `ConnectorError` of a failed pull or read. */
export function connectorError(failure: ShopifyFailure): ConnectorError {
  switch (failure.kind) {
    case 'rate_limited':
      return new ConnectorError('rate_limited', failure.detail, failure.retryAfterMs);
    case 'auth_failed':
    case 'rejected':
    case 'invalid_response':
      return new ConnectorError(failure.kind, failure.detail);
    case 'retry':
    case 'unknown':
      return new ConnectorError('unreachable', failure.detail);
  }
}

export type ShopifyClientOptions = Readonly<{
  /** The shop's base URL (`https://my-shop.myshopify.com`). */
  url: string;
  accessToken: string;
  apiVersion: string;
  agentId: string;
  /** Per-request timeout; a timeout after the request left is an `unknown` outcome. Default 20 s. */
  timeoutMs?: number;
  /** Clock of the bucket view (tests). */
  now?: () => number;
}>;

const costExtension = z.object({
  requestedQueryCost: z.number().nullable().optional(),
  actualQueryCost: z.number().nullable().optional(),
  throttleStatus: z.object({
    maximumAvailable: z.number(),
    currentlyAvailable: z.number(),
    restoreRate: z.number(),
  }),
});

const envelope = z.object({
  data: z.unknown().optional(),
  errors: z
    .array(
      z.object({
        message: z.string(),
        extensions: z.object({ code: z.string().optional() }).optional(),
      }),
    )
    .optional(),
  extensions: z.object({ cost: costExtension.optional() }).optional(),
});

/** Retry-After of a 429 without one, and the least wait ever answered. */
const DEFAULT_429_WAIT_MS = 1000;

/** Shopify's non-JSON `errors` (a 401's `"[API] Invalid API key ..."`), or the start of the body. */
function describeBody(status: number, body: string): string {
  let said = body.trim().slice(0, 200);
  try {
    const json = JSON.parse(body) as { errors?: unknown };
    if (typeof json.errors === 'string') said = json.errors;
    else if (json.errors !== undefined) said = JSON.stringify(json.errors).slice(0, 200);
  } catch {
    // not JSON: keep the text
  }
  return said === '' ? `HTTP ${status}` : `HTTP ${status}: ${said}`;
}

/**
 * The Shopify Admin GraphQL client of one destination: its own got instance from the HTTP kit (explicit
 * timeouts, got's retries off: the engine owns retries), the access token, zod parsing of every answer, and the shop's leaky bucket, so
 * a request waits (or is refused as `rate_limited`) rather than being sent into a throttle.
 */
export class ShopifyClient {
  readonly throttle: ShopifyThrottle;
  readonly #got: HttpClient;
  readonly #endpoint: string;

  constructor(options: ShopifyClientOptions) {
    this.throttle = new ShopifyThrottle(options.now);
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/admin/api/${options.apiVersion}/graphql.json`;
    this.#got = createHttpClient({
      agentId: options.agentId,
      timeoutMs: options.timeoutMs ?? 20_000,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'x-shopify-access-token': options.accessToken,
      },
    });
  }

  /**
   * Sends one operation and returns its parsed `data`. Waits for the bucket up to `maxWaitMs` (default 0: a
   * request the bucket cannot hold now is refused as `rate_limited`, unsent). Throws `ShopifyRequestError`.
   */
  async request<T>(
    operation: ShopifyOperation<T>,
    signal: AbortSignal,
    options: Readonly<{ maxWaitMs?: number; isMutation?: boolean }> = {},
  ): Promise<T> {
    await this.#waitForBucket(operation, signal, options.maxWaitMs ?? 0);
    this.throttle.begin(operation.cost);
    let status: ThrottleStatus | null = null;
    try {
      const response = await this.#post(operation, signal, options.isMutation === true);
      if (response.status !== 200) throw new ShopifyRequestError(this.#classifyStatus(response, operation));
      let parsed: z.output<typeof envelope>;
      try {
        parsed = envelope.parse(JSON.parse(response.body));
      } catch {
        throw new ShopifyRequestError({
          kind: options.isMutation === true ? 'unknown' : 'invalid_response',
          detail: `${operation.name}: Shopify's answer is not a GraphQL response (${response.body.slice(0, 120)})`,
        });
      }
      status = parsed.extensions?.cost?.throttleStatus ?? null;
      if (parsed.errors && parsed.errors.length > 0)
        throw new ShopifyRequestError(
          this.#classifyErrors(parsed.errors, operation, status, options.isMutation === true),
        );
      const data = operation.data.safeParse(parsed.data);
      if (!data.success)
        throw new ShopifyRequestError({
          kind: options.isMutation === true ? 'unknown' : 'invalid_response',
          detail: `${operation.name}: unexpected data from Shopify (${data.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')})`,
        });
      return data.data;
    } finally {
      this.throttle.end(operation.cost, status);
    }
  }

  async #waitForBucket(
    operation: ShopifyOperation<unknown>,
    signal: AbortSignal,
    maxWaitMs: number,
  ): Promise<void> {
    // Bounded: each round either sends, or sleeps at most maxWaitMs in all.
    const deadline = performance.now() + maxWaitMs;
    for (;;) {
      const wait = this.throttle.waitMs(operation.cost);
      if (wait === 0) return;
      if (!Number.isFinite(wait))
        throw new ShopifyRequestError({
          kind: 'rejected',
          detail: `${operation.name} costs ${operation.cost} points, more than the shop's bucket of ${this.throttle.status.maximumAvailable}`,
        });
      if (performance.now() + wait > deadline)
        throw new ShopifyRequestError({
          kind: 'rate_limited',
          retryAfterMs: wait,
          detail: `Shopify's rate limit: ${operation.name} needs ${operation.cost} points, ${Math.floor(this.throttle.available())} are left (restoring ${this.throttle.status.restoreRate}/s)`,
        });
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        throw new ShopifyRequestError({
          kind: 'retry',
          detail: `${operation.name}: stopped while waiting for the rate limit`,
        });
      }
    }
  }

  async #post(
    operation: ShopifyOperation<unknown>,
    signal: AbortSignal,
    isMutation: boolean,
  ): Promise<HttpAnswer> {
    try {
      const response = await this.#got.post(this.#endpoint, {
        body: JSON.stringify({
          query: operation.query,
          variables: operation.variables,
          operationName: operation.name,
        }),
        signal,
      });
      return httpAnswer(response);
    } catch (error) {
      const failure = classifyTransportError(error);
      if (failure === null) throw error;
      // Only a mutation that may have reached Shopify has an unknown outcome; a read is simply tried again.
      const uncertain = failure.kind === 'maybe_sent' && isMutation ? 'unknown' : 'retry';
      if (failure.timeout !== null)
        throw new ShopifyRequestError(
          failure.kind === 'not_sent'
            ? {
                kind: 'retry',
                detail: `${operation.name}: timed out connecting to Shopify (${failure.timeout})`,
              }
            : {
                kind: 'unknown',
                detail: `${operation.name}: no answer from Shopify in time after the request was sent`,
              },
        );
      if (failure.code === 'ERR_ABORTED')
        throw new ShopifyRequestError({
          kind: uncertain,
          detail: `${operation.name}: the request was cut off before Shopify answered`,
        });
      throw new ShopifyRequestError({
        kind: uncertain,
        detail: `${operation.name}: ${failure.code}: ${failure.message}`,
      });
    }
  }

  #classifyStatus(response: HttpAnswer, operation: ShopifyOperation<unknown>): ShopifyFailure {
    const detail = `${operation.name}: ${describeBody(response.status, response.body)}`;
    const { status } = response;
    if (status === 401 || status === 403) return { kind: 'auth_failed', detail };
    if (status === 429) {
      const said = parseRetryAfter(response.retryAfter);
      const ownWait = this.throttle.waitMs(operation.cost);
      return {
        kind: 'rate_limited',
        retryAfterMs: said ?? Math.max(DEFAULT_429_WAIT_MS, Number.isFinite(ownWait) ? ownWait : 0),
        detail,
      };
    }
    // 402 (shop frozen, unpaid) and 423 (shop locked) pass with time, like an outage.
    if (status >= 500 || status === 408 || status === 425 || status === 402 || status === 423)
      return { kind: 'retry', detail };
    return { kind: 'rejected', detail };
  }

  #classifyErrors(
    errors: readonly Readonly<{ message: string; extensions?: { code?: string | undefined } | undefined }>[],
    operation: ShopifyOperation<unknown>,
    status: ThrottleStatus | null,
    isMutation: boolean,
  ): ShopifyFailure {
    const codes = errors.map((e) => e.extensions?.code ?? '');
    const detail = `${operation.name}: ${errors
      .slice(0, 3)
      .map((e) => (e.extensions?.code ? `${e.extensions.code}: ${e.message}` : e.message))
      .join('; ')}`;
    if (codes.includes('THROTTLED'))
      return {
        kind: 'rate_limited',
        retryAfterMs:
          status === null ? DEFAULT_429_WAIT_MS : ShopifyThrottle.throttledWaitMs(operation.cost, status),
        detail: `Shopify throttled ${operation.name} (${operation.cost} points needed, ${status?.currentlyAvailable ?? '?'} available, restoring ${status?.restoreRate ?? '?'}/s)`,
      };
    if (codes.includes('ACCESS_DENIED')) return { kind: 'auth_failed', detail };
    if (codes.includes('INTERNAL_SERVER_ERROR') || codes.includes('SERVICE_UNAVAILABLE'))
      return { kind: isMutation ? 'unknown' : 'retry', detail };
    const code = codes.find((c) => c !== '');
    return code === undefined ? { kind: 'rejected', detail } : { kind: 'rejected', detail, code };
  }
}

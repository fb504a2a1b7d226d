import got, { type Got } from 'got';

export type HttpClientOptions = Readonly<{
  /** Sent as `user-agent: backroom/<agentId>`, so the remote system's logs name the store. */
  agentId: string;
  /** Said after the agent id in the user agent (`(Language=TypeScript)`, as Amazon asks). */
  userAgentDetail?: string;
  /**
   * Longest wait for a whole request, from the start to the last byte of the answer. Past it, a request that
   * was sent has an unknown outcome (see `classifyTransportError`).
   */
  timeoutMs: number;
  /**
   * Longest wait for each phase before anything is sent: the DNS lookup, the TCP connect, the TLS handshake.
   * Default 5 s: a server that does not accept a connection by then is treated as down, and the request,
   * which never left, is safe to retry.
   */
  connectTimeoutMs?: number;
  /** Headers of every request (content type, credentials that never change). */
  headers?: Readonly<Record<string, string>>;
}>;

/** A connector's HTTP client (a got instance): connectors name this type, never got's. */
export type HttpClient = Got;

/** Default of `connectTimeoutMs`. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The got instance of one connector: an explicit timeout for every phase (lookup, connect, secureConnect, and the
 * whole request), got's own retries off (the delivery engine owns retries, and a retry got made by itself would
 * reuse no idempotency key the engine knows of), HTTP error statuses answered rather than thrown (each connector
 * classifies them), redirects not followed (a POST redirected elsewhere is a misconfiguration to see, not to
 * follow), and Backroom's user agent.
 *
 * @example
 * const http = createHttpClient({ agentId, timeoutMs: 20_000, headers: { 'content-type': 'application/json' } });
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const connect = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const detail = options.userAgentDetail === undefined ? '' : ` ${options.userAgentDetail}`;
  return got.extend({
    timeout: { lookup: connect, connect, secureConnect: connect, request: options.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    headers: { 'user-agent': `backroom/${options.agentId}${detail}`, ...options.headers },
  });
}

import { RequestError, TimeoutError } from 'got';

/**
 * A request that got no HTTP answer, classified by whether it may have reached the server:
 * - `not_sent`: it never did (DNS failure, connection refused, a timeout while looking up, connecting or
 *   shaking hands, a connection lost before the request was written): nothing can have been applied, so it is
 *   safe to retry, and never an unknown outcome;
 * - `maybe_sent`: it was written, then the connection was reset or cut, or no answer came in time: the server
 *   may have applied it, so a write's outcome is unknown (a retry must reuse its idempotency key, or read back).
 */
export type TransportFailure = Readonly<{
  kind: 'not_sent' | 'maybe_sent';
  /** The error's code: `ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`, `ETIMEDOUT`, `ERR_ABORTED`, ... */
  code: string;
  /** For a timeout, the phase that ran out (`lookup`, `connect`, `secureConnect`, `request`, ...); else null. */
  timeout: string | null;
  /** The error's own words. */
  message: string;
}>;

/** Phases of got's timeout before which nothing reached the server. */
const BEFORE_SEND = new Set(['lookup', 'connect', 'secureConnect']);

/** Error codes that mean no connection was ever made, so the request never left. */
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/**
 * Classifies an error thrown by a got request (see `TransportFailure`); null for anything else, which is not a
 * transport failure (a bug: the caller rethrows it).
 *
 * A timeout of the whole request or an abort (the engine's stop or its send timeout) is judged by how far the
 * request got: `timings.upload` is set once the request was completely written, so one that ran out while still
 * connecting was never sent, whatever the timer that fired.
 *
 * @example
 * const failure = classifyTransportError(error);
 * if (failure === null) throw error;
 * return failure.kind === 'not_sent' || !isWrite ? { kind: 'retry', ... } : { kind: 'unknown', ... };
 */
export function classifyTransportError(error: unknown): TransportFailure | null {
  if (!(error instanceof RequestError)) return null;
  const timeout = error instanceof TimeoutError ? (error.event ?? 'request') : null;
  const isNotSent =
    (timeout !== null && BEFORE_SEND.has(timeout)) ||
    NEVER_CONNECTED.has(error.code) ||
    error.timings?.upload === undefined;
  return { kind: isNotSent ? 'not_sent' : 'maybe_sent', code: error.code, timeout, message: error.message };
}

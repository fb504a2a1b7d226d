import type { DeliveryResult } from './connector.js';
import type { FulfilmentOutcome, ProbeResult } from './connector-bundle.js';
import { ConnectorError, type ConnectorErrorReason } from './connector-error.js';

/**
 * A failed connection test from a classified failure (`ConnectorError`, `CallFailure` and its subclasses);
 * anything else is rethrown (a bug, not an answer of the remote system).
 */
export function probeFailure(error: unknown): ProbeResult {
  if (error instanceof ConnectorError || error instanceof CallFailure)
    return { ok: false, reason: error.reason, detail: error.message };
  throw error;
}

/**
 * What a fulfilment call that failed comes to, from a classified failure (`CallFailure` and its subclasses);
 * anything else is rethrown. Credentials and pacing applied nothing: tried again later (the delivery side
 * pauses on auth).
 */
export function fulfilmentOutcomeOf(error: unknown): FulfilmentOutcome {
  if (!(error instanceof CallFailure)) throw error;
  const result = error.result;
  switch (result.kind) {
    case 'unknown':
      return { kind: 'unknown', detail: result.detail };
    case 'rejected':
      return { kind: 'rejected', why: 'other', detail: result.detail };
    case 'auth_failed':
    case 'rate_limited':
    case 'retry':
      return { kind: 'retry', detail: result.detail };
  }
}

/** The outcomes a failed call gives its items: everything but success and a missing mapping. */
export type FailureResult = Extract<
  DeliveryResult,
  { kind: 'retry' | 'unknown' | 'rate_limited' | 'auth_failed' | 'rejected' }
>;

type FailureClass<T> = new (result: FailureResult, reason: ConnectorErrorReason) => T;

/**
 * A remote call that ended without an answer the caller can use, in both forms a connector needs: how a send
 * records the items it concerned (`result`) and what a pull or a read throws (`toConnectorError()`). Connectors
 * subclass it to name their API (`SpApiFailure`, `VendureFailure`); the factories build the subclass they are
 * called on.
 */
export class CallFailure extends Error {
  readonly result: FailureResult;
  readonly reason: ConnectorErrorReason;

  constructor(result: FailureResult, reason: ConnectorErrorReason) {
    super(result.detail);
    this.name = new.target.name;
    this.result = result;
    this.reason = reason;
  }

  get retryAfterMs(): number | null {
    return this.result.kind === 'rate_limited' ? this.result.retryAfterMs : null;
  }

  toConnectorError(): ConnectorError {
    return new ConnectorError(this.reason, this.message, this.retryAfterMs);
  }

  static rateLimited<T>(this: FailureClass<T>, waitMs: number | null, detail: string): T {
    return new this({ kind: 'rate_limited', retryAfterMs: waitMs, detail }, 'rate_limited');
  }

  static retry<T>(this: FailureClass<T>, detail: string): T {
    return new this({ kind: 'retry', detail }, 'unreachable');
  }

  static unknown<T>(this: FailureClass<T>, detail: string): T {
    return new this({ kind: 'unknown', detail }, 'unreachable');
  }

  static authFailed<T>(this: FailureClass<T>, detail: string): T {
    return new this({ kind: 'auth_failed', detail }, 'auth_failed');
  }

  static rejected<T>(this: FailureClass<T>, detail: string): T {
    return new this({ kind: 'rejected', detail }, 'rejected');
  }

  /** An answer that does not match the model: for a write we cannot tell whether it was applied. */
  static invalidResponse<T>(this: FailureClass<T>, detail: string, isWrite: boolean): T {
    return new this(isWrite ? { kind: 'unknown', detail } : { kind: 'retry', detail }, 'invalid_response');
  }
}

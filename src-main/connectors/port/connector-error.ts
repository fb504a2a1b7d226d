/** Why a pull or read failed, so the caller can back off, pause, or tell staff. */
export type ConnectorErrorReason =
  'unreachable' | 'rate_limited' | 'auth_failed' | 'rejected' | 'invalid_response';

/** Thrown by `pullOrders` and `readLevels` (never by `send`, which classifies instead). */
export class ConnectorError extends Error {
  readonly reason: ConnectorErrorReason;
  /** For `rate_limited`: how long the remote system asked to wait, when it said. */
  readonly retryAfterMs: number | null;

  constructor(reason: ConnectorErrorReason, message: string, retryAfterMs: number | null = null) {
    super(message);
    this.name = 'ConnectorError';
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

import type { ApiErrorReason } from '../../shared/api.js';
import type { FieldError } from '../../shared/events.js';

/**
 * Every reason an `AgentError` can carry, with what it becomes at the API edge: the `reason` of the error body
 * (one of the contract's `ApiErrorReason`s) and so its HTTP status. A reason not listed here does not compile,
 * so no error falls back to a guessed status.
 */
export const AGENT_ERROR_REASONS = {
  // The request itself is wrong: 400 with the reason the contract names.
  bad_json: 'bad_json',
  bad_shape: 'bad_shape',
  invalid_request: 'bad_shape',
  reason_required: 'bad_shape',
  operator_required: 'bad_shape',
  not_supported: 'bad_shape',
  bad_usage: 'bad_shape',
  invalid_config: 'bad_shape',
  not_found: 'not_found',
  // The agent or what it depends on cannot do it now: 503.
  unavailable: 'unavailable',
  agent_refused: 'unavailable',
  agent_running: 'unavailable',
  status_failed: 'unavailable',
  data_dir_locked: 'unavailable',
  // Local files and databases (the CLI's backup, restore and support bundles; start-up).
  exists: 'bad_shape',
  no_database: 'not_found',
  bad_backup: 'bad_shape',
  bad_passphrase: 'bad_shape',
  not_a_bundle: 'bad_shape',
  database_newer: 'internal',
  database_too_new: 'internal',
  database_uninitialized: 'internal',
  payload_version_unknown: 'internal',
} as const satisfies Record<string, ApiErrorReason>;

/** Why an `AgentError` was thrown: a closed list, compared by name. */
export type AgentErrorReason = keyof typeof AGENT_ERROR_REASONS;

/**
 * An error with a stable, machine-readable `reason` and serializable details. At the API edge it becomes
 * `{ type: 'error', reason, message }` with the reason's status (`apiReasonOf`); in the CLI it becomes the
 * message and an exit code.
 */
export class AgentError extends Error {
  readonly reason: AgentErrorReason;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(reason: AgentErrorReason, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AgentError';
    this.reason = reason;
    this.details = details;
  }
}

/** The API error reason (and so the HTTP status) an `AgentError` answers with. */
export function apiReasonOf(error: AgentError): ApiErrorReason {
  return AGENT_ERROR_REASONS[error.reason];
}

/** The AgentError for a bad config, with the path of the offending field. */
export class ConfigError extends AgentError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('invalid_config', message, details);
    this.name = 'ConfigError';
  }
}

/** A command was given input it cannot use (an unknown channel, an empty reason); the CLI exits 2 with it. */
export class UsageError extends AgentError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('bad_usage', message, details);
    this.name = 'UsageError';
  }
}

/**
 * An input refused with the fields at fault (a workbench entry naming an unknown transfer, a fix naming a SKU the
 * catalog lacks): answered at the API edge as a 400 (`bad_shape`) or 404 (`not_found`) whose `errors` name each
 * field, like a zod refusal. Nothing was captured or written.
 *
 * @example throw new InputRefusal('bad_shape', [{ path: 'to', message: 'names no configured location' }]);
 */
export class InputRefusal extends AgentError {
  readonly errors: FieldError[];

  constructor(reason: 'bad_shape' | 'not_found', errors: FieldError[], message?: string) {
    super(reason, message ?? errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    this.name = 'InputRefusal';
    this.errors = errors;
  }
}

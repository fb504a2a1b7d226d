/**
 * An error with a stable, machine-readable `reason` and serializable details. At the API edge it becomes
 * `{ type: 'error', reason, message }`; in the CLI it becomes the message and an exit code.
 */
export class AgentError extends Error {
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(reason: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AgentError';
    this.reason = reason;
    this.details = details;
  }
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

import type { ApiErrorReason } from '../../shared/api.js';
import type { FieldError } from '../../shared/events.js';

/**
 * A request the agent answers with an error of the API's shape (`{ type, reason, message, errors? }`): thrown by
 * a handler or a guard, answered by the server's error handler with the reason's status. For failures that are
 * about the request or the moment (an unknown destination, a remote that cannot be reached), never for bugs.
 */
export class ApiFailure extends Error {
  readonly reason: ApiErrorReason;
  readonly errors: FieldError[] | undefined;

  constructor(reason: ApiErrorReason, message: string, errors?: FieldError[]) {
    super(message);
    this.name = 'ApiFailure';
    this.reason = reason;
    this.errors = errors;
  }
}

/**
 * A 400 naming one field of the input, as a zod refusal would.
 *
 * @example throw fieldFailure('destination', 'names no configured destination ("hq")');
 */
export function fieldFailure(field: string, message: string): ApiFailure {
  return new ApiFailure('bad_shape', `${field}: ${message}`, [{ path: field, message }]);
}

/** The 400 for a destination the config does not name. */
export function unknownDestination(id: string): ApiFailure {
  return fieldFailure('destination', `names no configured destination ("${id}")`);
}

import { ApiCallError } from './client.js';

/**
 * A failed call as a sentence for the user: the agent's (or the client's) message, or the thrown value as text.
 *
 * @example
 * catch (error) { setError(messageOf(error)); }
 */
export function messageOf(error: unknown): string {
  return error instanceof ApiCallError ? error.message : String(error);
}

/** Field → message of a failed call (the agent's and the client's zod errors name their field by path). */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  if (!(error instanceof ApiCallError)) return {};
  const fields: Record<string, string> = {};
  for (const e of error.errors) if (e.path !== '' && !(e.path in fields)) fields[e.path] = e.message;
  return fields;
}

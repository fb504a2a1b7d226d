import type { z } from 'zod';
import type { ApiError, ApiErrorReason } from '../../../shared/api.js';
import type { FieldError } from '../../../shared/events.js';
import { EVENT_STREAM_PATH, RPC, type RpcInput, type RpcName, type RpcOutput } from '../../../shared/rpc.js';
import { type PushedEvents } from '../../../shared/rpc-views.js';

/** A failed call: the agent's `reason` and message, or `invalid_input` when the input failed its schema here. */
export class ApiCallError extends Error {
  readonly reason: ApiErrorReason | 'invalid_input' | 'network';
  readonly status: number;
  readonly errors: FieldError[];

  constructor(reason: ApiCallError['reason'], message: string, status: number, errors: FieldError[] = []) {
    super(message);
    this.reason = reason;
    this.status = status;
    this.errors = errors;
  }
}

/** A path or query value: inputs are flat, so anything not a scalar is sent as JSON. */
function asParam(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}

let onUnauthorized: () => void = () => {};

/** Called when the agent answers 401 (the session ended): the session store sends the user to the login. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/**
 * The one typed client of the agent. `name` picks a route of `shared/rpc.ts`; the input is parsed with the same
 * zod schema the agent uses before anything is sent, and the answer has the route's output type.
 *
 * @example
 * const page = await call('exceptions.page', { status: 'open', offset: 0, limit: 100 });
 */
export async function call<N extends RpcName>(name: N, input: RpcInput<N>): Promise<RpcOutput<N>> {
  const route = RPC[name];
  const parsed = (route.input as z.ZodType).safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ApiCallError('invalid_input', errors.map((e) => e.message).join('; '), 0, errors);
  }
  const values = { ...(parsed.data as Record<string, unknown>) };
  let path: string = route.path.replace(/:(\w+)/g, (_m, key: string) => {
    const value = values[key];
    delete values[key];
    return encodeURIComponent(asParam(value));
  });
  const init: RequestInit = { method: route.method, credentials: 'same-origin', headers: {} };
  if (route.method === 'GET') {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined && value !== null) query.set(key, asParam(value));
    }
    if (query.size > 0) path += `?${query.toString()}`;
  } else {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(values);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiCallError('network', 'The agent cannot be reached. Is it running?', 0);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body as Partial<ApiError> | null;
    if (response.status === 401 && name !== 'session.login') onUnauthorized();
    throw new ApiCallError(
      error?.reason ?? 'internal',
      error?.message ?? `The agent answered ${response.status}.`,
      response.status,
      error?.errors ?? [],
    );
  }
  return body as RpcOutput<N>;
}

/**
 * Subscribes to the agent's pushed events (server-sent events; the browser reconnects by itself).
 * Returns a function that closes the stream.
 */
export function subscribe(
  handlers: { [E in keyof PushedEvents]: (data: PushedEvents[E]) => void } & {
    onConnection: (isOpen: boolean) => void;
  },
): () => void {
  const source = new EventSource(EVENT_STREAM_PATH);
  source.addEventListener('snapshot', (e) => {
    handlers.onConnection(true);
    handlers.snapshot(JSON.parse((e as MessageEvent<string>).data) as PushedEvents['snapshot']);
  });
  source.addEventListener('open', () => handlers.onConnection(true));
  source.addEventListener('error', () => handlers.onConnection(false));
  return () => source.close();
}

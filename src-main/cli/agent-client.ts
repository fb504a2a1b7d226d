import {
  AGENT_API,
  CONTROL_RPC,
  type ApiInput,
  type ApiName,
  type ApiOutput,
} from '../../shared/agent-api.js';
import { AgentError, UsageError } from '../platform/errors.js';

/** A query value: inputs are flat, so anything not a scalar is sent as JSON. */
function asParam(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}

/** The running agent as its lock file names it: where it listens and the token of the local CLI. */
export type RunningAgent = Readonly<{ address: string; controlToken: string }>;

/**
 * Calls one route of the agent's API (`shared/agent-api.ts`) on the running agent with the control token: the
 * input goes as the query string of a GET or the JSON body of a POST, and the answer is the route's output. The
 * agent parses the input with the same schema and its handler table is typed by the same contract.
 *
 * A refusal throws with the agent's message: a `UsageError` (exit 2) for a 400, like the same input refused
 * offline; otherwise `agent_refused`, with the HTTP status in its details.
 *
 * @example const status = await callAgent(lock, 'status.get', {}, 10_000);
 */
export async function callAgent<N extends ApiName>(
  agent: RunningAgent,
  name: N,
  input: ApiInput<N>,
  timeoutMs: number,
): Promise<ApiOutput<N>> {
  const route = AGENT_API[name];
  const isGet = route.method === 'GET';
  const query = new URLSearchParams();
  if (isGet) {
    for (const [key, value] of Object.entries(input)) if (value !== undefined) query.set(key, asParam(value));
  }
  const response = await fetch(
    `${agent.address}${route.path}${query.size > 0 ? `?${query.toString()}` : ''}`,
    {
      method: route.method,
      headers: {
        authorization: `Bearer ${agent.controlToken}`,
        ...(isGet ? {} : { 'content-type': 'application/json' }),
      },
      ...(isGet ? {} : { body: JSON.stringify(input) }),
      signal: AbortSignal.timeout(timeoutMs),
    },
  );
  if (!response.ok) {
    // The agent answers errors as `{ type: 'error', reason, message }`: its message names what was wrong.
    const text = await response.text();
    let message = text;
    try {
      const body = JSON.parse(text) as { message?: unknown };
      if (typeof body.message === 'string') message = body.message;
    } catch {
      // Not JSON (a proxy, a crash): the text as it came.
    }
    const said = `The running agent (${agent.address}) answered ${response.status}: ${message}`;
    if (response.status === 400) throw new UsageError(said, { status: response.status });
    throw new AgentError('agent_refused', said, { status: response.status });
  }
  // The one place an answer becomes typed: the contract's output of `name`, which the agent's handler for
  // `name` is compiled against.
  return (await response.json()) as ApiOutput<N>;
}

export type ControlName = keyof typeof CONTROL_RPC;
/** The path of a control call. */
export type ControlPath = (typeof CONTROL_RPC)[ControlName]['path'];
/** The control call at `path` (each has its own). */
export type ControlAt<P extends ControlPath> = {
  [N in ControlName]: (typeof CONTROL_RPC)[N]['path'] extends P ? N : never;
}[ControlName];

/** The name of the control call at `path`. */
export function controlAt<P extends ControlPath>(path: P): ControlAt<P> {
  const names = Object.keys(CONTROL_RPC) as ControlName[];
  // Control paths are distinct, so the one found is `ControlAt<P>`.
  return names.find((name) => CONTROL_RPC[name].path === path) as ControlAt<P>;
}

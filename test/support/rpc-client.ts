import { AGENT_API, type ApiName } from '../../shared/agent-api.js';

/** An answer of the agent's RPC API: the HTTP status and the JSON body. */
export type RpcAnswer = { status: number; body: Record<string, unknown> };

/**
 * Calls one route of the agent's API (`shared/agent-api.ts`) over HTTP as the holder of `token`: path parameters
 * (`:id`) from `input`, the input as the query of a GET or the JSON body of a POST.
 */
export async function callRoute(
  url: string,
  name: ApiName,
  input: Record<string, unknown>,
  token: string,
): Promise<RpcAnswer> {
  const route = AGENT_API[name];
  const path = route.path.replace(/:(\w+)/g, (_m, key: string) => String(input[key]));
  const query =
    route.method === 'GET' ? `?${new URLSearchParams(input as Record<string, string>).toString()}` : '';
  const response = await fetch(`${url}${path}${query}`, {
    method: route.method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(route.method === 'POST' ? { 'content-type': 'application/json' } : {}),
    },
    ...(route.method === 'POST' ? { body: JSON.stringify(input) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

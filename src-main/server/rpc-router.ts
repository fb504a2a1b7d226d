import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AGENT_API, type ApiName, type ApiOutput, type ApiParsed } from '../../shared/agent-api.js';
import { leastRoleOf } from '../../shared/rpc.js';
import { guard, operatorNameOf, type Principal } from './auth.js';
import { sendBadInput } from './http-server.js';

/** What a handler knows of the request besides its parsed input. */
export type RequestContext = Readonly<{
  principal: Principal | null;
  /** The operator's name, or '' when an operator did not make the request. */
  operator: string;
  /** For what only HTTP has: the address (login throttling), cookies, the request's logger. */
  request: FastifyRequest;
  /** For headers only (a session cookie); errors are thrown as `ApiFailure`, never sent here. */
  reply: FastifyReply;
}>;

/** The handler of one name of the API: its parsed input in, the contract's output out. */
export type Handler<N extends ApiName> = (
  input: ApiParsed<N>,
  context: RequestContext,
) => ApiOutput<N> | Promise<ApiOutput<N>>;

/** A handler for every name of `shared/agent-api.ts`: one missing, or of the wrong type, does not compile. */
export type HandlerTable = { [N in ApiName]: Handler<N> };

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/**
 * Joins the handler groups of the domains into one table. A name handled by two groups fails at start (a spread
 * would let the later one win in silence); a name handled by none fails to compile where the result is used as
 * a `HandlerTable`.
 *
 * @example const handlers: HandlerTable = combineHandlers(sessionHandlers(sessions), outboxHandlers(deps));
 */
export function combineHandlers<G extends Partial<HandlerTable>[]>(
  ...groups: G
): UnionToIntersection<G[number]> {
  const table: Partial<HandlerTable> = {};
  for (const group of groups) {
    for (const name of Object.keys(group)) {
      if (name in table) throw new Error(`Two handlers for "${name}": each name of the API has one.`);
    }
    Object.assign(table, group);
  }
  // Every group's handlers are in it, each under its own name.
  return table as UnionToIntersection<G[number]>;
}

/**
 * Registers every route of the agent's API on its method and path: the caller's access checked before the body
 * is read (`auth.ts`), the input (the query of a GET, the body of a POST, plus `:params`) parsed with the route's
 * zod schema (a refusal is answered 400 naming each field, and the handler is not called), then the handler.
 */
export function registerRpc(app: FastifyInstance, handlers: HandlerTable): void {
  const register = <N extends ApiName>(name: N) => {
    const route = AGENT_API[name];
    const handler: Handler<N> = handlers[name];
    app.route({
      method: route.method,
      url: route.path,
      onRequest: guard('access' in route ? route.access : 'operator', leastRoleOf(route)),
      handler: async (request, reply) => {
        const raw = {
          ...((route.method === 'GET' ? request.query : (request.body ?? {})) as object),
          ...(request.params as object),
        };
        const parsed = route.input.safeParse(raw);
        if (!parsed.success) return sendBadInput(reply, parsed.error);
        const { principal } = request;
        // The schema of `name` parsed it: its output is the handler's input (TypeScript loses that link
        // through the indexed access).
        const input = parsed.data as ApiParsed<N>;
        return handler(input, { principal, operator: operatorNameOf(principal), request, reply });
      },
    });
  };
  // `Object.keys` is typed as strings; these are exactly the API's names.
  for (const name of Object.keys(AGENT_API) as ApiName[]) register(name);
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasRole, type OperatorRole } from '../../shared/operator-roles.js';
import type { RpcAccess } from '../../shared/rpc.js';
import { ApiFailure } from './api-failure.js';
import { sendError } from './http-server.js';
import { readCookie, SESSION_COOKIE, type SessionStore } from './session.js';

/**
 * Who made a request: a POS source (by its token), the local CLI (by the lock file's control token), or an
 * operator (by an operator token or a UI session cookie).
 */
export type Principal =
  | { kind: 'source'; sourceId: string }
  | { kind: 'control' }
  | { kind: 'operator'; name: string; role: OperatorRole };

declare module 'fastify' {
  // Module augmentation needs an interface.
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export type AuthOptions = Readonly<{
  /** Source id by bearer token (the config file's `sources`). */
  sourceTokens: ReadonlyMap<string, string>;
  /** Operator name by bearer token (the config file's `operators`). */
  operatorTokens: ReadonlyMap<string, string>;
  /** The role of a configured operator, by name. */
  roleOf: (operator: string) => OperatorRole;
  /** The lock file's token: the local `backroom` command. */
  controlToken: string;
  /** The source of a POS token created in the UI (hashed in the database, revocable), or null. */
  sourceOfStoredToken: (token: string) => string | null;
  sessions: SessionStore;
}>;

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The bearer token of a request, or null when it carries none. */
export function bearerOf(request: FastifyRequest): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  return match ? match[1]!.trim() : null;
}

/**
 * Tells who made a request, in one place: a bearer token is compared (as a sha256 digest, in constant time) with
 * the control token, the config's source tokens and operator tokens, then looked up among the tokens created in
 * the UI; a request without a known bearer token may carry an operator's session cookie.
 */
export class Authenticator {
  readonly #sources: { hash: Buffer; sourceId: string }[];
  readonly #operators: { hash: Buffer; name: string }[];
  readonly #control: Buffer;
  readonly #sourceOfStoredToken: (token: string) => string | null;
  readonly #sessions: SessionStore;
  readonly #roleOf: (operator: string) => OperatorRole;

  constructor(options: AuthOptions) {
    this.#roleOf = options.roleOf;
    this.#sources = [...options.sourceTokens].map(([token, sourceId]) => ({ hash: digest(token), sourceId }));
    this.#operators = [...options.operatorTokens].map(([token, name]) => ({ hash: digest(token), name }));
    this.#control = digest(options.controlToken);
    this.#sourceOfStoredToken = options.sourceOfStoredToken;
    this.#sessions = options.sessions;
  }

  /**
   * The principal of a request, or null when it names none. Throws an `unauthorized` ApiFailure for a session
   * cookie on a write from another origin: SameSite=Strict keeps other sites' requests cookie-less, and checking
   * Origin on writes also covers a page that reached this port under another host name (DNS rebinding).
   */
  principalOf(request: FastifyRequest): Principal | null {
    const token = bearerOf(request);
    if (token !== null) {
      const hash = digest(token);
      if (timingSafeEqual(hash, this.#control)) return { kind: 'control' };
      const source = this.#sources.find((s) => timingSafeEqual(s.hash, hash));
      if (source) return { kind: 'source', sourceId: source.sourceId };
      const operator = this.#operators.find((o) => timingSafeEqual(o.hash, hash));
      if (operator) return { kind: 'operator', name: operator.name, role: this.#roleOf(operator.name) };
      const sourceId = this.#sourceOfStoredToken(token);
      if (sourceId !== null) return { kind: 'source', sourceId };
    }
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (id === null) return null;
    const name = this.#sessions.operatorOf(id);
    if (name === null) return null;
    const origin = request.headers.origin;
    if (request.method !== 'GET' && request.method !== 'HEAD' && origin !== undefined) {
      const host = request.headers.host;
      if (host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`))
        throw new ApiFailure('unauthorized', 'This request came from another site.');
    }
    return { kind: 'operator', name, role: this.#roleOf(name) };
  }

  /** Sets `request.principal` on every request, before any route's guard runs. */
  install(app: FastifyInstance): void {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      request.principal = this.principalOf(request);
    });
  }
}

/** Whether a principal may call a route of the given access, and what to answer when not. */
const GUARDS: Record<RpcAccess, { isAllowed: (p: Principal | null) => boolean; refusal: string }> = {
  public: { isAllowed: () => true, refusal: '' },
  token: {
    isAllowed: (p) => p !== null,
    refusal: 'A valid bearer token is required (Authorization: Bearer <token>).',
  },
  operator: { isAllowed: (p) => p?.kind === 'operator', refusal: 'Log in as an operator first.' },
  operator_or_control: {
    isAllowed: (p) => p?.kind === 'operator' || p?.kind === 'control',
    refusal: 'This action needs an operator token.',
  },
  control: {
    isAllowed: (p) => p?.kind === 'control',
    refusal: 'This endpoint is for the local backroom command only.',
  },
};

/**
 * An onRequest guard (it runs before the body is read) that answers 401 unless the request's principal has
 * `access`, and 403 when an operator's role is below `role` (the local CLI may do everything).
 *
 * @example app.get('/metrics', { onRequest: guard('token') }, handler);
 */
export function guard(access: RpcAccess, role: OperatorRole = 'clerk') {
  const { isAllowed, refusal } = GUARDS[access];
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const { principal } = request;
    if (!isAllowed(principal)) return sendError(reply, 'unauthorized', refusal);
    if (principal?.kind === 'operator' && !hasRole(principal.role, role))
      return sendError(
        reply,
        'forbidden',
        `${principal.name} is a ${principal.role}: this needs a ${role}${role === 'admin' ? '' : ' or an admin'}.`,
      );
    return undefined;
  };
}

/** The name of the operator making a request ('' when it is not an operator's). */
export function operatorNameOf(principal: Principal | null): string {
  return principal?.kind === 'operator' ? principal.name : '';
}

import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { ApiError, ApiErrorReason } from '../../shared/api.js';
import { AgentError, apiReasonOf } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { z } from 'zod';

/** Who made a request: a POS source (by its token) or the local CLI (by the lock file's control token). */
export type Principal =
  { kind: 'source'; sourceId: string } | { kind: 'control' } | { kind: 'operator'; name: string };

declare module 'fastify' {
  // Module augmentation needs an interface.
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export type HttpServerOptions = Readonly<{
  logger: Logger;
  /** Source id by bearer token. */
  sourceTokens: ReadonlyMap<string, string>;
  /** Operator name by bearer token. */
  operatorTokens: ReadonlyMap<string, string>;
  controlToken: string;
  maxBodyBytes: number;
}>;

const STATUS_BY_REASON: Record<ApiErrorReason, number> = {
  bad_json: 400,
  bad_shape: 400,
  too_large: 413,
  unauthorized: 401,
  not_found: 404,
  unavailable: 503,
  internal: 500,
};

/** Answers with the error shape every endpoint shares. */
export function sendError(
  reply: FastifyReply,
  reason: ApiErrorReason,
  message: string,
  extra: Partial<ApiError> = {},
) {
  const body: ApiError = { type: 'error', reason, message, ...extra };
  return reply.code(STATUS_BY_REASON[reason]).send(body);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * The agent's HTTP server (fastify): JSON bodies whatever the content type, a body size limit, bearer-token
 * auth, and one error shape. Routes are registered by the modules that own them.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const httpLogger: FastifyBaseLogger = options.logger.child({ module: 'http' });
  const app = Fastify({
    loggerInstance: httpLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes,
    // Keep-alive connections from POS clients are reused; shutting down closes idle ones at once.
    forceCloseConnections: 'idle',
  });

  // A POS that sends JSON as text/plain (or with no content type) is still understood; anything not JSON is 400.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(new AgentError('bad_json', 'The request body is empty; send JSON.'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      done(
        new AgentError('bad_json', `The request body is not valid JSON: ${(error as Error).message}`),
        undefined,
      );
    }
  });

  // Tokens are compared as sha256 digests in constant time.
  const sources = [...options.sourceTokens].map(([token, sourceId]) => ({ hash: digest(token), sourceId }));
  const operators = [...options.operatorTokens].map(([token, name]) => ({ hash: digest(token), name }));
  const control = digest(options.controlToken);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header);
    if (!match) return;
    const hash = digest(match[1]!.trim());
    if (timingSafeEqual(hash, control)) {
      req.principal = { kind: 'control' };
      return;
    }
    const source = sources.find((s) => timingSafeEqual(s.hash, hash));
    if (source) {
      req.principal = { kind: 'source', sourceId: source.sourceId };
      return;
    }
    const operator = operators.find((o) => timingSafeEqual(o.hash, hash));
    if (operator) req.principal = { kind: 'operator', name: operator.name };
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (error instanceof AgentError && apiReasonOf(error) !== 'internal') {
      return sendError(reply, apiReasonOf(error), error.message);
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(
        reply,
        'too_large',
        `The request body is larger than the limit of ${options.maxBodyBytes} bytes.`,
      );
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, 'bad_shape', error.message);
    }
    req.log.error({ err: error, url: req.url }, 'request failed');
    return sendError(
      reply,
      'internal',
      'The agent could not handle the request; it is logged. Nothing was changed.',
    );
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 'not_found', `No route ${req.method} ${req.url}.`));
  return app;
}

/** An onRequest guard (it runs before the body is read) that requires any valid token. */
export async function requireToken(
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  if (req.principal !== null) return undefined;
  return sendError(
    reply,
    'unauthorized',
    'A valid bearer token is required (Authorization: Bearer <token>).',
  );
}

/** An onRequest guard (it runs before the body is read) that requires the local control token (the CLI on this machine). */
export async function requireControl(
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  if (req.principal?.kind === 'control') return undefined;
  return sendError(reply, 'unauthorized', 'This endpoint is for the local backroom command only.');
}

/** An onRequest guard (it runs before the body is read) for actions people take: an operator token, or the local CLI (which names the operator). */
export async function requireOperator(
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  if (req.principal?.kind === 'operator' || req.principal?.kind === 'control') return undefined;
  return sendError(reply, 'unauthorized', 'This action needs an operator token.');
}

/** A 400 `bad_shape` naming each field a zod schema refused, as `errors: [{ path, message }]`. */
export function sendBadInput(reply: FastifyReply, error: z.ZodError): FastifyReply {
  return sendError(
    reply,
    'bad_shape',
    error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '),
    { errors: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  );
}

import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { ApiError, ApiErrorReason } from '../../shared/api.js';
import { AgentError, apiReasonOf, InputRefusal } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { ApiFailure } from './api-failure.js';
import type { z } from 'zod';

export type HttpServerOptions = Readonly<{
  logger: Logger;
  maxBodyBytes: number;
}>;

const STATUS_BY_REASON: Record<ApiErrorReason, number> = {
  bad_json: 400,
  bad_shape: 400,
  too_large: 413,
  unauthorized: 401,
  forbidden: 403,
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

/**
 * The agent's HTTP server (fastify): JSON bodies whatever the content type, a body size limit, and one error
 * shape. Who is calling is told by `auth.ts`; the routes are registered by `agent-server.ts`.
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

  // A request still being answered when the agent stops keeps its connection: once answered, that connection is
  // idle but open, and close() would wait for the client to drop it (fastify keeps connections alive 72 s). So
  // from the moment close() is called every answer says `Connection: close`: the requests in flight finish, their
  // connections end with them, and the stop takes as long as the slowest request, not the keep-alive.
  let isClosing = false;
  app.addHook('preClose', async () => {
    isClosing = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (isClosing) void reply.header('connection', 'close');
    return payload;
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

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (error instanceof ApiFailure) {
      return sendError(reply, error.reason, error.message, error.errors ? { errors: error.errors } : {});
    }
    if (error instanceof AgentError && apiReasonOf(error) !== 'internal') {
      const extra = error instanceof InputRefusal ? { errors: error.errors } : {};
      return sendError(reply, apiReasonOf(error), error.message, extra);
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

/**
 * The one answer to an input a zod schema refused: a 400 `bad_shape` naming each field, as `errors: [{ path,
 * message }]` and in the message. `label` leads the message where the public API has always said where the
 * input was wrong ("Bad query: limit: ...").
 */
export function sendBadInput(reply: FastifyReply, error: z.ZodError, label?: 'Bad query'): FastifyReply {
  const fields = error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  return sendError(reply, 'bad_shape', label === undefined ? fields : `${label}: ${fields}`, {
    errors: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

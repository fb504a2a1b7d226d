import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { OUTBOX_ITEM_STATES as STATES } from '../../shared/outbox-item-states.js';
import { AgentError } from '../platform/errors.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Dispatcher } from '../outbox/dispatcher.js';
import type { Actor, OutboxOperations } from '../outbox/outbox-operations.js';
import { requireOperator, sendError } from './http-server.js';

export type OutboxRouteDeps = Readonly<{
  operations: OutboxOperations;
  exceptions: ExceptionsRepo;
  audit: AuditLog;
  dispatchers: readonly Dispatcher[];
}>;

const listQuery = z.object({
  destination: z.string().min(1).optional(),
  state: z.enum(STATES).optional(),
  afterId: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const actionBody = z.object({
  ids: z.array(z.number().int().positive()).min(1).max(10_000),
  reason: z.string().max(1000).optional(),
  /** Required with the CLI's control token; an operator token names its operator itself. */
  operator: z.string().min(1).max(100).optional(),
});

/** Who is acting: the operator of the token, or the one the local CLI names. */
function actorOf(
  req: FastifyRequest,
  body: { operator?: string | undefined; reason?: string | undefined },
): Actor {
  const principal = req.principal;
  const operator = principal?.kind === 'operator' ? principal.name : body.operator;
  if (operator === undefined)
    throw new AgentError('bad_shape', 'Name the operator ("operator") who takes this action.');
  return { operator, reason: body.reason?.trim() || null };
}

/** Operations on outbox items and destinations (issue 3), each recorded in the audit log. */
export function registerOutboxRoutes(app: FastifyInstance, deps: OutboxRouteDeps): void {
  app.get('/api/v1/outbox', { onRequest: requireOperator }, async (req, reply) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success)
      return sendError(
        reply,
        'bad_shape',
        `Bad query: ${query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const { destination, state, afterId, limit } = query.data;
    return {
      items: deps.operations.list({
        ...(destination !== undefined ? { destinationId: destination } : {}),
        ...(state !== undefined ? { state } : {}),
        ...(afterId !== undefined ? { afterId } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    };
  });

  const action = (path: string, run: (ids: number[], actor: Actor) => unknown) =>
    app.post(path, { onRequest: requireOperator }, async (req, reply) => {
      const body = actionBody.safeParse(req.body);
      if (!body.success)
        return sendError(
          reply,
          'bad_shape',
          `Bad body: ${body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      try {
        return run(body.data.ids, actorOf(req, body.data));
      } catch (error) {
        // An action without its reason (discard) or operator is an incomplete request, not a failure of ours.
        if (
          error instanceof AgentError &&
          (error.reason === 'reason_required' || error.reason === 'operator_required')
        )
          return sendError(reply, 'bad_shape', error.message);
        throw error;
      }
    });
  action('/api/v1/outbox/retry', (ids, actor) => deps.operations.retry(ids, actor));
  action('/api/v1/outbox/replay', (ids, actor) => deps.operations.replayAsNew(ids, actor));
  action('/api/v1/outbox/discard', (ids, actor) => deps.operations.discard(ids, actor));

  app.post('/api/v1/destinations/:id/resume', { onRequest: requireOperator }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const dispatcher = deps.dispatchers.find((d) => d.destinationId === id);
    if (!dispatcher) return sendError(reply, 'not_found', `No destination "${id}" with a connector.`);
    const body = z
      .object({ operator: z.string().min(1).optional(), reason: z.string().optional() })
      .safeParse(req.body ?? {});
    const actor = actorOf(req, body.success ? body.data : {});
    const before = dispatcher.state;
    dispatcher.resume(`resumed by ${actor.operator}`);
    deps.audit.record({
      operator: actor.operator,
      action: 'destination.resume',
      subject: `destination:${id}`,
      reason: actor.reason,
      before: { state: before },
      after: { state: 'closed' },
    });
    return { destination: id, state: dispatcher.state };
  });

  const exceptionsQuery = z.object({
    status: z.enum(['open', 'resolved', 'discarded']).optional(),
    kind: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(5000).optional(),
  });
  app.get('/api/v1/exceptions', { onRequest: requireOperator }, async (req, reply) => {
    const parsed = exceptionsQuery.safeParse(req.query);
    if (!parsed.success)
      return sendError(
        reply,
        'bad_shape',
        `Bad query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const q = parsed.data;
    return {
      exceptions: deps.exceptions.list({
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.kind !== undefined ? { kind: q.kind } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
      }),
    };
  });

  app.get('/api/v1/audit', { onRequest: requireOperator }, async () => ({ entries: deps.audit.list() }));
}

import type { FastifyInstance } from 'fastify';
import { OUTBOX_ITEM_STATES } from '../../../shared/outbox-item-states.js';
import { z } from 'zod';
import { AgentError } from '../../platform/errors.js';
import type { AuditLog } from '../../exceptions/audit-log.js';
import type { Dispatcher } from '../../outbox/dispatcher.js';
import type { Actor, OutboxOperations } from '../../outbox/outbox-operations.js';
import { guard, type Principal } from '../auth.js';
import { sendBadInput, sendError } from '../http-server.js';
import type { HandlerTable } from '../rpc-router.js';

export type OutboxHandlerDeps = Readonly<{
  operations: OutboxOperations;
  audit: AuditLog;
  dispatchers: readonly Dispatcher[];
}>;

/** Who is acting: the operator of the token or session, or the one the local CLI names. */
function actorOf(
  principal: Principal | null,
  input: { operator?: string | undefined; reason?: string | undefined },
): Actor {
  const operator = principal?.kind === 'operator' ? principal.name : input.operator;
  if (operator === undefined)
    throw new AgentError('bad_shape', 'Name the operator ("operator") who takes this action.');
  return { operator, reason: input.reason?.trim() || null };
}

/**
 * Operations on outbox items (issue 3), each recorded in the audit log: retry with the same idempotency key,
 * replay under a new one, discard with a reason. An action without its reason (discard) or operator is answered
 * 400 (the operations' `reason_required` and `operator_required`).
 */
export function outboxHandlers(
  deps: OutboxHandlerDeps,
): Pick<HandlerTable, 'outbox.retry' | 'outbox.replay' | 'outbox.discard'> {
  return {
    'outbox.retry': (input, { principal }) => deps.operations.retry(input.ids, actorOf(principal, input)),
    'outbox.replay': (input, { principal }) =>
      deps.operations.replayAsNew(input.ids, actorOf(principal, input)),
    'outbox.discard': (input, { principal }) => deps.operations.discard(input.ids, actorOf(principal, input)),
  };
}

const listQuery = z.object({
  destination: z.string().min(1).optional(),
  state: z.enum(OUTBOX_ITEM_STATES).optional(),
  afterId: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const resumeBody = z.object({ operator: z.string().min(1).optional(), reason: z.string().optional() });

/**
 * The operator API's outbox routes outside the contract (README): `GET /api/v1/outbox` lists items by state, and
 * `POST /api/v1/destinations/:id/resume` resumes a destination paused after it refused the credentials.
 */
export function registerOutboxRoutes(app: FastifyInstance, deps: OutboxHandlerDeps): void {
  app.get('/api/v1/outbox', { onRequest: guard('operator_or_control') }, async (req, reply) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) return sendBadInput(reply, query.error, 'Bad query');
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

  app.post(
    '/api/v1/destinations/:id/resume',
    { onRequest: guard('operator_or_control') },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const dispatcher = deps.dispatchers.find((d) => d.destinationId === id);
      if (!dispatcher) return sendError(reply, 'not_found', `No destination "${id}" with a connector.`);
      // The body is optional: an operator token names its operator, and a reason may be left out.
      const body = resumeBody.safeParse(req.body ?? {});
      const actor = actorOf(req.principal, body.success ? body.data : {});
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
    },
  );
}

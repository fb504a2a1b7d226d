import { AgentError } from '../../platform/errors.js';
import type { AuditLog } from '../../exceptions/audit-log.js';
import type { Dispatcher } from '../../outbox/dispatcher.js';
import type { Actor, OutboxOperations } from '../../outbox/outbox-operations.js';
import { ApiFailure } from '../api-failure.js';
import type { Principal } from '../auth.js';
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
 * Operations on outbox items and destinations, each recorded in the audit log: retry with the same idempotency key,
 * replay under a new one, discard with a reason. An action without its reason (discard) or operator is answered
 * 400 (the operations' `reason_required` and `operator_required`).
 */
export function outboxHandlers(
  deps: OutboxHandlerDeps,
): Pick<
  HandlerTable,
  'outbox.retry' | 'outbox.replay' | 'outbox.discard' | 'outbox.list' | 'destinations.resume'
> {
  return {
    'outbox.retry': (input, { principal }) => deps.operations.retry(input.ids, actorOf(principal, input)),
    'outbox.replay': (input, { principal }) =>
      deps.operations.replayAsNew(input.ids, actorOf(principal, input)),
    'outbox.discard': (input, { principal }) => deps.operations.discard(input.ids, actorOf(principal, input)),

    'outbox.list': ({ destination, state, afterId, limit }) => ({
      items: deps.operations.list({
        ...(destination !== undefined ? { destinationId: destination } : {}),
        ...(state !== undefined ? { state } : {}),
        ...(afterId !== undefined ? { afterId } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    }),

    // Resumes a destination paused after it refused the credentials (or any paused one), audited.
    'destinations.resume': (input, { principal }) => {
      const dispatcher = deps.dispatchers.find((d) => d.destinationId === input.id);
      if (!dispatcher) throw new ApiFailure('not_found', `No destination "${input.id}" with a connector.`);
      const actor = actorOf(principal, input);
      const before = dispatcher.state;
      dispatcher.resume(`resumed by ${actor.operator}`);
      deps.audit.record({
        operator: actor.operator,
        action: 'destination.resume',
        subject: `destination:${input.id}`,
        reason: actor.reason,
        before: { state: before },
        after: { state: 'closed' },
      });
      return { destination: input.id, state: dispatcher.state };
    },
  };
}

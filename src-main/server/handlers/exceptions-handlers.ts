import type { ExceptionDetail } from '../../../shared/rpc-views.js';
import { capturedEvent } from '../../capture/event-views.js';
import type { AgentDatabase } from '../../db/agent-database.js';
import type { AuditLog } from '../../exceptions/audit-log.js';
import {
  exceptionPage,
  exceptionWithDetails,
  outboxIdsOfOpenExceptions,
} from '../../exceptions/exception-views.js';
import type { ExceptionsRepo } from '../../exceptions/exceptions-repo.js';
import type { OutboxOperations } from '../../outbox/outbox-operations.js';
import { deliveryAttemptsOf, outboxItemSummary } from '../../outbox/outbox-views.js';
import { ApiFailure } from '../api-failure.js';
import type { HandlerTable } from '../rpc-router.js';

export type ExceptionsHandlerDeps = Readonly<{
  db: AgentDatabase;
  exceptions: ExceptionsRepo;
  operations: OutboxOperations;
  audit: AuditLog;
}>;

/** Outbox items retried per call of a bulk retry: the same cap as one `outbox.retry`. */
const RETRY_CHUNK = 1000;

/**
 * Exceptions for the UI: pages for the virtualized table, one with its event, outbox item and attempts, and a
 * bulk retry of a filtered selection; and the audit log of what people did about them.
 */
export function exceptionsHandlers(
  deps: ExceptionsHandlerDeps,
): Pick<
  HandlerTable,
  'exceptions.page' | 'exceptions.detail' | 'exceptions.retryMatching' | 'exceptions.list' | 'audit.list'
> {
  const { db } = deps;
  return {
    'exceptions.page': ({ offset, limit, ...filter }) =>
      exceptionPage(db, filter, { offset, limit }, Date.now()),

    'exceptions.detail': ({ id }) => {
      const exception = exceptionWithDetails(db, id);
      if (exception === null) throw new ApiFailure('not_found', `No exception ${id}.`);
      return {
        exception,
        event: exception.eventSeq === null ? null : capturedEvent(db, exception.eventSeq),
        outbox: exception.outboxId === null ? null : outboxItemSummary(db, exception.outboxId),
        attempts: exception.outboxId === null ? [] : deliveryAttemptsOf(db, exception.outboxId),
      } satisfies ExceptionDetail;
    },

    'exceptions.retryMatching': ({ filter, reason }, { operator }) => {
      // Only open exceptions are acted on, whatever status the screen shows.
      const ids = outboxIdsOfOpenExceptions(db, filter, Date.now());
      const actor = {
        operator,
        reason: reason === undefined || reason === '' ? 'bulk retry of a filtered selection' : reason,
      };
      let changed = 0;
      let skipped = 0;
      for (let i = 0; i < ids.length; i += RETRY_CHUNK) {
        const result = deps.operations.retry(ids.slice(i, i + RETRY_CHUNK), actor);
        changed += result.changed.length;
        skipped += result.skipped.length;
      }
      return { matched: ids.length, changed, skipped };
    },

    'audit.list': () => ({ entries: deps.audit.list() }),

    // The operator API's list: exception rows as stored, newest first.
    'exceptions.list': ({ status, kind, limit }) => ({
      exceptions: deps.exceptions.list({
        ...(status !== undefined ? { status } : {}),
        ...(kind !== undefined ? { kind } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    }),
  };
}

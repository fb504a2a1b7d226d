import { create } from 'zustand';
import type { ExceptionFilter } from '../../../shared/rpc.js';
import type { ExceptionDetail, ExceptionView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';
import { noRows, pagedRows, type PagedRows } from './paged-rows.js';

export type OutboxAction = 'retry' | 'replay' | 'discard';

type ExceptionsState = PagedRows<ExceptionView> & {
  filter: ExceptionFilter;
  selectedId: number | null;
  detail: ExceptionDetail | null;
  setFilter: (filter: ExceptionFilter) => void;
  showRange: (first: number, last: number) => void;
  /** Reloads the visible pages (after a change pushed by the agent or an action). */
  refresh: () => Promise<void>;
  select: (id: number | null) => Promise<void>;
  /** Acts on the selected exception's outbox item; resolves with a message for the user. */
  act: (action: OutboxAction, reason: string) => Promise<{ ok: boolean; message: string }>;
  retryMatching: (reason: string) => Promise<{ ok: boolean; message: string }>;
  /** Closes every open exception of the current filter with one reason. */
  closeMatching: (reason: string) => Promise<{ ok: boolean; message: string }>;
};

export const useExceptions = create<ExceptionsState>()((set, get) => {
  const rows = pagedRows({
    set,
    get,
    fetch: (offset, limit) => call('exceptions.page', { ...get().filter, offset, limit }),
  });

  return {
    filter: { status: 'open' },
    ...noRows(),
    selectedId: null,
    detail: null,
    setFilter: (filter) => {
      set({ filter });
      rows.restart();
    },
    showRange: rows.showRange,
    refresh: async () => {
      await rows.refresh();
      const selected = get().selectedId;
      if (selected !== null) await get().select(selected);
    },
    select: async (id) => {
      set({ selectedId: id, ...(id === null || id !== get().detail?.exception.id ? { detail: null } : {}) });
      if (id === null) return;
      try {
        const detail = await call('exceptions.detail', { id });
        if (get().selectedId === id) set({ detail });
      } catch (error) {
        set({ error: messageOf(error) });
      }
    },
    act: async (action, reason) => {
      const outboxId = get().detail?.outbox?.id;
      if (outboxId === undefined) return { ok: false, message: 'This exception has no delivery to act on.' };
      try {
        const input = { ids: [outboxId], reason };
        const result =
          action === 'retry'
            ? await call('outbox.retry', input)
            : action === 'replay'
              ? await call('outbox.replay', input)
              : await call('outbox.discard', input);
        await get().refresh();
        if (result.changed.length === 0) {
          return {
            ok: false,
            message: `Nothing changed: the delivery ${result.skipped[0]?.why ?? 'was skipped'}.`,
          };
        }
        const done = { retry: 'Sent again', replay: 'Queued again as a new delivery', discard: 'Discarded' }[
          action
        ];
        return { ok: true, message: `${done}. The action is in the activity log.` };
      } catch (error) {
        return { ok: false, message: messageOf(error) };
      }
    },
    retryMatching: async (reason) => {
      try {
        const result = await call('exceptions.retryMatching', {
          filter: get().filter,
          ...(reason.trim() !== '' ? { reason } : {}),
        });
        await get().refresh();
        return {
          ok: true,
          message: `Retried ${result.changed} of ${result.matched} matching deliveries${
            result.skipped > 0 ? ` (${result.skipped} could not be retried)` : ''
          }.`,
        };
      } catch (error) {
        return { ok: false, message: messageOf(error) };
      }
    },
    closeMatching: async (reason) => {
      try {
        const result = await call('exceptions.closeMatching', { filter: get().filter, reason });
        await get().refresh();
        return {
          ok: true,
          message: `Closed ${result.changed} of ${result.matched} matching exceptions with the reason “${reason.trim()}”.`,
        };
      } catch (error) {
        return { ok: false, message: messageOf(error) };
      }
    },
  };
});

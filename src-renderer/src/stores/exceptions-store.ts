import { create } from 'zustand';
import type { ExceptionFilter } from '../../../shared/rpc.js';
import type { ExceptionDetail, ExceptionView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';

/** Rows fetched per request; the table asks for the pages its visible rows fall on. */
export const PAGE_SIZE = 100;

export type OutboxAction = 'retry' | 'replay' | 'discard';

type ExceptionsState = {
  filter: ExceptionFilter;
  /** Rows matching the filter, or null before the first answer. */
  total: number | null;
  /** Loaded pages by page index. */
  pages: Record<number, ExceptionView[]>;
  /** The rows the table shows, so a refresh reloads just those. */
  visible: [number, number];
  error: string | null;
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

let generation = 0;
const inFlight = new Set<string>();

function pagesOf(first: number, last: number): number[] {
  const pages: number[] = [];
  for (let p = Math.floor(first / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p += 1) pages.push(p);
  return pages;
}

export const useExceptions = create<ExceptionsState>()((set, get) => {
  const fetchPage = async (page: number, gen: number) => {
    const key = `${gen}:${page}`;
    if (inFlight.has(key)) return;
    inFlight.add(key);
    try {
      const result = await call('exceptions.page', {
        ...get().filter,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
      });
      if (gen !== generation) return;
      set((s) => ({ total: result.total, pages: { ...s.pages, [page]: result.rows }, error: null }));
    } catch (error) {
      if (gen === generation) set({ error: messageOf(error) });
    } finally {
      inFlight.delete(key);
    }
  };

  return {
    filter: { status: 'open' },
    total: null,
    pages: {},
    visible: [0, 0],
    error: null,
    selectedId: null,
    detail: null,
    setFilter: (filter) => {
      generation += 1;
      set({ filter, total: null, pages: {}, visible: [0, 0], error: null });
      void fetchPage(0, generation);
    },
    showRange: (first, last) => {
      set({ visible: [first, last] });
      const { pages } = get();
      for (const p of pagesOf(first, last)) if (!(p in pages)) void fetchPage(p, generation);
    },
    refresh: async () => {
      generation += 1;
      const gen = generation;
      const [first, last] = get().visible;
      const wanted = pagesOf(first, last);
      try {
        const results = await Promise.all(
          wanted.map((p) =>
            call('exceptions.page', { ...get().filter, offset: p * PAGE_SIZE, limit: PAGE_SIZE }),
          ),
        );
        if (gen !== generation) return;
        const pages: Record<number, ExceptionView[]> = {};
        wanted.forEach((p, i) => (pages[p] = results[i]!.rows));
        set({ pages, total: results[0]?.total ?? 0, error: null });
      } catch (error) {
        if (gen === generation) set({ error: messageOf(error) });
      }
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

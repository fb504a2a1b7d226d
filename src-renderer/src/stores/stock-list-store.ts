import { create } from 'zustand';
import type { StockListView, StockRowView } from '../../../shared/rpc-views.js';
import type { StockListInput } from '../../../shared/stock-entry.js';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';

/** Rows fetched per request; the table asks for the pages its visible rows fall on. */
export const STOCK_PAGE_SIZE = 100;

/** What the Stock page's table shows: the list's input without its paging. */
export type StockQuery = Readonly<Omit<StockListInput, 'offset' | 'limit'>>;

export const DEFAULT_STOCK_QUERY: StockQuery = { filter: 'all', sort: 'sku', dir: 'asc' };

type StockListState = {
  query: StockQuery;
  /** Rows matching the query, or null before the first answer. */
  total: number | null;
  /** Loaded pages by page index. */
  pages: Record<number, StockRowView[]>;
  /** The channels of the per-channel columns and the configured locations, from the last answer. */
  channels: string[];
  locations: StockListView['locations'];
  error: string | null;
  setQuery: (query: StockQuery) => void;
  /** The rows the table shows, so a refresh reloads just those. */
  visible: [number, number];
  /** Fetches the pages the rows `first` to `last` fall on, if not loaded yet. */
  showRange: (first: number, last: number) => void;
  /** Reloads the visible pages (stock moved: the agent captured something); other pages are fetched again later. */
  refresh: () => Promise<void>;
};

function pagesOf(first: number, last: number): number[] {
  const pages: number[] = [];
  for (let p = Math.floor(first / STOCK_PAGE_SIZE); p <= Math.floor(last / STOCK_PAGE_SIZE); p += 1)
    pages.push(p);
  return pages;
}

// Answers of an older query are dropped: each query change takes the next generation.
let generation = 0;
const inFlight = new Set<string>();

/** The Stock page's rows, fetched a page at a time as the table scrolls (as the exceptions page does). */
export const useStockList = create<StockListState>()((set, get) => {
  const fetchPage = async (page: number, gen: number) => {
    const key = `${gen}:${page}`;
    if (inFlight.has(key)) return;
    inFlight.add(key);
    try {
      const result = await call('stock.list', {
        ...get().query,
        offset: page * STOCK_PAGE_SIZE,
        limit: STOCK_PAGE_SIZE,
      });
      if (gen !== generation) return;
      set((s) => ({
        total: result.total,
        pages: { ...s.pages, [page]: result.rows },
        channels: result.channels,
        locations: result.locations,
        error: null,
      }));
    } catch (error) {
      if (gen === generation) set({ error: messageOf(error), total: get().total ?? 0 });
    } finally {
      inFlight.delete(key);
    }
  };

  return {
    query: DEFAULT_STOCK_QUERY,
    total: null,
    pages: {},
    channels: [],
    locations: [],
    error: null,
    visible: [0, 0],
    setQuery: (query) => {
      generation += 1;
      set({ query, total: null, pages: {}, visible: [0, 0], error: null });
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
            call('stock.list', { ...get().query, offset: p * STOCK_PAGE_SIZE, limit: STOCK_PAGE_SIZE }),
          ),
        );
        if (gen !== generation) return;
        const pages: Record<number, StockRowView[]> = {};
        wanted.forEach((p, i) => (pages[p] = results[i]!.rows));
        const answer = results[0];
        set({
          pages,
          total: answer?.total ?? 0,
          ...(answer === undefined ? {} : { channels: answer.channels, locations: answer.locations }),
          error: null,
        });
      } catch (error) {
        if (gen === generation) set({ error: messageOf(error) });
      }
    },
  };
});

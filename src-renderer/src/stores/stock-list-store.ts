import { create } from 'zustand';
import type { StockListView, StockRowView } from '../../../shared/rpc-views.js';
import type { StockListInput } from '../../../shared/stock-entry.js';
import { call } from '../api/client.js';
import { noRows, pagedRows, type PagedRows } from './paged-rows.js';

/** What the Stock page's table shows: the list's input without its paging. */
export type StockQuery = Readonly<Omit<StockListInput, 'offset' | 'limit'>>;

export const DEFAULT_STOCK_QUERY: StockQuery = { filter: 'all', sort: 'sku', dir: 'asc' };

type StockListState = PagedRows<StockRowView> & {
  query: StockQuery;
  /** The channels of the per-channel columns and the configured locations, from the last answer. */
  channels: string[];
  locations: StockListView['locations'];
  setQuery: (query: StockQuery) => void;
  /** Fetches the pages the rows `first` to `last` fall on, if not loaded yet. */
  showRange: (first: number, last: number) => void;
  /** Reloads the visible pages (stock moved: the agent captured something); other pages are fetched again later. */
  refresh: () => Promise<void>;
};

/** The Stock page's rows, fetched a page at a time as the table scrolls (as the exceptions page does). */
export const useStockList = create<StockListState>()((set, get) => {
  const rows = pagedRows({
    set,
    get,
    fetch: (offset, limit) => call('stock.list', { ...get().query, offset, limit }),
    keptOf: (answer: StockListView) => ({ channels: answer.channels, locations: answer.locations }),
    // A failed first page shows as no rows beside the error, not as loading forever.
    isEmptyOnError: true,
  });
  return {
    query: DEFAULT_STOCK_QUERY,
    ...noRows(),
    channels: [],
    locations: [],
    setQuery: (query) => {
      set({ query });
      rows.restart();
    },
    showRange: rows.showRange,
    refresh: rows.refresh,
  };
});

import { messageOf } from '../api/message-of.js';

/** Rows fetched per request; a virtualized table asks for the pages its visible rows fall on. */
export const PAGE_SIZE = 100;

/** The part of a store that holds a long list fetched a page at a time, as a virtualized table scrolls. */
export type PagedRows<Row> = {
  /** Rows matching the store's query, or null before the first answer. */
  total: number | null;
  /** Loaded pages by page index. */
  pages: Record<number, Row[]>;
  /** The rows the table shows, so a refresh reloads just those. */
  visible: [number, number];
  error: string | null;
};

/** The rows of a new query: none yet, and the top of the table in view. */
export function noRows<Row>(): PagedRows<Row> {
  return { total: null, pages: {}, visible: [0, 0], error: null };
}

/** The row at `index` of loaded pages, or undefined while its page is not loaded. */
export function rowAt<Row>(pages: Readonly<Record<number, Row[]>>, index: number): Row | undefined {
  return pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE];
}

function pagesOf(first: number, last: number): number[] {
  const pages: number[] = [];
  for (let p = Math.floor(first / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p += 1) pages.push(p);
  return pages;
}

/** An answer of a paged list route (`stock.list`, `exceptions.page`). */
type PageAnswer<Row> = Readonly<{ total: number; rows: Row[] }>;

export type PagedRowsOptions<Row, A extends PageAnswer<Row>, Kept> = Readonly<{
  /** The store's `set`: it takes the paged rows' fields, with `Kept` when an answer came. */
  set: (partial: Partial<PagedRows<Row>> | (Partial<PagedRows<Row>> & Kept)) => void;
  get: () => PagedRows<Row>;
  /** Fetches `limit` rows from `offset` of the store's current query. */
  fetch: (offset: number, limit: number) => Promise<A>;
  /** What else of an answer the store keeps (the Stock page's channels and locations). */
  keptOf?: (answer: A) => Kept;
  /**
   * Whether a failed page with nothing loaded yet shows as no rows (total 0, beside the error) rather than
   * still loading (default false).
   */
  isEmptyOnError?: boolean;
}>;

/** What a store's actions call from {@link pagedRows}. */
export type PagedRowsLoader = Readonly<{
  /** Starts over (the query changed): no rows, then the first page; answers of the older query are dropped. */
  restart: () => void;
  /** Fetches the pages the rows `first` to `last` fall on, if not loaded yet. */
  showRange: (first: number, last: number) => void;
  /** Reloads the visible pages, dropping the others (fetched again when scrolled to). */
  refresh: () => Promise<void>;
}>;

/**
 * The loading of a paged list for a virtualized table (the Stock and Exceptions pages): a page at a time as the
 * table scrolls, each fetched once however often its rows are shown, and answers of an older query (or an older
 * refresh) dropped.
 *
 * @example
 * const rows = pagedRows({ set, get, fetch: (offset, limit) => call('exceptions.page', { ...get().filter, offset, limit }) });
 * setFilter: (filter) => (set({ filter }), rows.restart()),
 */
export function pagedRows<Row, A extends PageAnswer<Row>, Kept extends object = Record<never, never>>(
  options: PagedRowsOptions<Row, A, Kept>,
): PagedRowsLoader {
  const { set, get, fetch, keptOf, isEmptyOnError = false } = options;
  // Each restart and refresh takes the next generation; an answer of an older one is dropped.
  let generation = 0;
  const inFlight = new Set<string>();

  const fetchPage = async (page: number, gen: number) => {
    const key = `${gen}:${page}`;
    if (inFlight.has(key)) return;
    inFlight.add(key);
    try {
      const answer = await fetch(page * PAGE_SIZE, PAGE_SIZE);
      if (gen !== generation) return;
      const fields = { total: answer.total, pages: { ...get().pages, [page]: answer.rows }, error: null };
      set(keptOf === undefined ? fields : { ...fields, ...keptOf(answer) });
    } catch (error) {
      if (gen === generation)
        set({ error: messageOf(error), ...(isEmptyOnError ? { total: get().total ?? 0 } : {}) });
    } finally {
      inFlight.delete(key);
    }
  };

  return {
    restart: () => {
      generation += 1;
      set(noRows());
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
        const answers = await Promise.all(wanted.map((p) => fetch(p * PAGE_SIZE, PAGE_SIZE)));
        if (gen !== generation) return;
        const pages: Record<number, Row[]> = {};
        wanted.forEach((p, i) => (pages[p] = answers[i]!.rows));
        const answer = answers[0];
        const fields = { pages, total: answer?.total ?? 0, error: null };
        set(answer === undefined || keptOf === undefined ? fields : { ...fields, ...keptOf(answer) });
      } catch (error) {
        if (gen === generation) set({ error: messageOf(error) });
      }
    },
  };
}

import { memo, useEffect, useId, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { StockRowView } from '../../../shared/rpc-views.js';
import type { STOCK_SORTS } from '../../../shared/stock-entry.js';
import { ErrorMessage } from '../components/error-message.js';
import { Field } from '../components/field.js';
import { FilterBar } from '../components/filter-bar.js';
import { PageSection } from '../components/page-section.js';
import { StockItem } from '../components/stock-item.js';
import { formatTime } from '../format.js';
import { rowPosition, useRowWindow } from '../hooks/use-row-window.js';
import { useRpc } from '../hooks/use-rpc.js';
import { hrefOf } from '../route.js';
import { useLive } from '../stores/live-store.js';
import { useStockList, type StockQuery } from '../stores/stock-list-store.js';

const ROW_HEIGHT = 40;
type Sort = (typeof STOCK_SORTS)[number];

/**
 * The Stock page: every item at every location where it moved, in a virtualized table (fast with 150,000 rows)
 * with search, a location, filters and sortable columns; a row opens the item (`#/stock?sku=...`: its levels,
 * reservations and ledger history). `#/stock?q=...` (an older link) opens the item found by SKU or barcode.
 */
export function StockPage({ params }: { params: URLSearchParams }) {
  const code = params.get('sku') ?? params.get('q');
  return (
    <PageSection name="stock" title="Stock" className="stock-page">
      {code === null || code.trim() === '' ? <StockList /> : <ItemPage code={code} />}
    </PageSection>
  );
}

function ItemPage({ code }: { code: string }) {
  const found = useRpc('stock.item', { q: code });
  const { error } = found;
  const item = error === null ? found.data : null;
  return (
    <>
      <p>
        <a href={hrefOf('stock')}>← All stock</a>
      </p>
      <ErrorMessage message={error} />
      {item === null && error === null && <p className="muted">Loading…</p>}
      {item !== null && item.sku === null && <p role="status">No item matches “{code}”.</p>}
      {item !== null && item.sku !== null && <StockItem item={{ ...item, sku: item.sku }} />}
    </>
  );
}

function StockList() {
  const { query, setQuery, total, pages, channels, locations, error, showRange } = useStockList(
    useShallow((s) => ({
      query: s.query,
      setQuery: s.setQuery,
      total: s.total,
      pages: s.pages,
      channels: s.channels,
      locations: s.locations,
      error: s.error,
      showRange: s.showRange,
    })),
  );
  // Coming back from an item shows the list as it was left, reloaded; the first visit loads it.
  useEffect(() => {
    const current = useStockList.getState();
    if (current.total === null) current.setQuery(current.query);
    else void current.refresh();
  }, []);
  // Stock moved (the agent captured an event; its snapshot comes at most every 2 s): reload the rows in view.
  const lastSeq = useLive((s) => s.snapshot?.status.lastSeq ?? null);
  const seenSeq = useRef(lastSeq);
  useEffect(() => {
    if (lastSeq === null || seenSeq.current === lastSeq) return;
    const isFirst = seenSeq.current === null;
    seenSeq.current = lastSeq;
    if (!isFirst) void useStockList.getState().refresh();
  }, [lastSeq]);

  const isQueried = query.filter !== 'all' || (query.q ?? '') !== '' || query.location !== undefined;
  return (
    <>
      <Filters query={query} locations={locations} onChange={setQuery} />
      <p className="count-label" data-testid="stock-count" aria-live="polite">
        {total === null ? 'Loading…' : `${total.toLocaleString()} ${total === 1 ? 'row' : 'rows'}`}
      </p>
      <ErrorMessage message={error} />
      <StockTable
        query={query}
        total={total}
        pages={pages}
        channels={channels}
        isQueried={isQueried}
        onRange={showRange}
        onSort={(sort, dir) => setQuery({ ...query, sort, dir })}
      />
    </>
  );
}

const CHIPS = [
  { filter: 'all', label: 'All' },
  { filter: 'negative', label: 'Negative' },
  { filter: 'zero', label: 'Zero' },
  { filter: 'below', label: 'Below' },
  { filter: 'changed_today', label: 'Changed today' },
] as const;

function Filters(props: {
  query: StockQuery;
  locations: readonly { id: string; name: string }[];
  onChange: (query: StockQuery) => void;
}) {
  const { query, locations, onChange } = props;
  const id = useId();
  const [text, setText] = useState(query.q ?? '');
  const [threshold, setThreshold] = useState(String(query.threshold ?? 5));
  // The search applies after a short pause in typing.
  useEffect(() => {
    const q = text.trim() === '' ? undefined : text.trim();
    if (q === query.q) return;
    const timer = setTimeout(() => {
      onChange(withKey(query, 'q', q));
    }, 250);
    return () => clearTimeout(timer);
  }, [text, query, onChange]);

  const thresholdValue = Number.parseInt(threshold, 10);
  const isThresholdValid = Number.isInteger(thresholdValue);
  const choose = (filter: StockQuery['filter']) => {
    if (filter === 'below') {
      if (isThresholdValid) onChange({ ...query, filter, threshold: thresholdValue });
    } else onChange({ ...withKey(query, 'threshold', undefined), filter });
  };

  return (
    <FilterBar label="Find stock">
      <Field id={`${id}-q`} label="Search">
        <input
          id={`${id}-q`}
          type="search"
          className="stock-search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="SKU, name or barcode"
          autoComplete="off"
        />
      </Field>
      <Field id={`${id}-location`} label="Location">
        <select
          id={`${id}-location`}
          value={query.location ?? ''}
          onChange={(e) => {
            onChange(withKey(query, 'location', e.target.value === '' ? undefined : e.target.value));
          }}
        >
          <option value="">All locations</option>
          {locations.map((l) => (
            <option key={l.id} value={l.id}>
              {l.id === l.name ? l.id : `${l.id} — ${l.name}`}
            </option>
          ))}
        </select>
      </Field>
      <div className="chips" role="group" aria-label="Show">
        {CHIPS.map((c) => (
          <button
            key={c.filter}
            type="button"
            className="chip"
            aria-pressed={query.filter === c.filter}
            disabled={c.filter === 'below' && !isThresholdValid}
            onClick={() => choose(c.filter)}
          >
            {c.filter === 'below' ? `Below ${isThresholdValid ? thresholdValue : 'N'}` : c.label}
          </button>
        ))}
        <label htmlFor={`${id}-threshold`} className="visually-hidden">
          Below how many units
        </label>
        <input
          id={`${id}-threshold`}
          className="threshold"
          type="number"
          inputMode="numeric"
          step={1}
          value={threshold}
          onChange={(e) => {
            setThreshold(e.target.value);
            const n = Number.parseInt(e.target.value, 10);
            if (query.filter === 'below' && Number.isInteger(n) && n !== query.threshold)
              onChange({ ...query, threshold: n });
          }}
        />
      </div>
    </FilterBar>
  );
}

/** The query with `key` set to `value`, or without `key` when `value` is undefined (the schema's optional keys). */
function withKey<K extends 'q' | 'location' | 'threshold'>(
  query: StockQuery,
  key: K,
  value: StockQuery[K] | undefined,
): StockQuery {
  const next: Record<string, unknown> = { ...query };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next as StockQuery;
}

type Column = Readonly<{ label: string; sort?: Sort; isNumeric?: boolean; key: string }>;

/** The default direction of a column's first click: text A to Z, numbers and times largest or newest first. */
const FIRST_DIR: Record<Sort, 'asc' | 'desc'> = {
  sku: 'asc',
  name: 'asc',
  onHand: 'asc',
  reserved: 'desc',
  available: 'asc',
  lastMovement: 'desc',
};

function StockTable(props: {
  query: StockQuery;
  total: number | null;
  pages: Record<number, StockRowView[]>;
  channels: readonly string[];
  isQueried: boolean;
  onRange: (first: number, last: number) => void;
  onSort: (sort: Sort, dir: 'asc' | 'desc') => void;
}) {
  const { query, total, pages, channels, isQueried, onRange, onSort } = props;
  const open = (row: StockRowView) => {
    window.location.hash = hrefOf('stock', { sku: row.sku });
  };
  // Keyboard: arrows, Page Up/Down, Home/End move the active row; Enter opens its item.
  const { scroller, items, totalSize, count, active, setActive, rowAt, onKeyDown } = useRowWindow({
    total,
    pages,
    rowHeight: ROW_HEIGHT,
    onRange,
    onOpen: open,
    openKeys: ['Enter'],
  });
  // A new query starts at the top.
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
    setActive(0);
  }, [query, scroller]);

  const columns: Column[] = [
    { key: 'sku', label: 'SKU', sort: 'sku' },
    { key: 'name', label: 'Name', sort: 'name' },
    { key: 'barcode', label: 'Barcode' },
    { key: 'location', label: 'Location' },
    { key: 'onHand', label: 'On hand', sort: 'onHand', isNumeric: true },
    { key: 'reserved', label: 'Reserved', sort: 'reserved', isNumeric: true },
    { key: 'safety', label: 'Safety', isNumeric: true },
    ...channels.map((c) => ({ key: `ch-${c}`, label: c, sort: 'available' as const, isNumeric: true })),
    { key: 'lastMovement', label: 'Last movement', sort: 'lastMovement' },
  ];
  // Fits 1024 px with two channels; more channels share the name's room.
  const template = `minmax(5.5rem, 1fr) minmax(5rem, 1.3fr) 8.25rem 4.25rem 4.25rem 4.5rem 3.5rem ${channels
    .map(() => 'minmax(4.5rem, 0.6fr)')
    .join(' ')} 7.5rem`;

  return (
    <div
      className="grid stock-grid"
      role="grid"
      aria-label="Stock by item and location"
      aria-rowcount={count + 1}
      aria-colcount={columns.length}
      aria-busy={total === null}
      data-testid="stock-grid"
      data-search={query.q ?? ''}
    >
      <div
        className="grid-row grid-head"
        role="row"
        aria-rowindex={1}
        style={{ gridTemplateColumns: template }}
      >
        {columns.map((c) => {
          const isSorted = c.sort !== undefined && c.sort === query.sort;
          return (
            <span
              key={c.key}
              role="columnheader"
              className={c.isNumeric ? 'num' : undefined}
              aria-sort={
                c.sort === undefined
                  ? undefined
                  : isSorted
                    ? query.dir === 'asc'
                      ? 'ascending'
                      : 'descending'
                    : 'none'
              }
            >
              {c.sort === undefined ? (
                c.label
              ) : (
                <button
                  type="button"
                  className="sort"
                  title={c.sort === 'available' ? `Available on ${c.label}: sorts by available` : undefined}
                  onClick={() =>
                    onSort(c.sort!, isSorted ? (query.dir === 'asc' ? 'desc' : 'asc') : FIRST_DIR[c.sort!])
                  }
                >
                  {c.sort === 'available' ? (
                    <span className="head-note">
                      Available<span className="visually-hidden"> on</span>
                    </span>
                  ) : null}
                  {c.label}
                  <span aria-hidden="true" className="sort-mark">
                    {isSorted ? (query.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                  </span>
                </button>
              )}
            </span>
          );
        })}
      </div>
      <div className="grid-body" ref={scroller} onKeyDown={onKeyDown}>
        {total === 0 && (
          <p className="empty" role="status">
            {isQueried ? 'No stock matches.' : 'No stock has moved yet.'} Rows are items at a location where
            they have moved: an item of the catalog that was never received, sold or counted has no row yet.
          </p>
        )}
        <div style={{ height: totalSize, position: 'relative' }} role="rowgroup">
          {items.map((item) => (
            <StockRow
              key={item.key}
              index={item.index}
              start={item.start}
              row={rowAt(item.index)}
              template={template}
              isActive={item.index === active}
              onActivate={setActive}
              onOpen={open}
            />
          ))}
        </div>
      </div>
    </div>
  );
}

/** One row of the table, memoized: while scrolling only the rows that come into view are drawn. */
const StockRow = memo(function StockRow(props: {
  index: number;
  start: number;
  row: StockRowView | undefined;
  template: string;
  isActive: boolean;
  onActivate: (index: number) => void;
  onOpen: (row: StockRowView) => void;
}) {
  const { index, start, row, template, isActive, onActivate, onOpen } = props;
  return (
    <div
      className="grid-row"
      role="row"
      aria-rowindex={index + 2}
      data-index={index}
      tabIndex={isActive ? 0 : -1}
      style={{ ...rowPosition(start, ROW_HEIGHT), gridTemplateColumns: template }}
      onClick={() => {
        onActivate(index);
        if (row) onOpen(row);
      }}
    >
      {row === undefined ? (
        <span role="gridcell" className="muted">
          Loading…
        </span>
      ) : (
        <>
          <span role="rowheader" className="sku">
            <a href={hrefOf('stock', { sku: row.sku })} tabIndex={-1}>
              {row.sku}
            </a>
          </span>
          <span role="gridcell" className="clip" title={row.name ?? undefined}>
            {row.name ?? <span className="muted">—</span>}
          </span>
          <span role="gridcell" className="clip">
            {row.barcode ?? <span className="muted">—</span>}
          </span>
          <span role="gridcell">{row.location}</span>
          <span role="gridcell" className={`num${row.onHand < 0 ? ' negative' : ''}`}>
            {row.onHand}
          </span>
          <span role="gridcell" className="num">
            {row.reserved}
          </span>
          <span role="gridcell" className="num">
            {row.safetyStock}
          </span>
          {row.channels.map((c) => (
            <span key={c.channel} role="gridcell" className="num">
              {c.available}
            </span>
          ))}
          <span role="gridcell" className="clip">
            {formatTime(row.lastMovementAt)}
          </span>
        </>
      )}
    </div>
  );
});

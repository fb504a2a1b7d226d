import { memo, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { EXCEPTION_KINDS } from '../../../shared/exception-kinds.js';
import type { ExceptionFilter } from '../../../shared/rpc.js';
import type { ExceptionView } from '../../../shared/rpc-views.js';
import { ErrorMessage } from '../components/error-message.js';
import { ExceptionDetailPanel } from '../components/exception-detail-panel.js';
import { Field } from '../components/field.js';
import { FilterBar } from '../components/filter-bar.js';
import { Options } from '../components/options.js';
import { OutcomeMessage, type Outcome } from '../components/outcome-message.js';
import { PageSection } from '../components/page-section.js';
import { RoleNote } from '../components/role-note.js';
import { formatAgeShort, KIND_LABELS } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { rowPosition, useRowWindow } from '../hooks/use-row-window.js';
import { useExceptions } from '../stores/exceptions-store.js';
import { useLive } from '../stores/live-store.js';

const ROW_HEIGHT = 56;
const AGES = [
  { value: '', label: 'Any age' },
  { value: '5', label: 'Older than 5 minutes' },
  { value: '60', label: 'Older than 1 hour' },
  { value: '1440', label: 'Older than 1 day' },
];

/** Every exception, filtered, in a virtualized table (fast with 100,000 rows), with a detail panel and actions. */
export function ExceptionsPage({ params }: { params: URLSearchParams }) {
  // Only what the page draws: `visible` changes on every scrolled frame and must not re-render the page.
  const { filter, setFilter, total, pages, error, showRange, selectedId, select, refresh } = useExceptions(
    useShallow((s) => ({
      filter: s.filter,
      setFilter: s.setFilter,
      total: s.total,
      pages: s.pages,
      error: s.error,
      showRange: s.showRange,
      selectedId: s.selectedId,
      select: s.select,
      refresh: s.refresh,
    })),
  );
  const onSelect = useMemo(() => (id: number) => void select(id), [select]);
  // A string, so the selector's answer stays equal between pushes (an array would re-render forever).
  const destinationList = useLive((s) => s.snapshot?.status.destinations.map((d) => d.id).join('\n') ?? '');
  const destinations = useMemo(
    () => (destinationList === '' ? [] : destinationList.split('\n')),
    [destinationList],
  );
  // Reload what is on screen when the agent reports a change in exceptions.
  const changeKey = useLive((s) =>
    s.snapshot ? JSON.stringify([s.snapshot.status.openExceptions, s.snapshot.waitingForPerson]) : '',
  );

  // A link from the overview (`#/exceptions?kind=...`) sets the kind.
  const linkedKind = params.get('kind');
  useEffect(() => {
    const current = useExceptions.getState();
    if (linkedKind !== null && linkedKind !== current.filter.kind)
      current.setFilter({ status: 'open', kind: linkedKind });
    else if (current.total === null) current.setFilter(current.filter);
    // Opened again: what changed while another page was shown (a count that resolved an exception) pushed no
    // change to this page, so the rows kept in the store are reloaded.
    else void current.refresh();
  }, [linkedKind]);

  const firstChange = useRef(true);
  useEffect(() => {
    if (firstChange.current) {
      firstChange.current = false;
      return;
    }
    void refresh();
  }, [changeKey, refresh]);

  return (
    <PageSection name="exceptions" title="Exceptions" className="exceptions-page">
      <Filters filter={filter} destinations={destinations} onChange={setFilter} />
      <div className="bulk-bar">
        <BulkRetry total={total} />
        <BulkClose total={total} filter={filter} />
      </div>
      <ErrorMessage message={error} />
      <div className="split">
        <ExceptionTable
          total={total}
          pages={pages}
          selectedId={selectedId}
          onRange={showRange}
          onSelect={onSelect}
        />
        {selectedId !== null && <ExceptionDetailPanel onClose={() => void select(null)} />}
      </div>
    </PageSection>
  );
}

function Filters(props: {
  filter: ExceptionFilter;
  destinations: string[];
  onChange: (f: ExceptionFilter) => void;
}) {
  const { filter, destinations, onChange } = props;
  const id = useId();
  const [sku, setSku] = useState(filter.sku ?? '');
  // The SKU applies after a short pause in typing.
  useEffect(() => {
    const value = sku.trim() === '' ? undefined : sku.trim();
    if (value === filter.sku) return;
    const timer = setTimeout(() => onChange({ ...filter, sku: value }), 300);
    return () => clearTimeout(timer);
  }, [sku, filter, onChange]);

  const set = (key: keyof ExceptionFilter, value: string) => {
    const next: ExceptionFilter = { ...filter };
    if (value === '') delete next[key];
    else if (key === 'olderThanMinutes') next.olderThanMinutes = Number(value);
    else (next as Record<string, string>)[key] = value;
    onChange(next);
  };

  return (
    <FilterBar label="Filter exceptions">
      <Field id={`${id}-status`} label="Status">
        <select
          id={`${id}-status`}
          value={filter.status ?? ''}
          onChange={(e) => set('status', e.target.value)}
        >
          <option value="open">Open</option>
          <option value="resolved">Resolved</option>
          <option value="discarded">Discarded</option>
          <option value="">All</option>
        </select>
      </Field>
      <Field id={`${id}-kind`} label="Kind">
        <select id={`${id}-kind`} value={filter.kind ?? ''} onChange={(e) => set('kind', e.target.value)}>
          <option value="">All kinds</option>
          <Options values={EXCEPTION_KINDS} labelOf={(k) => KIND_LABELS[k] ?? k} />
        </select>
      </Field>
      <Field id={`${id}-destination`} label="Destination">
        <select
          id={`${id}-destination`}
          value={filter.destination ?? ''}
          onChange={(e) => set('destination', e.target.value)}
        >
          <option value="">All destinations</option>
          <Options values={destinations} />
        </select>
      </Field>
      <Field id={`${id}-sku`} label="SKU">
        <input id={`${id}-sku`} value={sku} onChange={(e) => setSku(e.target.value)} placeholder="any" />
      </Field>
      <Field id={`${id}-age`} label="Age">
        <select
          id={`${id}-age`}
          value={filter.olderThanMinutes?.toString() ?? ''}
          onChange={(e) => set('olderThanMinutes', e.target.value)}
        >
          {AGES.map((a) => (
            <option key={a.value} value={a.value}>
              {a.label}
            </option>
          ))}
        </select>
      </Field>
    </FilterBar>
  );
}

/** Retries every delivery behind the open exceptions that match the filter, after a confirmation. */
function BulkRetry({ total }: { total: number | null }) {
  const retryMatching = useExceptions((s) => s.retryMatching);
  const may = useMayCall();
  const [isConfirming, setConfirming] = useState(false);
  const [result, setResult] = useState<Outcome | null>(null);
  const reasonId = useId();
  const [reason, setReason] = useState('');
  const count = total ?? 0;
  return (
    <div className="bulk" aria-live="polite">
      <span className="count-label" data-testid="match-count">
        {total === null ? 'Loading…' : `${count.toLocaleString()} matching`}
      </span>
      {!may('exceptions.retryMatching') ? (
        <RoleNote route="exceptions.retryMatching" isInline>
          retry all matching deliveries
        </RoleNote>
      ) : !isConfirming ? (
        <button type="button" disabled={count === 0} onClick={() => (setConfirming(true), setResult(null))}>
          Retry all matching…
        </button>
      ) : (
        <span className="confirm" role="group" aria-label="Confirm bulk retry">
          <label htmlFor={reasonId}>Reason (optional)</label>
          <input id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} />
          <button
            type="button"
            onClick={() =>
              void retryMatching(reason).then((r) => {
                setResult(r);
                setConfirming(false);
                setReason('');
              })
            }
          >
            Retry {count.toLocaleString()} now
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </span>
      )}
      <OutcomeMessage outcome={result} isInline />
    </div>
  );
}

/** Whether the filter narrows more than the status: closing "all matching" must be a choice, not everything. */
function isNarrowed(filter: ExceptionFilter): boolean {
  return (
    filter.kind !== undefined ||
    filter.destination !== undefined ||
    filter.sku !== undefined ||
    filter.olderThanMinutes !== undefined
  );
}

/**
 * Closes every open exception of the current filter with one reason, after a confirmation naming the count.
 * Offered once the filter is narrowed (a kind, destination, SKU or age), so one click cannot close everything.
 */
function BulkClose({ total, filter }: { total: number | null; filter: ExceptionFilter }) {
  const closeMatching = useExceptions((s) => s.closeMatching);
  const may = useMayCall();
  const [isConfirming, setConfirming] = useState(false);
  const [result, setResult] = useState<Outcome | null>(null);
  const [isBusy, setBusy] = useState(false);
  const reasonId = useId();
  const [reason, setReason] = useState('');
  const count = total ?? 0;
  const isOpenOnly = filter.status === 'open' || filter.status === undefined;
  if (!may('exceptions.closeMatching')) return null;
  return (
    <div className="bulk" aria-live="polite">
      {!isNarrowed(filter) || !isOpenOnly ? (
        <span className="muted small">
          Filter open exceptions by kind, destination, SKU or age to close them all at once.
        </span>
      ) : !isConfirming ? (
        <button
          type="button"
          className="secondary"
          disabled={count === 0}
          onClick={() => (setConfirming(true), setResult(null))}
        >
          Close all matching…
        </button>
      ) : (
        <form
          className="confirm"
          aria-label="Confirm bulk close"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim() === '') {
              setResult({ ok: false, message: 'Closing needs a reason. Say why nothing else will be done.' });
              return;
            }
            setBusy(true);
            void closeMatching(reason).then((r) => {
              setResult(r);
              setBusy(false);
              if (r.ok) {
                setConfirming(false);
                setReason('');
              }
            });
          }}
        >
          <label htmlFor={reasonId}>Reason (required)</label>
          <input id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
          <button type="submit" className="danger" disabled={isBusy}>
            Close {count.toLocaleString()} now
          </button>
          <button type="button" className="secondary" onClick={() => (setConfirming(false), setResult(null))}>
            Cancel
          </button>
        </form>
      )}
      <OutcomeMessage outcome={result} isInline />
    </div>
  );
}

function ExceptionTable(props: {
  total: number | null;
  pages: Record<number, ExceptionView[]>;
  selectedId: number | null;
  onRange: (first: number, last: number) => void;
  onSelect: (id: number) => void;
}) {
  const { total, pages, selectedId, onRange, onSelect } = props;
  // Keyboard: arrows, Page Up/Down, Home/End move the active row; Enter (or Space) opens it.
  const { scroller, items, totalSize, count, active, setActive, rowAt, onKeyDown } = useRowWindow({
    total,
    pages,
    rowHeight: ROW_HEIGHT,
    onRange,
    onOpen: (row: ExceptionView) => onSelect(row.id),
    openKeys: ['Enter', ' '],
  });
  // Ages move on once a minute, not on every render, so rows already drawn are not drawn again while scrolling.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);

  return (
    <div
      className="grid"
      role="grid"
      aria-label="Exceptions"
      aria-rowcount={count + 1}
      aria-busy={total === null}
      data-testid="exceptions-grid"
    >
      <div className="grid-row grid-head" role="row" aria-rowindex={1}>
        <span role="columnheader">Kind</span>
        <span role="columnheader">What happened</span>
        <span role="columnheader">Destination</span>
        <span role="columnheader">Age</span>
      </div>
      <div className="grid-body" ref={scroller} onKeyDown={onKeyDown}>
        {total === 0 && (
          <p className="empty" role="status">
            No exceptions match.
          </p>
        )}
        <div style={{ height: totalSize, position: 'relative' }} role="rowgroup">
          {items.map((item) => {
            const row = rowAt(item.index);
            return (
              <ExceptionRow
                key={item.key}
                index={item.index}
                start={item.start}
                row={row}
                isSelected={row !== undefined && row.id === selectedId}
                isActive={item.index === active}
                now={now}
                onActivate={setActive}
                onSelect={onSelect}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

/**
 * One row of the table. Memoized: while scrolling only the rows that come into view are drawn; those already
 * drawn keep their props (their position is absolute and does not move with the scroll).
 */
const ExceptionRow = memo(function ExceptionRow(props: {
  index: number;
  start: number;
  row: ExceptionView | undefined;
  isSelected: boolean;
  isActive: boolean;
  now: number;
  onActivate: (index: number) => void;
  onSelect: (id: number) => void;
}) {
  const { index, start, row, isSelected, isActive, now, onActivate, onSelect } = props;
  return (
    <div
      className={`grid-row${isSelected ? ' selected' : ''}`}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={isSelected}
      data-index={index}
      tabIndex={isActive ? 0 : -1}
      style={rowPosition(start, ROW_HEIGHT)}
      onClick={() => {
        onActivate(index);
        if (row) onSelect(row.id);
      }}
    >
      {row === undefined ? (
        <span role="gridcell" className="muted">
          Loading…
        </span>
      ) : (
        <>
          <span role="gridcell" className={`kind kind-${row.kind}`}>
            {KIND_LABELS[row.kind] ?? row.kind}
          </span>
          <span role="gridcell" className="message" title={row.message}>
            {row.message}
            {row.occurrences > 1 && <span className="muted"> ×{row.occurrences}</span>}
            {row.acknowledgedBy !== null && <span className="muted"> · seen by {row.acknowledgedBy}</span>}
          </span>
          <span role="gridcell">{row.destinationId ?? '—'}</span>
          <span role="gridcell">{formatAgeShort((now - row.createdAt) / 1000)}</span>
        </>
      )}
    </div>
  );
});

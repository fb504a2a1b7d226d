import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { CountLineView, CountSessionView, EntryResult } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { formatTime } from '../format.js';
import { useRpc } from '../hooks/use-rpc.js';
import { hrefOf } from '../route.js';
import { useLive } from '../stores/live-store.js';
import { EntryOutcome } from './entry-outcome.js';
import { ErrorMessage } from './error-message.js';
import { FieldError, fieldProps } from './field.js';
import { InlineForm } from './inline-form.js';
import { LineEntry, type LineSource } from './line-entry.js';
import type { FoundItem } from './entry-lines.js';
import { OutcomeMessage, type Outcome } from './outcome-message.js';
import { ReasonField } from './reason-field.js';
import { TableHead } from './table-head.js';

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/** "2 sold/moved since counted — kept", or that more came in; '' when nothing moved. */
export function movedNote(moved: number): string {
  if (moved === 0) return '';
  return moved < 0 ? `${-moved} sold/moved since counted — kept` : `${moved} came in since counted — kept`;
}

/**
 * One count session: scan (one more of the item) or type a SKU with the counted quantity (sets it), or change a
 * counted cell in the table. Per line: counted, the ledger's level when it was counted, the level now, what moved
 * since (sales keep coming in while staff count: kept, never erased), and the difference the count will post.
 * Posting goes through a review that lists what will move and names the items that moved since they were
 * counted. The figures follow the agent's live stream, so "now" moves as sales arrive.
 */
export function CountSessionScreen({ id }: Readonly<{ id: number }>) {
  const htmlId = useId();
  const lastSeq = useLive((s) => s.snapshot?.status.lastSeq ?? 0);
  const { data: session, error, reload, setData } = useRpc('counts.get', { id }, [lastSeq]);
  const [isReviewing, setReviewing] = useState(false);
  const [isCancelling, setCancelling] = useState(false);
  const [posted, setPosted] = useState<EntryResult | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [isBusy, setBusy] = useState(false);

  const record = useCallback(
    async (sku: string, qty: number, mode: 'set' | 'add') => {
      const answer = await call('counts.record', { session: id, sku, qty, mode });
      setData(() => answer);
      const line = answer.lines.find((l) => l.sku === sku);
      return `Counted ${sku}${line?.name != null ? ` (${line.name})` : ''}: ${line?.counted ?? qty}.`;
    },
    [id, setData],
  );
  const onAdd = useCallback(
    (item: FoundItem, qty: number, source: LineSource) =>
      record(item.sku, qty, source === 'scan' ? 'add' : 'set'),
    [record],
  );

  if (session === null) {
    return (
      <>
        <p>
          <a href={hrefOf('entry', { tab: 'count' })}>← All counts</a>
        </p>
        {error !== null ? <ErrorMessage message={error} /> : <p role="status">Loading count #{id}…</p>}
      </>
    );
  }
  const isOpen = session.status === 'open';

  const review = async () => {
    setOutcome(null);
    // The review is of the ledger as it is now: sales may have come in since the table was drawn.
    await reload();
    setReviewing(true);
  };
  const post = async () => {
    setBusy(true);
    try {
      const answer = await call('counts.post', { session: id });
      setData(() => answer);
      setPosted(answer.result);
      setReviewing(false);
    } catch (e) {
      setOutcome({ ok: false, message: messageOf(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="count-session" data-testid="count-session">
      <p>
        <a href={hrefOf('entry', { tab: 'count' })}>← All counts</a>
      </p>
      <h2>
        Count #{session.id} at {session.location}
        {session.label !== null && <span className="muted"> — {session.label}</span>}{' '}
        <span
          className={`pill ${isOpen ? 'pill-warn' : session.status === 'posted' ? 'pill-ok' : 'pill-muted'}`}
        >
          {session.status}
        </span>
      </h2>
      <p className="muted small">
        Started {formatTime(session.createdAt)} by {session.createdBy}
        {session.closedAt !== null && ` · closed ${formatTime(session.closedAt)}`}
        {session.postedSeq !== null && ` · posted as event #${session.postedSeq}`}
      </p>
      <ErrorMessage message={error} />
      {posted !== null && <EntryOutcome result={posted} what={`Count #${session.id}`} />}
      {isOpen && !isReviewing && (
        <LineEntry
          location={session.location}
          onAdd={onAdd}
          qtyLabel="Counted"
          defaultQty=""
          unknownNote="counted as an unknown SKU"
          label="Count an item"
        />
      )}
      <CountLinesTable
        id={htmlId}
        session={session}
        onRecord={isOpen && !isReviewing ? (sku, qty) => record(sku, qty, 'set') : null}
      />
      {isOpen && isReviewing && (
        <CountReview
          session={session}
          isBusy={isBusy}
          onPost={() => void post()}
          onBack={() => setReviewing(false)}
        />
      )}
      <OutcomeMessage outcome={outcome} />
      {isOpen && !isReviewing && (
        <div className="entry-actions">
          <button type="button" onClick={() => void review()}>
            Review and post…
          </button>
          {!isCancelling ? (
            <button type="button" className="secondary" onClick={() => setCancelling(true)}>
              Cancel count…
            </button>
          ) : (
            <CancelCount id={id} onCancelled={(s) => setData(() => s)} onClose={() => setCancelling(false)} />
          )}
        </div>
      )}
    </div>
  );
}

/** The lines: counted (editable while open), the ledger at count and now, moved since, difference and value. */
function CountLinesTable({
  id,
  session,
  onRecord,
}: Readonly<{
  id: string;
  session: CountSessionView;
  /** Records a counted level; null when the count cannot change (closed, or under review). */
  onRecord: ((sku: string, qty: number) => Promise<string>) | null;
}>) {
  const counted = session.lines.filter((l) => l.counted !== null).length;
  return (
    <table className="data compact count-lines" data-testid="count-lines">
      <caption>
        Items of this count{' '}
        <span className="muted small">
          {counted} of {session.lines.length} counted
        </span>
      </caption>
      <TableHead
        columns={[
          'SKU',
          'Item',
          { label: 'Counted', isNumeric: true },
          { label: 'Ledger at count', isNumeric: true },
          { label: 'Now', isNumeric: true },
          { label: 'Moved since counted', isNumeric: true },
          { label: 'Difference', isNumeric: true },
          { label: 'Value', isNumeric: true },
        ]}
      />
      <tbody>
        {session.lines.map((line, i) => (
          <tr
            key={line.sku}
            className={line.movedSinceCount !== 0 ? 'moved' : undefined}
            data-testid={`count-line-${line.sku}`}
          >
            <th scope="row" className="mono">
              {line.sku}
            </th>
            <td>{line.name ?? <span className="muted">—</span>}</td>
            <td className="num">
              {onRecord === null ? (
                (line.counted ?? <span className="muted">not counted</span>)
              ) : (
                <CountedInput id={`${id}-counted-${i}`} line={line} onRecord={onRecord} />
              )}
            </td>
            <td className="num">{line.ledgerAtCount ?? '—'}</td>
            <td className={`num${line.levelNow < 0 ? ' negative' : ''}`}>{line.levelNow}</td>
            <td className="num">
              {line.movedSinceCount === 0 ? (
                '0'
              ) : (
                <span className="moved-note">
                  <strong>{signed(line.movedSinceCount)}</strong>
                  <span className="small"> {movedNote(line.movedSinceCount)}</span>
                </span>
              )}
            </td>
            <td className={`num${line.difference !== 0 ? ' differs-cell' : ''}`}>
              {line.counted === null ? '—' : signed(line.difference)}
            </td>
            <td className="num">
              {line.value === null
                ? '—'
                : `${line.value}${line.currency !== null ? ` ${line.currency}` : ''}`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A counted cell: Enter (or leaving it changed) records the level typed. */
function CountedInput({
  id,
  line,
  onRecord,
}: Readonly<{ id: string; line: CountLineView; onRecord: (sku: string, qty: number) => Promise<string> }>) {
  const shown = line.counted === null ? '' : String(line.counted);
  const [value, setValue] = useState(shown);
  const [error, setError] = useState<string | undefined>(undefined);
  // A scan or another window changed the count: show the agent's figure.
  useEffect(() => setValue(shown), [shown]);

  const commit = async () => {
    if (value.trim() === shown) return;
    try {
      await onRecord(line.sku, value.trim() === '' ? Number.NaN : Number(value.trim()));
      setError(undefined);
    } catch (e) {
      setError(fieldErrorsOf(e).qty ?? messageOf(e));
    }
  };
  return (
    <>
      <input
        {...fieldProps(id, error)}
        className="qty"
        inputMode="numeric"
        autoComplete="off"
        aria-label={`Counted ${line.sku}`}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => void commit()}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            void commit();
          }
        }}
      />
      <FieldError id={id} error={error} />
    </>
  );
}

/** What posting will do: the moves, the items left as they are, and the items that moved since counted. */
function CountReview({
  session,
  isBusy,
  onPost,
  onBack,
}: Readonly<{ session: CountSessionView; isBusy: boolean; onPost: () => void; onBack: () => void }>) {
  const id = useId();
  const moves = session.lines.filter((l) => l.counted !== null && l.difference !== 0);
  const same = session.lines.filter((l) => l.counted !== null && l.difference === 0);
  const uncounted = session.lines.filter((l) => l.counted === null);
  const moved = session.lines.filter((l) => l.counted !== null && l.movedSinceCount !== 0);
  // The review takes focus when it opens, so a screen reader reads what posting will do.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section aria-labelledby={`${id}-title`} className="card count-review" data-testid="count-review">
      <h3 id={`${id}-title`} tabIndex={-1} ref={heading}>
        Review count #{session.id} before posting
      </h3>
      {moves.length === 0 ? (
        <p>Nothing will move: every item counted matches the ledger at the time it was counted.</p>
      ) : (
        <>
          <p>Posting moves these items at {session.location}:</p>
          <ul data-testid="review-moves">
            {moves.map((l) => (
              <li key={l.sku}>
                <strong className="mono">{l.sku}</strong>
                {l.name !== null && ` ${l.name}`}: counted {l.counted}, the ledger had {l.ledgerAtCount} then
                → <strong>{signed(l.difference)}</strong>
                {l.value !== null && ` (${l.value}${l.currency !== null ? ` ${l.currency}` : ''})`}; level
                after posting {l.levelNow + l.difference}
              </li>
            ))}
          </ul>
        </>
      )}
      {moved.length > 0 && (
        <div className="moved-since" data-testid="review-moved">
          <p>
            <strong>Moved since counted</strong> (kept: the count corrects the shelf as it was when counted,
            and what sold or arrived after stays):
          </p>
          <ul>
            {moved.map((l) => (
              <li key={l.sku}>
                <strong className="mono">{l.sku}</strong>
                {l.name !== null && ` ${l.name}`}: {movedNote(l.movedSinceCount)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {same.length > 0 && (
        <p className="muted small">Counted and right: {same.map((l) => l.sku).join(', ')}.</p>
      )}
      {uncounted.length > 0 && (
        <p className="muted small" data-testid="review-uncounted">
          Not counted, left as they are: {uncounted.map((l) => l.sku).join(', ')}.
        </p>
      )}
      <div className="entry-actions">
        <button type="button" onClick={onPost} disabled={isBusy}>
          {isBusy ? 'Posting…' : 'Post count'}
        </button>
        <button type="button" className="secondary" onClick={onBack}>
          Back to counting
        </button>
      </div>
    </section>
  );
}

/** Cancels the count with a reason: nothing of it is posted. */
function CancelCount({
  id,
  onCancelled,
  onClose,
}: Readonly<{ id: number; onCancelled: (session: CountSessionView) => void; onClose: () => void }>) {
  const htmlId = useId();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    try {
      onCancelled(await call('counts.cancel', { session: id, reason }));
      onClose();
    } catch (e) {
      setError(fieldErrorsOf(e).reason ?? messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <InlineForm
      label={`Cancel count #${id}`}
      onSubmit={() => void submit()}
      onCancel={onClose}
      footer={<ErrorMessage message={error} id={`${htmlId}-error`} isInline />}
    >
      <ReasonField
        id={htmlId}
        value={reason}
        onChange={setReason}
        isInvalid={error !== null}
        describedBy={error !== null ? `${htmlId}-error` : undefined}
      />
      <button type="submit" className="danger" disabled={isBusy}>
        Cancel count #{id}
      </button>
    </InlineForm>
  );
}

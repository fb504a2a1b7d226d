import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { ExceptionDetail } from '../../../shared/rpc-views.js';
import { formatTime, KIND_LABELS } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { useRpc } from '../hooks/use-rpc.js';
import { hrefOf } from '../route.js';
import { useExceptions, type OutboxAction } from '../stores/exceptions-store.js';
import { EveryKindActions, KindFixes } from './exception-fixes.js';
import { MappingForm } from './mapping-form.js';
import { OutcomeMessage, type Outcome } from './outcome-message.js';
import { RoleNote } from './role-note.js';
import { TableHead } from './table-head.js';

type Line = { sku?: string; qty?: number; unitPrice?: string; currency?: string };

/** The selected exception: its event, its delivery and every attempt, and the actions that fit. */
export function ExceptionDetailPanel({ onClose }: { onClose: () => void }) {
  const detail = useExceptions((s) => s.detail);
  const act = useExceptions((s) => s.act);
  const may = useMayCall();
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<Outcome | null>(null);
  const [isBusy, setBusy] = useState(false);
  /** What the "Map this SKU" form saved; it stays when the exception resolves and the form goes. */
  const [mapped, setMapped] = useState<string | null>(null);
  /** What a fix of the exception did (add the item, fix the row, close it…): kept, like `mapped`. */
  const [fixed, setFixed] = useState<string | null>(null);
  const refresh = useExceptions((s) => s.refresh);
  const reasonId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const exceptionId = detail?.exception.id;
  useEffect(() => {
    setResult(null);
    setReason('');
    setMapped(null);
    setFixed(null);
    heading.current?.focus();
  }, [exceptionId]);

  if (detail === null) {
    return (
      <aside className="detail" aria-label="Exception detail">
        <p role="status">Loading…</p>
      </aside>
    );
  }
  const { exception, event, outbox, attempts } = detail;
  const lines = (event?.body.lines as Line[] | undefined) ?? [];
  const canAct =
    exception.status === 'open' && outbox !== null && ['rejected', 'dead', 'pending'].includes(outbox.state);
  // Each button asks its own route, so a role split between them later needs no change here.
  const mayRetry = may('outbox.retry');
  const mayReplay = may('outbox.replay');
  const mayDiscard = may('outbox.discard');
  const isMapFix =
    exception.status === 'open' &&
    (exception.kind === 'unmapped_sku' || exception.kind === 'unmapped_location');

  const onFixed = (message: string) => {
    setFixed(message);
    void refresh();
  };

  const run = async (action: OutboxAction) => {
    setBusy(true);
    setResult(await act(action, reason));
    setBusy(false);
  };

  return (
    <aside className="detail" aria-labelledby="detail-title" data-testid="exception-detail">
      <div className="detail-head">
        <h2 id="detail-title" ref={heading} tabIndex={-1}>
          {KIND_LABELS[exception.kind] ?? exception.kind}{' '}
          <span className={`pill pill-${exception.status}`}>{exception.status}</span>
        </h2>
        <button type="button" className="secondary" onClick={onClose} aria-label="Close detail">
          Close
        </button>
      </div>
      <p className="detail-message">{exception.message}</p>
      {exception.resolution !== null && <p className="muted">Resolution: {exception.resolution}</p>}
      <dl className="facts">
        <dt>First seen</dt>
        <dd>{formatTime(exception.createdAt)}</dd>
        <dt>Last seen</dt>
        <dd>
          {formatTime(exception.lastSeenAt)} ({exception.occurrences}×)
        </dd>
        {exception.sku !== null && (
          <>
            <dt>SKU</dt>
            <dd>{exception.sku}</dd>
          </>
        )}
        {exception.location !== null && (
          <>
            <dt>Location</dt>
            <dd>{exception.location}</dd>
          </>
        )}
        {exception.acknowledgedBy !== null && (
          <>
            <dt>Acknowledged</dt>
            <dd data-testid="acknowledged">
              by {exception.acknowledgedBy}
              {exception.acknowledgedAt !== null && ` at ${formatTime(exception.acknowledgedAt)}`}
              {exception.acknowledgedNote !== null && exception.acknowledgedNote !== ''
                ? `: ${exception.acknowledgedNote}`
                : ''}
            </dd>
          </>
        )}
      </dl>

      {event !== null && (
        <section aria-labelledby="detail-event">
          <h3 id="detail-event">Event</h3>
          <dl className="facts">
            <dt>Type</dt>
            <dd>{event.type}</dd>
            <dt>Reference</dt>
            <dd>{(event.body.reference as string | undefined) ?? event.eventId}</dd>
            <dt>From</dt>
            <dd>
              {event.source} at {event.location}, captured {formatTime(event.receivedAt)} (#{event.seq})
            </dd>
          </dl>
          {lines.length > 0 && (
            <table className="data compact">
              <caption className="visually-hidden">Lines of the event</caption>
              <TableHead
                columns={['SKU', { label: 'Qty', isNumeric: true }, { label: 'Price', isNumeric: true }]}
              />
              <tbody>
                {lines.map((l, i) => (
                  <tr key={i}>
                    <td>{l.sku}</td>
                    <td className="num">{l.qty}</td>
                    <td className="num">
                      {l.unitPrice !== undefined ? `${l.unitPrice} ${l.currency ?? ''}` : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}

      {outbox !== null && (
        <section aria-labelledby="detail-delivery">
          <h3 id="detail-delivery">Delivery to {outbox.destinationId}</h3>
          <dl className="facts">
            <dt>State</dt>
            <dd data-testid="outbox-state">{outbox.state}</dd>
            <dt>Idempotency key</dt>
            <dd className="mono">{outbox.idempotencyKey}</dd>
          </dl>
          <table className="data compact" data-testid="attempts">
            <caption>Attempts ({attempts.length})</caption>
            <TableHead columns={['Time', 'Result', 'Error']} />
            <tbody>
              {attempts.map((a) => (
                <tr key={a.id}>
                  <td>{formatTime(a.at)}</td>
                  <td>{a.result}</td>
                  <td>{a.detail ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {isMapFix &&
        (may('mappings.set') ? (
          <MapThis exception={exception} onMapped={setMapped} />
        ) : (
          <RoleNote route="mappings.set">
            {`map this ${exception.kind === 'unmapped_sku' ? 'SKU' : 'location'}`}
          </RoleNote>
        ))}
      {mapped !== null && (
        <p className="ok" role="status" data-testid="mapped">
          {mapped}
        </p>
      )}
      {fixed !== null && (
        <p className="ok" role="status" data-testid="fix-outcome">
          {fixed}
        </p>
      )}
      <KindFixes exception={exception} onDone={onFixed} />

      {canAct && !mayRetry && !mayReplay && !mayDiscard && (
        <RoleNote route="outbox.retry">retry or discard this delivery</RoleNote>
      )}
      {canAct && (mayRetry || mayReplay || mayDiscard) && (
        <section aria-labelledby="detail-actions" className="actions">
          <h3 id="detail-actions">Fix it</h3>
          <label htmlFor={reasonId}>Reason (required to discard)</label>
          <textarea id={reasonId} rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
          <div className="buttons">
            {mayRetry && (
              <button type="button" disabled={isBusy} onClick={() => void run('retry')}>
                Retry now
              </button>
            )}
            {mayReplay && (
              <button
                type="button"
                disabled={isBusy}
                className="secondary"
                onClick={() => void run('replay')}
              >
                Replay as new
              </button>
            )}
            {mayDiscard && (
              <button type="button" disabled={isBusy} className="danger" onClick={() => void run('discard')}>
                Discard
              </button>
            )}
          </div>
          <p className="muted small">
            Retry sends it again with the same key (the destination will not apply it twice). Replay as new
            uses a new key, so the destination applies it again. Discard gives up on it.
          </p>
        </section>
      )}
      <OutcomeMessage outcome={result} />
      <EveryKindActions exception={exception} onDone={onFixed} />
    </aside>
  );
}

/**
 * The fix of an unmapped SKU or location: map it here. The destination and the local id come from the
 * exception; saving releases the held items, which are then sent by themselves, and resolves the exception
 * (the table and this panel follow through the live stream).
 */
function MapThis({
  exception,
  onMapped,
}: {
  exception: ExceptionDetail['exception'];
  onMapped: (message: string) => void;
}) {
  const { data: configured } = useRpc('destinations.list', {});
  const refresh = useExceptions((s) => s.refresh);
  const isItem = exception.kind === 'unmapped_sku';
  const localId =
    typeof exception.details.localId === 'string'
      ? exception.details.localId
      : ((isItem ? exception.sku : exception.location) ?? '');
  const destinations = useMemo(() => {
    const ids = configured?.destinations.map((d) => d.id) ?? [];
    const own = exception.destinationId;
    return own !== null && !ids.includes(own) ? [own, ...ids] : ids;
  }, [configured, exception.destinationId]);
  const title = isItem ? 'Map this SKU' : 'Map this location';
  return (
    <section aria-labelledby="detail-map" className="actions">
      <h3 id="detail-map">{title}</h3>
      <p className="muted small">
        Enter the id {exception.destinationId ?? 'the destination'} knows {isItem ? 'SKU' : 'location'}{' '}
        <strong>{localId}</strong> by. What waits for it is then sent by itself.{' '}
        <a
          href={hrefOf(
            'mappings',
            exception.destinationId !== null ? { destination: exception.destinationId } : {},
          )}
        >
          All mappings
        </a>
      </p>
      <MappingForm
        key={exception.id}
        destinations={destinations}
        initial={{
          ...(exception.destinationId !== null ? { destination: exception.destinationId } : {}),
          kind: isItem ? 'item' : 'location',
          local: localId,
        }}
        label={title}
        isSuccessShown={false}
        onSaved={(m) => {
          onMapped(
            `Mapped ${m.localId} to ${m.remoteId} for ${m.destinationId}. What waited for it is being sent; this exception resolves by itself.`,
          );
          void refresh();
        }}
      />
    </section>
  );
}

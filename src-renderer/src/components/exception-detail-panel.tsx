import { useEffect, useId, useRef, useState } from 'react';
import { formatTime, KIND_LABELS } from '../format.js';
import { useExceptions, type OutboxAction } from '../stores/exceptions-store.js';

type Line = { sku?: string; qty?: number; unitPrice?: string; currency?: string };

/** The selected exception: its event, its delivery and every attempt, and the actions that fit. */
export function ExceptionDetailPanel({ onClose }: { onClose: () => void }) {
  const detail = useExceptions((s) => s.detail);
  const act = useExceptions((s) => s.act);
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);
  const [isBusy, setBusy] = useState(false);
  const reasonId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const exceptionId = detail?.exception.id;
  useEffect(() => {
    setResult(null);
    setReason('');
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
              <thead>
                <tr>
                  <th scope="col">SKU</th>
                  <th scope="col" className="num">
                    Qty
                  </th>
                  <th scope="col" className="num">
                    Price
                  </th>
                </tr>
              </thead>
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
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Result</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
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

      {canAct && (
        <section aria-labelledby="detail-actions" className="actions">
          <h3 id="detail-actions">Fix it</h3>
          <label htmlFor={reasonId}>Reason (required to discard)</label>
          <textarea id={reasonId} rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
          <div className="buttons">
            <button type="button" disabled={isBusy} onClick={() => void run('retry')}>
              Retry now
            </button>
            <button type="button" disabled={isBusy} className="secondary" onClick={() => void run('replay')}>
              Replay as new
            </button>
            <button type="button" disabled={isBusy} className="danger" onClick={() => void run('discard')}>
              Discard
            </button>
          </div>
          <p className="muted small">
            Retry sends it again with the same key (the destination will not apply it twice). Replay as new
            uses a new key, so the destination applies it again. Discard gives up on it.
          </p>
        </section>
      )}
      {result !== null && (
        <p className={result.ok ? 'ok' : 'error'} role={result.ok ? 'status' : 'alert'}>
          {result.message}
        </p>
      )}
    </aside>
  );
}

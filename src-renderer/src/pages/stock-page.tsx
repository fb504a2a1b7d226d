import { useId, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../components/error-message.js';
import { PageSection } from '../components/page-section.js';
import { SubmitButton } from '../components/submit-button.js';
import { TableHead } from '../components/table-head.js';
import { formatTime } from '../format.js';
import { useRpc } from '../hooks/use-rpc.js';

const TYPE_LABELS: Record<string, string> = {
  sale: 'Sale',
  return: 'Return',
  receipt: 'Goods receipt',
  adjustment: 'Adjustment',
  count: 'Stock count',
  transfer_out: 'Transfer out',
  transfer_in: 'Transfer in',
  ship: 'Marketplace shipment',
};

/** Find an item by SKU or barcode: its levels and available-to-sell per channel, and its ledger history. */
export function StockPage({ params }: { params: URLSearchParams }) {
  const inputId = useId();
  const [query, setQuery] = useState(params.get('q') ?? '');
  // The query last sent: typed and submitted, or given by a link (`#/stock?q=...`).
  const linked = params.get('q') ?? '';
  const [sent, setSent] = useState(linked === '' ? null : { q: linked });
  const [lastLinked, setLastLinked] = useState(linked);
  if (linked !== lastLinked) {
    setLastLinked(linked);
    if (linked !== '') setSent({ q: linked });
  }
  const found = useRpc('stock.item', sent);
  const { error, isLoading: isBusy, reload } = found;
  // A failed search shows no item, not the one found before it.
  const item = error === null ? found.data : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const q = query.trim();
    window.history.replaceState(null, '', `#/stock?q=${encodeURIComponent(q)}`);
    // The client trims the query before sending it, so the trimmed one names the same search.
    if (q === sent?.q) void reload();
    else setSent({ q });
  };

  const channels = item?.levels[0]?.channels.map((c) => c.channel) ?? [];
  return (
    <PageSection name="stock" title="Stock">
      <form className="search" role="search" onSubmit={submit}>
        <label htmlFor={inputId}>SKU or barcode</label>
        <input id={inputId} value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" />
        <SubmitButton isBusy={isBusy}>Find</SubmitButton>
      </form>
      <ErrorMessage message={error} />
      {item !== null && item.sku === null && <p role="status">No item matches “{query}”.</p>}
      {item !== null && item.sku !== null && (
        <div role="region" aria-label={`Stock of ${item.sku}`} aria-live="polite">
          <h2>
            {item.sku} {item.name !== null && <span className="muted">— {item.name}</span>}
          </h2>
          {item.barcode !== null && <p className="muted">Barcode {item.barcode}</p>}
          <h3>Levels</h3>
          {item.levels.length === 0 ? (
            <p>No stock recorded yet.</p>
          ) : (
            <table className="data" data-testid="levels">
              <TableHead
                columns={[
                  'Location',
                  { label: 'On hand', isNumeric: true },
                  { label: 'Reserved', isNumeric: true },
                  { label: 'Safety stock', isNumeric: true },
                  { label: 'Available', isNumeric: true },
                  ...channels.map((c) => ({ label: `Available on ${c}`, isNumeric: true })),
                ]}
              />
              <tbody>
                {item.levels.map((l) => (
                  <tr key={l.location}>
                    <th scope="row">{l.location}</th>
                    <td className={`num${l.onHand < 0 ? ' negative' : ''}`}>{l.onHand}</td>
                    <td className="num">{l.reserved}</td>
                    <td className="num">{l.safetyStock}</td>
                    <td className="num">{l.available}</td>
                    {l.channels.map((c) => (
                      <td key={c.channel} className="num">
                        {c.available}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Open reservations</h3>
          {item.reservations.length === 0 ? (
            <p>No order holds this item.</p>
          ) : (
            <table className="data" data-testid="reservations">
              <caption className="visually-hidden">
                Orders holding this item, oldest first: they lower available-to-sell on every channel
              </caption>
              <TableHead
                columns={[
                  'Reserved since',
                  'Channel',
                  'Order',
                  'Location',
                  { label: 'Quantity', isNumeric: true },
                ]}
              />
              <tbody>
                {item.reservations.map((r) => (
                  <tr key={`${r.channel}|${r.orderId}|${r.location}`}>
                    <td>{r.since === null ? '—' : formatTime(r.since)}</td>
                    <td>{r.channel}</td>
                    <th scope="row">
                      {r.orderName ?? r.orderId}
                      {r.orderName !== null && <span className="muted"> ({r.orderId})</span>}
                    </th>
                    <td>{r.location}</td>
                    <td className="num">{r.qty}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Ledger history</h3>
          <table className="data" data-testid="movements">
            <caption className="visually-hidden">Newest first, at most 200 movements</caption>
            <TableHead
              columns={[
                'Captured',
                'Event',
                'Location',
                { label: 'Change', isNumeric: true },
                { label: 'On hand after', isNumeric: true },
                'Source',
              ]}
            />
            <tbody>
              {item.movements.map((m) => (
                <tr key={m.id}>
                  <td>{formatTime(m.receivedAt)}</td>
                  <td>
                    {TYPE_LABELS[m.type] ?? m.type} {m.reference ?? m.eventId}
                  </td>
                  <td>{m.location}</td>
                  <td className="num">{m.delta > 0 ? `+${m.delta}` : m.delta}</td>
                  <td className="num">{m.onHandAfter}</td>
                  <td>
                    {m.source} <span className="muted">#{m.eventSeq}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </PageSection>
  );
}

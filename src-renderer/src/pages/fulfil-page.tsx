import { useId, useState } from 'react';
import type { FulfilOrderView, ShipResult } from '../../../shared/rpc-views.js';
import { beep } from '../beep.js';
import { LocationField, rememberedLocation, rememberLocation } from '../components/location-field.js';
import { PageSection } from '../components/page-section.js';
import { ReturnForm } from '../components/return-form.js';
import { hrefOf } from '../route.js';
import { formatDay, PickPanel } from '../components/pick-panel.js';
import { useRpc } from '../hooks/use-rpc.js';
import { useScanner } from '../hooks/use-scanner.js';

/** The order a scanned or typed code names: its number (`#1001`, with or without `#`) or its id. */
function orderOf(orders: readonly FulfilOrderView[], code: string): FulfilOrderView | undefined {
  const wanted = code.trim().replace(/^#/, '').toLowerCase();
  return orders.find(
    (o) => o.orderId.toLowerCase() === wanted || o.name.replace(/^#/, '').toLowerCase() === wanted,
  );
}

/** What a line's short count says. */
function shortNote(order: FulfilOrderView): string | null {
  const short = order.lines.reduce((sum, l) => sum + l.short, 0);
  return short > 0 ? `${short} short` : null;
}

/**
 * Fulfil: the marketplace orders with something left to ship at a location, oldest promise first, with what
 * each holds and what the shelf lacks. Scanning an order's number (or its packing slip, which carries it) or
 * choosing Pick opens its pick: items scanned against the order, then the carrier and tracking number, and the
 * shipment is captured. After a shipment the list is read again.
 */
export function FulfilPage({ params }: { params: URLSearchParams }) {
  const tab = params.get('tab') === 'return' ? 'return' : 'ship';
  return (
    <PageSection name="fulfil" title="Fulfil orders" className="fulfil-page">
      <nav aria-label="Fulfilment" className="tabs">
        <ul>
          <li>
            <a href={hrefOf('fulfil')} aria-current={tab === 'ship' ? 'page' : undefined}>
              Ship orders
            </a>
          </li>
          <li>
            <a
              href={hrefOf('fulfil', { tab: 'return' })}
              aria-current={tab === 'return' ? 'page' : undefined}
            >
              Receive a return
            </a>
          </li>
        </ul>
      </nav>
      {tab === 'ship' ? (
        <ShipOrders params={params} />
      ) : (
        <ReturnForm initialLocation={params.get('location') ?? rememberedLocation()} />
      )}
    </PageSection>
  );
}

/** The open orders of a location and the pick of one of them. */
function ShipOrders({ params }: { params: URLSearchParams }) {
  const id = useId();
  const [location, setLocation] = useState(params.get('location') ?? rememberedLocation());
  const [picking, setPicking] = useState<FulfilOrderView | null>(null);
  const [orderCode, setOrderCode] = useState('');
  const [note, setNote] = useState<{ text: string; tone: 'ok' | 'bad' } | null>(null);
  const trimmed = location.trim();
  const { data, error, reload } = useRpc('fulfil.orders', trimmed === '' ? null : { location: trimmed });
  const orders = data?.orders ?? [];

  const open = (code: string) => {
    const order = orderOf(orders, code);
    if (order === undefined) {
      beep();
      setNote({
        text: `No open order ${code.trim()} to ship at ${trimmed || 'this location'}.`,
        tone: 'bad',
      });
      return;
    }
    setNote(null);
    setPicking(order);
  };
  // While an order is picked, its panel takes the scans.
  useScanner((code) => open(code), { isEnabled: picking === null });

  const shipped = (result: ShipResult) => {
    rememberLocation(trimmed);
    const tracking = result.trackingUrl !== null ? ` (${result.trackingUrl})` : '';
    setNote({
      text:
        `Order ${result.order} shipped with ${result.carrier}, tracking ${result.trackingNumber}${tracking}.` +
        (result.left > 0
          ? ` ${result.left} ${result.left === 1 ? 'unit stays' : 'units stay'} reserved for a later shipment.`
          : ''),
      tone: 'ok',
    });
    setPicking(null);
    void reload();
  };

  return (
    <>
      <div className="entry-form">
        <div className="fields">
          <LocationField
            id={`${id}-location`}
            value={location}
            onChange={(value) => {
              setLocation(value);
              setPicking(null);
            }}
            error={undefined}
          />
          {picking === null && (
            <div>
              <label htmlFor={`${id}-order`}>Order number or packing slip</label>
              <input
                id={`${id}-order`}
                value={orderCode}
                onChange={(e) => setOrderCode(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key !== 'Enter') return;
                  e.preventDefault();
                  open(orderCode);
                  setOrderCode('');
                }}
                autoComplete="off"
                spellCheck={false}
              />
            </div>
          )}
        </div>
        <p className={`scan-message ${note?.tone ?? ''}`} aria-live="polite" data-testid="fulfil-message">
          {note?.text ?? (picking === null ? 'Scan an order or its packing slip to start picking.' : '')}
        </p>
      </div>
      {error !== null && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {picking !== null && data !== null && (
        <PickPanel
          key={`${picking.channel}:${picking.orderId}`}
          order={picking}
          location={trimmed}
          carriers={data.carriers}
          onShipped={shipped}
          onCancel={() => setPicking(null)}
        />
      )}
      {picking === null && trimmed !== '' && data !== null && (
        <table className="data fulfil-orders">
          <caption>
            {orders.length === 0
              ? `Nothing to ship at ${trimmed}.`
              : `${orders.length} ${orders.length === 1 ? 'order' : 'orders'} to ship at ${trimmed}, oldest promise first`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Channel</th>
              <th scope="col">Ship by</th>
              <th scope="col">Lines (to ship of ordered)</th>
              <th scope="col">Stock</th>
              <th scope="col">
                <span className="visually-hidden">Pick</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => {
              const short = shortNote(o);
              return (
                <tr key={`${o.channel}:${o.orderId}`}>
                  <th scope="row">{o.name}</th>
                  <td>{o.destination ?? o.channel}</td>
                  <td>{o.shipBy === null ? '—' : formatDay(o.shipBy)}</td>
                  <td>
                    <ul>
                      {o.lines
                        .filter((l) => l.reserved > 0)
                        .map((l) => (
                          <li key={l.sku}>
                            {l.reserved} of {l.ordered} × {l.sku}
                            {l.name !== null && <span className="muted"> {l.name}</span>}
                            {l.short > 0 && <span className="short"> · {l.short} short</span>}
                          </li>
                        ))}
                    </ul>
                  </td>
                  <td>
                    {short === null ? 'reserved, on the shelf' : <span className="short">{short}</span>}
                  </td>
                  <td>
                    <button type="button" className="secondary" onClick={() => setPicking(o)}>
                      Pick {o.name}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}

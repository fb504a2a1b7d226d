import { useEffect, useId, useRef, useState } from 'react';
import { carrierOf } from '../../../shared/carriers.js';
import type { CarrierView, FulfilOrderView, ShipResult } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { beep } from '../beep.js';
import { newEntryId } from '../entry-id.js';
import { useAction } from '../hooks/use-action.js';
import { useScanner } from '../hooks/use-scanner.js';
import { Field, fieldProps, TextField } from './field.js';
import { ActionForm } from './action-form.js';

/** How long the pick area flashes after a wrong scan, in ms. */
const FLASH_MS = 1200;

/** The line of `order` a scanned code names (its SKU or its barcode), if any. */
function lineOf(order: FulfilOrderView, code: string) {
  return order.lines.find((l) => l.sku === code || (l.barcode !== null && l.barcode === code));
}

/**
 * Picking one order: each scan (anywhere on the page) or typed code is checked against the order, so an item
 * not on it or one more than is left to ship beeps, flashes and says so, and is not picked; a scan of a carrier's
 * name or id chooses the carrier. The carrier and tracking number are entered or scanned, and confirming ships
 * what was picked (`fulfil.ship`); the agent checks it all again and refuses, naming the field, what does not
 * fit. What is not picked stays reserved for a later shipment.
 */
export function PickPanel({
  order,
  location,
  carriers,
  onShipped,
  onCancel,
}: Readonly<{
  order: FulfilOrderView;
  location: string;
  carriers: readonly CarrierView[];
  onShipped: (result: ShipResult) => void;
  onCancel: () => void;
}>) {
  const id = useId();
  // The shipment's id, made when the pick starts: confirming twice ships once.
  const [shipmentId] = useState(newEntryId);
  const [picked, setPicked] = useState<Record<string, number>>({});
  const [code, setCode] = useState('');
  const [carrier, setCarrier] = useState('');
  const [trackingNumber, setTrackingNumber] = useState('');
  const [message, setMessage] = useState<{ text: string; tone: 'ok' | 'bad' } | null>(null);
  const [isFlashing, setFlashing] = useState(false);
  const flashTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(flashTimer.current), []);
  const action = useAction((path) => ['carrier', 'trackingNumber'].includes(path));
  const { errors } = action;

  const say = (text: string) => {
    setFlashing(false);
    setMessage({ text, tone: 'ok' });
  };
  const refuse = (text: string) => {
    beep();
    setFlashing(true);
    clearTimeout(flashTimer.current);
    flashTimer.current = setTimeout(() => setFlashing(false), FLASH_MS);
    setMessage({ text, tone: 'bad' });
  };

  const take = async (typed: string) => {
    const wanted = typed.trim();
    if (wanted === '') return;
    const asCarrier = carrierOf(
      carriers.map((c) => ({ id: c.id, name: c.name })),
      wanted,
    );
    if (asCarrier !== undefined) {
      setCarrier(asCarrier.id);
      say(`Carrier: ${asCarrier.name}.`);
      return;
    }
    let line = lineOf(order, wanted);
    let what = wanted;
    if (line === undefined) {
      // Not a code of the order's lines as listed: the catalog may know it under another code.
      try {
        const found = await call('items.lookup', { code: wanted });
        line = found.found ? order.lines.find((l) => l.sku === found.sku) : undefined;
        what = found.found ? `${found.sku}${found.name !== null ? ` (${found.name})` : ''}` : wanted;
      } catch {
        // Unreachable agent: the code is judged as it is.
      }
    }
    if (line === undefined) {
      refuse(`${what} is not on order ${order.name}: put it back.`);
      return;
    }
    const sku = line.sku;
    const already = picked[sku] ?? 0;
    if (already >= line.reserved) {
      refuse(`All ${line.reserved} × ${sku} of order ${order.name} are picked already: put this one back.`);
      return;
    }
    setPicked((p) => ({ ...p, [sku]: already + 1 }));
    say(`Picked ${sku} (${already + 1} of ${line.reserved}).`);
  };

  useScanner((scanned) => void take(scanned));

  const lines = Object.entries(picked)
    .filter(([, qty]) => qty > 0)
    .map(([sku, qty]) => ({ sku, qty }));
  const pickedUnits = lines.reduce((sum, l) => sum + l.qty, 0);
  const leftUnits = order.lines.reduce((sum, l) => sum + l.reserved, 0);

  const confirm = () =>
    void action.run(async () => {
      if (lines.length === 0) throw new Error('Scan the items you pack first.');
      const result = await call('fulfil.ship', {
        id: shipmentId,
        location,
        channel: order.channel,
        orderId: order.orderId,
        lines,
        carrier,
        trackingNumber,
      });
      onShipped(result);
      return `Shipped.`;
    });

  return (
    <section className="pick-panel" aria-labelledby={`${id}-title`} data-testid="pick-panel">
      <h2 id={`${id}-title`}>
        Picking {order.name}
        {order.shipBy !== null && <span className="muted small"> · ship by {formatDay(order.shipBy)}</span>}
      </h2>
      <table className="data compact pick-lines">
        <caption className="visually-hidden">Lines of {order.name}</caption>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Item</th>
            <th scope="col" className="num">
              To ship
            </th>
            <th scope="col" className="num">
              Picked
            </th>
          </tr>
        </thead>
        <tbody>
          {order.lines
            .filter((l) => l.reserved > 0)
            .map((l) => (
              <tr key={l.sku} className={(picked[l.sku] ?? 0) >= l.reserved ? 'done' : undefined}>
                <th scope="row">{l.sku}</th>
                <td>{l.name ?? '—'}</td>
                <td className="num">{l.reserved}</td>
                <td className="num" data-testid={`picked-${l.sku}`}>
                  {picked[l.sku] ?? 0}
                </td>
              </tr>
            ))}
        </tbody>
      </table>
      <div
        role="group"
        aria-label="Scan items"
        className={`line-entry${isFlashing ? ' flash-unknown' : ''}`}
        data-testid="pick-entry"
      >
        <div>
          <label htmlFor={`${id}-code`}>SKU or barcode</label>
          <input
            id={`${id}-code`}
            className="code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            onKeyDown={(e) => {
              if (e.key !== 'Enter') return;
              e.preventDefault();
              void take(code);
              setCode('');
            }}
            autoComplete="off"
            spellCheck={false}
          />
        </div>
        <p className="small muted scan-hint">Scanner ready: scan each item anywhere on this page.</p>
        <p className={`scan-message ${message?.tone ?? ''}`} aria-live="polite" data-testid="scan-message">
          {message?.text ?? ''}
        </p>
      </div>
      <ActionForm
        label={`Ship ${order.name}`}
        className="entry-form ship-form"
        onSubmit={confirm}
        isBusy={action.isBusy}
        busyLabel="Shipping…"
        outcome={action.outcome}
        isSuccessShown={false}
        submitLabel="Confirm shipment"
        before={
          <p className="small muted" data-testid="pick-progress">
            {pickedUnits} of {leftUnits} units picked
            {pickedUnits > 0 && pickedUnits < leftUnits
              ? ': the rest stays reserved for a later shipment.'
              : '.'}
          </p>
        }
      >
        <Field id={`${id}-carrier`} label="Carrier" error={errors.carrier}>
          <select
            {...fieldProps(`${id}-carrier`, errors.carrier)}
            value={carrier}
            onChange={(e) => setCarrier(e.target.value)}
          >
            <option value="">Choose or scan…</option>
            {carriers.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </Field>
        <TextField
          id={`${id}-tracking`}
          label="Tracking number"
          error={errors.trackingNumber}
          value={trackingNumber}
          onChange={setTrackingNumber}
          // A scanner ends the number with Enter: it fills the field, it does not ship.
          onKeyDown={(e) => {
            if (e.key === 'Enter') e.preventDefault();
          }}
          autoComplete="off"
          spellCheck={false}
          className="wide"
        />
      </ActionForm>
      <button type="button" className="secondary" onClick={onCancel}>
        Cancel pick
      </button>
    </section>
  );
}

/** "Thu 26 Nov, 18:00": a ship-by date. */
export function formatDay(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}

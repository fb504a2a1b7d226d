import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';
import { beep } from '../beep.js';
import { useScanner } from '../hooks/use-scanner.js';
import type { FoundItem } from './entry-lines.js';

/** How a line came in: scanned (one more) or typed with its quantity. */
export type LineSource = 'scan' | 'typed';

/** How long the entry area flashes after an unknown code, in ms. */
const FLASH_MS = 1200;

/**
 * Where lines come in: a SKU or barcode field and a quantity, and scans from anywhere on the page
 * ({@link useScanner}) while `isScanTarget`. Each code is looked up (`items.lookup`) and handed to `onAdd` with
 * its quantity: a scan brings `scanQty` (one more), typing brings the quantity field's. A code the catalog does
 * not know beeps, flashes the area and says so (aria-live), and is handed on as an unknown SKU: it can still be
 * entered, and the agent raises it as an exception. Enter in either field adds the line; nothing here submits
 * the form around it.
 *
 * @example
 * <LineEntry location={location} onAdd={(item, qty) => setLines((ls) => withMore(ls, item, qty))} />
 */
export function LineEntry({
  location,
  onAdd,
  isScanTarget = true,
  scanQty = 1,
  qtyLabel = 'Quantity',
  defaultQty = '1',
  unknownNote = 'added as an unknown SKU',
  label = 'Add a line',
}: Readonly<{
  /** Where the entry is (looked up with it, for the level there), or '' before one is chosen. */
  location: string;
  /** Called with the item and its quantity; a promise that rejects shows its message here. */
  onAdd: (item: FoundItem, qty: number, source: LineSource) => void | Promise<string | void>;
  /** Whether scans typed anywhere on the page come here (one target at a time). */
  isScanTarget?: boolean;
  scanQty?: number;
  qtyLabel?: string;
  /** What the quantity field holds after each line ('' for a field to fill every time). */
  defaultQty?: string;
  /** What happens to an unknown code, after "Unknown code X: ". */
  unknownNote?: string;
  /** The group's accessible name. */
  label?: string;
}>) {
  const id = useId();
  const [code, setCode] = useState('');
  const [qty, setQty] = useState(defaultQty);
  const [message, setMessage] = useState<{ text: string; tone: 'ok' | 'warn' | 'bad' } | null>(null);
  const [isFlashing, setFlashing] = useState(false);
  const flashTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const codeInput = useRef<HTMLInputElement>(null);
  const qtyInput = useRef<HTMLInputElement>(null);
  useEffect(() => () => clearTimeout(flashTimer.current), []);
  useEffect(() => setQty(defaultQty), [defaultQty]);

  const flash = () => {
    beep();
    setFlashing(true);
    clearTimeout(flashTimer.current);
    flashTimer.current = setTimeout(() => setFlashing(false), FLASH_MS);
  };

  const add = async (typed: string, amount: number, source: LineSource) => {
    const wanted = typed.trim();
    if (wanted === '') return;
    let item: FoundItem;
    let lookupProblem: string | null = null;
    try {
      const found = await call('items.lookup', {
        code: wanted,
        ...(location.trim() !== '' ? { location: location.trim() } : {}),
      });
      item = { sku: found.found ? found.sku : wanted, name: found.name, isKnown: found.found };
    } catch (error) {
      item = { sku: wanted, name: null, isKnown: null };
      lookupProblem = messageOf(error);
    }
    try {
      const said = await onAdd(item, amount, source);
      if (item.isKnown === false) {
        flash();
        setMessage({ text: `Unknown code ${wanted}: ${unknownNote}.`, tone: 'bad' });
      } else if (lookupProblem !== null) {
        setMessage({
          text: `${wanted} could not be looked up (${lookupProblem}); added as typed.`,
          tone: 'warn',
        });
      } else {
        const what = item.name === null ? item.sku : `${item.sku} (${item.name})`;
        setMessage({
          text: typeof said === 'string' ? said : `${source === 'scan' ? 'Scanned' : 'Added'} ${what}.`,
          tone: 'ok',
        });
      }
    } catch (error) {
      flash();
      setMessage({ text: `${wanted}: ${messageOf(error)}`, tone: 'bad' });
    }
  };

  useScanner((scanned) => void add(scanned, scanQty, 'scan'), { isEnabled: isScanTarget });

  const addTyped = () => {
    const wanted = code.trim();
    if (wanted === '') {
      setMessage({ text: 'Enter a SKU or scan a barcode.', tone: 'bad' });
      codeInput.current?.focus();
      return;
    }
    const amount = qty.trim() === '' ? Number.NaN : Number(qty.trim());
    if (!Number.isInteger(amount)) {
      setMessage({ text: `Enter a whole number in ${qtyLabel.toLowerCase()}.`, tone: 'bad' });
      return;
    }
    setCode('');
    setQty(defaultQty);
    codeInput.current?.focus();
    void add(wanted, amount, 'typed');
  };
  const onEnter = (e: KeyboardEvent) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    // A code scanned or typed into the field with no quantity yet (a count): go on to the quantity.
    if (e.currentTarget === codeInput.current && code.trim() !== '' && qty.trim() === '')
      qtyInput.current?.focus();
    else addTyped();
  };

  return (
    <div
      role="group"
      aria-label={label}
      className={`line-entry${isFlashing ? ' flash-unknown' : ''}`}
      data-testid="line-entry"
    >
      <div>
        <label htmlFor={`${id}-code`}>SKU or barcode</label>
        <input
          id={`${id}-code`}
          ref={codeInput}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          onKeyDown={onEnter}
          autoComplete="off"
          spellCheck={false}
          className="code"
        />
      </div>
      <div>
        <label htmlFor={`${id}-qty`}>{qtyLabel}</label>
        <input
          id={`${id}-qty`}
          ref={qtyInput}
          value={qty}
          onChange={(e) => setQty(e.target.value)}
          onKeyDown={onEnter}
          inputMode="numeric"
          autoComplete="off"
          className="qty"
        />
      </div>
      <button type="button" className="secondary" onClick={addTyped}>
        Add line
      </button>
      <p className="small muted scan-hint">
        {isScanTarget ? 'Scanner ready: scan anywhere on this page.' : 'Scans go to the form that is open.'}
      </p>
      <p
        className={`scan-message ${message?.tone ?? ''}`}
        aria-live="polite"
        role="status"
        data-testid="scan-message"
      >
        {message?.text}
      </p>
    </div>
  );
}

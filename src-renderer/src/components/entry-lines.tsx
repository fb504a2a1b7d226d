import type { KeyboardEvent } from 'react';
import { fieldProps, FieldError } from './field.js';
import { TableHead } from './table-head.js';

/** One line of an entry form as typed: the quantity is the field's text until the form is posted. */
export type EntryLine = Readonly<{
  sku: string;
  /** The catalog's name, or null when unknown or not looked up. */
  name: string | null;
  qty: string;
  /** Whether the catalog knows the SKU; null when it could not be asked. */
  isKnown: boolean | null;
}>;

/** An item as the line entry found it (`items.lookup`), or as typed when it could not be looked up. */
export type FoundItem = Readonly<{ sku: string; name: string | null; isKnown: boolean | null }>;

/** The lines with `qty` more of `item`: added to its line when there is one, else a new line at the end. */
export function withMore(lines: readonly EntryLine[], item: FoundItem, qty: number): EntryLine[] {
  const index = lines.findIndex((l) => l.sku === item.sku);
  if (index === -1) return [...lines, { ...item, qty: String(qty) }];
  const line = lines[index]!;
  const before = Number(line.qty.trim());
  const next = line.qty.trim() === '' || Number.isNaN(before) ? qty : before + qty;
  return lines.map((l, i) => (i === index ? { ...l, qty: String(next) } : l));
}

/** The lines as the contract takes them: a quantity that is not a number stays NaN, so the schema names it. */
export function linesInput(lines: readonly EntryLine[]): { sku: string; qty: number }[] {
  return lines.map((l) => ({ sku: l.sku, qty: l.qty.trim() === '' ? Number.NaN : Number(l.qty.trim()) }));
}

/**
 * Each problem of a failed post in words that name its line (`Line 2 (MUG-M): Enter a quantity of 1 or
 * more`), from the client's or the agent's field errors (`lines.1.qty`); other fields by their label.
 */
export function problemsOf(
  fields: Readonly<Record<string, string>>,
  lines: readonly EntryLine[],
  labels: Readonly<Record<string, string>> = {},
): string[] {
  return Object.entries(fields).map(([path, message]) => {
    const match = /^lines\.(\d+)(?:\.(\w+))?$/.exec(path);
    if (match !== null) {
      const index = Number(match[1]);
      const field = match[2] === 'qty' ? 'quantity' : (match[2] ?? '');
      return `Line ${index + 1} (${lines[index]?.sku ?? '?'}) ${field}: ${message}`;
    }
    return `${labels[path] ?? path}: ${message}`;
  });
}

/**
 * The lines of an entry: SKU, the item's name (or "unknown"), the quantity (editable) and a button to remove the
 * line; each line's error under its quantity. `errors` is keyed like the contract's paths (`lines.0.qty`).
 */
export function EntryLinesTable({
  id,
  lines,
  onChange,
  errors,
  qtyLabel = 'Quantity',
  caption,
  onDismiss = () => {},
}: Readonly<{
  /** A prefix for the ids of the inputs and their errors. */
  id: string;
  lines: readonly EntryLine[];
  onChange: (lines: EntryLine[]) => void;
  errors: Readonly<Record<string, string>>;
  qtyLabel?: string;
  caption: string;
  /** Forgets an error whose field changed (a line's quantity), or (`isPrefix`) every line's after a removal. */
  onDismiss?: (path: string, isPrefix?: boolean) => void;
}>) {
  if (lines.length === 0) {
    return (
      <p className="muted" data-testid="no-lines">
        No lines yet: scan a barcode or type a SKU above.
      </p>
    );
  }
  const total = linesInput(lines).reduce((sum, l) => sum + (Number.isNaN(l.qty) ? 0 : l.qty), 0);
  return (
    <table className="data compact entry-lines" data-testid="entry-lines">
      <caption>
        {caption}{' '}
        <span className="muted small">
          {lines.length} {lines.length === 1 ? 'line' : 'lines'}, {total} units
        </span>
      </caption>
      <TableHead
        columns={[
          { label: '#', isNumeric: true },
          'SKU',
          'Item',
          { label: qtyLabel, isNumeric: true },
          { label: 'Remove', isHidden: true },
        ]}
      />
      <tbody>
        {lines.map((line, i) => {
          const qtyId = `${id}-line-${i}-qty`;
          const error = errors[`lines.${i}.qty`];
          const skuError = errors[`lines.${i}.sku`] ?? errors[`lines.${i}`];
          return (
            <tr key={line.sku} className={line.isKnown === false ? 'unknown-line' : undefined}>
              <td className="num muted">{i + 1}</td>
              <th scope="row" className="mono nowrap">
                {line.sku}
                <FieldError id={`${id}-line-${i}-sku`} error={skuError} />
              </th>
              <td>
                {line.isKnown === false ? (
                  <span className="pill pill-warn">Unknown SKU</span>
                ) : (
                  (line.name ?? <span className="muted">—</span>)
                )}
              </td>
              <td className="num">
                <input
                  {...fieldProps(qtyId, error)}
                  className="qty"
                  inputMode="numeric"
                  autoComplete="off"
                  aria-label={`${qtyLabel} of ${line.sku}`}
                  value={line.qty}
                  onChange={(e) => {
                    onDismiss(`lines.${i}.qty`);
                    onChange(lines.map((l, j) => (j === i ? { ...l, qty: e.target.value } : l)));
                  }}
                />
                <FieldError id={qtyId} error={error} />
              </td>
              <td className="row-actions">
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Remove ${line.sku}`}
                  onClick={() => {
                    // The lines after it move up: their errors no longer name them.
                    onDismiss('lines', true);
                    onChange(lines.filter((_, j) => j !== i));
                  }}
                >
                  Remove
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * A form's `onKeyDown` that keeps Enter in a text field from posting the form: a scanner ends every code with
 * Enter, and a delivery note scanned into its field must not post a half-entered delivery. Buttons still take
 * Enter.
 */
export function keepEnterFromPosting(e: KeyboardEvent<HTMLFormElement>): void {
  if (e.key === 'Enter' && e.target instanceof HTMLInputElement) e.preventDefault();
}

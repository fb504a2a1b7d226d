import { useId, useRef, useState, type FormEvent } from 'react';
import { call } from '../api/client.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { formatTime } from '../format.js';
import { useRpc } from '../hooks/use-rpc.js';
import { hrefOf } from '../route.js';
import { ErrorMessage } from './error-message.js';
import { keepEnterFromPosting } from './entry-lines.js';
import { Field, fieldProps } from './field.js';
import { LocationField, rememberLocation } from './location-field.js';
import { SubmitButton } from './submit-button.js';
import { TableHead } from './table-head.js';
import { CountSessionScreen } from './count-session.js';

/**
 * Stock counts: the open count sessions and a form to start one; with `session` the screen of that session.
 * A link from a negative stock exception (`&location=S1&sku=MUG-M`) fills the form with that item and place.
 */
export function CountTab({
  initialLocation,
  initialSku,
  session,
}: Readonly<{ initialLocation: string; initialSku: string; session: number | null }>) {
  if (session !== null) return <CountSessionScreen id={session} />;
  return (
    <>
      <OpenCounts location={initialSku !== '' ? initialLocation : ''} />
      <NewCountForm initialLocation={initialLocation} initialSku={initialSku} />
    </>
  );
}

/** The open count sessions, newest first; with `location`, those there come with a note that one may fit. */
function OpenCounts({ location }: Readonly<{ location: string }>) {
  const id = useId();
  const { data, error } = useRpc('counts.list', { status: 'open' });
  const sessions = data?.sessions ?? null;
  const here = location === '' ? [] : (sessions ?? []).filter((s) => s.location === location);
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Open counts</h2>
      <ErrorMessage message={error} />
      {here.length > 0 && (
        <p className="muted">
          {here.length === 1 ? 'A count is' : `${here.length} counts are`} open at {location}: continue it, or
          start a new one for this item below.
        </p>
      )}
      {sessions !== null && sessions.length === 0 && <p role="status">No count is open.</p>}
      {sessions !== null && sessions.length > 0 && (
        <table className="data compact" data-testid="open-counts">
          <TableHead
            columns={['Count', 'Location', 'Started by', 'Started', { label: 'Open', isHidden: true }]}
          />
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id}>
                <th scope="row">
                  #{s.id} {s.label !== null && <span className="muted">{s.label}</span>}
                </th>
                <td>{s.location}</td>
                <td>{s.createdBy}</td>
                <td>{formatTime(s.createdAt)}</td>
                <td className="row-actions">
                  <a href={hrefOf('entry', { tab: 'count', session: String(s.id) })}>
                    Continue count #{s.id}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** SKUs typed into one field: separated by commas, semicolons, spaces or new lines. */
function skusOf(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Starts a count: where, which items (SKUs, every item below zero there, a shelf list file), and a label. */
function NewCountForm({
  initialLocation,
  initialSku,
}: Readonly<{ initialLocation: string; initialSku: string }>) {
  const id = useId();
  const [location, setLocation] = useState(initialLocation);
  const [skus, setSkus] = useState(initialSku);
  const [isNegativeOnly, setNegativeOnly] = useState(false);
  const [label, setLabel] = useState('');
  const file = useRef<HTMLInputElement>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const shelf = file.current?.files?.[0];
      const shelfCsv = shelf === undefined ? undefined : await shelf.text();
      const list = skusOf(skus);
      const started = await call('counts.start', {
        location,
        skus: list,
        negativeOnly: isNegativeOnly,
        ...(shelfCsv !== undefined ? { shelfCsv } : {}),
        ...(label.trim() !== '' ? { label } : {}),
      });
      rememberLocation(location);
      window.location.hash = hrefOf('entry', { tab: 'count', session: String(started.id) });
    } catch (error) {
      const fields = fieldErrorsOf(error);
      // No items named: the agent says so only once the rest is right; said here at once, with the rest.
      const noItems = skusOf(skus).length === 0 && !isNegativeOnly && file.current?.files?.[0] === undefined;
      const skuError =
        // `skus.0` and the like: the SKU field as a whole.
        Object.entries(fields).find(([path]) => path.startsWith('skus'))?.[1] ??
        (noItems && Object.keys(fields).length > 0
          ? 'Name the items to count: SKUs, items below zero, or a shelf list'
          : undefined);
      const shown = { ...fields, ...(skuError !== undefined ? { skus: skuError } : {}) };
      setErrors(shown);
      // Every message, also those of no field on this form (`negativeOnly`: nothing is below zero there).
      const messages = [...new Set(Object.values(shown))];
      setProblem(`Not started: ${messages.length > 0 ? messages.join(' ') : messageOf(error)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      aria-label="Start a count"
      className="entry-form"
      onSubmit={(e) => void submit(e)}
      onKeyDown={keepEnterFromPosting}
      noValidate
    >
      <h2>New count</h2>
      {initialSku !== '' && (
        <p className="muted">
          Counting {initialSku} at {initialLocation}: check the shelf, then start the count and enter what is
          there.
        </p>
      )}
      <div className="fields">
        <LocationField
          id={`${id}-location`}
          value={location}
          onChange={setLocation}
          error={errors.location}
        />
        <Field id={`${id}-skus`} label="SKUs or barcodes" error={errors.skus}>
          <input
            {...fieldProps(`${id}-skus`, errors.skus)}
            className="wide"
            value={skus}
            onChange={(e) => setSkus(e.target.value)}
            placeholder="separated by spaces or commas"
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        <Field id={`${id}-label`} label="Label (optional)" error={errors.label}>
          <input
            {...fieldProps(`${id}-label`, errors.label)}
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            placeholder="Aisle 3"
            autoComplete="off"
          />
        </Field>
      </div>
      <div className="fields">
        <div className="checkbox">
          <input
            id={`${id}-negative`}
            type="checkbox"
            checked={isNegativeOnly}
            onChange={(e) => setNegativeOnly(e.target.checked)}
          />
          <label htmlFor={`${id}-negative`}>Add all items with negative stock here</label>
        </div>
        <Field
          id={`${id}-shelf`}
          label="Shelf list (CSV with a sku column, or one code a line)"
          error={errors.shelfCsv}
        >
          <input
            {...fieldProps(`${id}-shelf`, errors.shelfCsv)}
            ref={file}
            type="file"
            accept=".csv,.txt,text/csv,text/plain"
          />
        </Field>
      </div>
      <ErrorMessage message={problem} />
      <div className="entry-actions">
        <SubmitButton isBusy={isBusy} busyLabel="Starting…">
          Start count
        </SubmitButton>
      </div>
    </form>
  );
}

import { useCallback, useId, useState, type FormEvent } from 'react';
import { call } from '../api/client.js';
import { useEntryPost } from '../hooks/use-entry-post.js';
import {
  EntryLinesTable,
  keepEnterFromPosting,
  linesInput,
  withMore,
  type EntryLine,
  type FoundItem,
} from './entry-lines.js';
import { EntryOutcome, EntryProblems } from './entry-outcome.js';
import { Field, fieldProps } from './field.js';
import { LineEntry } from './line-entry.js';
import { LocationField, rememberLocation } from './location-field.js';
import { SubmitButton } from './submit-button.js';

const LABELS = { location: 'Location', reference: 'Delivery note or order', lines: 'Lines' };

/**
 * Receive a delivery: where, the delivery note or purchase order, and the lines, scanned (each scan one more) or
 * typed. Posted as one `receipt` event; posting it twice (a double click, a resend) is answered duplicate.
 */
export function ReceiveForm({ initialLocation }: Readonly<{ initialLocation: string }>) {
  const id = useId();
  const [location, setLocation] = useState(initialLocation);
  const [reference, setReference] = useState('');
  const [lines, setLines] = useState<EntryLine[]>([]);
  const entry = useEntryPost(LABELS);
  const { errors, dismiss } = entry;
  const onAdd = useCallback(
    (item: FoundItem, qty: number) => {
      setLines((ls) => withMore(ls, item, qty));
      dismiss('lines');
    },
    [dismiss],
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const posted = await entry.post((entryId) =>
      call('entry.receive', {
        id: entryId,
        location,
        ...(reference.trim() !== '' ? { reference } : {}),
        lines: linesInput(lines),
      }),
    );
    if (posted !== null) {
      rememberLocation(location);
      setLines([]);
      setReference('');
    }
  };

  return (
    <form
      aria-label="Receive a delivery"
      className="entry-form"
      onSubmit={(e) => void submit(e)}
      onKeyDown={keepEnterFromPosting}
      noValidate
    >
      <h2>Receive a delivery</h2>
      <div className="fields">
        <LocationField
          id={`${id}-location`}
          value={location}
          onChange={(v) => {
            setLocation(v);
            dismiss('location');
          }}
          error={errors.location}
        />
        <Field id={`${id}-reference`} label="Delivery note or order (optional)" error={errors.reference}>
          <input
            {...fieldProps(`${id}-reference`, errors.reference)}
            value={reference}
            onChange={(e) => {
              setReference(e.target.value);
              dismiss('reference');
            }}
            autoComplete="off"
          />
        </Field>
      </div>
      <LineEntry key={entry.entryId} location={location} onAdd={onAdd} />
      <EntryLinesTable
        id={id}
        lines={lines}
        onChange={setLines}
        onDismiss={entry.dismiss}
        errors={errors}
        caption="Lines received"
      />
      <EntryProblems problems={entry.problems(lines)} />
      <div className="entry-actions">
        <SubmitButton isBusy={entry.isBusy} busyLabel="Posting…">
          Post receipt
        </SubmitButton>
      </div>
      {entry.result !== null && <EntryOutcome result={entry.result} what="Delivery received" />}
    </form>
  );
}

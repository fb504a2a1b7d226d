import { useId, useState } from 'react';
import { call } from '../api/client.js';
import { useEntryLines } from '../hooks/use-entry-lines.js';
import { EntryForm } from './entry-form.js';
import { linesInput } from './entry-lines.js';
import { TextField } from './field.js';
import { LineEntry } from './line-entry.js';
import { LocationField, rememberLocation } from './location-field.js';

const LABELS = { location: 'Location', reference: 'Delivery note or order', lines: 'Lines' };

/**
 * Receive a delivery: where, the delivery note or purchase order, and the lines, scanned (each scan one more) or
 * typed. Posted as one `receipt` event; posting it twice (a double click, a resend) is answered duplicate.
 */
export function ReceiveForm({ initialLocation }: Readonly<{ initialLocation: string }>) {
  const id = useId();
  const [location, setLocation] = useState(initialLocation);
  const [reference, setReference] = useState('');
  const { lines, setLines, entry, onAdd } = useEntryLines(LABELS);
  const { errors } = entry;

  const post = async () => {
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
    <EntryForm
      title="Receive a delivery"
      id={id}
      entry={entry}
      lines={lines}
      onLinesChange={setLines}
      onPost={post}
      caption="Lines received"
      submitLabel="Post receipt"
      what="Delivery received"
      fields={
        <>
          <LocationField
            id={`${id}-location`}
            value={location}
            onChange={entry.changing('location', setLocation)}
            error={errors.location}
          />
          <TextField
            id={`${id}-reference`}
            label="Delivery note or order (optional)"
            error={errors.reference}
            value={reference}
            onChange={entry.changing('reference', setReference)}
            autoComplete="off"
          />
        </>
      }
    >
      <LineEntry key={entry.entryId} location={location} onAdd={onAdd} />
    </EntryForm>
  );
}

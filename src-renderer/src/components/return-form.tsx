import { useId, useState } from 'react';
import { RETURN_CONDITIONS, type ReturnCondition } from '../../../shared/fulfilment.js';
import { call } from '../api/client.js';
import { useEntryLines } from '../hooks/use-entry-lines.js';
import { EntryForm } from './entry-form.js';
import { linesInput } from './entry-lines.js';
import { Field, fieldProps, TextField } from './field.js';
import { LineEntry } from './line-entry.js';
import { LocationField, rememberLocation } from './location-field.js';

const LABELS = { location: 'Location', order: 'Order', condition: 'Condition', note: 'Note', lines: 'Lines' };

const CONDITION_LABELS = {
  resellable: 'Resellable: back on the shelf',
  damaged: 'Damaged: write it off',
} as const satisfies Record<ReturnCondition, string>;

/**
 * Goods of an order coming back (a return, or the parcel of an order cancelled after it shipped): the order, the
 * items scanned as they are unpacked, and their condition. Posted as one return of the order; damaged goods are
 * written off in the same capture. The agent refuses, naming the line, more than the order shipped from here.
 */
export function ReturnForm({ initialLocation }: Readonly<{ initialLocation: string }>) {
  const id = useId();
  const [location, setLocation] = useState(initialLocation);
  const [order, setOrder] = useState('');
  const [condition, setCondition] = useState<ReturnCondition>('resellable');
  const [note, setNote] = useState('');
  const { lines, setLines, entry, onAdd } = useEntryLines(LABELS);
  const { errors } = entry;

  const post = async () => {
    const posted = await entry.post((entryId) =>
      call('fulfil.return', {
        id: entryId,
        location,
        order,
        condition,
        ...(note.trim() !== '' ? { note } : {}),
        lines: linesInput(lines),
      }),
    );
    if (posted !== null) {
      rememberLocation(location);
      setLines([]);
      setOrder('');
      setNote('');
    }
  };

  return (
    <EntryForm
      title="Receive a return"
      id={id}
      entry={entry}
      lines={lines}
      onLinesChange={setLines}
      onPost={post}
      caption="Lines that came back"
      submitLabel="Receive return"
      what="Return received"
      fields={
        <>
          <LocationField
            id={`${id}-location`}
            value={location}
            onChange={entry.changing('location', setLocation)}
            error={errors.location}
          />
          <TextField
            id={`${id}-order`}
            label="Order number"
            error={errors.order}
            value={order}
            onChange={entry.changing('order', setOrder)}
            autoComplete="off"
            spellCheck={false}
          />
          <Field id={`${id}-condition`} label="Condition" error={errors.condition}>
            <select
              {...fieldProps(`${id}-condition`, errors.condition)}
              value={condition}
              onChange={(e) =>
                entry.changing('condition', (v) =>
                  setCondition(RETURN_CONDITIONS.find((c) => c === v) ?? 'resellable'),
                )(e.target.value)
              }
            >
              {RETURN_CONDITIONS.map((c) => (
                <option key={c} value={c}>
                  {CONDITION_LABELS[c]}
                </option>
              ))}
            </select>
          </Field>
          <TextField
            id={`${id}-note`}
            label="Note (optional)"
            error={errors.note}
            value={note}
            onChange={entry.changing('note', setNote)}
            autoComplete="off"
          />
        </>
      }
    >
      <LineEntry key={entry.entryId} location={location} onAdd={onAdd} />
    </EntryForm>
  );
}

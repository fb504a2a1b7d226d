import { useEffect, useId, useState } from 'react';
import {
  ADJUSTMENT_REASON_LABELS,
  ADJUSTMENT_REASONS,
  type AdjustmentReason,
} from '../../../shared/stock-entry.js';
import { call } from '../api/client.js';
import { useEntryLines } from '../hooks/use-entry-lines.js';
import { EntryForm } from './entry-form.js';
import { linesInput } from './entry-lines.js';
import { Field, fieldProps, TextField } from './field.js';
import { LineEntry } from './line-entry.js';
import { LocationField, rememberLocation } from './location-field.js';
import { Options } from './options.js';

const LABELS = { location: 'Location', reason: 'Reason', note: 'Note', lines: 'Lines' };

/** Reasons that take stock away: a scan under them counts one less. */
const OUTGOING: readonly AdjustmentReason[] = ['damaged', 'theft', 'sample'];

const isReason = (value: string): value is AdjustmentReason =>
  (ADJUSTMENT_REASONS as readonly string[]).includes(value);

/**
 * Adjust stock by hand: where, why (a note is required for "other"), and signed lines (−2 damaged, +1 found). A
 * scan counts one less under a reason that takes stock away (damaged, theft, sample) and one more otherwise.
 */
export function AdjustForm({
  initialLocation,
  initialSku,
}: Readonly<{ initialLocation: string; initialSku: string }>) {
  const id = useId();
  const [location, setLocation] = useState(initialLocation);
  const [reason, setReason] = useState<AdjustmentReason | ''>('');
  const [note, setNote] = useState('');
  const { lines, setLines, entry, onAdd } = useEntryLines(LABELS);
  const { errors, dismiss } = entry;
  const step = reason !== '' && OUTGOING.includes(reason) ? -1 : 1;

  // A link from an exception (`&sku=MUG-M`) opens the form with that item's line, its quantity left to fill.
  useEffect(() => {
    if (initialSku.trim() === '') return;
    let isCurrent = true;
    void call('items.lookup', { code: initialSku })
      .then((found) => ({
        sku: found.found ? found.sku : initialSku,
        name: found.name,
        isKnown: found.found,
      }))
      .catch(() => ({ sku: initialSku, name: null, isKnown: null }))
      .then((item) => {
        if (isCurrent)
          setLines((ls) => (ls.some((l) => l.sku === item.sku) ? ls : [...ls, { ...item, qty: '' }]));
      });
    return () => {
      isCurrent = false;
    };
  }, [initialSku, setLines]);

  const post = async () => {
    const posted = await entry.post(
      (entryId) =>
        call('entry.adjust', {
          id: entryId,
          location,
          // An unchosen reason is sent as is, so the schema says "Choose a reason" under the select.
          reason: reason as AdjustmentReason,
          ...(note.trim() !== '' ? { note } : {}),
          lines: linesInput(lines),
        }),
      // The schema asks for the note only once the lines are right: say it at once.
      reason === 'other' && note.trim() === '' ? { note: 'Say what the adjustment is for' } : {},
    );
    if (posted !== null) {
      rememberLocation(location);
      setLines([]);
      setNote('');
    }
  };

  return (
    <EntryForm
      title="Adjust stock"
      id={id}
      entry={entry}
      lines={lines}
      onLinesChange={setLines}
      onPost={post}
      qtyLabel="Change"
      caption="Lines adjusted"
      submitLabel="Post adjustment"
      what="Adjustment"
      fields={
        <>
          <LocationField
            id={`${id}-location`}
            value={location}
            onChange={entry.changing('location', setLocation)}
            error={errors.location}
          />
          <Field id={`${id}-reason`} label="Reason" error={errors.reason}>
            <select
              {...fieldProps(`${id}-reason`, errors.reason)}
              value={reason}
              onChange={(e) => {
                setReason(isReason(e.target.value) ? e.target.value : '');
                dismiss('reason');
              }}
            >
              <option value="">Choose…</option>
              <Options
                values={ADJUSTMENT_REASONS}
                labelOf={(r) => (isReason(r) ? ADJUSTMENT_REASON_LABELS[r] : r)}
              />
            </select>
          </Field>
          <TextField
            id={`${id}-note`}
            label={reason === 'other' ? 'Note (required)' : 'Note (optional)'}
            error={errors.note}
            value={note}
            onChange={entry.changing('note', setNote)}
            className="note"
            autoComplete="off"
          />
        </>
      }
    >
      <LineEntry
        // A new entry (after a post) starts with a clear line entry.
        key={entry.entryId}
        location={location}
        onAdd={onAdd}
        scanQty={step}
        defaultQty={String(step)}
        qtyLabel="Change (+/−)"
      />
      <p className="muted small">
        A quantity below zero takes stock away, above zero adds it.{' '}
        {reason !== '' &&
          `A scan counts ${step > 0 ? 'one more' : 'one less'} under “${ADJUSTMENT_REASON_LABELS[reason]}”.`}
      </p>
    </EntryForm>
  );
}

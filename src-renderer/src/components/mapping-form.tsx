import { useId, useState } from 'react';
import type { MappingView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { ActionForm } from './action-form.js';
import { Field, fieldProps, TextField } from './field.js';
import { Options } from './options.js';
import type { Outcome } from './outcome-message.js';

export type MappingFormProps = {
  /** Destinations to choose from. */
  destinations: readonly string[];
  /** Prefilled values (a destination, a SKU from an exception). */
  initial: { destination?: string; kind?: 'item' | 'location'; local?: string; remote?: string };
  /** The accessible name of the form (`Map this SKU`, `Add a mapping`). */
  label: string;
  submitLabel?: string;
  /** Called after the agent stored the mapping. */
  onSaved: (mapping: MappingView) => void;
  /** Whether the form says itself that the mapping was saved (default true); problems are always shown. */
  isSuccessShown?: boolean;
};

/**
 * Adds or changes one mapping: a local SKU (or location) and the id a destination knows it by. The input is
 * checked by the contract's schema before it is sent and by the agent again; each problem shows under its
 * field. Saving releases what the destination held for want of this mapping.
 */
export function MappingForm({
  destinations,
  initial,
  label,
  submitLabel = 'Save mapping',
  onSaved,
  isSuccessShown = true,
}: MappingFormProps) {
  const id = useId();
  const [destination, setDestination] = useState(initial.destination ?? destinations[0] ?? '');
  const [kind, setKind] = useState<'item' | 'location'>(initial.kind ?? 'item');
  const [local, setLocal] = useState(initial.local ?? '');
  const [remote, setRemote] = useState(initial.remote ?? '');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Outcome | null>(null);
  const [isBusy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setResult(null);
    try {
      const { mapping } = await call('mappings.set', {
        destination,
        kind,
        local,
        remote,
        ...(reason.trim() !== '' ? { reason } : {}),
      });
      setErrors({});
      setRemote('');
      setReason('');
      if (initial.local === undefined) setLocal('');
      setResult({
        ok: true,
        message: `Mapped ${mapping.localId} to ${mapping.remoteId} for ${mapping.destinationId}. What waited for it is sent by itself.`,
      });
      onSaved(mapping);
    } catch (error) {
      const fields = fieldErrorsOf(error);
      setErrors(fields);
      setResult({
        ok: false,
        message: Object.keys(fields).length > 0 ? 'Check the fields marked below.' : messageOf(error),
      });
    }
    setBusy(false);
  };

  return (
    <ActionForm
      label={label}
      onSubmit={() => void submit()}
      submitLabel={submitLabel}
      isBusy={isBusy}
      outcome={result}
      isSuccessShown={isSuccessShown}
    >
      <Field id={`${id}-destination`} label="Destination" error={errors.destination}>
        <select
          {...fieldProps(`${id}-destination`, errors.destination)}
          value={destination}
          onChange={(e) => setDestination(e.target.value)}
        >
          {destinations.length === 0 && <option value="">No destinations</option>}
          <Options values={destinations} />
        </select>
      </Field>
      {/* The select offers only valid kinds, so no error is shown under it. */}
      <Field id={`${id}-kind`} label="Kind">
        <select
          {...fieldProps(`${id}-kind`, errors.kind)}
          value={kind}
          onChange={(e) => setKind(e.target.value === 'location' ? 'location' : 'item')}
        >
          <option value="item">Item (SKU)</option>
          <option value="location">Location</option>
        </select>
      </Field>
      <TextField
        id={`${id}-local`}
        label={kind === 'item' ? 'Local SKU' : 'Local location'}
        error={errors.local}
        value={local}
        onChange={setLocal}
        autoComplete="off"
      />
      <TextField
        id={`${id}-remote`}
        label="Remote id"
        error={errors.remote}
        value={remote}
        onChange={setRemote}
        autoComplete="off"
        placeholder={destination === '' ? '' : `the id in ${destination}`}
      />
      <TextField
        id={`${id}-reason`}
        label="Reason (optional)"
        error={errors.reason}
        value={reason}
        onChange={setReason}
      />
    </ActionForm>
  );
}

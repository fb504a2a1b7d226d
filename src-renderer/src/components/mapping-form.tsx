import { useId, useState, type FormEvent } from 'react';
import type { MappingView } from '../../../shared/rpc.js';
import { call } from '../api/client.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';

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
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);
  const [isBusy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
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

  const field = (name: string) => ({
    id: `${id}-${name}`,
    'aria-invalid': errors[name] !== undefined,
    'aria-describedby': errors[name] !== undefined ? `${id}-${name}-error` : undefined,
  });
  const problem = (name: string) =>
    errors[name] !== undefined && (
      <span id={`${id}-${name}-error`} className="field-error">
        {errors[name]}
      </span>
    );

  return (
    <form className="mapping-form" aria-label={label} onSubmit={(e) => void submit(e)} noValidate>
      <div className="fields">
        <div>
          <label htmlFor={`${id}-destination`}>Destination</label>
          <select
            {...field('destination')}
            value={destination}
            onChange={(e) => setDestination(e.target.value)}
          >
            {destinations.length === 0 && <option value="">No destinations</option>}
            {destinations.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
          {problem('destination')}
        </div>
        <div>
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select
            {...field('kind')}
            value={kind}
            onChange={(e) => setKind(e.target.value === 'location' ? 'location' : 'item')}
          >
            <option value="item">Item (SKU)</option>
            <option value="location">Location</option>
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-local`}>{kind === 'item' ? 'Local SKU' : 'Local location'}</label>
          <input
            {...field('local')}
            value={local}
            onChange={(e) => setLocal(e.target.value)}
            autoComplete="off"
          />
          {problem('local')}
        </div>
        <div>
          <label htmlFor={`${id}-remote`}>Remote id</label>
          <input
            {...field('remote')}
            value={remote}
            onChange={(e) => setRemote(e.target.value)}
            autoComplete="off"
            placeholder={destination === '' ? '' : `the id in ${destination}`}
          />
          {problem('remote')}
        </div>
        <div>
          <label htmlFor={`${id}-reason`}>Reason (optional)</label>
          <input {...field('reason')} value={reason} onChange={(e) => setReason(e.target.value)} />
          {problem('reason')}
        </div>
        <div className="submit">
          <button type="submit" disabled={isBusy}>
            {submitLabel}
          </button>
        </div>
      </div>
      {result !== null && (result.ok ? isSuccessShown : true) && (
        <p className={result.ok ? 'ok' : 'error'} role={result.ok ? 'status' : 'alert'}>
          {result.message}
        </p>
      )}
    </form>
  );
}

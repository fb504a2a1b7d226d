import { useId, useState } from 'react';
import { call } from '../api/client.js';
import { useAction } from '../hooks/use-action.js';
import { ActionForm } from './action-form.js';
import { TextField } from './field.js';

export type LocationFormProps = Readonly<{
  /** The form's accessible name (`Add location`, `Add a location`). */
  label: string;
  /** A prefilled id (an unknown location an exception names); shown read-only. */
  fixedId?: string;
  /** Called with the agent's answer once the location is added; returns the message to show. */
  onSaved?: (added: { id: string; resolved: number }) => void;
  /** Whether the form says itself that the location was added (default true); problems are always shown. */
  isSuccessShown?: boolean;
}>;

const isLocationField = (path: string) => ['id', 'name', 'reason'].includes(path);

/**
 * Adds a location to the agent (an admin's action, `settings.addLocation`): its id, a name and why. The
 * exceptions about events at that location resolve, and the agent answers how many.
 */
export function LocationForm({ label, fixedId, onSaved, isSuccessShown = true }: LocationFormProps) {
  const id = useId();
  const [locationId, setLocationId] = useState(fixedId ?? '');
  const [name, setName] = useState('');
  const [reason, setReason] = useState('');
  const action = useAction(isLocationField);
  const { errors } = action;

  const submit = () =>
    void action.run(async () => {
      const added = await call('settings.addLocation', {
        id: locationId,
        ...(name.trim() !== '' ? { name } : {}),
        reason,
      });
      if (fixedId === undefined) setLocationId('');
      setName('');
      setReason('');
      onSaved?.(added);
      return `Added location ${added.id}${added.resolved > 0 ? `; ${added.resolved} exception(s) about it resolved` : ''}.`;
    });

  return (
    <ActionForm
      label={label}
      onSubmit={submit}
      submitLabel="Add location"
      isBusy={action.isBusy}
      outcome={action.outcome}
      isSuccessShown={isSuccessShown}
    >
      <TextField
        id={`${id}-id`}
        label="Location id"
        error={errors.id}
        value={locationId}
        readOnly={fixedId !== undefined}
        onChange={setLocationId}
        autoComplete="off"
      />
      <TextField
        id={`${id}-name`}
        label="Name"
        error={errors.name}
        value={name}
        onChange={setName}
        autoComplete="off"
      />
      <TextField
        id={`${id}-reason`}
        label="Reason (required)"
        error={errors.reason}
        value={reason}
        onChange={setReason}
      />
    </ActionForm>
  );
}

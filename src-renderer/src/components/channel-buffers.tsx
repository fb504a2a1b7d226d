import { useId, useState } from 'react';
import type { ChannelSettings } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { formatTime } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { ErrorMessage } from './error-message.js';
import { fieldProps, FieldError } from './field.js';
import { InlineForm } from './inline-form.js';
import { ReasonField } from './reason-field.js';
import { RoleNote } from './role-note.js';
import { SubmitButton } from './submit-button.js';
import { TableHead } from './table-head.js';

/**
 * The sales channels with their buffers: available-to-sell = on hand − reserved − safety stock − buffer. A
 * buffer can be changed here (with a reason, audited) over the config file's value, and set back to it; the
 * channel's marketplaces are sent the new quantities at once.
 */
export function ChannelBuffersTable({
  channels,
  onChanged,
}: Readonly<{ channels: readonly ChannelSettings[]; onChanged: () => void }>) {
  const may = useMayCall();
  const canChange = may('channels.setBuffer');
  if (channels.length === 0)
    return <p>No channels: no marketplace destination is configured, so no buffer applies.</p>;
  return (
    <>
      <table className="data" data-testid="channels">
        <TableHead
          columns={[
            'Channel',
            'Published to',
            'Buffer',
            'Oversell guard',
            'Now',
            { label: 'Actions', isHidden: true },
          ]}
        />
        <tbody>
          {channels.map((c) => (
            <ChannelRow key={c.id} channel={c} canChange={canChange} onChanged={onChanged} />
          ))}
        </tbody>
      </table>
      {!canChange && <RoleNote route="channels.setBuffer">change a channel’s buffer</RoleNote>}
    </>
  );
}

function ChannelRow({
  channel: c,
  canChange,
  onChanged,
}: {
  channel: ChannelSettings;
  /** Whether the operator's role may change a buffer; without it the row has no actions. */
  canChange: boolean;
  onChanged: () => void;
}) {
  const [isEditing, setEditing] = useState(false);
  return (
    <tr data-testid={`channel-${c.id}`}>
      <th scope="row">{c.id}</th>
      <td>{c.destinations.length === 0 ? '—' : c.destinations.join(', ')}</td>
      <td>
        <span className="num" data-testid={`channel-${c.id}-buffer`}>
          {c.buffer}
        </span>{' '}
        {c.override === null ? (
          <span className="muted">{c.isDeclared ? '(config file)' : '(none configured)'}</span>
        ) : (
          <span className="muted">
            (set {formatTime(c.override.setAt)} by {c.override.setBy}: “{c.override.reason}”; config file:{' '}
            {c.configuredBuffer})
          </span>
        )}
      </td>
      <td>
        {c.tighten === null
          ? 'None'
          : `After ${c.tighten.afterMinutes} min unreachable or behind: hold back ${c.tighten.holdBackUnits} unit(s), then ${c.tighten.holdBackPercent}% of the rest`}
      </td>
      <td>
        {c.tighten === null ? (
          '—'
        ) : c.isDegraded ? (
          <span className="pill pill-warn">Tightened: {c.degradedReason}</span>
        ) : (
          <span className="pill pill-ok">Normal</span>
        )}
      </td>
      <td className="row-actions">
        {!canChange ? null : isEditing ? (
          <BufferForm
            channel={c}
            onDone={(isChanged) => {
              setEditing(false);
              if (isChanged) onChanged();
            }}
          />
        ) : (
          <button
            type="button"
            className="secondary"
            onClick={() => setEditing(true)}
            aria-label={`Change the buffer of ${c.id}`}
          >
            Change buffer
          </button>
        )}
      </td>
    </tr>
  );
}

/** Reads the number typed: a whole number, or NaN (which the shared schema refuses in the field's words). */
function unitsOf(text: string): number {
  return /^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

function BufferForm({
  channel: c,
  onDone,
}: Readonly<{ channel: ChannelSettings; onDone: (isChanged: boolean) => void }>) {
  const id = useId();
  const [units, setUnits] = useState(String(c.buffer));
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);

  const save = async (buffer: number | null) => {
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      await call('channels.setBuffer', { channel: c.id, buffer, reason });
      onDone(true);
    } catch (err) {
      const fields = fieldErrorsOf(err);
      setErrors(fields);
      if (Object.keys(fields).length === 0) setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const reasonError = errors['reason'];
  const unitsError = errors['buffer'];

  return (
    <InlineForm
      label={`Change the buffer of ${c.id}`}
      onSubmit={() => void save(unitsOf(units))}
      onCancel={() => onDone(false)}
      footer={<ErrorMessage message={error} isInline />}
    >
      <span>
        <label htmlFor={`${id}-units`}>Units held back</label>
        <input
          {...fieldProps(`${id}-units`, unitsError)}
          inputMode="numeric"
          size={6}
          value={units}
          onChange={(e) => setUnits(e.target.value)}
          autoFocus
        />
      </span>
      <FieldError id={`${id}-units`} error={unitsError} />
      <ReasonField
        id={id}
        value={reason}
        onChange={setReason}
        autoFocus={false}
        isInvalid={reasonError !== undefined}
        describedBy={reasonError !== undefined ? `${id}-reason-error` : undefined}
      />
      <FieldError id={`${id}-reason`} error={reasonError} />
      <SubmitButton isBusy={isBusy}>Save buffer</SubmitButton>
      {c.override !== null && (
        <button type="button" className="secondary" disabled={isBusy} onClick={() => void save(null)}>
          Back to the config file’s {c.configuredBuffer}
        </button>
      )}
    </InlineForm>
  );
}

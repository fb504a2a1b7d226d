import { useId, useMemo, useState } from 'react';
import type { MappingView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { ErrorMessage } from '../components/error-message.js';
import { Field } from '../components/field.js';
import { FilterBar } from '../components/filter-bar.js';
import { InlineForm } from '../components/inline-form.js';
import { MappingForm } from '../components/mapping-form.js';
import { MappingImport } from '../components/mapping-import.js';
import { Options } from '../components/options.js';
import { PageSection } from '../components/page-section.js';
import { ReasonField } from '../components/reason-field.js';
import { RoleNote } from '../components/role-note.js';
import { SubmitButton } from '../components/submit-button.js';
import { TableHead } from '../components/table-head.js';
import { formatTime } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { useRpc } from '../hooks/use-rpc.js';

/** Rows drawn at once; the filter narrows the rest. */
const SHOWN = 500;

/**
 * Identifier mappings per destination: list and filter them, add or change one inline, remove one with a
 * reason, import a CSV. Every change is in the activity log.
 */
export function MappingsPage({ params }: { params: URLSearchParams }) {
  const { data: configured, error: settingsError } = useRpc('destinations.list', {});
  const may = useMayCall();
  const destinations = useMemo(() => configured?.destinations.map((d) => d.id) ?? [], [configured]);
  const canRemove = may('mappings.remove');
  const canSet = may('mappings.set');
  const id = useId();
  const [destination, setDestination] = useState(params.get('destination') ?? '');
  const [kind, setKind] = useState<'' | 'item' | 'location'>('');
  const [text, setText] = useState(params.get('q') ?? '');
  const current = destination !== '' ? destination : (destinations[0] ?? '');
  const list = useRpc(
    'mappings.list',
    current === '' ? null : { destination: current, ...(kind !== '' ? { kind } : {}) },
  );
  const mappings = list.data?.mappings ?? null;
  const { error, reload } = list;

  const needle = text.trim().toLowerCase();
  const filtered = useMemo(
    () =>
      (mappings ?? []).filter(
        (m) =>
          needle === '' ||
          m.localId.toLowerCase().includes(needle) ||
          m.remoteId.toLowerCase().includes(needle),
      ),
    [mappings, needle],
  );

  return (
    <PageSection name="mappings" title="Mappings">
      <p className="muted">
        Which id each destination knows a SKU or location by. An item whose SKU has no mapping waits (an
        “unmapped” exception) and is sent by itself once the mapping is added.
      </p>
      <ErrorMessage message={settingsError ?? error} />
      {configured !== null && destinations.length === 0 && <p>No destinations are configured.</p>}
      {destinations.length > 0 && (
        <>
          <FilterBar label="Filter mappings">
            <Field id={`${id}-destination`} label="Destination">
              <select
                id={`${id}-destination`}
                value={current}
                onChange={(e) => setDestination(e.target.value)}
              >
                <Options values={destinations} />
              </select>
            </Field>
            <Field id={`${id}-kind`} label="Kind">
              <select
                id={`${id}-kind`}
                value={kind}
                onChange={(e) =>
                  setKind(e.target.value === 'item' || e.target.value === 'location' ? e.target.value : '')
                }
              >
                <option value="">Items and locations</option>
                <option value="item">Items</option>
                <option value="location">Locations</option>
              </select>
            </Field>
            <Field id={`${id}-text`} label="Local or remote id contains">
              <input
                id={`${id}-text`}
                value={text}
                onChange={(e) => setText(e.target.value)}
                placeholder="any"
              />
            </Field>
          </FilterBar>

          {canSet ? (
            <>
              <h2>Add or change a mapping</h2>
              <MappingForm
                key={current}
                destinations={destinations}
                initial={{ destination: current }}
                label="Add a mapping"
                onSaved={() => void reload()}
              />
            </>
          ) : (
            <RoleNote route="mappings.set">add, change, remove or import mappings</RoleNote>
          )}

          <h2 id={`${id}-list`}>
            Mappings of {current}{' '}
            <span className="muted small" data-testid="mapping-count">
              {mappings === null
                ? 'Loading…'
                : `${filtered.length.toLocaleString()} of ${mappings.length.toLocaleString()}`}
            </span>
          </h2>
          {mappings !== null && filtered.length === 0 && <p role="status">No mappings match.</p>}
          {filtered.length > 0 && (
            <table className="data" aria-labelledby={`${id}-list`} data-testid="mappings">
              <TableHead
                columns={[
                  'Kind',
                  'Local',
                  'Remote id',
                  'Made by',
                  'Changed',
                  ...(canSet || canRemove ? [{ label: 'Actions', isHidden: true }] : []),
                ]}
              />
              <tbody>
                {filtered.slice(0, SHOWN).map((m) => (
                  <MappingRow
                    key={`${m.kind}:${m.localId}`}
                    mapping={m}
                    canChange={canSet}
                    canRemove={canRemove}
                    onChanged={() => void reload()}
                  />
                ))}
              </tbody>
            </table>
          )}
          {filtered.length > SHOWN && (
            <p className="muted">
              Showing the first {SHOWN} of {filtered.length.toLocaleString()}; type in the filter to narrow.
            </p>
          )}

          {may('mappings.import') && (
            <>
              <h2>Import from CSV</h2>
              <MappingImport onImported={() => void reload()} />
            </>
          )}
        </>
      )}
    </PageSection>
  );
}

/** One mapping; “Change” and “Remove” open inline forms in the row, each shown only to a role that may. */
function MappingRow({
  mapping,
  canChange,
  canRemove,
  onChanged,
}: {
  mapping: MappingView;
  canChange: boolean;
  canRemove: boolean;
  onChanged: () => void;
}) {
  const [mode, setMode] = useState<'view' | 'change' | 'remove'>('view');
  const [value, setValue] = useState(mapping.remoteId);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const id = useId();
  const what = `${mapping.kind === 'item' ? 'SKU' : 'location'} ${mapping.localId}`;

  const close = () => {
    setMode('view');
    setError(null);
    setReason('');
    setValue(mapping.remoteId);
  };
  const submit = async () => {
    setBusy(true);
    try {
      if (mode === 'change')
        await call('mappings.set', {
          destination: mapping.destinationId,
          kind: mapping.kind,
          local: mapping.localId,
          remote: value,
          ...(reason.trim() !== '' ? { reason } : {}),
        });
      else
        await call('mappings.remove', {
          destination: mapping.destinationId,
          kind: mapping.kind,
          local: mapping.localId,
          reason,
        });
      close();
      onChanged();
    } catch (err) {
      const fields = fieldErrorsOf(err);
      setError(fields.remote ?? fields.reason ?? messageOf(err));
    }
    setBusy(false);
  };

  return (
    <tr>
      <td>{mapping.kind === 'item' ? 'Item' : 'Location'}</td>
      <th scope="row" className="mono">
        {mapping.localId}
      </th>
      {mode === 'view' ? (
        <>
          <td className="mono">{mapping.remoteId}</td>
          <td>{mapping.origin}</td>
          <td>{formatTime(mapping.updatedAt)}</td>
          {(canChange || canRemove) && (
            <td className="row-actions">
              {canChange && (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => setMode('change')}
                  aria-label={`Change ${what}`}
                >
                  Change
                </button>
              )}
              {canRemove && (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => setMode('remove')}
                  aria-label={`Remove ${what}`}
                >
                  Remove
                </button>
              )}
            </td>
          )}
        </>
      ) : (
        <>
          {mode === 'remove' && <td className="mono">{mapping.remoteId}</td>}
          <td colSpan={mode === 'remove' ? 3 : 4}>
            <InlineForm
              label={mode === 'change' ? `Change ${what}` : `Remove ${what}`}
              onSubmit={() => void submit()}
              onCancel={close}
              footer={<ErrorMessage message={error} id={`${id}-error`} isInline />}
            >
              {mode === 'change' && (
                <span>
                  <label htmlFor={`${id}-remote`}>New remote id</label>
                  <input
                    id={`${id}-remote`}
                    value={value}
                    onChange={(e) => setValue(e.target.value)}
                    autoFocus
                    aria-invalid={error !== null}
                    aria-describedby={error !== null ? `${id}-error` : undefined}
                  />
                </span>
              )}
              <ReasonField
                id={id}
                value={reason}
                onChange={setReason}
                isRequired={mode === 'remove'}
                autoFocus={mode === 'remove'}
                isInvalid={mode === 'remove' && error !== null}
                describedBy={error !== null ? `${id}-error` : undefined}
              />
              <SubmitButton isBusy={isBusy} className={mode === 'remove' ? 'danger' : undefined}>
                {mode === 'change' ? 'Save' : 'Remove mapping'}
              </SubmitButton>
            </InlineForm>
          </td>
        </>
      )}
    </tr>
  );
}

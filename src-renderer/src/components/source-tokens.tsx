import { useId, useState, type FormEvent } from 'react';
import type { SourceTokenView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { formatTime } from '../format.js';
import { useRpc } from '../hooks/use-rpc.js';
import { ErrorMessage } from './error-message.js';
import { Field, fieldProps } from './field.js';
import { InlineForm } from './inline-form.js';
import { ReasonField } from './reason-field.js';
import { SubmitButton } from './submit-button.js';
import { TableHead } from './table-head.js';

/**
 * POS sources: those of the config file, and tokens created here. A new token is shown once, with a warning,
 * and can be revoked (with a reason) at any time; a revoked token is refused from its next request on.
 */
export function SourceTokens() {
  const id = useId();
  const list = useRpc('sources.list', {});
  const configured = list.data?.configured ?? [];
  const tokens = list.data?.tokens ?? null;
  const { reload } = list;
  // A failed creation that names no field, until the list is loaded again; a failed load shows when there is none.
  const [createError, setError] = useState<string | null>(null);
  const error = createError ?? list.error;
  const [source, setSource] = useState('');
  const [label, setLabel] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [created, setCreated] = useState<{ token: string; entry: SourceTokenView } | null>(null);
  const [isBusy, setBusy] = useState(false);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setCreated(null);
    try {
      setCreated(await call('sources.createToken', { source, label }));
      setFieldErrors({});
      setSource('');
      setLabel('');
      setError(null);
      await reload();
    } catch (err) {
      const fields = fieldErrorsOf(err);
      setFieldErrors(fields);
      if (Object.keys(fields).length === 0) setError(messageOf(err));
    }
    setBusy(false);
  };

  return (
    <div data-testid="sources">
      <ErrorMessage message={error} />
      <p className="muted small">
        From the configuration file: {configured.map((c) => c.id).join(', ') || 'none'} (their tokens are kept
        there). Tokens created here work beside them; only a fingerprint of each is stored.
      </p>
      <form
        className="mapping-form"
        aria-label="Create a source token"
        onSubmit={(e) => void create(e)}
        noValidate
      >
        <div className="fields">
          <Field id={`${id}-source`} label="POS source id" error={fieldErrors.source}>
            <input
              {...fieldProps(`${id}-source`, fieldErrors.source)}
              value={source}
              onChange={(e) => setSource(e.target.value)}
              autoComplete="off"
            />
          </Field>
          <Field id={`${id}-label`} label="For (till, system)" error={fieldErrors.label}>
            <input
              {...fieldProps(`${id}-label`, fieldErrors.label)}
              value={label}
              onChange={(e) => setLabel(e.target.value)}
              autoComplete="off"
            />
          </Field>
          <div className="submit">
            <SubmitButton isBusy={isBusy}>Create token</SubmitButton>
          </div>
        </div>
      </form>
      {created !== null && (
        <div className="banner banner-warn token-once" role="status" data-testid="new-token">
          <p>
            Token for <strong>{created.entry.sourceId}</strong> ({created.entry.label}). Copy it into the POS
            now: <strong>it is shown only this once.</strong>
          </p>
          <p>
            <code className="mono" data-testid="token-value">
              {created.token}
            </code>{' '}
            <button
              type="button"
              className="secondary"
              onClick={() => void navigator.clipboard?.writeText(created.token)}
            >
              Copy
            </button>{' '}
            <button type="button" className="secondary" onClick={() => setCreated(null)}>
              Done
            </button>
          </p>
        </div>
      )}
      {tokens !== null && tokens.length > 0 && (
        <table className="data" data-testid="source-tokens">
          <caption className="visually-hidden">Source tokens created here</caption>
          <TableHead
            columns={['Source', 'For', 'Token', 'Created', 'State', { label: 'Actions', isHidden: true }]}
          />
          <tbody>
            {tokens.map((t) => (
              <TokenRow
                key={t.id}
                token={t}
                onRevoked={() => {
                  setError(null);
                  void reload();
                }}
              />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function TokenRow({ token: t, onRevoked }: { token: SourceTokenView; onRevoked: () => void }) {
  const id = useId();
  const [isAsking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const name = `${t.sourceId} token …${t.hint}`;

  const revoke = async () => {
    try {
      await call('sources.revokeToken', { id: t.id, reason });
      setAsking(false);
      onRevoked();
    } catch (err) {
      setError(fieldErrorsOf(err).reason ?? messageOf(err));
    }
  };

  return (
    <tr>
      <th scope="row" className="mono nowrap">
        {t.sourceId}
      </th>
      <td>{t.label}</td>
      <td className="mono nowrap">…{t.hint}</td>
      <td>
        {formatTime(t.createdAt)} by {t.createdBy}
      </td>
      <td>
        {t.revokedAt === null ? (
          <span className="pill pill-ok">Active</span>
        ) : (
          <span className="pill pill-muted">
            Revoked {formatTime(t.revokedAt)} by {t.revokedBy}
          </span>
        )}
      </td>
      <td className="row-actions">
        {t.revokedAt === null && !isAsking && (
          <button
            type="button"
            className="secondary"
            onClick={() => setAsking(true)}
            aria-label={`Revoke ${name}`}
          >
            Revoke
          </button>
        )}
        {isAsking && (
          <InlineForm
            label={`Revoke ${name}`}
            onSubmit={() => void revoke()}
            onCancel={() => setAsking(false)}
            footer={<ErrorMessage message={error} id={`${id}-error`} isInline />}
          >
            <ReasonField
              id={id}
              value={reason}
              onChange={setReason}
              isInvalid={error !== null}
              describedBy={error !== null ? `${id}-error` : undefined}
            />
            <button type="submit" className="danger">
              Revoke token
            </button>
          </InlineForm>
        )}
      </td>
    </tr>
  );
}

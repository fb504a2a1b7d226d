import { useId, useState } from 'react';
import type { ExceptionDetail } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { useAction } from '../hooks/use-action.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { hrefOf } from '../route.js';
import { ActionForm } from './action-form.js';
import { TextField } from './field.js';
import { RoleNote } from './role-note.js';

type Exception = ExceptionDetail['exception'];

/**
 * A destination paused because it refused Backroom's credentials or setup: once they are fixed (in the config, or
 * at the destination), Resume starts delivery again. If they are still refused, delivery pauses again and a new
 * exception says so; this one is resolved by the resume either way.
 */
export function ResumeDestinationFix({
  exception,
  onDone,
}: Readonly<{ exception: Exception; onDone: (message: string) => void }>) {
  const id = useId();
  const may = useMayCall();
  const [reason, setReason] = useState('');
  const action = useAction();
  const destination = exception.destinationId ?? '';
  const what = exception.kind === 'destination_auth_failed' ? 'credentials' : 'setup';
  return (
    <section aria-labelledby={`${id}-title`} className="actions fix" data-testid="fix-resume">
      <h3 id={`${id}-title`}>Resume delivery</h3>
      <p className="muted small">
        Delivery to {destination} is paused. Fix its {what} first (Settings shows the destination; a changed
        config file needs the agent restarted), then resume: what waits is sent in order. If {destination}{' '}
        still refuses, it pauses again and a new exception says why.
      </p>
      {may('destinations.resume') ? (
        <ActionForm
          label={`Resume ${destination}`}
          submitLabel={`Resume ${destination}`}
          isBusy={action.isBusy}
          outcome={action.outcome}
          isSuccessShown={false}
          onSubmit={() =>
            void action.run(async () => {
              const answer = await call('destinations.resume', {
                id: destination,
                ...(reason.trim() !== '' ? { reason } : {}),
              });
              const message = `Resumed ${answer.destination}: its breaker is ${answer.state.replace('_', '-')}.`;
              onDone(message);
              return message;
            })
          }
        >
          <TextField
            id={`${id}-reason`}
            label="Reason (optional)"
            error={action.errors.reason}
            value={reason}
            onChange={setReason}
          />
        </ActionForm>
      ) : (
        <RoleNote route="destinations.resume">resume the destination</RoleNote>
      )}
    </section>
  );
}

/** Drift found by the reconciliation schedule: its fixes (republish, adopt, ignore) are on the Reconcile page. */
export function ReconcileDriftFix({ exception }: Readonly<{ exception: Exception }>) {
  const destination = exception.destinationId ?? '';
  return (
    <section className="actions fix" data-testid="fix-reconcile">
      <p>
        <a href={hrefOf('reconcile', destination === '' ? {} : { destination })}>
          Reconcile {destination || 'the destination'}
        </a>{' '}
        <span className="muted small">
          — each difference with its cause and its fixes (push local, adopt remote, ignore). A clean scheduled
          pass resolves this by itself.
        </span>
      </p>
    </section>
  );
}

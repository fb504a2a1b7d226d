import { useId, useState, type ReactNode } from 'react';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { ErrorMessage } from './error-message.js';
import { InlineForm } from './inline-form.js';
import { ReasonField } from './reason-field.js';
import { SubmitButton } from './submit-button.js';

/** What one row's fixes are and what each does; the row owns the data, this owns the asking. */
export type RowFixesSpec<F extends string> = Readonly<{
  /** The fixes this row offers, in button order. */
  fixes: readonly F[];
  /** The button's text for a fix. */
  labelOf: (fix: F) => string;
  /** What the row is about, for screen readers and the form's title ("SKU-1 at S1", "order #1001"). */
  subject: string;
  /**
   * Fixes done at once, with the reason given here, instead of asking for one (pushing our own value again
   * changes nothing on this side; adopting or ignoring does, so those ask).
   */
  immediate?: Partial<Record<F, string>>;
  /** What the fix will do, under the reason field. */
  helpOf: (fix: F) => string;
  /** The submit button's text, saying the outcome ("Adopt 12"). */
  submitLabelOf: (fix: F) => string;
  /** Calls the agent; resolves with the message the page shows once the fix is done. */
  run: (fix: F, reason: string) => Promise<string>;
  onFixed: (message: string) => void;
}>;

/**
 * The fix buttons of a table row (reconciliation's level, price and shipment drifts, the Prices page's held
 * prices) and the inline row that asks for a reason before a fix that changes something, with the agent's
 * refusal shown there. Returns the actions cell for the row and the row to render after it.
 */
export function useRowFixes<F extends string>(
  spec: RowFixesSpec<F>,
): Readonly<{ actions: ReactNode; form: (colSpan: number) => ReactNode }> {
  const id = useId();
  const [asking, setAsking] = useState<F | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);

  const fix = async (action: F, why: string) => {
    setBusy(true);
    setError(null);
    try {
      const message = await spec.run(action, why);
      setAsking(null);
      setReason('');
      spec.onFixed(message);
    } catch (err) {
      setError(fieldErrorsOf(err).reason ?? messageOf(err));
    }
    setBusy(false);
  };

  const actions = (
    <td className="row-actions">
      {spec.fixes.map((f) => {
        const immediateReason = spec.immediate?.[f];
        return (
          <button
            key={f}
            type="button"
            className={immediateReason === undefined ? 'secondary' : undefined}
            disabled={isBusy}
            aria-label={`${spec.labelOf(f)}: ${spec.subject}`}
            aria-expanded={immediateReason === undefined ? asking === f : undefined}
            onClick={() => {
              if (immediateReason !== undefined) {
                void fix(f, immediateReason);
                return;
              }
              setAsking(f);
              setError(null);
            }}
          >
            {spec.labelOf(f)}
          </button>
        );
      })}
    </td>
  );

  const form = (colSpan: number) =>
    (asking !== null || error !== null) && (
      <tr className="fix-row">
        <td colSpan={colSpan}>
          {asking !== null && (
            <InlineForm
              label={`${spec.labelOf(asking)}: ${spec.subject}`}
              onSubmit={() => void fix(asking, reason)}
              onCancel={() => setAsking(null)}
              footer={
                <span id={`${id}-help`} className="muted small">
                  {spec.helpOf(asking)}
                </span>
              }
            >
              <ReasonField
                id={id}
                value={reason}
                onChange={setReason}
                isInvalid={error !== null}
                describedBy={`${id}-help${error !== null ? ` ${id}-error` : ''}`}
              />
              <SubmitButton isBusy={isBusy}>{spec.submitLabelOf(asking)}</SubmitButton>
            </InlineForm>
          )}
          <ErrorMessage message={error} id={`${id}-error`} />
        </td>
      </tr>
    );

  return { actions, form };
}

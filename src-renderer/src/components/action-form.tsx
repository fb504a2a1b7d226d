import type { ReactNode } from 'react';
import { OutcomeMessage, type Outcome } from './outcome-message.js';
import { SubmitButton } from './submit-button.js';

/**
 * A form of one action (add an item or a location, correct a SKU, map an item, import a fixed file): `before`
 * (a note), its fields in a row ending in the submit button, then how the last try ended. The browser's own
 * validation is off: the contract's schema and the agent say what is wrong, in the field's words.
 *
 * @example
 * <ActionForm label="Add to catalog" onSubmit={add} isBusy={action.isBusy} outcome={action.outcome}
 *   submitLabel="Add item" isSuccessShown={false}>
 *   <TextField id={`${id}-name`} label="Item name" … />
 * </ActionForm>
 */
export function ActionForm({
  label,
  className = 'mapping-form',
  onSubmit,
  before,
  children,
  submitLabel,
  busyLabel,
  isBusy,
  outcome,
  isSuccessShown = true,
}: Readonly<{
  /** The form's accessible name (`Add location`). */
  label: string;
  className?: string;
  /** Called on submit; the page does not reload. */
  onSubmit: () => void;
  /** Above the fields (a note on what the form does). */
  before?: ReactNode;
  /** The fields. */
  children: ReactNode;
  submitLabel: ReactNode;
  /** What the button says while the action runs (it is disabled meanwhile either way). */
  busyLabel?: string;
  isBusy: boolean;
  /** How the last try ended, or null. */
  outcome: Outcome | null;
  /** Whether a success is said here too (default true); a failure always is. */
  isSuccessShown?: boolean;
}>) {
  return (
    <form
      className={className}
      aria-label={label}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {before}
      <div className="fields">
        {children}
        <div className="submit">
          <SubmitButton isBusy={isBusy} busyLabel={busyLabel}>
            {submitLabel}
          </SubmitButton>
        </div>
      </div>
      <OutcomeMessage outcome={outcome?.ok === true && !isSuccessShown ? null : outcome} />
    </form>
  );
}

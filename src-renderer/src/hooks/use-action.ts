import { useCallback, useState } from 'react';
import { fieldErrorsOf } from '../api/message-of.js';
import type { Outcome } from '../components/outcome-message.js';

/** What a form reads from {@link useAction}. */
export type ActionState = Readonly<{
  /**
   * Runs `act`; its answer is the success message. A failure (a refused call, or an `Error` `act` throws with a
   * sentence for the user) becomes the outcome and the field errors. Settles with whether it succeeded.
   */
  run: (act: () => Promise<string>) => Promise<boolean>;
  isBusy: boolean;
  /** How the last run ended, or null before one. */
  outcome: Outcome | null;
  /** Field path → message of the last failed run (the client's schema or the agent's). */
  errors: Record<string, string>;
  /** Sets field errors found before sending (a form's own check). */
  setErrors: (errors: Record<string, string>) => void;
}>;

/**
 * One action of a form: busy while it runs (so a second click does not send it twice), then its outcome in
 * words and, when the input was refused, the problem of each field.
 *
 * @example
 * const action = useAction();
 * <form onSubmit={(e) => (e.preventDefault(), void action.run(async () => { await call(...); return 'Added.'; }))}>
 */
export function useAction(): ActionState {
  const [isBusy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const run = useCallback(async (act: () => Promise<string>) => {
    setBusy(true);
    setOutcome(null);
    try {
      const message = await act();
      setErrors({});
      setOutcome({ ok: true, message });
      return true;
    } catch (error) {
      const fields = fieldErrorsOf(error);
      setErrors(fields);
      setOutcome({
        ok: false,
        message:
          Object.keys(fields).length > 0
            ? 'Check the fields marked below.'
            : error instanceof Error
              ? error.message
              : String(error),
      });
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, isBusy, outcome, errors, setErrors };
}

import { useCallback, useState } from 'react';
import { fieldErrorsOf } from '../api/message-of.js';
import type { Outcome } from '../components/outcome-message.js';

const CHECK_FIELDS = 'Check the marked fields.';

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
  /** Sets field errors (`{}` clears them). */
  setErrors: (errors: Record<string, string>) => void;
  /** Refuses the input before anything is sent (a form's own check): these field errors, and an outcome. */
  reject: (errors: Record<string, string>) => void;
}>;

/**
 * One action of a form: busy while it runs (so a second click does not send it twice), then its outcome in
 * words and, when the input was refused, the problem of each field.
 *
 * A refusal that names a field the form does not show (the exception's `id`, an event's `id`) is said in the
 * outcome itself, so no problem is ever announced as "marked below" with nothing marked.
 *
 * @example
 * const action = useAction((path) => ['name', 'barcode'].includes(path));
 * <form onSubmit={(e) => (e.preventDefault(), void action.run(async () => { await call(...); return 'Added.'; }))}>
 */
export function useAction(
  /** Whether the form shows the error of a field path under an input of its own (default: every path). */
  isShown: (path: string) => boolean = () => true,
): ActionState {
  const [isBusy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const run = useCallback(
    async (act: () => Promise<string>) => {
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
        const unshown = Object.entries(fields).filter(([path]) => !isShown(path));
        setOutcome({
          ok: false,
          message:
            unshown.length > 0
              ? unshown.map(([path, message]) => `${path}: ${message}`).join('; ')
              : Object.keys(fields).length > 0
                ? CHECK_FIELDS
                : error instanceof Error
                  ? error.message
                  : String(error),
        });
        return false;
      } finally {
        setBusy(false);
      }
    },
    [isShown],
  );
  const reject = useCallback((found: Record<string, string>) => {
    setErrors(found);
    setOutcome({ ok: false, message: CHECK_FIELDS });
  }, []);
  return { run, isBusy, outcome, errors, setErrors, reject };
}

import { useCallback, useState } from 'react';
import type { EntryResult } from '../../../shared/rpc-views.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { problemsOf, type EntryLine } from '../components/entry-lines.js';
import { newEntryId } from '../entry-id.js';

/** What an entry form reads from {@link useEntryPost}. */
export type EntryPost<R extends EntryResult> = Readonly<{
  /** The id the next post is sent with: the same until one is posted, so a resend is answered `duplicate`. */
  entryId: string;
  /** Field errors by the contract's path (`location`, `lines.0.qty`), each gone once its field is changed. */
  errors: Readonly<Record<string, string>>;
  /** Why the last post failed, each problem naming its line (in `lines`, the form's lines now) or field. */
  problems: (lines: readonly EntryLine[]) => string[];
  result: R | null;
  isBusy: boolean;
  /**
   * Posts with `send(entryId)`; resolves with the agent's answer when it took the entry (then the next post gets
   * a new id), or null when it failed (then `problems` says why and the id is kept for a resend). `alsoWrong`:
   * problems the form knows of that the schema reports only once the rest is right (a refinement over the
   * whole input), shown with the others when the post fails.
   */
  post: (send: (id: string) => Promise<R>, alsoWrong?: Readonly<Record<string, string>>) => Promise<R | null>;
  /** Forgets the error of `path` (its field was changed); with `isPrefix`, of every path under it (`lines`). */
  dismiss: (path: string, isPrefix?: boolean) => void;
  /**
   * A field's `onChange`: sets its value with `set` and forgets its error (at `path`).
   *
   * @example
   * <LocationField … onChange={entry.changing('location', setLocation)} />
   */
  changing: (path: string, set: (value: string) => void) => (value: string) => void;
  /** Forgets the last outcome (a new entry starts). */
  clear: () => void;
}>;

/**
 * The posting of one entry form: its entry id (made when the form opens, renewed after a post the agent took),
 * busy state, the outcome, and the problems of a failed post from the contract's schema (checked here before
 * sending) or from the agent's 400 answer, each named by line and field.
 *
 * @example
 * const entry = useEntryPost(FIELD_LABELS);
 * await entry.post((id) => call('entry.receive', { id, location, lines: linesInput(lines) }));
 * <EntryProblems problems={entry.problems(lines)} />
 */
export function useEntryPost<R extends EntryResult = EntryResult>(
  labels: Readonly<Record<string, string>>,
): EntryPost<R> {
  const [entryId, setEntryId] = useState(newEntryId);
  const [errors, setErrors] = useState<Record<string, string>>({});
  // A failure that names no field (the agent cannot be reached, a refusal).
  const [failure, setFailure] = useState<string | null>(null);
  const [result, setResult] = useState<R | null>(null);
  const [isBusy, setBusy] = useState(false);

  const post = async (
    send: (id: string) => Promise<R>,
    alsoWrong: Readonly<Record<string, string>> = {},
  ): Promise<R | null> => {
    setBusy(true);
    setResult(null);
    try {
      const answer = await send(entryId);
      setErrors({});
      setFailure(null);
      setResult(answer);
      setEntryId(newEntryId());
      return answer;
    } catch (error) {
      const found = fieldErrorsOf(error);
      const hasFields = Object.keys(found).length > 0;
      setErrors(hasFields ? { ...alsoWrong, ...found } : {});
      setFailure(hasFields ? null : messageOf(error));
      return null;
    } finally {
      setBusy(false);
    }
  };
  const dismiss = useCallback((path: string, isPrefix = false) => {
    setErrors((all) => {
      const kept = Object.entries(all).filter(([p]) => p !== path && !(isPrefix && p.startsWith(`${path}.`)));
      return kept.length === Object.keys(all).length ? all : Object.fromEntries(kept);
    });
  }, []);
  const changing = (path: string, set: (value: string) => void) => (value: string) => {
    set(value);
    dismiss(path);
  };
  const clear = () => {
    setResult(null);
    setFailure(null);
    setErrors({});
  };
  const problems = (lines: readonly EntryLine[]) =>
    failure !== null ? [failure] : problemsOf(errors, lines, labels);
  return { entryId, errors, problems, result, isBusy, post, dismiss, changing, clear };
}

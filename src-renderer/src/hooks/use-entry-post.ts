import { useState } from 'react';
import type { EntryResult } from '../../../shared/rpc-views.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { problemsOf, type EntryLine } from '../components/entry-lines.js';
import { newEntryId } from '../entry-id.js';

/** What an entry form reads from {@link useEntryPost}. */
export type EntryPost<R extends EntryResult> = Readonly<{
  /** The id the next post is sent with: the same until one is posted, so a resend is answered `duplicate`. */
  entryId: string;
  /** Field errors by the contract's path (`location`, `lines.0.qty`). */
  errors: Readonly<Record<string, string>>;
  /** Why the last post failed, each problem naming its line or field; empty after a success. */
  problems: readonly string[];
  result: R | null;
  isBusy: boolean;
  /**
   * Posts with `send(entryId)`; resolves with the agent's answer when it took the entry (then the next post gets
   * a new id), or null when it failed (then `problems` says why and the id is kept for a resend). `alsoWrong`:
   * problems the form knows of that the schema reports only once the rest is right (a refinement over the
   * whole input), shown with the others when the post fails.
   */
  post: (
    send: (id: string) => Promise<R>,
    lines: readonly EntryLine[],
    alsoWrong?: Readonly<Record<string, string>>,
  ) => Promise<R | null>;
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
 * await entry.post((id) => call('entry.receive', { id, location, lines: linesInput(lines) }), lines);
 */
export function useEntryPost<R extends EntryResult = EntryResult>(
  labels: Readonly<Record<string, string>>,
): EntryPost<R> {
  const [entryId, setEntryId] = useState(newEntryId);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<string[]>([]);
  const [result, setResult] = useState<R | null>(null);
  const [isBusy, setBusy] = useState(false);

  const post = async (
    send: (id: string) => Promise<R>,
    lines: readonly EntryLine[],
    alsoWrong: Readonly<Record<string, string>> = {},
  ): Promise<R | null> => {
    setBusy(true);
    setResult(null);
    try {
      const answer = await send(entryId);
      setErrors({});
      setProblems([]);
      setResult(answer);
      setEntryId(newEntryId());
      return answer;
    } catch (error) {
      const found = fieldErrorsOf(error);
      const fields = Object.keys(found).length === 0 ? found : { ...alsoWrong, ...found };
      setErrors(fields);
      setProblems(Object.keys(fields).length > 0 ? problemsOf(fields, lines, labels) : [messageOf(error)]);
      return null;
    } finally {
      setBusy(false);
    }
  };
  const clear = () => {
    setResult(null);
    setProblems([]);
    setErrors({});
  };
  return { entryId, errors, problems, result, isBusy, post, clear };
}

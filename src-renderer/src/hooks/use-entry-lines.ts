import { useCallback, useState } from 'react';
import type { EntryResult } from '../../../shared/rpc-views.js';
import { withMore, type EntryLine, type FoundItem } from '../components/entry-lines.js';
import { useEntryPost, type EntryPost } from './use-entry-post.js';

/** What an entry form with lines reads from {@link useEntryLines}. */
export type EntryLines<R extends EntryResult> = Readonly<{
  /** The lines as typed. */
  lines: EntryLine[];
  setLines: (lines: EntryLine[] | ((lines: EntryLine[]) => EntryLine[])) => void;
  /** The posting of the form (its entry id, errors, outcome). */
  entry: EntryPost<R>;
  /** A line entry's `onAdd`: `qty` more of the item (a line of its own when new); the lines' error is gone. */
  onAdd: (item: FoundItem, qty: number) => void;
}>;

/**
 * The lines of an entry form (receive, adjust, send or receive a transfer) and their posting
 * ({@link useEntryPost}): a scan or a typed line adds to its item's line, and forgets the error about the lines.
 *
 * @example
 * const { lines, setLines, entry, onAdd } = useEntryLines(LABELS);
 * <LineEntry location={location} onAdd={onAdd} />
 */
export function useEntryLines<R extends EntryResult = EntryResult>(
  labels: Readonly<Record<string, string>>,
): EntryLines<R> {
  const [lines, setLines] = useState<EntryLine[]>([]);
  const entry = useEntryPost<R>(labels);
  const { dismiss } = entry;
  const onAdd = useCallback(
    (item: FoundItem, qty: number) => {
      setLines((ls) => withMore(ls, item, qty));
      dismiss('lines');
    },
    [dismiss],
  );
  return { lines, setLines, entry, onAdd };
}

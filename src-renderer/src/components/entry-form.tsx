import type { ReactNode } from 'react';
import type { EntryResult } from '../../../shared/rpc-views.js';
import type { EntryPost } from '../hooks/use-entry-post.js';
import { EntryLinesTable, keepEnterFromPosting, type EntryLine } from './entry-lines.js';
import { EntryOutcome, EntryProblems } from './entry-outcome.js';
import { SubmitButton } from './submit-button.js';

/**
 * The form of a stock entry with lines (receive a delivery, adjust, send a transfer): its title (also its
 * accessible name), `fields`, then `children` (the line entry and any note), the lines, why the last post failed,
 * the post button and what the last post did. Enter in a text field does not post it (a scanner ends every code
 * with Enter).
 *
 * @example
 * <EntryForm title="Receive a delivery" id={id} entry={entry} lines={lines} onLinesChange={setLines}
 *   onPost={post} fields={<LocationField … />} caption="Lines received" submitLabel="Post receipt"
 *   what="Delivery received">
 *   <LineEntry key={entry.entryId} location={location} onAdd={onAdd} />
 * </EntryForm>
 */
export function EntryForm<R extends EntryResult>({
  title,
  id,
  entry,
  lines,
  onLinesChange,
  onPost,
  fields,
  children,
  caption,
  qtyLabel,
  submitLabel,
  what,
}: Readonly<{
  /** The heading and the form's accessible name (`Receive a delivery`). */
  title: string;
  /** A prefix for the ids of the lines' inputs and their errors. */
  id: string;
  entry: EntryPost<R>;
  lines: readonly EntryLine[];
  onLinesChange: (lines: EntryLine[]) => void;
  /** Posts the entry (the form's submit, its default already prevented). */
  onPost: () => Promise<void>;
  /** The form's own fields (location, reference, reason). */
  fields: ReactNode;
  /** Between the fields and the lines: the line entry, and any note about it. */
  children: ReactNode;
  /** The lines table's caption (`Lines received`). */
  caption: string;
  /** The quantity column's label (default `Quantity`). */
  qtyLabel?: string;
  submitLabel: string;
  /** What the outcome says was posted (`Delivery received`). */
  what: string;
}>) {
  return (
    <form
      aria-label={title}
      className="entry-form"
      onSubmit={(e) => {
        e.preventDefault();
        void onPost();
      }}
      onKeyDown={keepEnterFromPosting}
      noValidate
    >
      <h2>{title}</h2>
      <div className="fields">{fields}</div>
      {children}
      <EntryLinesTable
        id={id}
        lines={lines}
        onChange={onLinesChange}
        onDismiss={entry.dismiss}
        errors={entry.errors}
        qtyLabel={qtyLabel}
        caption={caption}
      />
      <EntryProblems problems={entry.problems(lines)} />
      <div className="entry-actions">
        <SubmitButton isBusy={entry.isBusy} busyLabel="Posting…">
          {submitLabel}
        </SubmitButton>
      </div>
      {entry.result !== null && <EntryOutcome result={entry.result} what={what} />}
    </form>
  );
}

import type { EntryResult } from '../../../shared/rpc-views.js';
import { hrefOf } from '../route.js';

/**
 * What posting an entry did, read out when the reader is idle: the event it was captured as, or that it was
 * posted before (the same entry id: nothing moved twice), and the SKUs the catalog does not know, with the way to
 * the exceptions they raised.
 *
 * @example
 * {posted !== null && <EntryOutcome result={posted} what="Delivery received" />}
 */
export function EntryOutcome({ result, what }: Readonly<{ result: EntryResult; what: string }>) {
  return (
    <div role="status" className="entry-outcome" data-testid="entry-outcome">
      {result.status === 'duplicate' ? (
        <p className="ok">Duplicate: already posted as event #{result.seq}. Nothing moved twice.</p>
      ) : (
        <p className="ok">
          {what}: posted as event #{result.seq}.
        </p>
      )}
      {result.unknownSkus.length > 0 && (
        <p className="warn-text" data-testid="unknown-skus">
          Not in the catalog, captured anyway: {result.unknownSkus.join(', ')}. Each is an open exception
          until the item is added or the SKU corrected:{' '}
          <a href={hrefOf('exceptions', { kind: 'unknown_sku' })}>see Exceptions</a>.
        </p>
      )}
    </div>
  );
}

/** Why a post failed, announced at once: each problem naming its line or field (nothing when there is none). */
export function EntryProblems({ problems }: Readonly<{ problems: readonly string[] }>) {
  if (problems.length === 0) return null;
  return (
    <div role="alert" className="error entry-problems" data-testid="entry-problems">
      <p>Not posted:</p>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}

import { useId, useState } from 'react';
import type {
  PriceDriftCause,
  PriceDriftFix,
  PriceDriftReport,
  PriceDriftRow,
} from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { ActionMessages } from './action-messages.js';
import { useRowFixes } from './row-fixes.js';
import { messageOf } from '../api/message-of.js';
import { formatAgo, formatTime } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { money } from './channel-prices.js';
import { Field } from './field.js';
import { RoleNote } from './role-note.js';
import { SubmitButton } from './submit-button.js';
import { TableHead } from './table-head.js';

const CAUSE_LABELS: Record<PriceDriftCause, string> = {
  in_sync: 'In sync',
  pending: 'Still being sent',
  not_mapped: 'Not mapped',
  kept: 'Old price kept by a person',
  changed_remote: 'Changed there by hand',
};

const FIX_LABELS: Record<PriceDriftFix, string> = {
  push: 'Push ours',
  adopt: 'Adopt theirs',
  ignore: 'Ignore',
};

/**
 * Price drift (reconciliation of prices): a channel's prices read back now, each difference with its cause, and
 * the fixes: push ours again, adopt theirs as this channel's local override, or ignore it with a reason.
 */
export function PriceDrift({ destinations }: Readonly<{ destinations: readonly string[] }>) {
  const id = useId();
  const canFix = useMayCall()('reconcile.priceFix');
  const [chosen, setChosen] = useState('');
  const destination = chosen !== '' ? chosen : (destinations[0] ?? '');
  const [report, setReport] = useState<PriceDriftReport | null>(null);
  const [isRunning, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      setReport(await call('reconcile.prices', { destination }));
    } catch (err) {
      setError(messageOf(err));
    }
    setRunning(false);
  };

  const rows = report?.rows.filter((r) => r.cause !== 'in_sync') ?? [];
  return (
    <section aria-label="Prices at the channel">
      <h2>Prices at the channel</h2>
      <form
        className="filters"
        aria-label="Compare prices with a channel"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <Field id={`${id}-destination`} label="Channel">
          <select
            id={`${id}-destination`}
            value={destination}
            onChange={(e) => (setChosen(e.target.value), setReport(null), setNotice(null))}
          >
            {destinations.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </Field>
        <SubmitButton isBusy={isRunning} busyLabel="Reading…">
          Compare now
        </SubmitButton>
      </form>
      <ActionMessages error={error} notice={notice} />
      {report !== null && (
        <>
          <p className="muted" data-testid="price-drift-summary">
            Read {formatTime(report.at)} ({formatAgo(report.at)}): {report.summary.items} prices,{' '}
            {report.summary.inSync} in sync, {report.summary.pending} still being sent,{' '}
            {report.summary.notMapped} not mapped, {report.summary.changedRemote} changed there by hand.
          </p>
          {!canFix && rows.some((r) => r.fixes.length > 0) && (
            <RoleNote route="reconcile.priceFix">push, adopt or ignore a price difference</RoleNote>
          )}
          {rows.length === 0 ? (
            <p role="status">Every price at {report.destinationId} is Backroom&apos;s.</p>
          ) : (
            <table className="data" data-testid="price-drift">
              <TableHead
                columns={[
                  'SKU',
                  { label: 'Here', isNumeric: true },
                  { label: 'There', isNumeric: true },
                  'Likely cause',
                  ...(canFix ? [{ label: 'Fixes', isHidden: true }] : []),
                ]}
              />
              <tbody>
                {rows.map((row) => (
                  <DriftRow
                    key={row.sku}
                    row={row}
                    destination={report.destinationId}
                    canFix={canFix}
                    onFixed={(message) => {
                      setNotice(message);
                      void run();
                    }}
                  />
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

/** One SKU's difference; “Adopt theirs” and “Ignore” ask for a reason inline first. */
function DriftRow({
  row,
  destination,
  canFix,
  onFixed,
}: Readonly<{
  row: PriceDriftRow;
  destination: string;
  canFix: boolean;
  onFixed: (message: string) => void;
}>) {
  const fixes = useRowFixes<PriceDriftFix>({
    fixes: row.fixes,
    labelOf: (f) => FIX_LABELS[f],
    subject: `${row.sku} at ${destination}`,
    immediate: { push: 'Pushed our price from the Prices page' },
    helpOf: (f) =>
      f === 'adopt'
        ? `Keeps ${money(row.remote, row.remoteCurrency)} as ${destination}'s own price here; the price list's changes no longer reach it.`
        : 'Nothing changes; shown as ignored while the price there stays the same.',
    submitLabelOf: (f) =>
      f === 'adopt' ? `Adopt ${money(row.remote, row.remoteCurrency)}` : 'Ignore this difference',
    run: async (action, reason) => {
      const result = await call('reconcile.priceFix', { destination, sku: row.sku, action, reason });
      return `${row.sku}: ${result.detail}.`;
    },
    onFixed,
  });

  return (
    <>
      <tr data-testid={`price-drift-${row.sku}`} className="drifting">
        <th scope="row" className="mono nowrap">
          {row.sku}
        </th>
        <td className="num">{money(row.local, row.localCurrency)}</td>
        <td className="num">{money(row.remote, row.remoteCurrency)}</td>
        <td>
          <strong>{CAUSE_LABELS[row.cause]}</strong>
          {row.ignored !== null && (
            <div className="small muted">
              Ignored by {row.ignored.operator} {formatAgo(row.ignored.at)}: {row.ignored.reason}
            </div>
          )}
        </td>
        {canFix && fixes.actions}
      </tr>
      {fixes.form(5)}
    </>
  );
}

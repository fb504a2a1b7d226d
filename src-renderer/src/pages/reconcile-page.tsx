import { useCallback, useId, useMemo, useState, type FormEvent } from 'react';
import type { ReconcileFix, ReconcileRow } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { ActionMessages } from '../components/action-messages.js';
import { useRowFixes } from '../components/row-fixes.js';
import { messageOf } from '../api/message-of.js';
import { ErrorMessage } from '../components/error-message.js';
import { Field } from '../components/field.js';
import { PageSection } from '../components/page-section.js';
import { RoleNote } from '../components/role-note.js';
import { ShipmentDrift } from '../components/shipment-drift.js';
import { SubmitButton } from '../components/submit-button.js';
import { TableHead } from '../components/table-head.js';
import { formatAgo, formatTime } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { useRpc } from '../hooks/use-rpc.js';

const CAUSE_LABELS: Record<string, string> = {
  in_sync: 'In sync',
  pending_delivery: 'Still being sent',
  not_mapped: 'Not mapped',
  missing_remote: 'Missing there',
  remote_lower: 'Lower there',
  remote_higher: 'Higher there',
};

const FIX_LABELS: Record<ReconcileFix, string> = {
  republish: 'Push local',
  accept_remote: 'Adopt remote',
  ignore: 'Ignore',
};

/**
 * Reconciliation: per destination that can read its levels back, the local expectation against the remote
 * level per SKU and location, what is still in flight, the drift and its likely cause; and the fixes.
 */
export function ReconcilePage({ params }: { params: URLSearchParams }) {
  const { data: settings, error: settingsError } = useRpc('destinations.list', {});
  const canFix = useMayCall()('reconcile.fix');
  const destinations = useMemo(() => settings?.destinations.filter((d) => d.canReconcile) ?? [], [settings]);
  const id = useId();
  const [chosen, setChosen] = useState(params.get('destination') ?? '');
  const destination = chosen !== '' ? chosen : (destinations[0]?.id ?? '');
  const last = useRpc('reconcile.last', destination === '' ? null : { destination });
  const report = last.data?.report ?? null;
  const { setData } = last;
  const [isRunning, setRunning] = useState(false);
  // What a run or a fix reported; a failed load of the last run shows when neither has anything to say.
  const [actionError, setError] = useState<string | null>(null);
  const error = actionError ?? last.error;
  const [notice, setNotice] = useState<string | null>(null);
  const [isAllShown, setAllShown] = useState(false);
  // Another destination's notice does not stay on screen (set while rendering, as React advises for this).
  const [noticeDestination, setNoticeDestination] = useState(destination);
  if (noticeDestination !== destination) {
    setNoticeDestination(destination);
    setNotice(null);
  }

  const run = async (e?: FormEvent) => {
    e?.preventDefault();
    setRunning(true);
    setError(null);
    setNotice(null);
    try {
      const fresh = await call('reconcile.run', { destination });
      setData(() => ({ report: fresh }));
    } catch (err) {
      setError(messageOf(err));
    }
    setRunning(false);
  };

  /** After a fix: the item is compared again and its row replaced. */
  const onFixed = useCallback(
    async (row: ReconcileRow, message: string) => {
      setNotice(message);
      try {
        const fresh = await call('reconcile.run', { destination, sku: row.sku, location: row.location });
        setData((data) => {
          const r = data?.report ?? null;
          if (r === null) return { report: fresh };
          const next = fresh.rows.find((x) => x.sku === row.sku && x.location === row.location);
          return {
            report: {
              ...r,
              rows: r.rows.flatMap((x) =>
                x.sku === row.sku && x.location === row.location ? (next ? [next] : []) : [x],
              ),
            },
          };
        });
      } catch (err) {
        setError(messageOf(err));
      }
    },
    [destination, setData],
  );

  const rows = report?.rows.filter((r) => isAllShown || r.cause !== 'in_sync') ?? [];
  return (
    <PageSection name="reconcile" title="Reconciliation">
      <p className="muted">
        Compares each remote level with what Backroom expects it to be, allowing for what is still being sent,
        and explains any difference.
      </p>
      <ErrorMessage message={settingsError} />
      {settings !== null && destinations.length === 0 && (
        <p role="status">No destination can read its levels back, so there is nothing to reconcile.</p>
      )}
      {destinations.length > 0 && (
        <form className="filters" aria-label="Reconcile a destination" onSubmit={(e) => void run(e)}>
          <Field id={`${id}-destination`} label="Destination">
            <select id={`${id}-destination`} value={destination} onChange={(e) => setChosen(e.target.value)}>
              {destinations.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.id} ({d.type})
                </option>
              ))}
            </select>
          </Field>
          <SubmitButton isBusy={isRunning} busyLabel="Comparing…">
            Run now
          </SubmitButton>
          <div className="checkbox">
            <input
              id={`${id}-all`}
              type="checkbox"
              checked={isAllShown}
              onChange={(e) => setAllShown(e.target.checked)}
            />
            <label htmlFor={`${id}-all`}>Show items in sync</label>
          </div>
        </form>
      )}
      <ActionMessages error={error} notice={notice} />
      {settings !== null && destinations.length > 0 && (
        <p className="muted small">
          {settings.reconcile.everyMinutes === 0
            ? 'No schedule: comparisons run only when someone runs them.'
            : `Scheduled every ${settings.reconcile.everyMinutes} min; the newest run, scheduled or by hand, shows below.`}
        </p>
      )}
      {destination !== '' && report === null && !isRunning && (
        <p data-testid="last-run">No comparison has run for {destination} yet. Run one now.</p>
      )}
      {report !== null && (
        <>
          <p data-testid="last-run">
            Last run {formatTime(report.at)} ({formatAgo(report.at)}), comparing{' '}
            {report.measures === 'on_hand' ? 'on hand' : 'available to sell'}.
          </p>
          <ul className="summary" aria-label="Summary" data-testid="reconcile-summary">
            <li>
              <strong>{report.summary.items}</strong> items
            </li>
            <li>
              <strong>{report.summary.inSync}</strong> in sync
            </li>
            <li>
              <strong>{report.summary.drifting}</strong> drifting
            </li>
            <li>
              <strong>{report.summary.pending}</strong> still being sent
            </li>
            <li>
              <strong>{report.summary.unknown}</strong> unknown
            </li>
          </ul>
          {!canFix && rows.some((r) => r.fixes.length > 0) && (
            <RoleNote route="reconcile.fix">push, adopt or ignore a drift</RoleNote>
          )}
          {rows.length === 0 ? (
            <p role="status">Everything matches.</p>
          ) : (
            <table className="data" data-testid="reconcile-rows">
              <caption className="visually-hidden">Levels per SKU and location</caption>
              <TableHead
                columns={[
                  'SKU',
                  'Location',
                  { label: 'Expected', isNumeric: true },
                  { label: 'In flight', isNumeric: true },
                  { label: 'Remote', isNumeric: true },
                  { label: 'Drift', isNumeric: true },
                  'Likely cause',
                  ...(canFix ? [{ label: 'Fixes', isHidden: true }] : []),
                ]}
              />
              <tbody>
                {rows.map((row) => (
                  <DriftRow
                    key={`${row.sku}@${row.location}`}
                    row={row}
                    destination={destination}
                    canFix={canFix}
                    onFixed={(message) => void onFixed(row, message)}
                  />
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {destinations.find((d) => d.id === destination)?.canReconcileShipments === true && (
        <ShipmentDrift destination={destination} />
      )}
    </PageSection>
  );
}

/** One item's comparison; “Adopt remote” and “Ignore” ask for a reason inline before anything is done. */
function DriftRow({
  row,
  destination,
  canFix,
  onFixed,
}: {
  row: ReconcileRow;
  destination: string;
  /** Whether the operator's role may fix a drift; without it the row has no fix buttons. */
  canFix: boolean;
  onFixed: (message: string) => void;
}) {
  const inFlight = row.expected - row.expectedNow;
  const fixes = useRowFixes<ReconcileFix>({
    fixes: row.fixes,
    labelOf: (f) => FIX_LABELS[f],
    subject: `${row.sku} at ${row.location}`,
    immediate: { republish: 'Pushed the local level from reconciliation' },
    helpOf: (f) =>
      f === 'accept_remote'
        ? `Records an adjustment here so the local level matches ${destination}.`
        : 'Nothing changes; the row says who ignored it and why until the drift changes.',
    submitLabelOf: (f) => (f === 'accept_remote' ? `Adopt ${row.remote ?? '—'}` : 'Ignore this drift'),
    run: async (action, reason) => {
      const result = await call('reconcile.fix', {
        destination,
        sku: row.sku,
        location: row.location,
        action,
        reason,
      });
      return `${row.sku} at ${row.location}: ${result.detail}`;
    },
    onFixed,
  });

  return (
    <>
      <tr
        data-testid={`drift-${row.sku}-${row.location}`}
        className={row.cause === 'in_sync' ? undefined : 'drifting'}
      >
        <th scope="row" className="mono nowrap">
          {row.sku}
        </th>
        <td>{row.location}</td>
        <td className="num">{row.expected}</td>
        <td className="num">{inFlight === 0 ? '—' : inFlight > 0 ? `+${inFlight}` : inFlight}</td>
        <td className="num">{row.remote ?? '—'}</td>
        <td className={`num${row.drift !== null && row.drift !== 0 ? ' negative' : ''}`}>
          {row.drift === null ? '—' : row.drift > 0 ? `+${row.drift}` : row.drift}
        </td>
        <td>
          <strong>{CAUSE_LABELS[row.cause] ?? row.cause}</strong>
          <div className="small">{row.explanation}</div>
          {row.ignored !== null && (
            <div className="small muted">
              Ignored by {row.ignored.operator} {formatAgo(row.ignored.at)}: {row.ignored.reason}
            </div>
          )}
        </td>
        {canFix && fixes.actions}
      </tr>
      {fixes.form(8)}
    </>
  );
}

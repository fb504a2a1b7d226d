import { useState } from 'react';
import type {
  ShipmentDriftCause,
  ShipmentDriftRow,
  ShipmentFix,
  ShipmentReconcileReport,
} from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { ActionMessages } from './action-messages.js';
import { useRowFixes } from './row-fixes.js';
import { messageOf } from '../api/message-of.js';
import { formatAgo, formatTime } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { RoleNote } from './role-note.js';
import { TableHead } from './table-head.js';

const CAUSE_LABELS: Record<ShipmentDriftCause, string> = {
  pending_fulfilment: 'Still being sent',
  not_fulfilled_remote: 'Unfulfilled there',
  not_shipped_local: 'Not shipped here',
  cancelled_remote: 'Cancelled there',
};

const FIX_LABELS: Record<ShipmentFix, string> = { resend: 'Resend fulfilment', adopt: 'Adopt their state' };

const describe = (lines: readonly { sku: string; qty: number }[]) =>
  lines.length === 0 ? '—' : lines.map((l) => `${l.qty} × ${l.sku}`).join(', ');

/**
 * Shipment status on the Reconciliation page: the marketplace's orders shipped here but open there, or the
 * reverse, with their cause and fix (resend the fulfilment, or adopt the marketplace's state), each asking for a
 * reason first.
 */
export function ShipmentDrift({ destination }: Readonly<{ destination: string }>) {
  const canFix = useMayCall()('reconcile.fixShipment');
  const [report, setReport] = useState<ShipmentReconcileReport | null>(null);
  const [reportOf, setReportOf] = useState(destination);
  const [isRunning, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Another destination's orders do not stay on screen (set while rendering, as React advises for this).
  if (reportOf !== destination) {
    setReportOf(destination);
    setReport(null);
    setNotice(null);
    setError(null);
  }

  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      setReport(await call('reconcile.shipments', { destination }));
    } catch (err) {
      setError(messageOf(err));
    }
    setRunning(false);
  };

  return (
    <section aria-labelledby="shipment-drift-title" data-testid="shipment-drift">
      <h2 id="shipment-drift-title">Shipment status</h2>
      <p className="muted">
        Orders of {destination} shipped from here but still open there, or fulfilled there but still reserved
        here.
      </p>
      <button type="button" disabled={isRunning} onClick={() => void run()}>
        {isRunning ? 'Checking orders…' : 'Check orders'}
      </button>
      <ActionMessages error={error} notice={notice} />
      {report !== null && (
        <>
          <p className="small">
            Checked {formatTime(report.at)} ({formatAgo(report.at)}): {report.summary.orders} order
            {report.summary.orders === 1 ? '' : 's'}, {report.summary.inStep} in step,{' '}
            {report.summary.drifting} drifting, {report.summary.pending} still being sent.
          </p>
          {!canFix && report.rows.some((r) => r.fixes.length > 0) && (
            <RoleNote route="reconcile.fixShipment">
              resend a fulfilment or adopt the marketplace’s state
            </RoleNote>
          )}
          {report.rows.length === 0 ? (
            <p role="status">Every order is in step.</p>
          ) : (
            <table className="data" data-testid="shipment-rows">
              <caption className="visually-hidden">Orders whose shipment status differs</caption>
              <TableHead
                columns={[
                  'Order',
                  'Location',
                  'Shipped here',
                  `Fulfilled on ${destination}`,
                  'Likely cause',
                  ...(canFix ? [{ label: 'Fixes', isHidden: true }] : []),
                ]}
              />
              <tbody>
                {report.rows.map((row) => (
                  <OrderRow
                    key={row.orderId}
                    row={row}
                    destination={destination}
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

function OrderRow({
  row,
  destination,
  canFix,
  onFixed,
}: Readonly<{
  row: ShipmentDriftRow;
  destination: string;
  canFix: boolean;
  onFixed: (message: string) => void;
}>) {
  const fixes = useRowFixes<ShipmentFix>({
    fixes: row.fixes,
    labelOf: (f) => FIX_LABELS[f],
    subject: `order ${row.order}`,
    helpOf: (f) =>
      f === 'resend'
        ? `Its shipments go to ${destination} again; each is looked up there first, so nothing is fulfilled twice.`
        : `Records what ${destination} shows fulfilled as shipped from ${row.location}; nothing is sent back.`,
    submitLabelOf: (f) => FIX_LABELS[f],
    run: async (action, reason) => {
      const result = await call('reconcile.fixShipment', {
        destination,
        orderId: row.orderId,
        action,
        reason,
      });
      return `Order ${row.order}: ${result.detail}`;
    },
    onFixed,
  });

  return (
    <>
      <tr data-testid={`shipment-${row.order}`} className="drifting">
        <th scope="row" className="nowrap">
          {row.order}
        </th>
        <td>{row.location}</td>
        <td>{describe(row.shippedHere)}</td>
        <td>{describe(row.fulfilledThere)}</td>
        <td>
          <strong>{CAUSE_LABELS[row.cause]}</strong>
          <div className="small">{row.explanation}</div>
        </td>
        {canFix && fixes.actions}
      </tr>
      {fixes.form(6)}
    </>
  );
}

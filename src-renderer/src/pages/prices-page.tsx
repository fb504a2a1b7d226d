import { useId, useState } from 'react';
import type { ChannelPriceView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { fieldErrorsOf, messageOf } from '../api/message-of.js';
import { money, PRICE_STATE_LABELS, sentText } from '../components/channel-prices.js';
import { ErrorMessage } from '../components/error-message.js';
import { InlineForm } from '../components/inline-form.js';
import { PageSection } from '../components/page-section.js';
import { PriceDrift } from '../components/price-drift.js';
import { ReasonField } from '../components/reason-field.js';
import { RoleNote } from '../components/role-note.js';
import { SubmitButton } from '../components/submit-button.js';
import { TableHead } from '../components/table-head.js';
import { formatAgo } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { useRpc } from '../hooks/use-rpc.js';
import { hrefOf } from '../route.js';

/**
 * Prices out to channels: per destination that takes prices, how many changes wait and how many are held; then
 * each price change waiting or held, held ones first. A price more than the floor under the last one sent is held
 * until a manager confirms it (it is sent as it is) or keeps the old price (with a reason).
 */
export function PricesPage() {
  const { data, error, reload } = useRpc('prices.list', { limit: 200 });
  const mayCall = useMayCall();
  const canDecide = mayCall('prices.confirm');
  const [notice, setNotice] = useState<string | null>(null);
  const rows = data?.rows ?? [];
  return (
    <PageSection name="prices" title="Prices">
      <p className="muted">
        Each item&apos;s price goes to the channels that take prices, once per change however many changes
        came before it. A price far under the last one sent is held here for a person to confirm.
      </p>
      <ErrorMessage message={error} />
      {data !== null && data.destinations.length === 0 && (
        <p role="status">
          No destination takes prices (give one a &quot;prices&quot; section in the config).
        </p>
      )}
      {data !== null && data.destinations.length > 0 && (
        <ul className="summary" aria-label="Price changes per channel" data-testid="prices-summary">
          {data.destinations.map((d) => (
            <li key={d.destination}>
              <strong>{d.destination}</strong> ({d.list}): {d.pending} waiting, {d.held} held
            </li>
          ))}
        </ul>
      )}
      <div aria-live="polite">
        {notice !== null && (
          <p className="ok" role="status">
            {notice}
          </p>
        )}
      </div>
      {!canDecide && rows.some((r) => r.state === 'held_floor') && (
        <RoleNote route="prices.confirm">confirm or keep a held price</RoleNote>
      )}
      {data !== null &&
        (rows.length === 0 ? (
          <p role="status">Every channel has its prices.</p>
        ) : (
          <table className="data" data-testid="price-rows">
            <caption className="visually-hidden">Price changes waiting or held, held first</caption>
            <TableHead
              columns={[
                'SKU',
                'Channel',
                { label: 'New price', isNumeric: true },
                { label: 'At the channel', isNumeric: true },
                'State',
                'Why',
                ...(canDecide ? [{ label: 'Decide', isHidden: true }] : []),
              ]}
            />
            <tbody>
              {rows.map((row) => (
                <PriceRow
                  key={`${row.destination}:${row.sku}`}
                  row={row}
                  canDecide={canDecide}
                  onDone={(message) => {
                    setNotice(message);
                    void reload();
                  }}
                />
              ))}
            </tbody>
          </table>
        ))}
      {data !== null && data.destinations.length > 0 && (
        <PriceDrift destinations={data.destinations.map((d) => d.destination)} />
      )}
    </PageSection>
  );
}

/** One price change; a held one offers “Confirm and send” and “Keep old price” (with a reason). */
function PriceRow({
  row,
  canDecide,
  onDone,
}: Readonly<{ row: ChannelPriceView; canDecide: boolean; onDone: (message: string) => void }>) {
  const id = useId();
  const [isAsking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const isHeld = row.state === 'held_floor';
  const shown = isHeld ? row.heldAmount : row.amount;

  const decide = async (how: 'confirm' | 'keep') => {
    setBusy(true);
    setError(null);
    try {
      const input = { destination: row.destination, sku: row.sku, reason };
      const result =
        how === 'confirm' ? await call('prices.confirm', input) : await call('prices.keep', input);
      setAsking(false);
      setReason('');
      onDone(
        how === 'confirm'
          ? `${row.sku}: ${money(result.amount, row.currency)} confirmed, sending it to ${row.destination}.`
          : `${row.sku}: ${row.destination} keeps ${sentText(row)}; ${money(result.amount, row.currency)} is not sent.`,
      );
    } catch (err) {
      setError(fieldErrorsOf(err).reason ?? messageOf(err));
    }
    setBusy(false);
  };

  return (
    <>
      <tr data-testid={`price-${row.destination}-${row.sku}`} className={isHeld ? 'drifting' : undefined}>
        <th scope="row" className="mono nowrap">
          <a href={hrefOf('stock', { sku: row.sku })}>{row.sku}</a>
          {row.name !== null && <div className="small muted">{row.name}</div>}
        </th>
        <td>{row.destination}</td>
        <td className="num">{money(shown, row.currency)}</td>
        <td className="num">{sentText(row)}</td>
        <td>
          <strong>{PRICE_STATE_LABELS[row.state]}</strong>
          {row.since !== null && <div className="small muted">since {formatAgo(row.since)}</div>}
        </td>
        <td className="small">
          {isHeld
            ? `More than ${row.floorPercent}% under the price ${row.destination} has now.`
            : (row.lastError ?? '')}
        </td>
        {canDecide && (
          <td className="row-actions">
            {isHeld && (
              <>
                <button
                  type="button"
                  disabled={isBusy}
                  aria-label={`Confirm and send: ${row.sku} to ${row.destination}`}
                  onClick={() => void decide('confirm')}
                >
                  Confirm and send
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={isBusy}
                  aria-expanded={isAsking}
                  aria-label={`Keep old price: ${row.sku} at ${row.destination}`}
                  onClick={() => (setAsking(true), setError(null))}
                >
                  Keep old price
                </button>
              </>
            )}
          </td>
        )}
      </tr>
      {(isAsking || error !== null) && (
        <tr className="fix-row">
          <td colSpan={7}>
            {isAsking && (
              <InlineForm
                label={`Keep old price: ${row.sku} at ${row.destination}`}
                onSubmit={() => void decide('keep')}
                onCancel={() => setAsking(false)}
                footer={
                  <span id={`${id}-help`} className="muted small">
                    {money(row.heldAmount, row.currency)} is not sent; correct the price in the item master.
                  </span>
                }
              >
                <ReasonField
                  id={id}
                  value={reason}
                  onChange={setReason}
                  isInvalid={error !== null}
                  describedBy={`${id}-help${error !== null ? ` ${id}-error` : ''}`}
                />
                <SubmitButton isBusy={isBusy}>Keep {sentText(row)}</SubmitButton>
              </InlineForm>
            )}
            <ErrorMessage message={error} id={`${id}-error`} />
          </td>
        </tr>
      )}
    </>
  );
}

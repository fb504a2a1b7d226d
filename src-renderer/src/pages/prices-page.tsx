import { useState } from 'react';
import type { ChannelPriceView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { ActionMessages } from '../components/action-messages.js';
import { useRowFixes } from '../components/row-fixes.js';
import { money, PRICE_STATE_LABELS, sentText } from '../components/channel-prices.js';
import { ErrorMessage } from '../components/error-message.js';
import { PageSection } from '../components/page-section.js';
import { PriceDrift } from '../components/price-drift.js';
import { RoleNote } from '../components/role-note.js';
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
      <ActionMessages notice={notice} />
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
  const isHeld = row.state === 'held_floor';
  const shown = isHeld ? row.heldAmount : row.amount;
  const fixes = useRowFixes<'confirm' | 'keep'>({
    fixes: isHeld ? ['confirm', 'keep'] : [],
    labelOf: (how) => (how === 'confirm' ? 'Confirm and send' : 'Keep old price'),
    subject: `${row.sku} at ${row.destination}`,
    immediate: { confirm: 'Confirmed from the Prices page' },
    helpOf: () => `${money(row.heldAmount, row.currency)} is not sent; correct the price in the item master.`,
    submitLabelOf: () => `Keep ${sentText(row)}`,
    run: async (how, reason) => {
      const input = { destination: row.destination, sku: row.sku, reason };
      const result =
        how === 'confirm' ? await call('prices.confirm', input) : await call('prices.keep', input);
      return how === 'confirm'
        ? `${row.sku}: ${money(result.amount, row.currency)} confirmed, sending it to ${row.destination}.`
        : `${row.sku}: ${row.destination} keeps ${sentText(row)}; ${money(result.amount, row.currency)} is not sent.`;
    },
    onFixed: onDone,
  });

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
        {canDecide && fixes.actions}
      </tr>
      {fixes.form(7)}
    </>
  );
}

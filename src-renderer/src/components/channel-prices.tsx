import type { ChannelPriceState, ChannelPriceView } from '../../../shared/rpc-views.js';
import { formatAgo, formatTime } from '../format.js';
import { useRpc } from '../hooks/use-rpc.js';
import { hrefOf } from '../route.js';
import { ErrorMessage } from './error-message.js';
import { TableHead } from './table-head.js';

/** A price's state at a channel, as staff say it. */
export const PRICE_STATE_LABELS: Record<ChannelPriceState, string> = {
  sent: 'Up to date',
  pending: 'Waiting to be sent',
  held_unmapped: 'Held: not mapped',
  held_floor: 'Held: below the floor',
  not_sent: 'Nothing sent',
};

/** An amount with its currency, or a dash. */
export function money(amount: string | null, currency: string | null): string {
  return amount === null ? '—' : `${amount} ${currency ?? ''}`.trim();
}

/** What the channel has, with the price before where one was sent, and when. */
export function sentText(p: ChannelPriceView): string {
  if (p.sentAmount === null) return '—';
  const before = p.sentCompareAt === null ? '' : ` (was ${p.sentCompareAt})`;
  return `${money(p.sentAmount, p.sentCurrency)}${before}`;
}

/**
 * An item's price per channel (the item page): the price on the list each channel takes, what the channel last
 * took and when, and what is pending or held, with a link to the Prices page where a held one is decided.
 */
export function ChannelPrices({ sku }: Readonly<{ sku: string }>) {
  const { data, error } = useRpc('prices.item', { sku });
  if (data !== null && data.length === 0) return null;
  return (
    <>
      <h3>Prices per channel</h3>
      <ErrorMessage message={error} />
      {data !== null && (
        <table className="data" data-testid="channel-prices">
          <TableHead
            columns={[
              'Channel',
              'Price list',
              { label: 'Price here', isNumeric: true },
              { label: 'At the channel', isNumeric: true },
              'State',
              'Since / why',
            ]}
          />
          <tbody>
            {data.map((p) => (
              <tr key={p.destination} data-state={p.state}>
                <th scope="row">{p.destination}</th>
                <td>{p.list}</td>
                <td className="num">{money(p.amount, p.currency)}</td>
                <td className="num">
                  {sentText(p)}
                  {p.sentAt !== null && <span className="muted small"> {formatTime(p.sentAt)}</span>}
                </td>
                <td>
                  {p.state === 'held_floor' ? (
                    <a href={hrefOf('prices')}>
                      {PRICE_STATE_LABELS[p.state]} ({money(p.heldAmount, p.currency)})
                    </a>
                  ) : (
                    PRICE_STATE_LABELS[p.state]
                  )}
                </td>
                <td className="small">
                  {p.since !== null && <span>{formatAgo(p.since)} </span>}
                  {p.state !== 'sent' && p.lastError !== null && <span className="muted">{p.lastError}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

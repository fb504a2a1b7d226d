import { EVENT_LABELS } from '../../../shared/events.js';
import type { ItemMasterView, StockItemView } from '../../../shared/rpc-views.js';
import { formatTime } from '../format.js';
import { hrefOf } from '../route.js';
import { ChannelPrices } from './channel-prices.js';
import { TableHead } from './table-head.js';

/** A movement's event type as staff call it (the agent's own words), or the stored type if it is not one. */
function labelOf(type: string): string {
  return (EVENT_LABELS as Record<string, string>)[type] ?? type;
}

/**
 * One item as the Stock page shows it (`#/stock?sku=...`): its levels per location with each channel's
 * available, the orders holding it, its ledger history newest first with the event behind each movement, and the
 * ways to act on it at each location (links to the entry page).
 */
export function StockItem({ item }: Readonly<{ item: StockItemView & { sku: string } }>) {
  const channels = item.levels[0]?.channels.map((c) => c.channel) ?? [];
  return (
    <div role="region" aria-label={`Stock of ${item.sku}`} aria-live="polite">
      <h2>
        {item.sku} {item.name !== null && <span className="muted">— {item.name}</span>}
      </h2>
      {item.barcode !== null && item.master === null && <p className="muted">Barcode {item.barcode}</p>}
      <ItemActions sku={item.sku} locations={item.levels.map((l) => l.location)} />
      {item.master === null ? (
        <p className="muted">Not in the item master (no source has listed this SKU).</p>
      ) : (
        <ItemMaster name={item.name} master={item.master} />
      )}
      <ChannelPrices sku={item.sku} />
      <h3>Levels</h3>
      {item.levels.length === 0 ? (
        <p>No stock recorded yet.</p>
      ) : (
        <table className="data" data-testid="levels">
          <TableHead
            columns={[
              'Location',
              { label: 'On hand', isNumeric: true },
              { label: 'Reserved', isNumeric: true },
              { label: 'Safety stock', isNumeric: true },
              { label: 'Available', isNumeric: true },
              ...channels.map((c) => ({ label: `Available on ${c}`, isNumeric: true })),
            ]}
          />
          <tbody>
            {item.levels.map((l) => (
              <tr key={l.location}>
                <th scope="row">{l.location}</th>
                <td className={`num${l.onHand < 0 ? ' negative' : ''}`}>{l.onHand}</td>
                <td className="num">{l.reserved}</td>
                <td className="num">{l.safetyStock}</td>
                <td className="num">{l.available}</td>
                {l.channels.map((c) => (
                  <td key={c.channel} className="num">
                    {c.available}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Open reservations</h3>
      {item.reservations.length === 0 ? (
        <p>No order holds this item.</p>
      ) : (
        <table className="data" data-testid="reservations">
          <caption className="visually-hidden">
            Orders holding this item, oldest first: they lower available-to-sell on every channel
          </caption>
          <TableHead
            columns={[
              'Reserved since',
              'Channel',
              'Order',
              'Location',
              { label: 'Quantity', isNumeric: true },
            ]}
          />
          <tbody>
            {item.reservations.map((r) => (
              <tr key={`${r.channel}|${r.orderId}|${r.location}`}>
                <td>{r.since === null ? '—' : formatTime(r.since)}</td>
                <td>{r.channel}</td>
                <th scope="row">
                  {r.orderName ?? r.orderId}
                  {r.orderName !== null && <span className="muted"> ({r.orderId})</span>}
                </th>
                <td>{r.location}</td>
                <td className="num">{r.qty}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Ledger history</h3>
      <table className="data" data-testid="movements">
        <caption className="visually-hidden">Newest first, at most 200 movements</caption>
        <TableHead
          columns={[
            'Captured',
            'Event',
            'Location',
            { label: 'Change', isNumeric: true },
            { label: 'On hand after', isNumeric: true },
            'Source',
          ]}
        />
        <tbody>
          {item.movements.map((m) => (
            <tr key={m.id}>
              <td>{formatTime(m.receivedAt)}</td>
              <td>
                {labelOf(m.type)} {m.reference ?? m.eventId}
              </td>
              <td>{m.location}</td>
              <td className="num">{m.delta > 0 ? `+${m.delta}` : m.delta}</td>
              <td className="num">{m.onHandAfter}</td>
              <td>
                {m.source} <span className="muted">#{m.eventSeq}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** How a stored value reads in the changes list. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (typeof value === 'boolean') return value ? 'active' : 'inactive';
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/**
 * The item master's record: each field with the source that set it and when, its prices per list or channel,
 * and its recent changes (what changed from what, by which source).
 */
function ItemMaster({ name, master }: Readonly<{ name: string | null; master: ItemMasterView }>) {
  const origin = (field: string) => master.origins.find((o) => o.field === field);
  const fields: { label: string; field: string; value: string }[] = [
    { label: 'Name', field: 'name', value: shown(name) },
    { label: 'Barcodes', field: 'barcodes', value: shown(master.barcodes) },
    { label: 'Unit', field: 'unit', value: shown(master.unit) },
    { label: 'Status', field: 'active', value: shown(master.active) },
  ];
  return (
    <>
      <h3>Item master</h3>
      <p className="muted">Last changed by {master.source}.</p>
      <table className="data" data-testid="master">
        <TableHead columns={['Field', 'Value', 'Set by', 'When']} />
        <tbody>
          {fields.map((f) => {
            const o = origin(f.field);
            return (
              <tr key={f.field}>
                <th scope="row">{f.label}</th>
                <td>{f.value}</td>
                <td>{o?.source ?? master.source}</td>
                <td>{o === undefined ? '—' : formatTime(o.at)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Prices</h3>
      {master.prices.length === 0 ? (
        <p>No price recorded.</p>
      ) : (
        <table className="data" data-testid="prices">
          <TableHead
            columns={['Price list or channel', { label: 'Price', isNumeric: true }, 'Set by', 'When']}
          />
          <tbody>
            {master.prices.map((p) => (
              <tr key={p.list}>
                <th scope="row">{p.list}</th>
                <td className="num">
                  {p.amount} {p.currency}
                </td>
                <td>{p.source}</td>
                <td>{formatTime(p.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Item changes</h3>
      <table className="data" data-testid="item-changes">
        <caption className="visually-hidden">Newest first, at most 20 changes</caption>
        <TableHead columns={['When', 'Source', 'What changed']} />
        <tbody>
          {master.changes.map((c, i) => (
            <tr key={i}>
              <td>{formatTime(c.at)}</td>
              <td>{c.source}</td>
              <td>
                {c.fields
                  .filter((f) => f.field !== 'sku')
                  .map((f) =>
                    f.before === null
                      ? `${f.field}: ${shown(f.after)}`
                      : `${f.field}: ${shown(f.before)} → ${shown(f.after)}`,
                  )
                  .join('; ') || 'added'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Count, adjust or receive at each location the item has a level at (at none: the entry page asks where). */
function ItemActions({ sku, locations }: Readonly<{ sku: string; locations: readonly string[] }>) {
  const places = locations.length === 0 ? [null] : locations;
  return (
    <ul className="item-actions" aria-label="Act on this item">
      {places.map((location) => {
        const where: Record<string, string> = location === null ? {} : { location };
        // The location is in each link's name, for a screen reader's list of links.
        const at = location === null ? null : <span className="visually-hidden"> at {location}</span>;
        return (
          <li key={location ?? ''}>
            {location !== null && (
              <span className="item-actions-location" aria-hidden="true">
                {location}
              </span>
            )}
            <a href={hrefOf('entry', { tab: 'count', ...where, sku })}>Count this item{at}</a>
            <a href={hrefOf('entry', { tab: 'adjust', ...where, sku })}>Adjust{at}</a>
            <a href={hrefOf('entry', { tab: 'receive', ...where })}>Receive{at}</a>
          </li>
        );
      })}
    </ul>
  );
}

import type { StockListInput } from '../../shared/stock-entry.js';
import type { AgentDatabase } from '../db/agent-database.js';

/** One row of the Stock page's table as read from SQL: a level with its item and its last movement's time. */
export type StockListRow = {
  sku: string;
  location: string;
  on_hand: number;
  reserved: number;
  updated_seq: number;
  name: string | null;
  barcode: string | null;
  /** `received_at` of the event of `updated_seq` (null only if that event is missing). */
  last_movement_at: number | null;
};

/** What the list needs of the stock config: the safety stock that `available` sorts by. */
export type StockListSafety = Readonly<{
  safetyStock: number;
  safetyStockBySku: Readonly<Record<string, number>>;
}>;

/**
 * The Stock page's rows: one per `stock_levels` row (an item at a location where it ever moved; catalog items that
 * never moved are not rows), filtered, searched and sorted in SQL, one page at a time, with the total for the
 * filter. Sorting always ends with (sku, location) in the same direction, so pages never overlap or skip rows.
 *
 * - `negative` / `zero` / `below`: on hand < 0, = 0, < `threshold`.
 * - `changed_today`: the last movement was received since `midnight` (the agent's local midnight). Events are
 *   numbered in the order they are received, so the first event of the day bounds `updated_seq` from below (found
 *   by bisecting `events` on its primary key); the event's `received_at` is then checked exactly.
 *
 * No index of its own: at 150,000 levels every sort and filter is a scan of `stock_levels` kept to the top
 * `offset + limit` by SQLite's sorter (10 to 130 ms), and an index on a level column would be written on every
 * movement capture records (bench/README.md, "The Stock page").
 * - `available` sorts by on hand − reserved − safety stock: every channel's published available is that less the
 *   channel's buffer, never below 0, so this one order is each channel column's order too.
 * - `lastMovement` sorts by `updated_seq`: the ledger's order, which is the order the movements were received in.
 *
 * `input.filter === 'below'` needs `input.threshold` (the schema refuses it without one).
 */
export function stockListPage(
  db: AgentDatabase,
  input: StockListInput,
  context: Readonly<{ safety: StockListSafety; midnight: number }>,
): { total: number; rows: StockListRow[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  let needsEvents = false;

  if (input.location !== undefined) {
    where.push('sl.location = ?');
    params.push(input.location);
  }
  const q = input.q ?? '';
  if (q !== '') {
    const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // The catalog is searched on its own (a scan of `items`, no join per level), then its SKUs looked up.
    where.push(
      `(sl.sku LIKE ? ESCAPE '\\' OR sl.sku IN (SELECT sku FROM items WHERE name LIKE ? ESCAPE '\\' OR barcode LIKE ? ESCAPE '\\'))`,
    );
    params.push(pattern, pattern, pattern);
  }
  switch (input.filter) {
    case 'all':
      break;
    case 'negative':
      where.push('sl.on_hand < 0');
      break;
    case 'zero':
      where.push('sl.on_hand = 0');
      break;
    case 'below':
      where.push('sl.on_hand < ?');
      params.push(input.threshold ?? 0);
      break;
    case 'changed_today': {
      needsEvents = true;
      where.push('sl.updated_seq >= ? AND e.received_at >= ?');
      params.push(firstSeqReceivedSince(db, context.midnight), context.midnight);
      break;
    }
  }

  const { safetyStockBySku, safetyStock } = context.safety;
  const overrides = Object.entries(safetyStockBySku);
  const dir = input.dir === 'desc' ? 'DESC' : 'ASC';
  let withSafety = '';
  const cteParams: unknown[] = [];
  const orderParams: unknown[] = [];
  let order: string;
  switch (input.sort) {
    case 'sku':
      order = `sl.sku ${dir}, sl.location ${dir}`;
      break;
    case 'name':
      // Items without a name come last either way.
      order = `i.name IS NULL, i.name ${dir}, sl.sku ${dir}, sl.location ${dir}`;
      break;
    case 'onHand':
      order = `sl.on_hand ${dir}, sl.sku ${dir}, sl.location ${dir}`;
      break;
    case 'reserved':
      order = `sl.reserved ${dir}, sl.sku ${dir}, sl.location ${dir}`;
      break;
    case 'available':
      if (overrides.length === 0) {
        // One safety stock for every SKU: it shifts every row alike and does not change the order.
        order = `sl.on_hand - sl.reserved ${dir}, sl.sku ${dir}, sl.location ${dir}`;
      } else {
        withSafety = `WITH safety (sku, units) AS MATERIALIZED (SELECT key, value FROM json_each(?))`;
        cteParams.push(JSON.stringify(safetyStockBySku));
        order = `sl.on_hand - sl.reserved - COALESCE((SELECT units FROM safety WHERE safety.sku = sl.sku), ?) ${dir}, sl.sku ${dir}, sl.location ${dir}`;
        orderParams.push(safetyStock);
      }
      break;
    case 'lastMovement':
      order = `sl.updated_seq ${dir}, sl.sku ${dir}, sl.location ${dir}`;
      break;
  }

  const whereSql = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
  const itemsJoin = 'LEFT JOIN items i ON i.sku = sl.sku';
  const eventsJoin = 'LEFT JOIN events e ON e.seq = sl.updated_seq';
  // The count joins only what the filter reads.
  const countFrom = `stock_levels sl ${needsEvents ? eventsJoin : ''}`;
  const total = (
    db.prepare(`SELECT COUNT(*) AS n FROM ${countFrom} ${whereSql}`).get(...params) as { n: number }
  ).n;
  if (total === 0 || input.offset >= total) return { total, rows: [] };

  // The page's keys first, joining only what the filter and the sort read, so that skipping `offset` rows and
  // sorting carry two columns, not every column of three tables (at 150,000 rows: ~10 ms against ~400 ms); then
  // the page's rows are completed by primary key and put back in the keys' order.
  const keyJoins = `${input.sort === 'name' ? itemsJoin : ''} ${needsEvents ? eventsJoin : ''}`;
  const keys = db
    .prepare(
      `${withSafety}
       SELECT sl.sku, sl.location FROM stock_levels sl ${keyJoins}
         ${whereSql}
         ORDER BY ${order}
         LIMIT ? OFFSET ?`,
    )
    .all(...cteParams, ...params, ...orderParams, input.limit, input.offset) as {
    sku: string;
    location: string;
  }[];
  const found = db
    .prepare(
      `SELECT sl.sku, sl.location, sl.on_hand, sl.reserved, sl.updated_seq, i.name, i.barcode,
              e.received_at AS last_movement_at
         FROM json_each(?) k
         JOIN stock_levels sl ON sl.sku = k.value ->> 0 AND sl.location = k.value ->> 1
         ${itemsJoin} ${eventsJoin}`,
    )
    .all(JSON.stringify(keys.map((k) => [k.sku, k.location]))) as StockListRow[];
  const byKey = new Map(found.map((r) => [`${r.sku}\u0000${r.location}`, r]));
  const rows = keys.flatMap((k) => byKey.get(`${k.sku}\u0000${k.location}`) ?? []);
  return { total, rows };
}

/**
 * The seq of the first event received at or after `since` (one past the last event when there is none): a
 * bisection of `events` on its primary key, some 25 lookups for millions of events, since seqs grow with
 * `received_at`. Only a clock set back across `since` breaks that order; a row last moved today before such a step
 * may then be missed (the exact check on `received_at` never lets a row of yesterday in).
 */
function firstSeqReceivedSince(db: AgentDatabase, since: number): number {
  const bounds = db.prepare('SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM events').get() as {
    lo: number | null;
    hi: number | null;
  };
  if (bounds.lo === null || bounds.hi === null) return 1;
  const at = db.prepare('SELECT seq, received_at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1');
  let lo = bounds.lo;
  let hi = bounds.hi + 1;
  // Invariant: every event below `lo` was received before `since`; the event at `hi` (if any) at or after it.
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = at.get(mid) as { seq: number; received_at: number } | undefined;
    if (row === undefined || row.received_at >= since) hi = mid;
    else lo = row.seq + 1;
  }
  return lo;
}

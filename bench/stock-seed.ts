import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE } from '../src-main/agent/agent.js';
import { AgentDatabase } from '../src-main/db/agent-database.js';

/** The locations the Stock benches seed and configure. */
export const BENCH_LOCATIONS = ['S1', 'S2', 'S3'] as const;

const TYPES = ['receipt', 'sale', 'count', 'adjustment', 'sale', 'return'] as const;
const WORDS = [
  'Tee',
  'Mug',
  'Sock',
  'Cap',
  'Scarf',
  'Bag',
  'Bottle',
  'Pen',
  'Lamp',
  'Towel',
  'Candle',
  'Plate',
];
const COLOURS = ['red', 'blue', 'black', 'white', 'green', 'grey', 'navy', 'sand'];

/**
 * Seeds a fresh data folder for the Stock page's benches with `levels` rows in `stock_levels`: catalog items
 * `levels / 3` (rounded up), each with a level at every location of BENCH_LOCATIONS (150,000 levels: 50,000 items
 * × 3 locations). Each level is the running sum of two
 * movements of the agent's event kinds (a receipt, then a sale, count, adjustment or return), each with its own
 * event received over the last 30 days (about one level in 30 moved today, after local midnight), so last
 * movement times, the ledger history and the `changed_today` filter all have data. About 3% of levels are
 * negative and 3% zero; a few hold reservations.
 *
 * Written with plain SQL in one transaction (what capture would write, without hashing the chain: nothing is
 * captured in the bench, and `backroom verify` is not run). Returns the milliseconds it took.
 */
export function seedStock(dataDir: string, levels: number, now = Date.now()): number {
  const started = performance.now();
  mkdirSync(dataDir, { recursive: true });
  const db = AgentDatabase.open(join(dataDir, DATABASE_FILE));
  try {
    const { sqlite } = db;
    const insertItem = sqlite.prepare('INSERT INTO items (sku, name, barcode) VALUES (?, ?, ?)');
    const insertEvent = sqlite.prepare(
      `INSERT INTO events (seq, source, event_id, type, location, occurred_at, received_at, body, content_hash, prev_hash, hash)
       VALUES (?, 'pos-1', ?, ?, ?, ?, ?, ?, 'seed', 'seed', 'seed')`,
    );
    const insertMovement = sqlite.prepare(
      'INSERT INTO movements (event_seq, line_no, sku, location, delta, on_hand_after) VALUES (?, 0, ?, ?, ?, ?)',
    );
    const insertLevel = sqlite.prepare(
      'INSERT INTO stock_levels (sku, location, on_hand, reserved, updated_seq) VALUES (?, ?, ?, ?, ?)',
    );
    const items = Math.ceil(levels / BENCH_LOCATIONS.length);
    // Every level's two movements, in the order they were received, so seqs grow with received_at as in capture.
    type Move = { at: number; level: number; isFirst: boolean };
    const moves: Move[] = [];
    const day = 86_400_000;
    for (let level = 0; level < levels; level += 1) {
      const last =
        (level * 7919) % 30 === 0
          ? now - ((level * 104_729) % 3_600_000)
          : now - day - ((level * 104_729) % (29 * day));
      moves.push({ at: last - day - ((level * 31) % day), level, isFirst: true });
      moves.push({ at: last, level, isFirst: false });
    }
    moves.sort((a, b) => a.at - b.at);
    db.transaction(() => {
      for (let i = 0; i < items; i += 1) {
        const sku = `SKU-${String(i).padStart(6, '0')}`;
        const name = `${WORDS[i % WORDS.length]} ${COLOURS[(i >> 3) % COLOURS.length]} ${i}`;
        insertItem.run(sku, name, String(4_000_000_000_000 + i * 7));
      }
      const onHand = new Map<number, number>();
      let seq = 0;
      for (const move of moves) {
        seq += 1;
        const item = Math.floor(move.level / BENCH_LOCATIONS.length);
        const sku = `SKU-${String(item).padStart(6, '0')}`;
        const location = BENCH_LOCATIONS[move.level % BENCH_LOCATIONS.length]!;
        const type = move.isFirst ? 'receipt' : TYPES[1 + (move.level % (TYPES.length - 1))]!;
        const received = move.isFirst ? 20 + (move.level % 40) : 0;
        // 3% end negative, 3% at zero, the rest somewhere from 1 to 60.
        const target =
          move.level % 33 === 1 ? -1 - (move.level % 4) : move.level % 33 === 2 ? 0 : 1 + (move.level % 60);
        const before = onHand.get(move.level) ?? 0;
        const delta = move.isFirst ? received : target - before;
        const after = before + delta;
        onHand.set(move.level, after);
        const reference = `${type === 'receipt' ? 'GR' : 'R'}-${seq}`;
        const occurredAt = new Date(move.at).toISOString();
        const body = JSON.stringify({
          id: `pos-1:${reference}`,
          type,
          location,
          occurredAt,
          reference,
          lines: [{ sku, qty: Math.abs(delta) }],
        });
        insertEvent.run(seq, `pos-1:${reference}`, type, location, occurredAt, move.at, body);
        insertMovement.run(seq, sku, location, delta, after);
        if (move.isFirst) continue;
        const reserved = move.level % 50 === 3 ? Math.max(0, Math.min(2, after)) : 0;
        insertLevel.run(sku, location, after, reserved, seq);
      }
    });
  } finally {
    db.close();
  }
  return performance.now() - started;
}

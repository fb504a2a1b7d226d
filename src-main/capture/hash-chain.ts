import { createHash } from 'node:crypto';
import type { AgentDatabase } from '../db/agent-database.js';
import type { EventsTable } from '../db/schema.js';

/** The `prev_hash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The link hash of one event: sha256 over the previous link and every stored field of the event, so editing any
 * of them, or removing an event, breaks the chain from that point on.
 */
export function linkHash(
  prevHash: string,
  e: Readonly<{ seq: number; source: string; receivedAt: number; body: string }>,
): string {
  return createHash('sha256')
    .update(`${prevHash}\n${e.seq}\n${e.source}\n${e.receivedAt}\n${e.body}`)
    .digest('hex');
}

export type ChainProblem = { seq: number | null; problem: string };
export type VerifyReport = { isOk: boolean; events: number; lastSeq: number; problems: ChainProblem[] };

/**
 * Walks the whole event log and checks every link, that the indexed columns agree with the hashed body, that
 * the chain head matches the last event, and that stock levels equal the sum of their movements.
 * Reads in one snapshot, so it is safe while the agent runs.
 */
export function verifyChain(db: AgentDatabase, maxProblems = 100): VerifyReport {
  const problems: ChainProblem[] = [];
  const note = (seq: number | null, problem: string) => {
    if (problems.length < maxProblems) problems.push({ seq, problem });
  };
  let events = 0;
  let prevHash = GENESIS_HASH;
  let prevSeq = 0;
  db.sqlite.transaction(() => {
    const rows = db.sqlite
      .prepare('SELECT * FROM events ORDER BY seq')
      .iterate() as IterableIterator<EventsTable>;
    for (const row of rows) {
      events += 1;
      if (row.seq !== prevSeq + 1)
        note(row.seq, `events ${prevSeq + 1} to ${row.seq - 1} are missing (deleted)`);
      if (row.prev_hash !== prevHash)
        note(row.seq, 'does not link to the event before it (an event before it was changed or removed)');
      const expected = linkHash(row.prev_hash, {
        seq: row.seq,
        source: row.source,
        receivedAt: row.received_at,
        body: row.body,
      });
      if (expected !== row.hash) note(row.seq, 'its content was changed after capture (hash mismatch)');
      if (sha256(row.body) !== row.content_hash) note(row.seq, 'its content hash does not match its body');
      const body = parseBody(row.body);
      if (
        body === undefined ||
        body.id !== row.event_id ||
        body.type !== row.type ||
        body.location !== row.location ||
        body.occurredAt !== row.occurred_at
      ) {
        note(row.seq, 'its id, type, location or time columns differ from the captured body');
      }
      prevHash = row.hash;
      prevSeq = row.seq;
    }
    const head = db.sqlite.prepare('SELECT seq, hash FROM chain_head WHERE id = 1').get() as
      { seq: number; hash: string } | undefined;
    if (head === undefined) {
      if (events > 0) note(null, 'the chain head record is missing');
    } else if (head.seq !== prevSeq || head.hash !== prevHash) {
      note(
        head.seq,
        `the log ends at event ${prevSeq}, but event ${head.seq} was captured (events at the end were removed)`,
      );
    }
    const drift = db.sqlite
      .prepare(
        `SELECT l.sku, l.location, l.on_hand, COALESCE(SUM(m.delta), 0) AS total
         FROM stock_levels l LEFT JOIN movements m ON m.sku = l.sku AND m.location = l.location
         GROUP BY l.sku, l.location HAVING l.on_hand <> total LIMIT ?`,
      )
      .all(maxProblems) as { sku: string; location: string; on_hand: number; total: number }[];
    for (const d of drift) {
      note(null, `stock of ${d.sku} at ${d.location} is ${d.on_hand} but its movements add up to ${d.total}`);
    }
    // A missing level row reads as 0 on hand, so a deleted level is drift too when its movements do not cancel out.
    const orphans = db.sqlite
      .prepare(
        `SELECT m.sku, m.location, SUM(m.delta) AS total FROM movements m
         WHERE NOT EXISTS (SELECT 1 FROM stock_levels l WHERE l.sku = m.sku AND l.location = m.location)
         GROUP BY m.sku, m.location HAVING total <> 0 LIMIT ?`,
      )
      .all(maxProblems) as { sku: string; location: string; total: number }[];
    for (const d of orphans) {
      note(
        null,
        `stock of ${d.sku} at ${d.location} has no level row but its movements add up to ${d.total}`,
      );
    }
  })();
  return { isOk: problems.length === 0, events, lastSeq: prevSeq, problems };
}

function parseBody(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

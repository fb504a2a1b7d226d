import type { ExceptionDetail } from '../../shared/rpc-views.js';
import type { AgentDatabase } from '../db/agent-database.js';

/** The captured events as the UI reads them. */

/** One captured event as validated, or null when there is none of that seq. */
export function capturedEvent(db: AgentDatabase, seq: number): ExceptionDetail['event'] {
  const event = db
    .prepare('SELECT seq, source, event_id, type, location, received_at, body FROM events WHERE seq = ?')
    .get(seq) as
    | {
        seq: number;
        source: string;
        event_id: string;
        type: string;
        location: string;
        received_at: number;
        body: string;
      }
    | undefined;
  return event
    ? {
        seq: event.seq,
        source: event.source,
        eventId: event.event_id,
        type: event.type,
        location: event.location,
        receivedAt: event.received_at,
        body: JSON.parse(event.body) as Record<string, unknown>,
      }
    : null;
}

/** The seq of the newest captured event, 0 before the first. A read by primary key: cheap once a tick. */
export function lastEventSeq(db: AgentDatabase): number {
  return (db.prepare('SELECT MAX(seq) AS n FROM events').get() as { n: number | null }).n ?? 0;
}

import type { StatusResponse } from '../../shared/api.js';
import { DESTINATION_MODE, type ResolvedConfig } from '../../shared/config.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import { OutboxRepo } from '../outbox/outbox-repo.js';
import { VERSION } from './version.js';

/** The agent's health as `backroom status` and `GET /api/v1/status` show it. */
export function readStatus(
  db: AgentDatabase,
  config: Pick<ResolvedConfig, 'agentId' | 'destinations'>,
  isRunning: boolean,
  repos: Readonly<{ outbox: OutboxRepo; exceptions: ExceptionsRepo }> = {
    outbox: new OutboxRepo(db),
    exceptions: new ExceptionsRepo(db),
  },
): StatusResponse {
  const now = Date.now();
  const head = db.first(
    db.query
      .selectFrom('events')
      .select((eb) => [eb.fn.max<number | null>('seq').as('seq'), eb.fn.countAll<number>().as('n')]),
  );
  const stats = new Map(repos.outbox.queueStats().map((s) => [s.destinationId, s]));
  return {
    agentId: config.agentId,
    version: VERSION,
    running: isRunning,
    lastSeq: head?.seq ?? 0,
    events: head?.n ?? 0,
    destinations: config.destinations.map((d) => {
      const s = stats.get(d.id);
      return {
        id: d.id,
        type: d.type,
        mode: DESTINATION_MODE[d.type],
        pending: s?.pending ?? 0,
        oldestPendingAgeSeconds:
          s?.oldestPendingAt != null ? Math.round((now - s.oldestPendingAt) / 1000) : null,
      };
    }),
    openExceptions: repos.exceptions.openCountsByKind(),
  };
}

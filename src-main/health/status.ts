import type { DestinationStatus, StatusResponse } from '../../shared/api.js';
import { DESTINATION_MODE, type ResolvedConfig } from '../../shared/config.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import { OutboxRepo } from '../outbox/outbox-repo.js';
import { VERSION } from '../platform/version.js';

/** The agent's health as `backroom status` and `GET /api/v1/status` show it. */
export function readStatus(
  db: AgentDatabase,
  config: Pick<ResolvedConfig, 'agentId' | 'destinations'>,
  isRunning: boolean,
  repos: Readonly<{ outbox: OutboxRepo; exceptions: ExceptionsRepo }> = {
    outbox: new OutboxRepo(db),
    exceptions: new ExceptionsRepo(db),
  },
  /** Each running dispatcher's state; a destination without one shows `no_connector` (or `stopped` offline). */
  states: ReadonlyMap<string, DestinationStatus['state']> = new Map(),
): StatusResponse {
  const now = Date.now();
  const head = db.first(
    db.query
      .selectFrom('events')
      .select((eb) => [eb.fn.max<number | null>('seq').as('seq'), eb.fn.countAll<number>().as('n')]),
  );
  const lastDelivery = new Map(
    db
      .all(db.query.selectFrom('destination_state').select(['destination_id', 'last_delivery_at']))
      .flatMap((r) =>
        r.last_delivery_at === null
          ? []
          : [[r.destination_id, new Date(r.last_delivery_at).toISOString()] as const],
      ),
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
        state: states.get(d.id) ?? (isRunning ? 'no_connector' : 'stopped'),
        lastDeliveryAt: lastDelivery.get(d.id) ?? null,
        oldestPendingAgeSeconds:
          s?.oldestPendingAt != null ? Math.round((now - s.oldestPendingAt) / 1000) : null,
      };
    }),
    openExceptions: repos.exceptions.openCountsByKind(),
  };
}

import type { FleetStatus } from '../../shared/fleet-status.js';
import type { FleetDatabase } from './fleet-database.js';

/** One row of the fleet table. */
export type StoreRow = Readonly<{
  agentId: string;
  name: string;
  version: string;
  /** Seconds since the service received the store's last report. */
  reportAgeSeconds: number;
  isStale: boolean;
  running: boolean;
  worstState: string | null;
  queueDepth: number;
  oldestUnsyncedSeconds: number | null;
  openExceptions: number;
  capturePerMinute: number;
}>;

export const STORE_SORTS = ['name', 'version', 'age', 'state', 'unsynced', 'exceptions', 'capture'] as const;
export type StoreSort = (typeof STORE_SORTS)[number];

export type StoreQuery = Readonly<{
  sort: StoreSort;
  isDescending: boolean;
  /** Part of the store's id or name (case-insensitive). */
  text?: string;
  version?: string;
  /** A worst destination state. */
  state?: string;
  isStaleOnly?: boolean;
}>;

/** ORDER BY for each sort: fixed SQL, never text from the request. */
const ORDER: Readonly<Record<StoreSort, string>> = {
  name: 'name',
  version: 'version',
  age: 'received_at',
  state: `CASE worst_state WHEN 'paused' THEN 5 WHEN 'stopped' THEN 4 WHEN 'open' THEN 3 WHEN 'half_open' THEN 2
          WHEN 'no_connector' THEN 1 WHEN 'closed' THEN 0 ELSE 3 END`,
  unsynced: 'coalesce(oldest_pending_seconds, -1)',
  exceptions: 'open_exceptions',
  capture: 'capture_per_minute',
};

type StoreDbRow = {
  agent_id: string;
  name: string;
  version: string;
  age: number;
  running: boolean;
  worst_state: string | null;
  queue_depth: string;
  oldest_pending_seconds: string | null;
  open_exceptions: string;
  capture_per_minute: string;
};

/** The fleet's reads for the view and its API. */
export class FleetViews {
  readonly #db: FleetDatabase;
  readonly #staleSeconds: number;

  constructor(db: FleetDatabase, staleSeconds: number) {
    this.#db = db;
    this.#staleSeconds = staleSeconds;
  }

  get staleSeconds(): number {
    return this.#staleSeconds;
  }

  /** The stores, filtered and sorted (age sorts oldest report first when descending). */
  async stores(query: StoreQuery): Promise<StoreRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.text) {
      params.push(`%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(agent_id ILIKE $${params.length} OR name ILIKE $${params.length})`);
    }
    if (query.version) {
      params.push(query.version);
      where.push(`version = $${params.length}`);
    }
    if (query.state) {
      params.push(query.state);
      where.push(`worst_state = $${params.length}`);
    }
    if (query.isStaleOnly) {
      params.push(this.#staleSeconds);
      where.push(`received_at < now() - make_interval(secs => $${params.length})`);
    }
    // Age: a larger age is an older received_at, so the direction flips.
    const isDescending = query.sort === 'age' ? !query.isDescending : query.isDescending;
    const { rows } = await this.#db.pool.query<StoreDbRow>(
      `SELECT agent_id, name, version, extract(epoch FROM now() - received_at)::float8 AS age, running, worst_state,
         queue_depth, oldest_pending_seconds, open_exceptions, capture_per_minute
       FROM fleet_stores ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY ${ORDER[query.sort]} ${isDescending ? 'DESC' : 'ASC'}, agent_id`,
      params,
    );
    return rows.map((r) => this.#row(r));
  }

  #row(r: StoreDbRow): StoreRow {
    const age = Math.max(0, Math.round(r.age));
    return {
      agentId: r.agent_id,
      name: r.name,
      version: r.version,
      reportAgeSeconds: age,
      isStale: age >= this.#staleSeconds,
      running: r.running,
      worstState: r.worst_state,
      queueDepth: Number(r.queue_depth),
      oldestUnsyncedSeconds: r.oldest_pending_seconds === null ? null : Number(r.oldest_pending_seconds),
      openExceptions: Number(r.open_exceptions),
      capturePerMinute: Number(r.capture_per_minute),
    };
  }

  /** How many stores run each version, most first. */
  async versions(): Promise<{ version: string; stores: number }[]> {
    const { rows } = await this.#db.pool.query<{ version: string; n: string }>(
      'SELECT version, count(*) AS n FROM fleet_stores GROUP BY version ORDER BY count(*) DESC, version',
    );
    return rows.map((r) => ({ version: r.version, stores: Number(r.n) }));
  }

  /**
   * One store: its row, its last status (destinations, exceptions by kind) and its trend: per hour of the last
   * day, the most open exceptions, the deepest queue and the oldest unsynced item reported in that hour.
   */
  async store(agentId: string): Promise<{
    row: StoreRow;
    status: FleetStatus;
    unknownFields: string[];
    trend: {
      hour: string;
      openExceptions: number;
      queueDepth: number;
      oldestUnsyncedSeconds: number | null;
    }[];
  } | null> {
    const { rows } = await this.#db.pool.query<
      StoreDbRow & { status: FleetStatus; unknown_fields: string[] }
    >(
      `SELECT agent_id, name, version, extract(epoch FROM now() - received_at)::float8 AS age, running, worst_state,
         queue_depth, oldest_pending_seconds, open_exceptions, capture_per_minute, status, unknown_fields
       FROM fleet_stores WHERE agent_id = $1`,
      [agentId],
    );
    const r = rows[0];
    if (r === undefined) return null;
    const trend = await this.#db.pool.query<{ hour: Date; ex: string; q: string; old: string | null }>(
      `SELECT date_trunc('hour', reported_at) AS hour, max(open_exceptions) AS ex, max(queue_depth) AS q,
         max(oldest_pending_seconds) AS old
       FROM fleet_status_history WHERE agent_id = $1 AND reported_at > now() - interval '24 hours'
       GROUP BY 1 ORDER BY 1`,
      [agentId],
    );
    return {
      row: this.#row(r),
      status: r.status,
      unknownFields: r.unknown_fields,
      trend: trend.rows.map((t) => ({
        hour: t.hour.toISOString(),
        openExceptions: Number(t.ex),
        queueDepth: Number(t.q),
        oldestUnsyncedSeconds: t.old === null ? null : Number(t.old),
      })),
    };
  }

  /** The newest refused messages (for people who look into what the service would not store). */
  async rejected(
    limit = 100,
  ): Promise<{ kind: string; reason: string; subject: string; detail: string; at: string }[]> {
    const { rows } = await this.#db.pool.query<{
      kind: string;
      reason: string;
      subject: string;
      detail: string;
      received_at: Date;
    }>('SELECT kind, reason, subject, detail, received_at FROM fleet_rejected ORDER BY id DESC LIMIT $1', [
      limit,
    ]);
    return rows.map((r) => ({
      kind: r.kind,
      reason: r.reason,
      subject: r.subject,
      detail: r.detail,
      at: r.received_at.toISOString(),
    }));
  }
}

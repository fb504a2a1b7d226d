import pg from 'pg';
import { worstDestinationState, type FleetStatus } from '../../shared/fleet-status.js';
import type { Logger } from '../platform/logger.js';
import type { FleetEvent } from './fleet-message.js';
import { fleetMigrations } from './migrations/index.js';

/** An event of the stream, checked, with where it was in the stream. */
export type ReceivedEvent = Readonly<{
  msgId: string;
  event: FleetEvent;
  streamSeq: number;
  /** When JetStream stored it (ms since the epoch). */
  publishedAt: number;
}>;

/** A message refused (unreadable, not matching its subject): kept for inspection, never half stored. */
export type RejectedMessage = Readonly<{
  kind: 'event' | 'status';
  reason: string;
  subject: string;
  streamSeq: number;
  detail: string;
  body: string;
}>;

/** A store's status as received from the bucket. */
export type ReceivedStatus = Readonly<{
  status: FleetStatus;
  /** The bucket's revision (the stream sequence): a newer revision replaces an older one, never the reverse. */
  revision: number;
  unknownFields: readonly string[];
}>;

/** Serializes the migrations of several instances starting at once (any number that is ours alone). */
const MIGRATION_LOCK = 0x0b4c_f1ee;

/**
 * The fleet's PostgreSQL: migrations at start, and the writes of the consumers, each batch in one transaction
 * (a failure stores nothing of it, so a redelivery finds no half record). Events are unique by `msg_id`
 * (`Nats-Msg-Id`): a copy stored by JetStream after its duplicate window, or a redelivery to another instance,
 * is dropped by the key, for as long as the event is kept.
 */
export class FleetDatabase {
  readonly pool: pg.Pool;
  /** With a relay configured: each new event also gets its `fleet_relay` row, in the same transaction. */
  isRelaying = false;
  readonly #log: Logger;

  private constructor(pool: pg.Pool, logger: Logger) {
    this.pool = pool;
    this.#log = logger.child({ module: 'fleet-database' });
  }

  /** Connects and brings the schema up to date (refusing a database from a newer version). */
  static async open(
    options: Readonly<{ connectionString: string; password?: string; poolSize: number }>,
    logger: Logger,
  ): Promise<FleetDatabase> {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      ...(options.password !== undefined ? { password: options.password } : {}),
      max: options.poolSize,
    });
    pool.on('error', (error) => logger.warn({ err: error }, 'an idle PostgreSQL connection failed'));
    const db = new FleetDatabase(pool, logger);
    try {
      await db.#migrate();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return db;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async #migrate(): Promise<void> {
    await this.#transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(
        `CREATE TABLE IF NOT EXISTS fleet_schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await c.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM fleet_schema_migrations',
      );
      const current = rows[0]?.v ?? 0;
      const newest = fleetMigrations.at(-1)?.version ?? 0;
      if (current > newest)
        throw new Error(
          `The fleet database is at schema version ${current}, but this Backroom knows versions up to ${newest}: ` +
            'it was written by a newer Backroom; run that version.',
        );
      for (const m of fleetMigrations) {
        if (m.version <= current) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO fleet_schema_migrations (version, name) VALUES ($1, $2)', [
          m.version,
          m.name,
        ]);
        this.#log.info({ migration: m.name }, 'migrated the fleet database');
      }
    });
  }

  /**
   * Stores a batch in one transaction: the new events and their lines (an id already stored is skipped), and
   * the refused messages. Returns how many events were new; throws (storing nothing) if PostgreSQL fails.
   */
  async storeBatch(events: readonly ReceivedEvent[], rejected: readonly RejectedMessage[]): Promise<number> {
    return this.#transaction(async (c) => {
      let stored = 0;
      if (events.length > 0) {
        const { rows } = await c.query<{ msg_id: string }>(
          `INSERT INTO fleet_events
             (msg_id, agent_id, source, event_id, seq, type, location, occurred_at, stream_seq, published_at, body)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
             $8::timestamptz[], $9::bigint[], $10::timestamptz[], $11::jsonb[])
           ON CONFLICT (msg_id) DO NOTHING
           RETURNING msg_id`,
          [
            events.map((e) => e.msgId),
            events.map((e) => e.event.agentId),
            events.map((e) => e.event.source),
            events.map((e) => e.event.id),
            events.map((e) => e.event.seq),
            events.map((e) => e.event.type),
            events.map((e) => e.event.location),
            events.map((e) => e.event.occurredAt),
            events.map((e) => e.streamSeq),
            events.map((e) => new Date(e.publishedAt).toISOString()),
            events.map((e) => JSON.stringify(e.event)),
          ],
        );
        stored = rows.length;
        if (this.isRelaying && rows.length > 0)
          await c.query(
            `INSERT INTO fleet_relay (msg_id, stream_seq)
             SELECT msg_id, stream_seq FROM fleet_events WHERE msg_id = ANY($1::text[])`,
            [rows.map((r) => r.msg_id)],
          );
        const isNew = new Set(rows.map((r) => r.msg_id));
        const lines = events
          .filter((e) => isNew.delete(e.msgId))
          .flatMap((e) => e.event.lines.map((line, i) => ({ e, line, i })));
        if (lines.length > 0)
          await c.query(
            `INSERT INTO fleet_movements (msg_id, line_no, agent_id, location, sku, qty, type, occurred_at)
             SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
               $8::timestamptz[])`,
            [
              lines.map((l) => l.e.msgId),
              lines.map((l) => l.i),
              lines.map((l) => l.e.event.agentId),
              lines.map((l) => l.e.event.location),
              lines.map((l) => l.line.sku),
              lines.map((l) => l.line.qty),
              lines.map((l) => l.e.event.type),
              lines.map((l) => l.e.event.occurredAt),
            ],
          );
      }
      for (const r of rejected) await this.#insertRejected(c, r);
      return stored;
    });
  }

  /** Stores a refused message on its own (outside a batch); a second copy of the same stream message is one row. */
  async storeRejected(rejected: RejectedMessage): Promise<void> {
    await this.#transaction((c) => this.#insertRejected(c, rejected));
  }

  async #insertRejected(c: pg.PoolClient, r: RejectedMessage): Promise<void> {
    await c.query(
      `INSERT INTO fleet_rejected (kind, reason, subject, stream_seq, detail, body) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (kind, stream_seq) DO NOTHING`,
      [r.kind, r.reason, r.subject, r.streamSeq, r.detail.slice(0, 4000), r.body.slice(0, 64_000)],
    );
  }

  /**
   * Stores a store's status: the latest (only if newer than what is there) and its history row, in one
   * transaction. Returns false when an equal or newer revision was stored before (another instance, a replay).
   */
  async storeStatus(received: ReceivedStatus): Promise<boolean> {
    const { status, revision, unknownFields } = received;
    const worst = worstDestinationState(status.destinations);
    const queueDepth = status.destinations.reduce((n, d) => n + d.queueDepth, 0);
    const oldest = status.destinations.reduce<number | null>(
      (m, d) => (d.oldestPendingAgeSeconds === null ? m : Math.max(m ?? 0, d.oldestPendingAgeSeconds)),
      null,
    );
    const openExceptions = status.openExceptions.reduce((n, e) => n + e.count, 0);
    const json = JSON.stringify(status);
    return this.#transaction(async (c) => {
      const history = await c.query(
        `INSERT INTO fleet_status_history (agent_id, revision, reported_at, received_at, worst_state, queue_depth,
           oldest_pending_seconds, open_exceptions, capture_per_minute, status)
         VALUES ($1, $2, $3, now(), $4, $5, $6, $7, $8, $9) ON CONFLICT (agent_id, revision) DO NOTHING`,
        [
          status.agentId,
          revision,
          status.reportedAt,
          worst,
          queueDepth,
          oldest,
          openExceptions,
          status.capturePerMinute,
          json,
        ],
      );
      const latest = await c.query(
        `INSERT INTO fleet_stores AS s (agent_id, name, version, schema_version, status_version, running, reported_at,
           received_at, revision, worst_state, queue_depth, oldest_pending_seconds, open_exceptions, capture_per_minute,
           last_event_seq, unknown_fields, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (agent_id) DO UPDATE SET name = excluded.name, version = excluded.version,
           schema_version = excluded.schema_version, status_version = excluded.status_version,
           running = excluded.running, reported_at = excluded.reported_at, received_at = excluded.received_at,
           revision = excluded.revision, worst_state = excluded.worst_state, queue_depth = excluded.queue_depth,
           oldest_pending_seconds = excluded.oldest_pending_seconds, open_exceptions = excluded.open_exceptions,
           capture_per_minute = excluded.capture_per_minute, last_event_seq = excluded.last_event_seq,
           unknown_fields = excluded.unknown_fields, status = excluded.status
         WHERE s.revision < excluded.revision`,
        [
          status.agentId,
          status.name,
          status.version,
          status.schemaVersion,
          status.v,
          status.running,
          status.reportedAt,
          revision,
          worst,
          queueDepth,
          oldest,
          openExceptions,
          status.capturePerMinute,
          status.lastEventSeq,
          unknownFields,
          json,
        ],
      );
      return (history.rowCount ?? 0) + (latest.rowCount ?? 0) > 0;
    });
  }

  /** Forgets status history and refused messages older than `days`; events and movements are kept. */
  async prune(days: number): Promise<number> {
    const history = await this.pool.query(
      `DELETE FROM fleet_status_history WHERE received_at < now() - make_interval(days => $1)`,
      [days],
    );
    const rejected = await this.pool.query(
      `DELETE FROM fleet_rejected WHERE received_at < now() - make_interval(days => $1)`,
      [days],
    );
    return (history.rowCount ?? 0) + (rejected.rowCount ?? 0);
  }

  async #transaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const result = await work(c);
      await c.query('COMMIT');
      return result;
    } catch (error) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      c.release();
    }
  }
}

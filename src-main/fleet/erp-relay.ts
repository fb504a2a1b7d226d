import type pg from 'pg';
import type { PosEvent } from '../../shared/events.js';
import { createConnector } from '../connectors/registry.js';
import type { Connector, DeliveryResult, LedgerItem } from '../connectors/port/connector.js';
import type { ConnectorContext } from '../connectors/port/connector-context.js';
import { TokenBucket } from '../outbox/token-bucket.js';
import type { Logger } from '../platform/logger.js';
import type { ResolvedFleetConfig } from './fleet-config-loader.js';
import type { FleetDatabase } from './fleet-database.js';
import type { FleetMetrics } from './fleet-metrics.js';

/** Only one instance of the service relays at a time: it holds this session-level advisory lock. */
const RELAY_LOCK = 0x0b4c_f1ef;
/** An idle relay (nothing due, or not the leader) looks again after this. */
const IDLE_MS = 500;
const MAX_BACKOFF_MS = 60_000;
/** Due events read at once, grouped into requests by store. */
const RELAY_WINDOW = 20_000;

type LedgerConnector = Extract<Connector, { mode: 'ledger' }>;

type RelayRow = {
  msg_id: string;
  stream_seq: string;
  attempts: number;
  body: PosEvent & { agentId: string; source: string; seq: number };
};

/**
 * Relays the fleet's movements to a central ERP with the connector a store would use (`webhook` for now), under
 * one rate limit for the whole tenant: only the instance holding the relay lock sends (a second instance waits
 * and takes over if the first dies: PostgreSQL releases a dead session's lock), and it takes a token per
 * request. Each event is sent with its store's idempotency key (`<agentId>:<source>:<event id>`), so a resend
 * after a crash between the ERP's answer and the commit is recognised by the ERP.
 *
 * Results as in the agent: delivered and already applied → delivered; retry, rate limited, unknown → tried
 * again with backoff (a 429's Retry-After pauses the bucket); rejected, misconfigured, auth failed, unmapped →
 * `rejected` with the reason, counted and logged, for head office to look into. Order: by stream sequence, which
 * is each store's publish order; a failing item does not hold back the others.
 */
export class ErpRelay {
  readonly #db: FleetDatabase;
  readonly #metrics: FleetMetrics;
  readonly #log: Logger;
  /** One connector per store: the connector names its agent (the store) in what it sends. */
  readonly #connectors = new Map<string, LedgerConnector>();
  readonly #connectorOf: (agentId: string) => LedgerConnector;
  readonly #bucket: TokenBucket;
  readonly #batch: number;
  #client: pg.PoolClient | null = null;
  #loop: Promise<void> | null = null;
  #isStopped = false;
  readonly #abort = new AbortController();
  #wake: (() => void) | null = null;

  constructor(
    relay: NonNullable<ResolvedFleetConfig['relay']>,
    db: FleetDatabase,
    metrics: FleetMetrics,
    logger: Logger,
  ) {
    this.#db = db;
    this.#metrics = metrics;
    this.#log = logger.child({ module: 'fleet-relay', destination: relay.destination.id });
    const state = new Map<string, unknown>();
    const contextOf = (agentId: string): ConnectorContext => ({
      agentId,
      // Head office keeps no identifier mappings: a webhook needs none.
      mappings: {
        item: () => null,
        location: () => null,
        skuOf: () => null,
        locationOf: () => null,
        saveDiscovered: () => undefined,
      },
      state: {
        get: <T>(key: string) => state.get(key) as T | undefined,
        set: (key, value) => state.set(key, value),
        delete: (key) => state.delete(key),
      },
      logger: this.#log,
    });
    const make = (agentId: string): LedgerConnector => {
      const bundle = createConnector(relay.destination, contextOf(agentId));
      if (bundle === null || bundle.connector.mode !== 'ledger')
        throw new Error(`relay.destination: "${relay.destination.type}" cannot be relayed to`);
      return bundle.connector;
    };
    // Made once at start, so a destination that cannot be relayed to stops the service at once.
    this.#batch = make('fleet').maxBatch;
    this.#connectorOf = (agentId) => {
      let connector = this.#connectors.get(agentId);
      if (connector === undefined) {
        connector = make(agentId);
        this.#connectors.set(agentId, connector);
      }
      return connector;
    };
    // No burst: requests evenly paced at the limit, so the ERP's own bucket (whatever its burst) never runs dry.
    this.#bucket = new TokenBucket(relay.requestsPerSecond, 1);
  }

  start(): void {
    this.#loop = this.#run().catch((error: unknown) => this.#log.error({ err: error }, 'the relay stopped'));
  }

  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    if (this.#client !== null) {
      await this.#client.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK]).catch(() => undefined);
      this.#client.release();
      this.#client = null;
    }
  }

  async #run(): Promise<void> {
    while (!this.#isStopped) {
      try {
        if (!(await this.#lead())) {
          await this.#pause(IDLE_MS * 4);
          continue;
        }
        const sent = await this.#sendDue();
        if (sent === 0) await this.#pause(IDLE_MS);
      } catch (error) {
        this.#log.warn({ err: error }, 'relaying failed; trying again');
        this.#client?.release(true);
        this.#client = null;
        await this.#pause(IDLE_MS * 4);
      }
    }
  }

  /** Whether this instance holds the relay lock (taking it if free). */
  async #lead(): Promise<boolean> {
    if (this.#client !== null) return true;
    const client = await this.#db.pool.connect();
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
      RELAY_LOCK,
    ]);
    if (rows[0]?.ok !== true) {
      client.release();
      return false;
    }
    this.#client = client;
    this.#log.info('this instance relays to the ERP');
    return true;
  }

  /** Sends what is due, a request at a time within the rate; returns how many items were sent. */
  async #sendDue(): Promise<number> {
    const client = this.#client!;
    const { rows } = await client.query<RelayRow>(
      `SELECT r.msg_id, r.stream_seq, r.attempts, e.body FROM fleet_relay r JOIN fleet_events e USING (msg_id)
       WHERE r.state = 'pending' AND r.next_attempt_at <= now() ORDER BY r.stream_seq LIMIT $1`,
      [RELAY_WINDOW],
    );
    // A request carries one store's events (the connector names the store), up to the connector's batch, in
    // stream order within the store. A backlog therefore goes out in full batches, as a store's events pile up.
    const byStore = new Map<string, RelayRow[]>();
    for (const row of rows) {
      const list = byStore.get(row.body.agentId) ?? [];
      list.push(row);
      byStore.set(row.body.agentId, list);
    }
    const chunks = [...byStore].flatMap(([store, list]) => {
      const out: { store: string; rows: RelayRow[] }[] = [];
      for (let i = 0; i < list.length; i += this.#batch)
        out.push({ store, rows: list.slice(i, i + this.#batch) });
      return out;
    });
    let sent = 0;
    for (const { store, rows: chunk } of chunks) {
      if (this.#isStopped) break;
      const wait = this.#bucket.waitTime(1);
      if (wait > 0) await this.#pause(wait);
      if (this.#isStopped) break;
      this.#bucket.take(1);
      this.#metrics.relayRequests.inc();
      const items: LedgerItem[] = chunk.map((r) => {
        const { source, seq } = r.body;
        return {
          outboxId: Number(r.stream_seq),
          seq,
          source,
          idempotencyKey: r.msg_id,
          event: capturedEvent(r.body),
          receivedAt: Date.now(),
          attempts: r.attempts,
        };
      });
      const outcome = await this.#connectorOf(store).send(items, this.#abort.signal);
      await this.#record(client, chunk, outcome.results);
      sent += chunk.length;
    }
    return sent;
  }

  async #record(
    client: pg.PoolClient,
    rows: readonly RelayRow[],
    results: readonly DeliveryResult[],
  ): Promise<void> {
    await client.query('BEGIN');
    try {
      for (const [i, row] of rows.entries()) {
        const result = results[i] ?? { kind: 'unknown' as const, detail: 'no result for this item' };
        this.#metrics.relayResults.inc({ result: result.kind });
        switch (result.kind) {
          case 'delivered':
          case 'already_applied':
            await client.query(
              `UPDATE fleet_relay SET state = 'delivered', delivered_at = now(), attempts = attempts + 1, last_error = NULL
               WHERE msg_id = $1`,
              [row.msg_id],
            );
            break;
          case 'retry':
          case 'rate_limited':
          case 'unknown': {
            if (result.kind === 'rate_limited' && result.retryAfterMs !== null)
              this.#bucket.pause(result.retryAfterMs);
            const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(6, row.attempts));
            await client.query(
              `UPDATE fleet_relay SET attempts = attempts + 1, last_error = $2,
                 next_attempt_at = now() + make_interval(secs => $3) WHERE msg_id = $1`,
              [row.msg_id, `${result.kind}: ${detailOf(result)}`, delay / 1000],
            );
            break;
          }
          case 'rejected':
          case 'misconfigured':
          case 'auth_failed':
          case 'unmapped':
            this.#log.warn(
              { msgId: row.msg_id, result: result.kind, detail: detailOf(result) },
              'the ERP refused a relayed event',
            );
            await client.query(
              `UPDATE fleet_relay SET state = 'rejected', attempts = attempts + 1, last_error = $2 WHERE msg_id = $1`,
              [row.msg_id, `${result.kind}: ${detailOf(result)}`],
            );
            break;
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async #pause(ms: number): Promise<void> {
    if (this.#isStopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = null;
  }
}

/** Keys the nats destination adds to the captured event; the connector adds its own (agentId, seq). */
const FLEET_KEYS = new Set(['agentId', 'source', 'seq', 'idempotencyKey']);

/** The event as the store captured it, without the keys the nats destination added. */
function capturedEvent(body: RelayRow['body']): PosEvent {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !FLEET_KEYS.has(key))) as PosEvent;
}

function detailOf(result: DeliveryResult): string {
  return 'detail' in result && typeof result.detail === 'string' ? result.detail : '';
}

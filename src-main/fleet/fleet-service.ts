import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../platform/logger.js';
import { VERSION } from '../platform/version.js';
import { connectFleetBroker, ensureFleetStreams } from './fleet-broker.js';
import type { ResolvedFleetConfig } from './fleet-config-loader.js';
import { FleetDatabase } from './fleet-database.js';
import { FleetMetrics } from './fleet-metrics.js';
import { createFleetServer } from './fleet-server.js';
import { FleetViews } from './fleet-views.js';
import { ErpRelay } from './erp-relay.js';
import { EventConsumer } from './event-consumer.js';
import { StatusWatcher } from './status-watcher.js';

export type FleetServiceOptions = Readonly<{
  config: ResolvedFleetConfig;
  logger: Logger;
  /** Overrides `listen.port` (tests: 0). */
  port?: number;
}>;

/**
 * `backroom fleet serve`: the central service. Start with `FleetService.start`, stop with `stop()`. Several
 * instances may run against one cluster and one PostgreSQL: they share the durable consumer (the work is
 * split) and each message is stored once.
 */
export class FleetService {
  readonly metrics: FleetMetrics;
  readonly db: FleetDatabase;
  readonly views: FleetViews;
  readonly events: EventConsumer;
  readonly #nc: NatsConnection;
  readonly #statuses: StatusWatcher;
  /** The relay to a central ERP, with `relay` in the config. */
  readonly relay: ErpRelay | null;
  readonly #server: FastifyInstance;
  readonly #logger: Logger;
  #address = '';
  #lagTimer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  #isStopped = false;

  private constructor(options: FleetServiceOptions, nc: NatsConnection, db: FleetDatabase) {
    const { config, logger } = options;
    this.#logger = logger;
    this.#nc = nc;
    this.db = db;
    this.metrics = new FleetMetrics();
    this.views = new FleetViews(db, config.staleSeconds);
    this.events = new EventConsumer(
      nc,
      db,
      this.metrics,
      {
        stream: config.stream,
        subject: config.subject,
        durable: config.durable,
        ackWaitMs: config.ackWaitSeconds * 1000,
        batchSize: config.batchSize,
      },
      logger,
    );
    this.#statuses = new StatusWatcher(nc, db, this.metrics, config.bucket, logger);
    db.isRelaying = config.relay !== undefined;
    this.relay = config.relay === undefined ? null : new ErpRelay(config.relay, db, this.metrics, logger);
    this.#server = createFleetServer({ config, views: this.views, metrics: this.metrics, logger });
  }

  /** Connects to the cluster and PostgreSQL (migrating it), creates what is missing, consumes and listens. */
  static async start(options: FleetServiceOptions): Promise<FleetService> {
    const { config, logger } = options;
    const db = await FleetDatabase.open(config.postgres, logger);
    let nc: NatsConnection | null = null;
    let service: FleetService | null = null;
    try {
      nc = await connectFleetBroker(config, `backroom fleet ${VERSION} (${process.pid})`);
      await ensureFleetStreams(nc, config, logger);
      service = new FleetService(options, nc, db);
      await service.events.start();
      await service.#statuses.start();
      service.relay?.start();
      service.#address = await service.#server.listen({
        host: config.listen.host,
        port: options.port ?? config.listen.port,
      });
      // The lag gauge, read from JetStream (a failure is only a missed sample).
      const events = service.events;
      service.#lagTimer = setInterval(() => {
        events.pending().catch(() => undefined);
      }, 5000);
      service.#lagTimer.unref();
      const prune = () =>
        db
          .prune(config.historyDays)
          .then((n) => n > 0 && logger.info({ pruned: n }, 'pruned old status history and refused messages'))
          .catch((error: unknown) => logger.warn({ err: error }, 'pruning the fleet database failed'));
      void prune();
      service.#pruneTimer = setInterval(() => void prune(), 3600_000);
      service.#pruneTimer.unref();
      logger.info({ address: service.#address, version: VERSION }, 'fleet service started');
      return service;
    } catch (error) {
      if (service !== null) {
        await service.events.stop();
        await service.#statuses.stop();
        await service.relay?.stop();
      }
      await nc?.close();
      await db.close();
      throw error;
    }
  }

  get address(): string {
    return this.#address;
  }

  /** Stops consuming (the batch in hand is stored and acked), closes the server, NATS and PostgreSQL. */
  async stop(): Promise<void> {
    if (this.#isStopped) return;
    this.#isStopped = true;
    if (this.#lagTimer) clearInterval(this.#lagTimer);
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    await this.#server.close();
    await this.events.stop();
    await this.#statuses.stop();
    await this.relay?.stop();
    await this.#nc
      .drain()
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'draining NATS failed'));
    await this.db.close();
    this.#logger.info('fleet service stopped');
  }
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ResolvedConfig } from '../../shared/config.js';
import { CaptureService } from '../capture/capture-service.js';
import { CaptureWriter } from '../capture/capture-writer.js';
import { StockEntry } from '../capture/stock-entry.js';
import { Fulfilment } from '../capture/fulfilment.js';
import { type FulfilmentSender } from '../outbox/fulfilment-sender.js';
import { DayStatements } from '../outbox/day-statements.js';
import { type StatementSender } from '../outbox/statement-sender.js';
import { DayClose } from '../reconcile/day-close.js';
import { OrderBook } from '../ledger/order-book.js';
import { DEFAULT_CARRIERS } from '../../shared/carriers.js';
import { DropFolder } from '../capture/drop-folder.js';
import { GroupCommitter } from '../capture/group-commit.js';
import { WalSync } from '../db/wal-sync.js';
import { type OrderPuller, type PullReport } from '../capture/order-puller.js';
import { CatalogPuller } from '../capture/catalog-puller.js';
import { importFile, type ImportReport } from '../capture/import-file.js';
import { StoreFixes } from '../capture/store-fixes.js';
import { LocationRegistry } from '../ledger/location-registry.js';
import { AgentDatabase } from '../db/agent-database.js';
import { Checkpointer } from '../db/checkpointer.js';
import { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import { Catalog } from '../ledger/catalog.js';
import { AgentPrices } from './agent-prices.js';
import {
  loadCatalogFile,
  makeCatalogPullers,
  makeFleetReporter,
  makeFulfilmentSenders,
  makeOrderPullers,
  makeStatementSenders,
} from './agent-workers.js';
import { PriceDecisions } from '../outbox/price-decisions.js';
import { StockRepo } from '../ledger/stock-repo.js';
import { CountSessions } from '../ledger/count-sessions.js';
import { ChannelBuffers, type ChannelBuffer } from '../ledger/channel-buffers.js';
import { ChannelGuard } from '../ledger/channel-guard.js';
import { StockView } from '../ledger/stock-view.js';
import type { ConnectorBundle } from '../connectors/port/connector-bundle.js';
import { ConnectorStateRepo } from '../connectors/connector-state-repo.js';
import { IdMappingRepo, type MappingImportReport } from '../mappings/id-mapping-repo.js';
import { MappingChanges } from '../mappings/mapping-changes.js';
import { createConnector, requestsPerSecond } from '../connectors/registry.js';
import { DeliveryRepo } from '../outbox/delivery-repo.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { AuditLog } from '../exceptions/audit-log.js';
import { OutboxOperations } from '../outbox/outbox-operations.js';
import { OutboxRepo } from '../outbox/outbox-repo.js';
import { pruneDelivered } from '../outbox/retention.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { ShipmentReconciler } from '../reconcile/shipment-reconciler.js';
import { PriceDrift } from '../reconcile/price-drift.js';
import { TokenBucket } from '../outbox/token-bucket.js';
import { Routing } from '../outbox/routing.js';
import { createAgentServer } from '../server/agent-server.js';
import { AgentError } from '../platform/errors.js';
import { DataDirLock } from './data-dir-lock.js';
import type { Logger } from '../platform/logger.js';
import { AgentMetrics } from '../health/metrics.js';
import { readStatus } from '../health/status.js';
import { type FleetReporter } from './fleet-reporter.js';
import { VERSION } from '../platform/version.js';

/** The database file inside the data directory. */
export const DATABASE_FILE = 'backroom.db';

export type AgentOptions = Readonly<{
  config: ResolvedConfig;
  logger: Logger;
  /** Listen on this port instead of the config's (tests pass 0 for a free one). */
  port?: number;
  /** Run without the HTTP server and folder watchers (the CLI's offline `import`). Default true. */
  isServing?: boolean;
}>;

/**
 * The agent: the composition root. It owns the data directory (one writer, by lock), the database, capture and
 * its inputs, and the HTTP server. Start with `Agent.start`, stop with `stop()`, which finishes in-flight
 * captures, closes the database and releases the lock.
 */
export class Agent {
  readonly config: ResolvedConfig;
  readonly db: AgentDatabase;
  readonly capture: CaptureService;
  readonly exceptions: ExceptionsRepo;
  readonly stock: StockView;
  readonly catalog: Catalog;
  /** Prices out to channels: the coalesced price marks and a sender per destination taking prices. */
  readonly prices: AgentPrices;
  readonly mappings: IdMappingRepo;
  /** People's changes to mappings, each audited. */
  readonly mappingChanges: MappingChanges;
  /** Compares remote levels with the ledger and fixes drift. */
  readonly reconciler: Reconciler;
  /** Shipment status in reconciliation: orders shipped here and open on their marketplace, or the reverse. */
  readonly shipmentReconciler: ShipmentReconciler;
  /** The oversell guard: tightens what degraded channels are sent. */
  readonly channelGuard: ChannelGuard;
  /** Each channel's buffer: the config's, or what staff set in the UI. */
  readonly channelBuffers: ChannelBuffers;
  readonly #lock: DataDirLock;
  readonly #committer: GroupCommitter;
  readonly #server: FastifyInstance;
  readonly #dropFolders: DropFolder[];
  /** One dispatcher per destination that has a connector. */
  readonly dispatchers: readonly Dispatcher[];
  readonly #logger: Logger;
  readonly audit: AuditLog;
  readonly outboxOperations: OutboxOperations;
  /** Stock entered at the workbench, captured like any till's events. */
  readonly stockEntry: StockEntry;
  #retentionTimer: NodeJS.Timeout | null = null;
  readonly #bundles: ReadonlyMap<string, ConnectorBundle>;
  readonly #pullers: readonly OrderPuller[];
  /** Item master pulls, one per destination that is a catalog source (a `tryton` destination with `catalog`). */
  readonly catalogPullers: readonly CatalogPuller[];
  /** One per marketplace that records the warehouse's shipments of its orders. */
  readonly #fulfilmentSenders: readonly FulfilmentSender[];
  /** Business days and their statements (`daily_statement` destinations). */
  readonly dayStatements: DayStatements;
  /** One per `daily_statement` destination: closes days at their time, posts their statements. */
  readonly #statementSenders: readonly StatementSender[];
  /** The Day close page's work and the money reconciliation. */
  readonly dayClose: DayClose;
  #checkpointer: Checkpointer | null = null;
  /** Reports to head office, with a `fleet` section in the config; started with the dispatchers. */
  readonly fleetReporter: FleetReporter | null;
  #address = '';
  #isStopped = false;

  private constructor(options: AgentOptions, lock: DataDirLock, db: AgentDatabase) {
    const { config, logger } = options;
    this.config = config;
    this.db = db;
    this.#lock = lock;
    this.#logger = logger;
    const outbox = new OutboxRepo(db);
    const stockRepo = new StockRepo(db);
    this.exceptions = new ExceptionsRepo(db);
    // The SKU check is on with a catalog file, or once an ERP source's first pull has given the whole catalog.
    this.prices = new AgentPrices(db, config.destinations, this.exceptions);
    this.catalog = new Catalog(db, config.catalog !== undefined || CatalogPuller.hasFinishedPull(db), {
      onPricesChanged: (sku, lists, now) => this.prices.onPricesChanged(sku, lists, now),
    });
    loadCatalogFile(this.catalog, config);
    this.channelGuard = new ChannelGuard(db, outbox, config, logger, {
      onRepublish: (ids) => {
        for (const d of this.dispatchers) if (ids.includes(d.destinationId)) d.wake();
      },
    });
    const roles = new Map(config.operators.map((o) => [o.name, o.role]));
    this.audit = new AuditLog(db, (operator) => roles.get(operator) ?? null);
    this.channelBuffers = new ChannelBuffers(db, outbox, config, this.audit, {
      onRepublish: (ids) => {
        for (const d of this.dispatchers) if (ids.includes(d.destinationId)) d.wake();
      },
    });
    this.stock = new StockView(stockRepo, config.stock, this.channelBuffers, this.channelGuard);
    const metrics = new AgentMetrics({
      outbox,
      exceptions: this.exceptions,
      destinations: config.destinations,
    });
    const routing = new Routing(config.destinations);
    const locationRegistry = new LocationRegistry(db, config.locations);
    // Filled once the connectors are made (below), before anything is captured.
    const fulfilmentDestinations = new Set<string>();
    this.dayStatements = new DayStatements(
      db,
      config.agentId,
      this.exceptions,
      new Map(
        config.destinations.flatMap((d) =>
          d.type === 'tryton' && d.dayClose?.dayEndsAt !== undefined ? [[d.id, d.dayClose.dayEndsAt]] : [],
        ),
      ),
    );
    const writer = new CaptureWriter({
      fulfilmentDestinations,
      statements: this.dayStatements,
      db,
      agentId: config.agentId,
      stock: stockRepo,
      outbox,
      exceptions: this.exceptions,
      routing,
      catalog: this.catalog,
      locations: locationRegistry,
    });
    const deliveryRepo = new DeliveryRepo(db, { durableSeq: () => this.#committer.durableSeq });
    deliveryRepo.resetLeases();
    const policy = {
      baseDelayMs: config.delivery.baseDelayMs,
      maxDelayMs: config.delivery.maxDelayMs,
      maxAttempts: config.delivery.maxAttempts,
      maxAgeMs: config.delivery.maxAgeHours * 3600_000,
    };
    this.mappings = new IdMappingRepo(
      db,
      this.exceptions,
      config.destinations.map((d) => d.id),
      (destinationId) => {
        this.dispatchers.find((d) => d.destinationId === destinationId)?.wake();
        this.prices.wake(destinationId);
      },
    );
    // A new item mapping may answer an order read with that item unmapped: its puller reads it again.
    this.mappingChanges = new MappingChanges(this.mappings, this.audit, (destinationIds) => {
      for (const puller of this.#pullers)
        if (destinationIds === 'all' || destinationIds.includes(puller.destinationId)) puller.rereadMapped();
    });
    const connectorState = new ConnectorStateRepo(db);
    const bundles = new Map<string, ConnectorBundle>();
    this.dispatchers = config.destinations.flatMap((destination) => {
      const bundle = createConnector(
        destination,
        {
          agentId: config.agentId,
          mappings: this.mappings.forDestination(destination.id),
          state: connectorState.forDestination(destination.id),
          logger: logger.child({ module: 'connector', destination: destination.id }),
          requestOrderPull: async () => {
            await this.#pullers
              .find((p) => p.destinationId === destination.id)
              ?.pullNow()
              .catch(() => undefined);
          },
        },
        { locations: config.locations },
      );
      if (bundle === null) return [];
      bundles.set(destination.id, bundle);
      const connector = bundle.connector;
      const rate = requestsPerSecond(destination);
      const channel = ('channel' in destination ? destination.channel : undefined) ?? destination.id;
      return [
        new Dispatcher({
          destinationId: destination.id,
          connector,
          db,
          repo: deliveryRepo,
          exceptions: this.exceptions,
          policy,
          bucket: new TokenBucket(rate, Math.max(1, rate)),
          logger,
          quantityFor: (sku, location) => this.stock.available(sku, location, channel),
          onResult: (kind) => {
            metrics.deliveryResults.inc({ destination: destination.id, result: kind });
            if (kind === 'delivered' || kind === 'already_applied')
              this.channelGuard.report(destination.id, 'publish', true);
            else if (kind === 'retry' || kind === 'unknown')
              this.channelGuard.report(destination.id, 'publish', false);
          },
        }),
      ];
    });
    metrics.observeDestinations(() => this.dispatchers.map((d) => ({ id: d.destinationId, state: d.state })));
    this.fleetReporter = makeFleetReporter({
      config,
      db,
      outbox,
      exceptions: this.exceptions,
      dispatchers: () => this.dispatchers,
      logger,
    });
    this.#committer = new GroupCommitter(db, writer, {
      durable: new WalSync(join(config.dataDir, DATABASE_FILE)),
      onCommit: ({ events, seconds }) => {
        metrics.commitSeconds.observe(seconds);
        metrics.commitEvents.observe(events);
        for (const dispatcher of this.dispatchers) dispatcher.wake();
        for (const sender of this.#fulfilmentSenders) sender.wake();
      },
    });
    const common = { config, bundles, db, exceptions: this.exceptions, logger };
    this.#statementSenders = makeStatementSenders({ ...common, statements: this.dayStatements });
    this.dayClose = new DayClose({
      statements: this.dayStatements,
      destinations: this.#statementSenders.map((sender) => ({
        id: sender.destinationId,
        target: bundles.get(sender.destinationId)!.statements!,
        postNow: () => sender.runDue(),
        schedule: sender.schedule,
      })),
      audit: this.audit,
      logger,
    });
    this.capture = new CaptureService(this.#committer);
    this.#bundles = bundles;
    this.#fulfilmentSenders = makeFulfilmentSenders(common, fulfilmentDestinations);
    this.prices.createSenders({ db, bundles, catalog: this.catalog, logger });
    this.#pullers = makeOrderPullers({
      ...common,
      capture: this.capture,
      stock: stockRepo,
      onPulled: (id, isOk) => this.channelGuard.report(id, 'pull', isOk),
      skuOf: (id) => this.mappings.forDestination(id).skuOf,
    });
    this.catalogPullers = makeCatalogPullers({ ...common, catalog: this.catalog });
    const importDeps = { db, capture: this.capture, exceptions: this.exceptions };
    this.#dropFolders = config.dropFolders.map(
      (f) =>
        new DropFolder(importDeps, {
          path: f.path,
          source: f.source,
          stableMs: f.stableMs,
          logger: logger.child({ module: 'drop-folder' }),
        }),
    );
    this.reconciler = new Reconciler({
      db,
      config,
      stock: this.stock,
      outbox,
      capture: this.capture,
      audit: this.audit,
      exceptions: this.exceptions,
      logger,
      connectorOf: (id) => bundles.get(id),
      mappingsOf: (id) => this.mappings.forDestination(id),
      wake: (id) => this.dispatchers.find((d) => d.destinationId === id)?.wake(),
    });
    this.shipmentReconciler = new ShipmentReconciler({
      db,
      capture: this.capture,
      audit: this.audit,
      // Only marketplaces whose orders are pulled and fulfilled from here have shipments to compare.
      connectorOf: (id) => (fulfilmentDestinations.has(id) ? bundles.get(id) : undefined),
      resendFulfilments: (id, orderId) =>
        this.#fulfilmentSenders.find((s) => s.destinationId === id)?.resendOrder(orderId) ?? 0,
      destinations: () => [...fulfilmentDestinations],
      exceptions: this.exceptions,
      logger,
    });
    this.outboxOperations = new OutboxOperations(db, this.audit, () => {
      for (const dispatcher of this.dispatchers) dispatcher.wake();
    });
    this.stockEntry = new StockEntry({
      db,
      capture: this.capture,
      catalog: this.catalog,
      stock: stockRepo,
      counts: new CountSessions(db, stockRepo),
      audit: this.audit,
      locations: locationRegistry,
    });
    const storeFixes = new StoreFixes({
      db,
      capture: this.capture,
      exceptions: this.exceptions,
      audit: this.audit,
      catalog: this.catalog,
      stock: stockRepo,
      outbox,
      routing,
      locations: locationRegistry,
      importDeps,
      wake: () => {
        for (const dispatcher of this.dispatchers) dispatcher.wake();
      },
    });
    this.#server = createAgentServer({
      logger,
      config,
      db,
      controlToken: lock.info.controlToken,
      capture: this.capture,
      stock: this.stock,
      catalog: this.catalog,
      metrics,
      status: () =>
        readStatus(
          db,
          config,
          true,
          { outbox, exceptions: this.exceptions },
          new Map(this.dispatchers.map((d) => [d.destinationId, d.state])),
        ),
      operations: this.outboxOperations,
      exceptions: this.exceptions,
      audit: this.audit,
      dispatchers: this.dispatchers,
      mappings: this.mappings,
      mappingChanges: this.mappingChanges,
      channelConditions: () => this.channelGuard.conditions(),
      channelBuffers: this.channelBuffers,
      connectorOf: (id) => this.connectorOf(id),
      reconciler: () => this.reconciler,
      shipmentReconciler: () => this.shipmentReconciler,
      address: () => this.#address,
      locationRegistry,
      storeFixes,
      importFile: (path: string, source: string): Promise<ImportReport> =>
        importFile(importDeps, source, path),
      importMappings: (csv, origin) => this.importMappings(csv, origin),
      channels: (change) => this.channelsCommand(change),
      stockEntry: this.stockEntry,
      priceMarks: this.prices.marks,
      priceDrift: new PriceDrift({
        db,
        catalog: this.catalog,
        marks: this.prices.marks,
        audit: this.audit,
        targetOf: (id) => bundles.get(id)?.prices,
        wake: (id) => this.prices.wake(id),
      }),
      priceDecisions: new PriceDecisions({
        db,
        marks: this.prices.marks,
        audit: this.audit,
        exceptions: this.exceptions,
        wake: (id) => this.prices.wake(id),
      }),
      fulfilment: new Fulfilment({
        db,
        capture: this.capture,
        catalog: this.catalog,
        stock: stockRepo,
        orders: new OrderBook(db),
        audit: this.audit,
        exceptions: this.exceptions,
        carriers: config.carriers ?? DEFAULT_CARRIERS,
      }),
      dayClose: this.dayClose,
    });
  }

  /** Starts an agent: takes the data directory, opens (and migrates) the database, listens, watches folders. */
  static async start(options: AgentOptions): Promise<Agent> {
    const { config } = options;
    mkdirSync(config.dataDir, { recursive: true });
    const lock = DataDirLock.acquire(config.dataDir, config.agentId, VERSION);
    let agent: Agent | undefined;
    try {
      const file = join(config.dataDir, DATABASE_FILE);
      const db = AgentDatabase.open(file);
      try {
        agent = new Agent(options, lock, db);
      } catch (error) {
        db.close();
        throw error;
      }
      if (options.isServing ?? true) {
        // Checkpoints run in a worker; the writer's own automatic checkpoint is only a safety net.
        db.sqlite.pragma('wal_autocheckpoint = 20000');
        const log = options.logger.child({ module: 'checkpointer' });
        agent.#checkpointer = Checkpointer.start({ file }, (message) =>
          log.warn({ message }, 'WAL checkpoint failed'),
        );
        for (const dispatcher of agent.dispatchers) dispatcher.start();
        for (const puller of agent.#pullers) puller.start();
        for (const puller of agent.catalogPullers) puller.start();
        for (const sender of agent.#fulfilmentSenders) sender.start();
        agent.prices.start();
        for (const sender of agent.#statementSenders) sender.start();
        agent.channelGuard.start();
        agent.reconciler.startSchedule(config.reconcile.everyMinutes);
        agent.shipmentReconciler.startSchedule(config.reconcile.everyMinutes);
        agent.#startRetention();
        agent.fleetReporter?.start();
        const address = await agent.#server.listen({
          host: config.listen.host,
          port: options.port ?? config.listen.port,
        });
        agent.#address = address;
        lock.setAddress(address);
        for (const folder of agent.#dropFolders) await folder.start();
      }
      options.logger.info(
        { address: agent.#address, dataDir: config.dataDir, version: VERSION },
        'agent started',
      );
      return agent;
    } catch (error) {
      if (agent) await agent.stop();
      else lock.release();
      throw error;
    }
  }

  /** Prunes delivered outbox rows now and every hour. */
  #startRetention(): void {
    const policy = {
      deliveredMaxAgeMs: this.config.retention.deliveredDays * 86_400_000,
      attemptsMaxAgeMs: this.config.retention.attemptsDays * 86_400_000,
    };
    const prune = () => {
      try {
        const pruned = pruneDelivered(this.db, policy);
        if (pruned.outbox + pruned.attempts > 0) this.#logger.info(pruned, 'pruned delivered outbox rows');
      } catch (error) {
        this.#logger.error({ err: error }, 'pruning the outbox failed');
      }
    };
    prune();
    this.#retentionTimer = setInterval(prune, 3600_000);
    this.#retentionTimer.unref();
  }

  /**
   * Fulfilments out: `sendNow(destinationId)` sends that marketplace's due fulfilments at once (joining a run
   * under way); resolves with how many were tried. Resolves 0 for a destination without a fulfilment sender.
   */
  get fulfilments(): { sendNow: (destinationId: string) => Promise<number> } {
    return {
      sendNow: (destinationId) =>
        this.#fulfilmentSenders.find((s) => s.destinationId === destinationId)?.runDue() ??
        Promise.resolve(0),
    };
  }

  /** Marketplace order pulls: `pullNow(destinationId)` pulls one destination's orders at once. */
  get orders(): { pullNow: (destinationId: string) => Promise<PullReport>; destinations: string[] } {
    return {
      destinations: this.#pullers.map((p) => p.destinationId),
      pullNow: (destinationId) => {
        const puller = this.#pullers.find((p) => p.destinationId === destinationId);
        if (!puller)
          return Promise.reject(
            new AgentError(
              'invalid_request',
              `destination "${destinationId}" pulls no orders (it needs an "orders" section and a connector that reads orders)`,
            ),
          );
        return puller.pullNow();
      },
    };
  }

  /** The connector bundle of a destination (level reads for reconciliation), if it has a connector. */
  connectorOf(destinationId: string): ConnectorBundle | undefined {
    return this.#bundles.get(destinationId);
  }

  /** `http://host:port` the agent listens on. */
  get address(): string {
    return this.#address;
  }

  /** The token the local CLI uses (from the lock file). */
  get controlToken(): string {
    return this.#lock.info.controlToken;
  }

  /** Imports an export file once (`backroom import`); the file stays where it is. */
  importFile(path: string, source: string): Promise<ImportReport> {
    return importFile({ db: this.db, capture: this.capture, exceptions: this.exceptions }, source, path);
  }

  /**
   * Imports a mapping CSV (`MappingChanges.importCsv`), audited under `origin` whatever it changed; held items
   * of the mapped SKUs go back to their lanes.
   */
  importMappings(csv: string, origin: string): MappingImportReport {
    return this.mappingChanges.importCsv(csv, { operator: origin, origin, isNoOpAudited: true });
  }

  /**
   * The CLI's `channels` command: applies `change` if given (a buffer, or null for the config file's, audited
   * under `operator`), then lists every channel's buffer.
   */
  channelsCommand(
    change?: Readonly<{ channel: string; buffer: number | null; reason: string; operator: string }>,
  ): ChannelBuffer[] {
    if (change !== undefined)
      this.channelBuffers.set(change.channel, change.buffer, {
        operator: change.operator,
        reason: change.reason,
      });
    return this.channelBuffers.list();
  }

  /** Resolves when every drop folder has handled the files it has seen (tests). */
  async whenDropFoldersIdle(): Promise<void> {
    await Promise.all(this.#dropFolders.map((f) => f.whenIdle()));
  }

  /**
   * Stops cleanly: no new requests, in-flight captures committed and answered, folders unwatched, the
   * database closed and the lock released. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.#isStopped) return;
    this.#isStopped = true;
    if (this.#retentionTimer) clearInterval(this.#retentionTimer);
    for (const folder of this.#dropFolders) await folder.stop();
    await this.#server.close();
    await this.#committer.close();
    // The last report says the agent stopped (a crash leaves the last periodic one, which goes stale).
    await this.fleetReporter?.stop();
    this.channelGuard.stop();
    this.reconciler.stop();
    this.shipmentReconciler.stop();
    await Promise.all(this.#pullers.map((p) => p.stop()));
    await Promise.all(this.catalogPullers.map((p) => p.stop()));
    await Promise.all(this.#fulfilmentSenders.map((s) => s.stop()));
    await this.prices.stop();
    await Promise.all(this.#statementSenders.map((s) => s.stop()));
    await Promise.all(this.dispatchers.map((d) => d.stop()));
    for (const bundle of this.#bundles.values()) {
      await bundle
        .close?.()
        .catch((error: unknown) => this.#logger.warn({ err: error }, 'closing a connector failed'));
    }
    await this.#checkpointer?.stop();
    this.db.close();
    this.#lock.release();
    this.#logger.info('agent stopped');
  }
}

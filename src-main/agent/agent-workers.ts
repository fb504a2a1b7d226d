import { readFileSync } from 'node:fs';
import type { ResolvedConfig } from '../../shared/config.js';
import type { CaptureService } from '../capture/capture-service.js';
import { CatalogPuller } from '../capture/catalog-puller.js';
import { OrderPuller } from '../capture/order-puller.js';
import type { ConnectorBundle } from '../connectors/port/connector-bundle.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Catalog } from '../ledger/catalog.js';
import { loadCatalogCsv } from '../ledger/catalog-csv.js';
import type { StockRepo } from '../ledger/stock-repo.js';
import type { DayStatements } from '../outbox/day-statements.js';
import { FulfilmentSender } from '../outbox/fulfilment-sender.js';
import { StatementSender } from '../outbox/statement-sender.js';
import { AgentError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { NatsConfig } from '../connectors/nats/nats-link.js';
import { FleetStatusReader } from '../health/fleet-status-reader.js';
import type { Dispatcher } from '../outbox/dispatcher.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import { FleetReporter } from './fleet-reporter.js';

/*
 * The agent's workers beside its dispatchers, each made for the destinations whose config asks for it and whose
 * connector can do it: order pullers, catalog pullers, fulfilment senders, statement senders, and the fleet
 * reporter; and the catalog file loaded at start.
 */

type Common = Readonly<{
  config: ResolvedConfig;
  bundles: ReadonlyMap<string, ConnectorBundle>;
  db: AgentDatabase;
  exceptions: ExceptionsRepo;
  logger: Logger;
}>;

/** Loads `catalog.path` into the catalog; a file that cannot be read, or has any bad row, stops the start. */
export function loadCatalogFile(catalog: Catalog, config: ResolvedConfig): void {
  if (!config.catalog) return;
  const path = config.catalog.path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AgentError('invalid_config', `catalog.path: cannot read ${path}: ${(error as Error).message}`);
  }
  // Where an ERP feeds the catalog too, what it set stays: the file fills in what the ERP does not give.
  const erpSources = new Set(
    config.destinations.flatMap((d) => ('catalog' in d && d.catalog !== undefined ? [d.id] : [])),
  );
  const { errors } = loadCatalogCsv(catalog, text, erpSources);
  if (errors.length > 0)
    throw new AgentError(
      'invalid_config',
      `catalog.path: ${path} was not loaded (nothing of it was stored): ${errors
        .slice(0, 20)
        .map((e) => `line ${e.line}, column ${e.column}: ${e.message}`)
        .join('; ')}${errors.length > 20 ? `; and ${errors.length - 20} more` : ''}`,
      { errors },
    );
}

/** A statement sender per `tryton` destination in `daily_statement` mode. */
export function makeStatementSenders(c: Common & Readonly<{ statements: DayStatements }>): StatementSender[] {
  return c.config.destinations.flatMap((destination) => {
    const target = c.bundles.get(destination.id)?.statements;
    if (destination.type !== 'tryton' || target === undefined) return [];
    return [
      new StatementSender({
        destinationId: destination.id,
        target,
        statements: c.statements,
        logger: c.logger,
        dayClose: destination.dayClose,
      }),
    ];
  });
}

/**
 * A fulfilment sender per marketplace whose orders are pulled here and whose connector records shipments;
 * `fulfilmentDestinations` gets each one's id (the capture writer queues their orders' shipments).
 */
export function makeFulfilmentSenders(c: Common, fulfilmentDestinations: Set<string>): FulfilmentSender[] {
  return c.config.destinations.flatMap((destination) => {
    const target = c.bundles.get(destination.id)?.fulfilments;
    if (!('orders' in destination) || destination.orders === undefined || target === undefined) return [];
    fulfilmentDestinations.add(destination.id);
    return [
      new FulfilmentSender({
        destinationId: destination.id,
        target,
        db: c.db,
        exceptions: c.exceptions,
        logger: c.logger,
        agentId: c.config.agentId,
      }),
    ];
  });
}

/** An order puller per marketplace with an `orders` section. */
export function makeOrderPullers(
  c: Common &
    Readonly<{
      capture: CaptureService;
      stock: StockRepo;
      onPulled: (destinationId: string, isOk: boolean) => void;
      skuOf: (destinationId: string) => (remoteSku: string) => string | null;
    }>,
): OrderPuller[] {
  return c.config.destinations.flatMap((destination) => {
    const source = c.bundles.get(destination.id)?.orders;
    if (!('orders' in destination) || destination.orders === undefined || source === undefined) return [];
    return [
      new OrderPuller({
        destinationId: destination.id,
        source,
        db: c.db,
        capture: c.capture,
        stock: c.stock,
        exceptions: c.exceptions,
        logger: c.logger,
        defaultLocation: destination.orders.location,
        pollSeconds: destination.orders.pollSeconds,
        overlapSeconds: destination.orders.overlapSeconds,
        onPulled: (isOk) => c.onPulled(destination.id, isOk),
        skuOf: c.skuOf(destination.id),
      }),
    ];
  });
}

/** A catalog puller per ERP destination with a `catalog` section. */
export function makeCatalogPullers(c: Common & Readonly<{ catalog: Catalog }>): CatalogPuller[] {
  return c.config.destinations.flatMap((destination) => {
    const source = c.bundles.get(destination.id)?.catalog;
    if (!('catalog' in destination) || destination.catalog === undefined || source === undefined) return [];
    return [
      new CatalogPuller({
        sourceId: destination.id,
        source,
        db: c.db,
        catalog: c.catalog,
        exceptions: c.exceptions,
        logger: c.logger,
        pollSeconds: destination.catalog.pollSeconds,
      }),
    ];
  });
}

/**
 * The fleet reporter, when the config has a `fleet` section whose `broker` names a `nats` destination: it reports
 * this agent's status to head office, reporting again whenever a dispatcher's state changes.
 */
export function makeFleetReporter(
  c: Readonly<{
    config: ResolvedConfig;
    db: AgentDatabase;
    outbox: OutboxRepo;
    exceptions: ExceptionsRepo;
    dispatchers: () => readonly Dispatcher[];
    logger: Logger;
  }>,
): FleetReporter | null {
  const fleet = c.config.fleet;
  const broker = c.config.destinations.find(
    (d): d is NatsConfig => d.id === fleet?.broker && d.type === 'nats',
  );
  if (fleet === undefined || broker === undefined) return null;
  const states = () => new Map(c.dispatchers().map((d) => [d.destinationId, d.state] as const));
  const reader = new FleetStatusReader(c.db, c.config, {
    outbox: c.outbox,
    exceptions: c.exceptions,
    states,
    startedAt: Date.now(),
  });
  return new FleetReporter({
    broker,
    agentId: c.config.agentId,
    bucket: fleet.bucket,
    reportMs: fleet.reportSeconds * 1000,
    read: (now, isRunning) => reader.read(now, isRunning),
    fingerprint: () =>
      c
        .dispatchers()
        .map((d) => `${d.destinationId}=${d.state}`)
        .join(','),
    logger: c.logger,
  });
}

import type { FastifyInstance } from 'fastify';
import type { StatusResponse } from '../../shared/api.js';
import type { ResolvedConfig } from '../../shared/config.js';
import type { CaptureService } from '../capture/capture-service.js';
import type { Fulfilment } from '../capture/fulfilment.js';
import type { StockEntry } from '../capture/stock-entry.js';
import { SourceTokenRepo } from '../capture/source-token-repo.js';
import type { ConnectorBundle } from '../connectors/port/connector-bundle.js';
import type { IdMappingRepo } from '../mappings/id-mapping-repo.js';
import type { MappingChanges } from '../mappings/mapping-changes.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { ChannelBuffers } from '../ledger/channel-buffers.js';
import type { ChannelCondition } from '../ledger/channel-guard.js';
import type { StockView } from '../ledger/stock-view.js';
import type { Dispatcher } from '../outbox/dispatcher.js';
import type { OutboxOperations } from '../outbox/outbox-operations.js';
import type { Logger } from '../platform/logger.js';
import { Authenticator } from './auth.js';
import { controlHandlers, type ControlHandlerDeps } from './handlers/control-handlers.js';
import { destinationsHandlers } from './handlers/destinations-handlers.js';
import { exceptionsHandlers } from './handlers/exceptions-handlers.js';
import type { AgentMetrics } from '../health/metrics.js';
import { registerIngestRoutes } from './handlers/ingest-handlers.js';
import type { Catalog } from '../ledger/catalog.js';
import { mappingsHandlers } from './handlers/mappings-handlers.js';
import { outboxHandlers } from './handlers/outbox-handlers.js';
import {
  reconcileHandlers,
  type ReconcilerPort,
  type ShipmentReconcilerPort,
} from './handlers/reconcile-handlers.js';
import { sessionHandlers } from './handlers/session-handlers.js';
import { settingsHandlers } from './handlers/settings-handlers.js';
import { sourcesHandlers } from './handlers/sources-handlers.js';
import { statusHandlers } from './handlers/status-handlers.js';
import { stockHandlers } from './handlers/stock-handlers.js';
import { entryHandlers } from './handlers/entry-handlers.js';
import { fulfilHandlers } from './handlers/fulfil-handlers.js';
import { pricesHandlers, type PricesHandlerDeps } from './handlers/prices-handlers.js';
import { daysHandlers } from './handlers/days-handlers.js';
import type { DayClose } from '../reconcile/day-close.js';
import { storeFixHandlers, type StoreFixHandlerDeps } from './handlers/store-fix-handlers.js';
import type { LocationRegistry } from '../ledger/location-registry.js';
import { createHttpServer } from './http-server.js';
import { registerLiveStream } from './live-stream.js';
import { combineHandlers, registerRpc, type HandlerTable } from './rpc-router.js';
import { SessionStore } from './session.js';
import { defaultUiDir, registerStaticUi } from './static-ui.js';

export type AgentServerDeps = ControlHandlerDeps &
  StoreFixHandlerDeps &
  PricesHandlerDeps &
  Readonly<{
    logger: Logger;
    config: ResolvedConfig;
    db: AgentDatabase;
    /** The lock file's token, by which the local CLI calls. */
    controlToken: string;
    capture: CaptureService;
    stock: StockView;
    /** The item master, served to tills by `GET /api/v1/items`. */
    catalog: Catalog;
    metrics: AgentMetrics;
    status: () => StatusResponse;
    operations: OutboxOperations;
    exceptions: ExceptionsRepo;
    audit: AuditLog;
    dispatchers: readonly Dispatcher[];
    mappings: IdMappingRepo;
    mappingChanges: MappingChanges;
    /** The oversell guard's current condition per guarded channel. */
    channelConditions: () => readonly ChannelCondition[];
    channelBuffers: ChannelBuffers;
    /** A destination's connector bundle (what it can read back, test or pull), if it has a connector. */
    connectorOf: (destinationId: string) => ConnectorBundle | undefined;
    /** The reconciler, or undefined while this build has none (its routes then answer 503). */
    reconciler: () => ReconcilerPort | undefined;
    /** Shipment status in reconciliation, or undefined while this build has none (its routes then answer 503). */
    shipmentReconciler: () => ShipmentReconcilerPort | undefined;
    /** `http://host:port` the agent listens on ('' before it listens). */
    address: () => string;
    /** Stock entry at the workbench: receipts, adjustments, transfers and count sessions. */
    stockEntry: StockEntry;
    /** Fulfilling marketplace orders: open orders of a location, shipments with carrier and tracking. */
    fulfilment: Fulfilment;
    /** The Day close page: business days, their statements, money reconciliation. */
    dayClose: DayClose;
    /** The known locations: the config file's and those added in the workbench. */
    locationRegistry: LocationRegistry;
  }>;

/**
 * The agent's HTTP server, assembled: who is calling (`auth.ts`, once per request, before any guard), the public
 * ingest API for tills, the operator API's routes outside the contract, every route of the contract through one
 * router (`rpc-router.ts`, with a handler per name), the live stream, and the built UI at `/`.
 */
export function createAgentServer(deps: AgentServerDeps): FastifyInstance {
  const { config, db } = deps;
  const app = createHttpServer({ logger: deps.logger, maxBodyBytes: config.ingest.maxBodyBytes });
  const sessions = new SessionStore({ operators: config.operators });
  const roles = new Map(config.operators.map((o) => [o.name, o.role]));
  // A name that is no configured operator has no session and no token, so this is only asked of configured ones.
  const roleOf = (operator: string) => roles.get(operator) ?? 'clerk';
  const sourceTokens = new SourceTokenRepo(db);
  new Authenticator({
    sourceTokens: new Map(config.sources.map((s) => [s.token, s.id])),
    operatorTokens: new Map(config.operators.map((o) => [o.token, o.name])),
    roleOf,
    controlToken: deps.controlToken,
    sourceOfStoredToken: (token) => sourceTokens.sourceOf(token),
    sessions,
  }).install(app);

  registerIngestRoutes(app, { agentId: config.agentId, ...deps });

  const handlers: HandlerTable = combineHandlers(
    sessionHandlers(sessions, roleOf),
    statusHandlers(deps.status),
    exceptionsHandlers(deps),
    outboxHandlers(deps),
    stockHandlers(deps),
    mappingsHandlers(deps),
    reconcileHandlers(deps),
    settingsHandlers(deps),
    destinationsHandlers(deps),
    sourcesHandlers({ ...deps, sourceTokens }),
    controlHandlers(deps),
    entryHandlers(deps),
    fulfilHandlers(deps),
    daysHandlers(deps),
    storeFixHandlers(deps),
    pricesHandlers(deps),
  );
  registerRpc(app, handlers);

  registerLiveStream(app, { db, sessions, status: deps.status });
  registerStaticUi(app, defaultUiDir());
  return app;
}

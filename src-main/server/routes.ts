import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HealthResponse, IngestResponse, StatusResponse, StockResponse } from '../../shared/api.js';
import { MAX_BATCH_EVENTS } from '../../shared/events.js';
import type { AgentMetrics } from '../agent/metrics.js';
import { VERSION } from '../platform/version.js';
import type { CaptureService } from '../capture/capture-service.js';
import type { ImportReport } from '../capture/import-file.js';
import type { MappingImportReport } from '../mappings/id-mapping-repo.js';
import type { ChannelBuffer } from '../ledger/channel-buffers.js';
import type { StockView } from '../ledger/stock-view.js';
import { RPC } from '../../shared/rpc.js';
import { requireControl, requireToken, sendBadInput, sendError } from './http-server.js';

export type RouteDeps = Readonly<{
  agentId: string;
  capture: CaptureService;
  stock: StockView;
  metrics: AgentMetrics;
  status: () => StatusResponse;
  importFile: (path: string, source: string) => Promise<ImportReport>;
  /** Imports a mapping CSV (the CLI's `mappings import` while the agent runs). */
  importMappings: (csv: string, origin: string) => MappingImportReport;
  /** The CLI's `channels` while the agent runs: an optional buffer change, then every channel's buffer. */
  channels: (
    change?: Readonly<{ channel: string; buffer: number | null; reason: string; operator: string }>,
  ) => ChannelBuffer[];
}>;

/** The CLI's `channels` body: nothing to list, or a change (the UI's `channels.setBuffer` plus who made it). */
const channelsControl = z.strictObject({
  change: RPC['channels.setBuffer'].input
    .extend({ operator: z.string().trim().min(1, 'Say who changes it').max(100) })
    .optional(),
});

const stockQuery = z.object({
  sku: z.string().min(1).optional(),
  location: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

/** The public API of CONTRACT.md: ingest, health, metrics, stock, status, and the CLI's import. */
export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/api/v1/health', async (): Promise<HealthResponse> => ({
    status: 'ok',
    agentId: deps.agentId,
    version: VERSION,
  }));

  app.post('/api/v1/events', { onRequest: requireToken }, async (req, reply) => {
    const principal = req.principal;
    if (principal?.kind !== 'source') {
      return sendError(reply, 'unauthorized', 'Events must be sent with a source token.');
    }
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendError(reply, 'bad_shape', 'The body must be one event object or { "events": [ ... ] }.');
    }
    let events: unknown[];
    if ('events' in body) {
      const list = body.events;
      if (!Array.isArray(list)) return sendError(reply, 'bad_shape', '"events" must be a list of events.');
      if (list.length === 0) return sendError(reply, 'bad_shape', '"events" must hold at least one event.');
      if (list.length > MAX_BATCH_EVENTS) {
        return sendError(
          reply,
          'too_large',
          `"events" holds ${list.length} events; at most ${MAX_BATCH_EVENTS} are taken per request.`,
        );
      }
      events = list;
    } else {
      events = [body];
    }
    const results = await deps.capture.capture(principal.sourceId, events);
    for (const r of results) deps.metrics.eventsTotal.inc({ source: principal.sourceId, status: r.status });
    return { results } satisfies IngestResponse;
  });

  app.get('/metrics', { onRequest: requireToken }, async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });

  app.get('/api/v1/stock', { onRequest: requireToken }, async (req, reply) => {
    const query = stockQuery.safeParse(req.query);
    if (!query.success) {
      return sendError(
        reply,
        'bad_shape',
        `Bad query: ${query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    return { levels: deps.stock.levels(query.data) } satisfies StockResponse;
  });

  app.get('/api/v1/status', { onRequest: requireToken }, async () => deps.status());

  app.post('/api/v1/import', { onRequest: requireControl }, async (req, reply) => {
    const parsed = z.object({ path: z.string().min(1), source: z.string().min(1) }).safeParse(req.body);
    if (!parsed.success) {
      return sendError(
        reply,
        'bad_shape',
        'The body must be { "path": "<file to import>", "source": "<source id>" }.',
      );
    }
    return deps.importFile(parsed.data.path, parsed.data.source);
  });

  app.post('/api/v1/control/mappings/import', { onRequest: requireControl }, async (req, reply) => {
    const parsed = z
      .object({ csv: z.string().min(1), origin: z.string().min(1).max(100) })
      .safeParse(req.body);
    if (!parsed.success) {
      return sendError(
        reply,
        'bad_shape',
        'The body must be { "csv": "<mapping CSV text>", "origin": "<who>" }.',
      );
    }
    return deps.importMappings(parsed.data.csv, parsed.data.origin);
  });

  app.post('/api/v1/control/channels', { onRequest: requireControl }, async (req, reply) => {
    const parsed = channelsControl.safeParse(req.body);
    if (!parsed.success) return sendBadInput(reply, parsed.error);
    try {
      return { channels: deps.channels(parsed.data.change) };
    } catch (error) {
      if (error instanceof RangeError) return sendError(reply, 'bad_shape', error.message);
      throw error;
    }
  });
}

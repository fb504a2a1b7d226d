import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HealthResponse, IngestResponse, StockResponse } from '../../../shared/api.js';
import { MAX_BATCH_EVENTS } from '../../../shared/events.js';
import type { CaptureService } from '../../capture/capture-service.js';
import type { AgentMetrics } from '../../health/metrics.js';
import type { StockView } from '../../ledger/stock-view.js';
import type { Catalog } from '../../ledger/catalog.js';
import { itemsQuerySchema, parseItemsCursor, type ItemsPage } from '../../../shared/items.js';
import { VERSION } from '../../platform/version.js';
import { guard } from '../auth.js';
import { sendBadInput, sendError } from '../http-server.js';

export type IngestRouteDeps = Readonly<{
  agentId: string;
  capture: CaptureService;
  stock: StockView;
  catalog: Catalog;
  metrics: AgentMetrics;
}>;

const stockQuery = z.object({
  sku: z.string().min(1).optional(),
  location: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

/**
 * The public API of CONTRACT.md that tills and monitoring use: ingest, health, metrics and stock. Its answers are
 * the contract's own (the events body is judged by hand, so each shape error keeps its documented wording).
 */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestRouteDeps): void {
  app.get('/api/v1/health', async (): Promise<HealthResponse> => ({
    status: 'ok',
    agentId: deps.agentId,
    version: VERSION,
  }));

  app.post('/api/v1/events', { onRequest: guard('token') }, async (req, reply) => {
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

  app.get('/metrics', { onRequest: guard('token') }, async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });

  app.get('/api/v1/stock', { onRequest: guard('token') }, async (req, reply) => {
    const query = stockQuery.safeParse(req.query);
    if (!query.success) return sendBadInput(reply, query.error, 'Bad query');
    return { levels: deps.stock.levels(query.data) } satisfies StockResponse;
  });

  // The item master for tills that keep their own copy offline: changed items, oldest change first, in pages.
  app.get('/api/v1/items', { onRequest: guard('token') }, async (req, reply) => {
    const query = itemsQuerySchema.safeParse(req.query);
    if (!query.success) return sendBadInput(reply, query.error, 'Bad query');
    const after = query.data.since === undefined ? 0 : parseItemsCursor(query.data.since)!;
    // A cursor past the newest change was never given out by this agent (another agent's, or made up).
    if (after > deps.catalog.head()) {
      const message = 'is not a cursor of this agent (use the "next" of an answer)';
      return sendError(reply, 'bad_shape', `Bad query: since: ${message}`, {
        errors: [{ path: 'since', message }],
      });
    }
    return deps.catalog.page(after, query.data.limit) satisfies ItemsPage;
  });
}

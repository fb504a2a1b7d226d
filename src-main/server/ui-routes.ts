import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StatusResponse, StockLevel } from '../../shared/api.js';
import type { ResolvedConfig } from '../../shared/config.js';
import {
  EVENT_STREAM_PATH,
  RPC,
  type ExceptionDetail,
  type ExceptionFilter,
  type ExceptionView,
  type LiveSnapshot,
  type MovementView,
  type ReservationView,
  type RpcName,
  type RpcOutput,
  type RpcParsed,
  type StockItemView,
  type ThroughputPoint,
} from '../../shared/rpc.js';
import { readStatus } from '../agent/status.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { ExceptionStatus } from '../../shared/exception-kinds.js';
import type { OutboxItemState as OutboxState } from '../../shared/outbox-item-states.js';
import { SourceTokenRepo } from '../capture/source-token-repo.js';
import { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { StockView } from '../ledger/stock-view.js';
import type { Dispatcher } from '../outbox/dispatcher.js';
import type { OutboxOperations } from '../outbox/outbox-operations.js';
import { OutboxRepo } from '../outbox/outbox-repo.js';
import { registerAdminRoutes, type AdminRouteDeps } from './admin-routes.js';
import { sendBadInput, sendError } from './http-server.js';
import { readCookie, SESSION_COOKIE, SessionStore } from './session.js';

export type UiRouteDeps = Readonly<{
  db: AgentDatabase;
  config: ResolvedConfig;
  dispatchers: readonly Dispatcher[];
  operations: OutboxOperations;
  stock: StockView;
  /** Mappings, settings and reconciliation (`admin-routes.ts`). */
  admin: Omit<AdminRouteDeps, 'db' | 'config' | 'dispatchers' | 'sourceTokens'>;
  /** The built UI (`npm run build:ui`); defaults to `src-renderer/dist` of this checkout. */
  uiDir?: string;
  /** How often the live stream samples the agent, in ms. Default 1000; a snapshot goes out at least every 2 s. */
  tickMs?: number;
}>;

/** Throughput chart buckets: 10 s each, the last 15 minutes. */
const BUCKET_SECONDS = 10;
const BUCKETS = 90;
/** Failed logins from one address before it must wait. */
const MAX_FAILED_LOGINS = 10;
const FAILED_LOGIN_WINDOW_MS = 5 * 60_000;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

function defaultUiDir(): string {
  // From the sources (src-main/server) and from the tsc build (dist/src-main/server).
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.split(sep).includes('dist')
    ? resolve(here, '../../../src-renderer/dist')
    : resolve(here, '../../src-renderer/dist');
}

/**
 * Registers one route of the contract (`shared/rpc.ts`): its input parsed with the route's schema (a bad one is
 * answered 400 naming each field), an operator required unless `isPublic`. `run` answers with the route's
 * output, or sends its own reply (an error) and returns it.
 */
export type HandleRpc = <N extends RpcName>(
  name: N,
  run: (
    input: RpcParsed<N>,
    req: FastifyRequest,
    reply: FastifyReply,
  ) => RpcOutput<N> | FastifyReply | Promise<RpcOutput<N> | FastifyReply>,
  isPublic?: boolean,
) => void;

/** An onRequest guard (it runs before the body is read) for the UI's routes: a named operator (by session cookie or operator token). */
async function requireNamedOperator(req: FastifyRequest, reply: FastifyReply) {
  if (req.principal?.kind === 'operator') return undefined;
  return sendError(reply, 'unauthorized', 'Log in as an operator first.');
}

type ExceptionRowSql = {
  id: number;
  kind: string;
  status: ExceptionStatus;
  message: string;
  sku: string | null;
  location: string | null;
  destination_id: string | null;
  event_seq: number | null;
  outbox_id: number | null;
  occurrences: number;
  created_at: number;
  last_seen_at: number;
  resolved_at: number | null;
  resolution: string | null;
  details: string;
};

function toView(r: ExceptionRowSql): ExceptionView {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    message: r.message,
    sku: r.sku,
    location: r.location,
    destinationId: r.destination_id,
    eventSeq: r.event_seq,
    outboxId: r.outbox_id,
    occurrences: r.occurrences,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    resolvedAt: r.resolved_at,
    resolution: r.resolution,
  };
}

/** SQL for an exception filter. Each combination of fields is one statement text, prepared once and cached. */
function whereOf(filter: ExceptionFilter, now: number): { sql: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (filter.status !== undefined) {
    // With a kind, the index (status, kind, id) yields rows in id order. Without one, `+status` keeps SQLite off
    // that index, so it walks the table backwards by id and stops after a page instead of sorting every open row.
    clauses.push(filter.kind === undefined ? '+status = ?' : 'status = ?');
    params.push(filter.status);
  }
  if (filter.kind !== undefined) {
    clauses.push('kind = ?');
    params.push(filter.kind);
  }
  if (filter.destination !== undefined) {
    clauses.push('destination_id = ?');
    params.push(filter.destination);
  }
  if (filter.sku !== undefined) {
    // Delivery exceptions name the event, not its SKUs: match through the event's movements too.
    clauses.push('(sku = ? OR event_seq IN (SELECT event_seq FROM movements WHERE sku = ?))');
    params.push(filter.sku, filter.sku);
  }
  if (filter.olderThanMinutes !== undefined && filter.olderThanMinutes > 0) {
    clauses.push('created_at <= ?');
    params.push(now - filter.olderThanMinutes * 60_000);
  }
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

const EXCEPTION_COLUMNS = `id, kind, status, message, sku, location, destination_id, event_seq,
  json_extract(details, '$.outboxId') AS outbox_id, occurrences, created_at, last_seen_at, resolved_at,
  resolution, details`;

/**
 * Counts captures and deliveries for the overview: cheap reads by primary key once a tick, kept in memory (so
 * the chart starts empty when the agent starts), rather than scans of the event log on every push.
 */
class ThroughputSampler {
  readonly #db: AgentDatabase;
  #lastSeq: number;
  #lastAttemptId: number;
  readonly #buckets: ThroughputPoint[] = [];
  /** (time, seq) once a tick over the last minute, for the capture rate. */
  readonly #seqSamples: { at: number; seq: number }[] = [];

  constructor(db: AgentDatabase) {
    this.#db = db;
    this.#lastSeq = this.#maxSeq();
    this.#lastAttemptId = this.#maxAttemptId();
    // The rate counts from the start, so it is known after the first tick rather than the second.
    this.#seqSamples.push({ at: Date.now(), seq: this.#lastSeq });
  }

  #maxSeq(): number {
    return (this.#db.prepare('SELECT MAX(seq) AS n FROM events').get() as { n: number | null }).n ?? 0;
  }

  #maxAttemptId(): number {
    return (
      (this.#db.prepare('SELECT MAX(id) AS n FROM delivery_attempts').get() as { n: number | null }).n ?? 0
    );
  }

  sample(now: number): void {
    const seq = this.#maxSeq();
    const attemptId = this.#maxAttemptId();
    const delivered = this.#db
      .prepare(
        `SELECT destination_id AS d, COUNT(*) AS n FROM delivery_attempts
         WHERE id > ? AND id <= ? AND result IN ('delivered', 'already_applied') GROUP BY destination_id`,
      )
      .all(this.#lastAttemptId, attemptId) as { d: string; n: number }[];
    const t = Math.floor(now / 1000 / BUCKET_SECONDS) * BUCKET_SECONDS;
    let bucket = this.#buckets.at(-1);
    if (bucket?.t !== t) {
      bucket = { t, captured: 0, delivered: {} };
      this.#buckets.push(bucket);
      if (this.#buckets.length > BUCKETS) this.#buckets.shift();
    }
    bucket.captured += Math.max(0, seq - this.#lastSeq);
    for (const { d, n } of delivered) bucket.delivered[d] = (bucket.delivered[d] ?? 0) + n;
    this.#lastSeq = seq;
    this.#lastAttemptId = attemptId;
    this.#seqSamples.push({ at: now, seq });
    while (this.#seqSamples.length > 2 && now - this.#seqSamples[0]!.at > 60_000) this.#seqSamples.shift();
  }

  get points(): ThroughputPoint[] {
    return this.#buckets.map((b) => ({ ...b, delivered: { ...b.delivered } }));
  }

  get capturePerMinute(): number {
    const first = this.#seqSamples[0];
    const last = this.#seqSamples.at(-1);
    if (!first || !last || last.at - first.at < 500) return 0;
    return Math.round(((last.seq - first.seq) * 60_000) / (last.at - first.at));
  }
}

/**
 * What the UI needs from the agent (issue 5): operator login with a session cookie, the UI's RPC routes of
 * `shared/rpc.ts` that the older routes do not cover, the live stream, and the built UI itself at `/`.
 *
 * Sessions: the login form takes an operator's name and token; the answer sets an HttpOnly, SameSite=Strict
 * cookie, and requests that carry no bearer token act as that operator (an `onRequest` hook added after the
 * server's bearer hook). Cookie-authenticated writes must come from the agent's own origin.
 */
export function registerUiRoutes(app: FastifyInstance, deps: UiRouteDeps): void {
  const { db } = deps;
  const sessions = new SessionStore({ operators: deps.config.operators });
  const repos = { outbox: new OutboxRepo(db), exceptions: new ExceptionsRepo(db) };
  const sourceTokens = new SourceTokenRepo(db);
  const status = (): StatusResponse =>
    readStatus(
      db,
      deps.config,
      true,
      repos,
      new Map(deps.dispatchers.map((d) => [d.destinationId, d.state])),
    );

  app.addHook('onRequest', async (req, reply) => {
    if (req.principal !== null) return;
    // A bearer token the server did not know may be a POS source token created in the UI (hashed in the
    // database, revocable); the config file's tokens were matched before this hook.
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (bearer) {
      const sourceId = sourceTokens.sourceOf(bearer[1]!.trim());
      if (sourceId !== null) {
        req.principal = { kind: 'source', sourceId };
        return;
      }
    }
    const id = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (id === null) return;
    const operator = sessions.operatorOf(id);
    if (operator === null) return;
    // SameSite=Strict keeps other sites' requests cookie-less; checking Origin on writes also covers a page
    // that reached this port under another host name (DNS rebinding).
    const origin = req.headers.origin;
    if (req.method !== 'GET' && req.method !== 'HEAD' && origin !== undefined) {
      const host = req.headers.host;
      if (host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`)) {
        return sendError(reply, 'unauthorized', 'This request came from another site.');
      }
    }
    req.principal = { kind: 'operator', name: operator };
  });

  const handle: HandleRpc = (name, run, isPublic = false) => {
    const route = RPC[name];
    app.route({
      method: route.method,
      url: route.path,
      ...(isPublic ? {} : { onRequest: requireNamedOperator }),
      handler: async (req, reply) => {
        const raw = {
          ...((route.method === 'GET' ? req.query : (req.body ?? {})) as object),
          ...(req.params as object),
        };
        const parsed = route.input.safeParse(raw);
        if (!parsed.success) return sendBadInput(reply, parsed.error);
        return run(parsed.data as RpcParsed<typeof name>, req, reply);
      },
    });
  };

  // Sessions.
  const failedLogins = new Map<string, { count: number; since: number }>();
  handle(
    'session.login',
    (input, req, reply) => {
      const now = Date.now();
      const failures = failedLogins.get(req.ip);
      if (failures && now - failures.since > FAILED_LOGIN_WINDOW_MS) failedLogins.delete(req.ip);
      if ((failedLogins.get(req.ip)?.count ?? 0) >= MAX_FAILED_LOGINS) {
        return sendError(reply, 'unauthorized', 'Too many failed logins; wait five minutes and try again.');
      }
      const session = sessions.login(input.name, input.token);
      if (session === null) {
        const f = failedLogins.get(req.ip) ?? { count: 0, since: now };
        f.count += 1;
        failedLogins.set(req.ip, f);
        return sendError(reply, 'unauthorized', 'That name and password do not match an operator.');
      }
      failedLogins.delete(req.ip);
      void reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${sessions.maxAgeSeconds}`,
      );
      return { operator: session.operator };
    },
    true,
  );
  handle('session.me', (_input, req) => ({
    operator: req.principal?.kind === 'operator' ? req.principal.name : '',
  }));
  handle(
    'session.logout',
    (_input, req, reply) => {
      const id = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (id !== null) sessions.logout(id);
      void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return { ok: true };
    },
    true,
  );

  // Exceptions: pages for the virtualized table, a detail, and a bulk retry of a filtered selection.
  handle('exceptions.page', ({ offset, limit, ...filter }) => {
    const { sql, params } = whereOf(filter, Date.now());
    // Counting does use the status index (a covering scan); `+status` is for the ordered page only.
    const total = (
      db
        .prepare(`SELECT COUNT(*) AS n FROM exceptions ${sql.replace('+status', 'status')}`)
        .get(...params) as {
        n: number;
      }
    ).n;
    const rows = db
      .prepare(`SELECT ${EXCEPTION_COLUMNS} FROM exceptions ${sql} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as ExceptionRowSql[];
    return { total, offset, rows: rows.map(toView) };
  });

  handle('exceptions.detail', ({ id }, _req, reply) => {
    const row = db.prepare(`SELECT ${EXCEPTION_COLUMNS} FROM exceptions WHERE id = ?`).get(id) as
      ExceptionRowSql | undefined;
    if (!row) return sendError(reply, 'not_found', `No exception ${id}.`);
    const event =
      row.event_seq === null
        ? undefined
        : (db
            .prepare(
              'SELECT seq, source, event_id, type, location, received_at, body FROM events WHERE seq = ?',
            )
            .get(row.event_seq) as
            | {
                seq: number;
                source: string;
                event_id: string;
                type: string;
                location: string;
                received_at: number;
                body: string;
              }
            | undefined);
    const outbox =
      row.outbox_id === null
        ? undefined
        : (db
            .prepare(
              'SELECT id, destination_id, state, idempotency_key, attempts, last_error FROM outbox WHERE id = ?',
            )
            .get(row.outbox_id) as
            | {
                id: number;
                destination_id: string;
                state: OutboxState;
                idempotency_key: string;
                attempts: number;
                last_error: string | null;
              }
            | undefined);
    const attempts =
      row.outbox_id === null
        ? []
        : (db
            .prepare('SELECT id, at, result, detail FROM delivery_attempts WHERE outbox_id = ? ORDER BY id')
            .all(row.outbox_id) as { id: number; at: number; result: string; detail: string | null }[]);
    return {
      exception: { ...toView(row), details: JSON.parse(row.details) as Record<string, unknown> },
      event: event
        ? {
            seq: event.seq,
            source: event.source,
            eventId: event.event_id,
            type: event.type,
            location: event.location,
            receivedAt: event.received_at,
            body: JSON.parse(event.body) as Record<string, unknown>,
          }
        : null,
      outbox: outbox
        ? {
            id: outbox.id,
            destinationId: outbox.destination_id,
            state: outbox.state,
            idempotencyKey: outbox.idempotency_key,
            attempts: outbox.attempts,
            lastError: outbox.last_error,
          }
        : null,
      attempts,
    } satisfies ExceptionDetail;
  });

  handle('exceptions.retryMatching', ({ filter, reason }, req) => {
    // Only open exceptions are acted on, whatever status the screen shows.
    const { sql, params } = whereOf({ ...filter, status: 'open' }, Date.now());
    const ids = (
      db
        .prepare(
          `SELECT DISTINCT json_extract(details, '$.outboxId') AS id FROM exceptions ${sql}
           AND json_extract(details, '$.outboxId') IS NOT NULL`,
        )
        .all(...params) as { id: number }[]
    ).map((r) => r.id);
    const actor = {
      operator: req.principal?.kind === 'operator' ? req.principal.name : '',
      reason: reason === undefined || reason === '' ? 'bulk retry of a filtered selection' : reason,
    };
    let changed = 0;
    let skipped = 0;
    for (let i = 0; i < ids.length; i += 1000) {
      const result = deps.operations.retry(ids.slice(i, i + 1000), actor);
      changed += result.changed.length;
      skipped += result.skipped.length;
    }
    return { matched: ids.length, changed, skipped };
  });

  // Stock: one item by SKU or barcode, its levels and its ledger history with the source events.
  handle('stock.item', ({ q }) => {
    const item = db
      .prepare('SELECT sku, name, barcode FROM items WHERE sku = ? OR barcode = ? LIMIT 1')
      .get(q, q) as { sku: string; name: string | null; barcode: string | null } | undefined;
    const sku = item?.sku ?? q;
    const levels: StockLevel[] = deps.stock.levels({ sku });
    const movements = (
      db
        .prepare(
          `SELECT m.id, m.event_seq, m.location, m.delta, m.on_hand_after, e.type, e.event_id, e.source,
                  json_extract(e.body, '$.reference') AS reference, e.received_at
           FROM movements m JOIN events e ON e.seq = m.event_seq
           WHERE m.sku = ? ORDER BY m.id DESC LIMIT 200`,
        )
        .all(sku) as {
        id: number;
        event_seq: number;
        location: string;
        delta: number;
        on_hand_after: number;
        type: string;
        event_id: string;
        source: string;
        reference: string | null;
        received_at: number;
      }[]
    ).map((m): MovementView => ({
      id: m.id,
      eventSeq: m.event_seq,
      location: m.location,
      delta: m.delta,
      onHandAfter: m.on_hand_after,
      type: m.type,
      eventId: m.event_id,
      source: m.source,
      reference: m.reference,
      receivedAt: m.received_at,
    }));
    const reservations = (
      db
        .prepare(
          `SELECT r.channel, r.order_id, r.location, r.qty, e.received_at,
                  json_extract(e.body, '$.meta.order') AS order_name
           FROM reservations r LEFT JOIN events e ON e.seq = r.opened_seq
           WHERE r.sku = ? AND r.state = 'open' ORDER BY r.opened_seq LIMIT 200`,
        )
        .all(sku) as {
        channel: string;
        order_id: string;
        location: string;
        qty: number;
        received_at: number | null;
        order_name: unknown;
      }[]
    ).map((r): ReservationView => ({
      // Orders pulled from a marketplace are captured under `orders:<destination>`: the destination names it.
      channel: r.channel.startsWith('orders:') ? r.channel.slice('orders:'.length) : r.channel,
      orderId: r.order_id,
      orderName: typeof r.order_name === 'string' && r.order_name !== r.order_id ? r.order_name : null,
      location: r.location,
      qty: r.qty,
      since: r.received_at,
    }));
    const isKnown = item !== undefined || levels.length > 0 || movements.length > 0;
    return {
      sku: isKnown ? sku : null,
      name: item?.name ?? null,
      barcode: item?.barcode ?? null,
      levels,
      reservations,
      movements,
    } satisfies StockItemView;
  });

  registerAdminRoutes(handle, {
    db,
    config: deps.config,
    dispatchers: deps.dispatchers,
    sourceTokens,
    ...deps.admin,
  });
  registerLiveStream(app, deps, sessions, status);
  registerStaticUi(app, deps.uiDir ?? defaultUiDir());
}

/**
 * The live stream: server-sent events rather than polling, because one open response per window costs the agent
 * one snapshot per tick for all viewers (computed once, written to each), changes arrive within a tick, and
 * `EventSource` reconnects by itself after an agent restart. A snapshot goes out when something changed and at
 * least every 2 s (the ages in it move on).
 */
function registerLiveStream(
  app: FastifyInstance,
  deps: UiRouteDeps,
  sessions: SessionStore,
  status: () => StatusResponse,
): void {
  const sampler = new ThroughputSampler(deps.db);
  const clients = new Map<ServerResponse, string | null>();
  let lastKey = '';
  let lastPushAt = 0;

  const snapshot = (): LiveSnapshot => {
    const s = status();
    const waiting = deps.db
      .prepare(`SELECT COUNT(*) AS n FROM outbox WHERE state IN ('rejected', 'dead')`)
      .get() as { n: number };
    return {
      at: Date.now(),
      status: s,
      captureRatePerMinute: sampler.capturePerMinute,
      bucketSeconds: BUCKET_SECONDS,
      throughput: sampler.points,
      waitingForPerson: waiting.n,
    };
  };
  const write = (res: ServerResponse, data: LiveSnapshot) => {
    res.write(`event: snapshot\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const tick = () => {
    const now = Date.now();
    try {
      sampler.sample(now);
      if (clients.size === 0) return;
      const data = snapshot();
      const key = JSON.stringify([
        data.status.lastSeq,
        data.status.destinations.map((d) => [d.state, d.pending, d.lastDeliveryAt]),
        data.status.openExceptions,
        data.waitingForPerson,
      ]);
      if (key === lastKey && now - lastPushAt < 2000) return;
      lastKey = key;
      lastPushAt = now;
      for (const [res, sessionId] of clients) {
        // A stream opened with a session ends with it (logout, expiry).
        if (sessionId !== null && sessions.operatorOf(sessionId) === null) {
          res.end();
          clients.delete(res);
          continue;
        }
        write(res, data);
      }
    } catch (error) {
      app.log.error({ err: error }, 'live snapshot failed');
    }
  };
  const timer = setInterval(tick, deps.tickMs ?? 1000);
  timer.unref();

  app.get(EVENT_STREAM_PATH, { onRequest: requireNamedOperator }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    const hasBearer = req.headers.authorization !== undefined;
    clients.set(res, hasBearer ? null : readCookie(req.headers.cookie, SESSION_COOKIE));
    write(res, snapshot());
    // The response's close (not the request's, which closes once its empty body is read) means the viewer left.
    res.on('close', () => clients.delete(res));
  });

  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => {
    clearInterval(timer);
    for (const res of clients.keys()) res.end();
    clients.clear();
  });
}

/**
 * The built UI at `/`: files from `uiDir` (only inside it), `index.html` for any other page path (the UI routes
 * itself), hashed assets cached for a year. A tiny handler instead of @fastify/static: the UI is a handful of
 * files on loopback, and this is the whole of what we need.
 */
function registerStaticUi(app: FastifyInstance, uiDir: string): void {
  const root = resolve(uiDir);
  const security = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
  };

  const sendFile = async (reply: FastifyReply, file: string) => {
    const body = await readFile(file);
    const ext = extname(file);
    return reply
      .headers(security)
      .header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream')
      .header(
        'cache-control',
        file.startsWith(resolve(root, 'assets') + sep) ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      .send(body);
  };
  const isFile = async (file: string) => {
    try {
      return (await stat(file)).isFile();
    } catch {
      return false;
    }
  };

  app.get('/*', async (req, reply) => {
    const path = decodeURIComponent(req.url.split('?')[0] ?? '/');
    if (path.startsWith('/api/')) return sendError(reply, 'not_found', `No route GET ${req.url}.`);
    const index = resolve(root, 'index.html');
    if (!(await isFile(index))) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The UI is not built. Run `npm run build:ui`, then reload.');
    }
    const file = resolve(root, `.${path}`);
    if (file.startsWith(root + sep) && (await isFile(file))) return sendFile(reply, file);
    // A page path (no extension) is the UI's; a missing asset is a 404.
    if (extname(path) === '') return sendFile(reply, index);
    return sendError(reply, 'not_found', `No file ${path}.`);
  });
}

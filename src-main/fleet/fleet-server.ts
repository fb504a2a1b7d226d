import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasRole, type OperatorRole } from '../../shared/operator-roles.js';
import type { Logger } from '../platform/logger.js';
import { VERSION } from '../platform/version.js';
import { bearerOf } from '../server/auth.js';
import { readCookie, SESSION_COOKIE, SessionStore } from '../server/session.js';
import { CLEARED_SESSION_COOKIE, LoginThrottle, sessionCookie } from '../server/session-login.js';
import type { ResolvedFleetConfig } from './fleet-config-loader.js';
import type { FleetMetrics } from './fleet-metrics.js';
import { fleetPage, loginPage, rejectedPage, storePage } from './fleet-pages.js';
import { STORE_SORTS, type FleetViews, type StoreQuery, type StoreSort } from './fleet-views.js';

export type FleetServerOptions = Readonly<{
  config: ResolvedFleetConfig;
  views: FleetViews;
  metrics: FleetMetrics;
  logger: Logger;
}>;

type Operator = Readonly<{ name: string; role: OperatorRole }>;

/**
 * The fleet service's HTTP server: the fleet view (server-rendered pages: the stores table, a store's page,
 * refused messages), its JSON API and `/metrics`. Login and roles as in the store UI: an operator's name and
 * token open a session (an HttpOnly cookie; ten failed logins from an address make it wait five minutes), or a
 * script sends the token as a bearer. Every role sees the stores; refused messages (their bodies may hold
 * anything) need a manager.
 */
export function createFleetServer(options: FleetServerOptions): FastifyInstance {
  const { config, views, metrics } = options;
  const app = Fastify({ logger: false });
  const sessions = new SessionStore({ operators: config.operators });
  const throttle = new LoginThrottle();
  const roles = new Map(config.operators.map((o) => [o.name, o.role]));
  const tokens = config.operators.map((o) => ({ name: o.name, hash: digest(o.token) }));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const operatorOf = (request: FastifyRequest): Operator | null => {
    const bearer = bearerOf(request);
    if (bearer !== null) {
      const hash = digest(bearer);
      let match: string | null = null;
      for (const t of tokens) if (timingSafeEqual(t.hash, hash)) match = t.name;
      return match === null ? null : { name: match, role: roles.get(match) ?? 'clerk' };
    }
    const session = readCookie(request.headers.cookie, SESSION_COOKIE);
    const name = session === null ? null : sessions.operatorOf(session);
    return name === null ? null : { name, role: roles.get(name) ?? 'clerk' };
  };
  /** The operator, or null after answering: a page redirects to the login, an API call gets 401 or 403. */
  const require = (request: FastifyRequest, reply: FastifyReply, role: OperatorRole, isPage: boolean) => {
    const operator = operatorOf(request);
    if (operator === null) {
      if (isPage) void reply.redirect(`/login?next=${encodeURIComponent(request.url)}`);
      else
        void reply
          .code(401)
          .send({ type: 'error', reason: 'unauthorized', message: 'log in or send an operator token' });
      return null;
    }
    if (!hasRole(operator.role, role)) {
      void reply
        .code(403)
        .type(isPage ? 'text/html' : 'application/json')
        .send(
          isPage
            ? `<p>This page needs the role ${role}.</p>`
            : { type: 'error', reason: 'forbidden', message: `needs the role ${role}` },
        );
      return null;
    }
    return operator;
  };

  app.get('/api/v1/health', async () => ({ status: 'ok', version: VERSION }));
  app.get('/metrics', async (request, reply) => {
    if (require(request, reply, 'clerk', false) === null) return reply;
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/login', async (request, reply) => {
    const next = (request.query as Record<string, string | undefined>).next ?? '/';
    return reply.type('text/html').send(loginPage(safeNext(next), null));
  });
  app.post('/login', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    const next = safeNext(body.next ?? '/');
    const now = Date.now();
    if (throttle.isBlocked(request.ip, now))
      return reply
        .code(429)
        .type('text/html')
        .send(loginPage(next, 'Too many failed logins: wait five minutes.'));
    const session = sessions.login(body.name ?? '', body.token ?? '');
    if (session === null) {
      throttle.recordFailure(request.ip, now);
      return reply.code(401).type('text/html').send(loginPage(next, 'Wrong name or token.'));
    }
    throttle.recordSuccess(request.ip);
    return reply.header('set-cookie', sessionCookie(session.id, sessions.maxAgeSeconds)).redirect(next, 303);
  });
  app.post('/logout', async (request, reply) => {
    const session = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (session !== null) sessions.logout(session);
    return reply.header('set-cookie', CLEARED_SESSION_COOKIE).redirect('/login', 303);
  });

  app.get('/', async (request, reply) => {
    const operator = require(request, reply, 'clerk', true);
    if (operator === null) return reply;
    const query = storeQuery(request.query as Record<string, string | undefined>);
    const [stores, versions] = await Promise.all([views.stores(query), views.versions()]);
    return reply.type('text/html').send(
      fleetPage({
        stores,
        versions,
        query,
        staleSeconds: views.staleSeconds,
        operator,
        mayInspect: hasRole(operator.role, 'manager'),
      }),
    );
  });
  app.get('/stores/:id', async (request, reply) => {
    const operator = require(request, reply, 'clerk', true);
    if (operator === null) return reply;
    const store = await views.store((request.params as { id: string }).id);
    if (store === null)
      return reply.code(404).type('text/html').send('<p>No such store.</p><p><a href="/">All stores</a></p>');
    return reply.type('text/html').send(storePage(store, operator));
  });
  app.get('/rejected', async (request, reply) => {
    const operator = require(request, reply, 'manager', true);
    if (operator === null) return reply;
    return reply.type('text/html').send(rejectedPage(await views.rejected(), operator));
  });

  app.get('/api/v1/fleet/stores', async (request, reply) => {
    if (require(request, reply, 'clerk', false) === null) return reply;
    const query = storeQuery(request.query as Record<string, string | undefined>);
    return { stores: await views.stores(query), versions: await views.versions() };
  });
  app.get('/api/v1/fleet/stores/:id', async (request, reply) => {
    if (require(request, reply, 'clerk', false) === null) return reply;
    const store = await views.store((request.params as { id: string }).id);
    if (store === null)
      return reply.code(404).send({ type: 'error', reason: 'not_found', message: 'no such store' });
    return store;
  });
  return app;
}

/** The table's query from the URL: `sort` (one of STORE_SORTS), `dir` (asc, desc), `q`, `version`, `state`, `stale`. */
export function storeQuery(q: Record<string, string | undefined>): StoreQuery {
  const sort = (STORE_SORTS as readonly string[]).includes(q.sort ?? '') ? (q.sort as StoreSort) : 'state';
  return {
    sort,
    isDescending: q.dir === undefined ? sort !== 'name' && sort !== 'version' : q.dir === 'desc',
    ...(q.q ? { text: q.q.slice(0, 100) } : {}),
    ...(q.version ? { version: q.version.slice(0, 64) } : {}),
    ...(q.state ? { state: q.state.slice(0, 32) } : {}),
    ...(q.stale === '1' ? { isStaleOnly: true } : {}),
  };
}

/** Only a path of this site (never another host) after login. */
function safeNext(next: string): string {
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

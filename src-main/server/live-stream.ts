import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { StatusResponse } from '../../shared/api.js';
import { EVENT_STREAM_PATH } from '../../shared/rpc.js';
import { type LiveSnapshot } from '../../shared/rpc-views.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { itemsWaitingForPerson } from '../outbox/outbox-views.js';
import { guard } from './auth.js';
import { readCookie, SESSION_COOKIE, type SessionStore } from './session.js';
import { BUCKET_SECONDS, ThroughputSampler } from './throughput-sampler.js';

export type LiveStreamOptions = Readonly<{
  db: AgentDatabase;
  sessions: SessionStore;
  status: () => StatusResponse;
  /** How often the stream samples the agent, in ms. Default 1000; a snapshot goes out at least every 2 s. */
  tickMs?: number;
}>;

/**
 * The live stream (`shared/rpc.ts`'s `PushedEvents`): server-sent events rather than polling, because one open
 * response per window costs the agent one snapshot per tick for all viewers (computed once, written to each),
 * changes arrive within a tick, and `EventSource` reconnects by itself after an agent restart. A snapshot goes
 * out when something changed and at least every 2 s (the ages in it move on).
 */
export function registerLiveStream(app: FastifyInstance, options: LiveStreamOptions): void {
  const { db, sessions, status } = options;
  const sampler = new ThroughputSampler(db);
  const clients = new Map<ServerResponse, string | null>();
  let lastKey = '';
  let lastPushAt = 0;

  const snapshot = (): LiveSnapshot => ({
    at: Date.now(),
    status: status(),
    captureRatePerMinute: sampler.capturePerMinute,
    bucketSeconds: BUCKET_SECONDS,
    throughput: sampler.points,
    waitingForPerson: itemsWaitingForPerson(db),
  });
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
  const timer = setInterval(tick, options.tickMs ?? 1000);
  timer.unref();

  app.get(EVENT_STREAM_PATH, { onRequest: guard('operator') }, (req, reply) => {
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

import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import {
  AuthorizationError,
  ClosedConnectionError,
  connect,
  credsAuthenticator,
  DrainingConnectionError,
  headers,
  InvalidArgumentError,
  InvalidSubjectError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
  type Msg,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { z } from 'zod';
import type { ResolvedDestination } from '../../../shared/config.js';
import type { PosEvent } from '../../../shared/events.js';
import type { Logger } from '../../platform/logger.js';
import type { DeliveryResult, LedgerItem, SendOutcome } from '../port/connector.js';
import type { ConnectorBundle, ProbeResult } from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';

export type NatsConfig = Extract<ResolvedDestination, { type: 'nats' }>;

/**
 * The JSON body of every message: the event as it was captured, plus where it comes from. `idempotencyKey`
 * (`<agentId>:<source>:<event id>`) is also the `Nats-Msg-Id` header; `seq` is the agent's capture order.
 */
export type FleetMessage = PosEvent &
  Readonly<{ agentId: string; source: string; seq: number; idempotencyKey: string }>;

/** A clean stop waits this long for unacknowledged publishes to flush before it closes the connection. */
const DRAIN_TIMEOUT_MS = 5000;

/**
 * One subject token from an identifier: letters, digits, `-` and `_` stay as they are; every other character
 * (a `.` would split the token, `*` and `>` are wildcards, spaces are not allowed) becomes `%XX` of its UTF-8
 * bytes, so `decodeURIComponent` gives the identifier back. `S1` stays `S1`; `Main St.` becomes `Main%20St%2E`.
 */
export function subjectToken(value: string): string {
  return encodeURIComponent(value).replace(
    /[.!~*'()]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The subject an event of `agentId` at `location` is published to: `<prefix>.<agentId>.<location>`. */
export function natsSubject(prefix: string, agentId: string, location: string): string {
  return `${prefix}.${subjectToken(agentId)}.${subjectToken(location)}`;
}

/** Whether a stream subject filter (with `*` and `>` wildcards) takes `subject`. */
export function subjectMatches(filter: string, subject: string): boolean {
  const want = filter.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i += 1) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length) return false;
    if (want[i] !== '*' && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}

/** The `nats stream add` command that creates the stream this destination needs (README has the why). */
export function streamAddCommand(config: Pick<NatsConfig, 'stream' | 'subject'>): string {
  return (
    `nats stream add ${config.stream} --subjects '${config.subject}.>' --storage file --retention limits ` +
    `--discard old --max-age 90d --dupe-window 2m --replicas 3 --defaults`
  );
}

/** JetStream's answer to a publish: a PubAck, or an API error (which also carries `stream`). */
const pubAckSchema = z.union([
  z.object({
    error: z.object({ code: z.number(), err_code: z.number().optional(), description: z.string() }),
    stream: z.string().optional(),
  }),
  z.object({ stream: z.string(), seq: z.number(), duplicate: z.boolean().optional() }),
]);

/** A publish nobody answered: the subject has no stream, which `send` then looks into once per batch. */
type NoResponders = { kind: 'no_responders' };
type PublishOutcome = DeliveryResult | NoResponders;

/**
 * The fleet broker destination (NATS JetStream), ledger mode: each event is published to
 * `<subject>.<agentId>.<location>` as JSON (`FleetMessage`) with `Nats-Msg-Id` = the item's idempotency key and
 * `Nats-Expected-Stream` = the configured stream, so the server stores it only in that stream.
 *
 * Exactly-once effect: JetStream drops a message whose `Nats-Msg-Id` it stored within the stream's duplicate
 * window (2 minutes by default) and answers `duplicate: true` (→ `already_applied`); every retry reuses the key.
 * A store that resends after a longer gap produces a second copy, so the central consumer dedupes too
 * (`reference-consumer.ts`, README.md).
 *
 * A lane's batch is published pipelined and the acknowledgements are read in order:
 * - PubAck → `delivered`; PubAck `duplicate: true` → `already_applied`;
 * - the connection is down, or cannot be made → `retry` (nothing was published);
 * - no acknowledgement within `ackTimeoutMs` after publishing → `unknown` (a retry dedupes in the window);
 * - no responders: the stream is looked up once; missing, or not taking the subject → `misconfigured` (the
 *   destination pauses with one exception naming the `nats stream add` / `nats stream edit` fix); JetStream not
 *   enabled → `misconfigured`; otherwise `retry`;
 * - a JetStream error: 5xx → `retry`; the subject stored by another stream → `misconfigured`; another (too
 *   large) → `rejected`;
 * - credentials refused or publishing not permitted → `auth_failed`.
 *
 * The connection is made on the first send and then kept, reconnecting by itself; `close()` drains it.
 */
export function createNatsConnector(config: NatsConfig, context: ConnectorContext): ConnectorBundle {
  const link = new NatsLink(config, context.agentId, context.logger);
  return {
    connector: {
      mode: 'ledger',
      maxBatch: config.batchSize,
      send: (items, signal) => link.send(items, signal),
    },
    probe: () => link.probe(),
    close: () => link.close(),
  };
}

/** One lazily made, self-reconnecting connection to the fleet broker, and the publishing over it. */
class NatsLink {
  readonly #config: NatsConfig;
  readonly #agentId: string;
  readonly #log: Logger;
  readonly #options: NodeConnectionOptions;
  #connection: NatsConnection | null = null;
  #connecting: Promise<NatsConnection> | null = null;
  /** False while the client reconnects: publishes would be buffered and sent later, so none are made. */
  #isConnected = false;
  #isClosed = false;

  constructor(config: NatsConfig, agentId: string, logger: Logger) {
    this.#config = config;
    this.#agentId = agentId;
    this.#log = logger.child({ module: 'nats' });
    this.#options = connectionOptions(config, agentId);
  }

  async send(items: readonly LedgerItem[], signal: AbortSignal): Promise<SendOutcome> {
    const all = (result: DeliveryResult): SendOutcome => ({ results: items.map(() => result) });
    if (this.#isClosed)
      return all({ kind: 'retry', detail: 'the NATS connector is closed (the agent is stopping)' });
    let nc: NatsConnection;
    try {
      nc = await this.#connect();
    } catch (error) {
      return all(connectFailure(error, this.#config));
    }
    if (signal.aborted) return all({ kind: 'retry', detail: 'the send was cancelled before publishing' });
    if (!this.#isConnected || nc.isClosed())
      return all({
        kind: 'retry',
        detail: `the connection to NATS (${this.#config.servers.join(', ')}) is down; reconnecting, nothing was published`,
      });

    // Every request is written before the first acknowledgement is awaited: one round trip for the batch.
    const pending = items.map((item) => this.#publish(nc, item));
    const outcomes: PublishOutcome[] = [];
    const abort = abortedPromise(signal);
    try {
      for (const publish of pending) {
        const outcome = await Promise.race([publish, abort.promise]);
        if (outcome === ABORTED) break;
        outcomes.push(outcome);
      }
    } finally {
      abort.dispose();
    }
    // Cut off (stop or the engine's timeout) while acknowledgements were outstanding: they were published.
    while (outcomes.length < items.length)
      outcomes.push({
        kind: 'unknown',
        detail: 'the send was cut off before JetStream acknowledged it; the retry reuses Nats-Msg-Id',
      });

    let diagnosis: DeliveryResult | null = null;
    const results: DeliveryResult[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.kind !== 'no_responders') {
        results.push(outcome);
        continue;
      }
      diagnosis ??= await this.#diagnoseNoResponders(nc, this.#subject(items[i]!));
      results.push(diagnosis);
    }
    return { results };
  }

  /**
   * The connection test: connects (or uses the connection there is) and reads the stream's info, which says
   * whether it exists and takes this agent's subjects. Publishes nothing. The NATS client takes no signal: its
   * connect and request timeouts bound it.
   */
  async probe(): Promise<ProbeResult> {
    const { servers, stream } = this.#config;
    if (this.#isClosed)
      return {
        ok: false,
        reason: 'unreachable',
        detail: 'the NATS connector is closed (the agent is stopping)',
      };
    let nc: NatsConnection;
    try {
      nc = await this.#connect();
    } catch (error) {
      if (error instanceof AuthorizationError || error instanceof UserAuthenticationExpiredError)
        return { ok: false, reason: 'auth_failed', detail: `NATS refused the credentials: ${error.message}` };
      return {
        ok: false,
        reason: 'unreachable',
        detail: `cannot reach NATS (${servers.join(', ')}): ${(error as Error).message}${tlsHint(error, this.#config)}`,
      };
    }
    if (!this.#isConnected || nc.isClosed())
      return {
        ok: false,
        reason: 'unreachable',
        detail: `the connection to NATS (${servers.join(', ')}) is down; the client is reconnecting`,
      };
    const server = `connected to NATS at ${nc.getServer()}`;
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: this.#config.ackTimeoutMs });
      const info = await jsm.streams.info(stream);
      const subjects = info.config.subjects ?? [];
      const sample = natsSubject(this.#config.subject, this.#agentId, 'S1');
      if (!subjects.some((filter) => subjectMatches(filter, sample)))
        return {
          ok: false,
          reason: 'rejected',
          detail:
            `${server}, but stream "${stream}" does not take ${this.#config.subject}.> (its subjects: ${subjects.join(', ') || 'none'}). ` +
            `Add it: nats stream edit ${stream} --subjects ...`,
        };
      return {
        ok: true,
        detail: `${server}; stream "${stream}" takes ${subjects.join(', ')} and holds ${info.state.messages} message(s)`,
      };
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === (JetStreamApiCodes.StreamNotFound as number))
        return {
          ok: false,
          reason: 'rejected',
          detail:
            `${server}, but stream "${stream}" does not exist, so nothing can be stored. Create it once on the ` +
            `central NATS system (src-main/connectors/nats/README.md): ${streamAddCommand(this.#config)}`,
        };
      if (error instanceof Error && error.name === 'JetStreamNotEnabled')
        return {
          ok: false,
          reason: 'rejected',
          detail: `${server}, but JetStream is not enabled for this account; enable it and create stream "${stream}"`,
        };
      if (error instanceof PermissionViolationError)
        // Publishing may be all this user is allowed: reaching the server with its credentials is what is known.
        return {
          ok: true,
          detail: `${server} with the credentials accepted; this user may not read stream info, so stream "${stream}" was not checked (${error.message})`,
        };
      return {
        ok: false,
        reason: 'unreachable',
        detail: `${server}, but reading stream "${stream}" failed: ${(error as Error).message}`,
      };
    }
  }

  /** Drains the connection (pending acknowledgements flush) within a bound, then closes it. */
  async close(): Promise<void> {
    this.#isClosed = true;
    const nc = this.#connection ?? (await this.#connecting?.catch(() => null)) ?? null;
    if (nc === null || nc.isClosed()) return;
    // While reconnecting there is nothing to flush (nothing is published then), and a drain would wait.
    if (!this.#isConnected) return nc.close();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        nc.drain(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      this.#log.warn({ err: error }, 'draining the NATS connection failed');
    } finally {
      clearTimeout(timer);
    }
    if (!nc.isClosed()) await nc.close();
  }

  #subject(item: LedgerItem): string {
    return natsSubject(this.#config.subject, this.#agentId, item.event.location);
  }

  /** The connection, made on first use; concurrent lanes share one attempt. */
  #connect(): Promise<NatsConnection> {
    if (this.#connection !== null && !this.#connection.isClosed()) return Promise.resolve(this.#connection);
    this.#connecting ??= connect(this.#options)
      .then((nc) => {
        this.#connection = nc;
        this.#isConnected = true;
        this.#log.info({ server: nc.getServer() }, 'connected to NATS');
        runInBackground(this.#watch(nc), 'watching the NATS connection', this.#log);
        return nc;
      })
      .finally(() => {
        this.#connecting = null;
      });
    return this.#connecting;
  }

  /** Follows the client's connection state until it closes, so sends never publish into its reconnect buffer. */
  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      switch (status.type) {
        case 'disconnect':
          this.#isConnected = false;
          this.#log.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
          break;
        case 'reconnect':
          this.#isConnected = true;
          this.#log.info({ server: status.server }, 'reconnected to NATS');
          break;
        case 'error':
          this.#log.warn({ err: status.error }, 'NATS reported an error');
          break;
        case 'staleConnection':
          this.#log.warn('the NATS connection went stale (no pong); reconnecting');
          break;
        case 'close':
        case 'forceReconnect':
        case 'ldm':
        case 'ping':
        case 'reconnecting':
        case 'slowConsumer':
        case 'update':
          break;
      }
    }
    const error = await nc.closed();
    this.#isConnected = false;
    if (this.#connection === nc) this.#connection = null;
    if (error && !this.#isClosed)
      this.#log.warn({ err: error }, 'the NATS connection closed; the next send reconnects');
  }

  /** Publishes one item and reads its acknowledgement; never throws. */
  async #publish(nc: NatsConnection, item: LedgerItem): Promise<PublishOutcome> {
    const subject = this.#subject(item);
    const message: FleetMessage = {
      ...item.event,
      agentId: this.#agentId,
      source: item.source,
      seq: item.seq,
      idempotencyKey: item.idempotencyKey,
    };
    const h = headers();
    h.set('Nats-Msg-Id', item.idempotencyKey);
    h.set('Nats-Expected-Stream', this.#config.stream);
    let reply: Msg;
    try {
      reply = await nc.request(subject, JSON.stringify(message), {
        headers: h,
        timeout: this.#config.ackTimeoutMs,
      });
    } catch (error) {
      return this.#requestFailure(error, subject);
    }
    return this.#pubAck(reply, subject);
  }

  #requestFailure(error: unknown, subject: string): PublishOutcome {
    if (error instanceof RequestError && error.isNoResponders()) return { kind: 'no_responders' };
    if (error instanceof TimeoutError)
      return {
        kind: 'unknown',
        detail: `JetStream did not acknowledge within ${this.#config.ackTimeoutMs} ms; it may be stored, and the retry reuses Nats-Msg-Id`,
      };
    if (error instanceof PermissionViolationError)
      return {
        kind: 'auth_failed',
        detail: `NATS does not permit publishing to ${subject}: ${error.message}`,
      };
    // Thrown before anything was written.
    if (error instanceof ClosedConnectionError || error instanceof DrainingConnectionError)
      return { kind: 'retry', detail: `the NATS connection closed before publishing (${error.message})` };
    if (error instanceof InvalidArgumentError || error instanceof InvalidSubjectError)
      return { kind: 'rejected', detail: `NATS cannot take this event on ${subject}: ${error.message}` };
    // Anything else happened after the request may have been written.
    return { kind: 'unknown', detail: `publishing to ${subject} failed: ${(error as Error).message}` };
  }

  #pubAck(reply: Msg, subject: string): DeliveryResult {
    let parsed: z.output<typeof pubAckSchema>;
    try {
      parsed = pubAckSchema.parse(reply.json());
    } catch {
      return {
        kind: 'rejected',
        detail: `something other than JetStream answered on ${subject} (${reply.string().slice(0, 200)}); check that stream "${this.#config.stream}" takes this subject`,
      };
    }
    if ('error' in parsed) {
      const { code, err_code: errCode, description } = parsed.error;
      if (errCode === 10060)
        return {
          kind: 'misconfigured',
          detail: `${subject} is stored by stream "${parsed.stream ?? '?'}", not by "${this.#config.stream}" (${description}); point the destination's "stream" at the right one`,
        };
      if (code >= 500) return { kind: 'retry', detail: `JetStream could not store it now: ${description}` };
      return {
        kind: 'rejected',
        detail: `JetStream refused it: ${description} (code ${code}/${errCode ?? '-'})`,
      };
    }
    return parsed.duplicate === true ? { kind: 'already_applied' } : { kind: 'delivered' };
  }

  /** Nobody answered a publish: find out, once per batch, whether the stream is missing or misconfigured. */
  async #diagnoseNoResponders(nc: NatsConnection, subject: string): Promise<DeliveryResult> {
    const { stream } = this.#config;
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: this.#config.ackTimeoutMs });
      const info = await jsm.streams.info(stream);
      const subjects = info.config.subjects ?? [];
      if (!subjects.some((filter) => subjectMatches(filter, subject)))
        return {
          kind: 'misconfigured',
          detail:
            `NATS stream "${stream}" does not take ${subject} (its subjects: ${subjects.join(', ') || 'none'}). ` +
            `Add "${this.#config.subject}.>" to it (nats stream edit ${stream} --subjects ...), then resume the destination.`,
        };
      return { kind: 'retry', detail: `nobody answered on ${subject} although stream "${stream}" takes it` };
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === (JetStreamApiCodes.StreamNotFound as number))
        return {
          kind: 'misconfigured',
          detail:
            `NATS stream "${stream}" does not exist, so nothing was stored. Create it once on the central NATS ` +
            `system (src-main/connectors/nats/README.md): ${streamAddCommand(this.#config)} — then resume the destination.`,
        };
      if (error instanceof Error && error.name === 'JetStreamNotEnabled')
        return {
          kind: 'misconfigured',
          detail: `JetStream is not enabled for this account on NATS (${this.#config.servers.join(', ')}); enable it (nats-server -js, or the account's JetStream limits), create stream "${stream}", then resume the destination.`,
        };
      return {
        kind: 'retry',
        detail: `nobody answered on ${subject}, and looking up stream "${stream}" failed: ${(error as Error).message}`,
      };
    }
  }
}

/** The client options: reconnect forever, find a dead link within a minute, and authenticate as configured. */
function connectionOptions(config: NatsConfig, agentId: string): NodeConnectionOptions {
  const options: NodeConnectionOptions = {
    servers: config.servers,
    name: `backroom ${agentId} (${config.id})`,
    timeout: config.connectTimeoutMs,
    // The first connection fails fast (the send is retried by the engine); after it, the client reconnects.
    waitOnFirstConnect: false,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 2000,
    pingInterval: 20_000,
    maxPingOut: 3,
  };
  // The loader reads { env } and { file } secrets of the keys it knows; refuse one it did not read.
  const secret = (key: 'password' | 'token' | 'credentials'): string | undefined => {
    const value: unknown = config[key];
    if (value === undefined || typeof value === 'string') return value;
    throw new Error(`destinations.${config.id}.${key}: this secret was not read from its env or file`);
  };
  if (config.user !== undefined) {
    options.user = config.user;
    options.pass = secret('password');
  }
  const token = secret('token');
  if (token !== undefined) options.token = token;
  const credentials = secret('credentials');
  if (credentials !== undefined)
    options.authenticator = credsAuthenticator(new TextEncoder().encode(credentials));
  if (config.tls !== undefined) {
    const { ca, cert, key, handshakeFirst } = config.tls;
    options.tls = {
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(handshakeFirst ? { handshakeFirst } : {}),
    };
  }
  return options;
}

function connectFailure(error: unknown, config: NatsConfig): DeliveryResult {
  if (error instanceof AuthorizationError || error instanceof UserAuthenticationExpiredError)
    return { kind: 'auth_failed', detail: `NATS refused the credentials: ${error.message}` };
  return {
    kind: 'retry',
    detail: `cannot reach NATS (${config.servers.join(', ')}): ${(error as Error).message}${tlsHint(error, config)}; nothing was published`,
  };
}

/**
 * What to check when a connection failed over TLS: a certificate the client does not trust wants `tls.ca`; a
 * server that drops the connection at once may be asking for a client certificate. '' when neither applies.
 */
export function tlsHint(error: unknown, config: Pick<NatsConfig, 'servers' | 'tls'>): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/certificate|self[- ]signed|CERT_|unable to verify/i.test(message))
    return config.tls?.ca === undefined
      ? " (the server's certificate is not trusted: set tls.ca to the PEM of the CA that signed it)"
      : " (the server's certificate was not signed by the CA in tls.ca, or does not name this server)";
  const isTls = config.tls !== undefined || config.servers.some((s) => s.startsWith('tls://'));
  if (isTls && config.tls?.cert === undefined && /timeout|closed|reset|ECONNRESET/i.test(message))
    return ' (if the server verifies client certificates, set tls.cert and tls.key)';
  return '';
}

const ABORTED = Symbol('aborted');

/** A promise that resolves when `signal` aborts, and a way to stop listening. */
function abortedPromise(signal: AbortSignal): { promise: Promise<typeof ABORTED>; dispose: () => void } {
  let onAbort = () => {};
  const promise = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** A deliberate fire-and-forget: its failure is logged, never unhandled. */
function runInBackground(work: Promise<unknown>, what: string, log: Logger): void {
  work.catch((error: unknown) => log.error({ err: error }, `${what} failed`));
}

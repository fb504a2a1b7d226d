import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { ResolvedDestination } from '../../../shared/config.js';
import type { Logger } from '../../platform/logger.js';

export type NatsConfig = Extract<ResolvedDestination, { type: 'nats' }>;

/** A clean stop waits this long for unacknowledged publishes to flush before it closes the connection. */
const DRAIN_TIMEOUT_MS = 5000;

/** One lazily made, self-reconnecting connection to the fleet broker. */
export class NatsLink {
  readonly #log: Logger;
  readonly #options: NodeConnectionOptions;
  #connection: NatsConnection | null = null;
  #connecting: Promise<NatsConnection> | null = null;
  /** False while the client reconnects: publishes would be buffered and sent later, so none are made. */
  #isConnected = false;
  #isClosed = false;

  constructor(config: NatsConfig, agentId: string, logger: Logger) {
    this.#log = logger.child({ module: 'nats' });
    this.#options = connectionOptions(config, agentId);
  }

  /** Whether the connector was closed (the agent is stopping): nothing is published any more. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Whether `nc` is up now: while the client reconnects, a publish would be buffered and sent later. */
  isUp(nc: NatsConnection): boolean {
    return this.#isConnected && !nc.isClosed();
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

  /** The connection, made on first use; concurrent lanes share one attempt. */
  connect(): Promise<NatsConnection> {
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
}

/**
 * The client options: reconnect forever, find a dead link within a minute, and authenticate as configured. The
 * fleet reporter (`agent/fleet-reporter.ts`) uses the same servers, credentials and TLS with its own reconnects.
 */
export function connectionOptions(config: NatsConfig, agentId: string): NodeConnectionOptions {
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

/** A deliberate fire-and-forget: its failure is logged, never unhandled. */
function runInBackground(work: Promise<unknown>, what: string, log: Logger): void {
  work.catch((error: unknown) => log.error({ err: error }, `${what} failed`));
}

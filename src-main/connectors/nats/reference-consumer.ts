import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../../platform/logger.js';
import { createLogger } from '../../platform/logger.js';

/*
 * The reference consumer for the central system that reads the fleet stream. JetStream drops a resent message
 * only within the stream's duplicate window (2 minutes by default); a store that comes back after a longer
 * outage and resends something it had already published produces a second copy in the stream. This consumer
 * remembers every Nats-Msg-Id it handled (for `retentionDays`) and calls the handler once per id.
 *
 * Guarantees (README.md, "Exactly-once effect"):
 * - `exactly_once`: the handler writes its effect through the given better-sqlite3 handle, inside the same
 *   transaction that records the id, and the message is acknowledged only after that transaction committed
 *   (fsynced). A crash before the commit leaves neither the effect nor the record (redelivered, handled once);
 *   a crash after the commit and before the ack gets the message redelivered, finds its id and acks it
 *   without calling the handler. Each id's effect is applied exactly once.
 * - `at_least_once`: the handler has an effect elsewhere (an HTTP call, another database). The id is recorded
 *   after the handler returns, so a crash between the two calls the handler again on redelivery: make that
 *   effect idempotent by `msgId`. Duplicates beyond the window are still filtered.
 * Both hold only while one dedupe file serves the durable consumer (processes sharing it must share the file
 * on one host; SQLite serializes them) and for ids first seen within `retentionDays`.
 */

/** One message as the handler gets it. */
export type ConsumedMessage<T> = Readonly<{
  /** `Nats-Msg-Id` (Backroom: `<agentId>:<source>:<event id>`), or `<stream>#<seq>` for a message without one. */
  msgId: string;
  subject: string;
  streamSeq: number;
  /** 1 on first delivery; higher when JetStream redelivers. */
  deliveryCount: number;
  /** When JetStream stored this copy. */
  storedAt: Date;
  /** The JSON body as returned by `parse` (Backroom publishes a `FleetMessage`, see nats-connector.ts). */
  body: T;
}>;

/** How the handler applies its effect, which decides the guarantee (see the top of this file). */
export type ConsumerHandler<T> =
  | Readonly<{
      mode: 'exactly_once';
      /**
       * Runs inside the SQLite transaction that records the id; write the effect through `db` (the dedupe
       * file). Synchronous by contract: a promise would escape the transaction. Throw to roll back: the
       * message is redelivered later.
       */
      handle: (message: ConsumedMessage<T>, db: BetterSqlite3.Database) => void;
    }>
  | Readonly<{
      mode: 'at_least_once';
      /** Applies the effect elsewhere; called again for an id if the consumer crashed before recording it. */
      handle: (message: ConsumedMessage<T>) => Promise<void>;
    }>;

export type ReferenceConsumerOptions<T> = Readonly<{
  /** NATS servers, e.g. `["nats://central:4222"]`. */
  servers: readonly string[];
  /** Other connection options (credentials, name, TLS); reconnecting forever is the default. */
  connection?: Omit<NodeConnectionOptions, 'servers'>;
  stream: string;
  /** The durable pull consumer's name; created with explicit ack when it does not exist. */
  durable: string;
  /** Only messages on these subjects (when the consumer is created), e.g. `backroom.events.>`. */
  filterSubject?: string;
  /** The dedupe store (better-sqlite3 file); in `exactly_once` mode, the handler's effects live here too. */
  dedupeFile: string;
  /** How long a handled id is remembered. Must exceed the longest time a store may resend. Default 30. */
  retentionDays?: number;
  /** How long JetStream waits for an ack before redelivering (when the consumer is created). Default 30 s. */
  ackWaitMs?: number;
  /** Messages pulled at once. Default 100. */
  batch?: number;
  /** Turns the JSON body into `T`; a throw terminates the message (it can never succeed). Default: as is. */
  parse?: (body: unknown) => T;
  handler: ConsumerHandler<T>;
  logger?: Logger;
}>;

/** What a consumer did since it started. */
export type ConsumerStats = {
  /** Handler calls that completed. */
  handled: number;
  /** Messages whose id was already handled (a copy after the window, or a redelivery): acked, not handled. */
  duplicates: number;
  /** Handler failures (the message was redelivered later). */
  failures: number;
  /** Messages terminated because their body could not be read. */
  unreadable: number;
};

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3600_000;

/**
 * The persistent set of handled message ids, each with the time it was first seen, pruned after the retention.
 * Its table lives in a better-sqlite3 file that can also hold the handler's effects.
 */
export class DedupeStore {
  /** Schema version of the dedupe table, kept in `PRAGMA user_version`. */
  static readonly VERSION = 1;
  readonly db: BetterSqlite3.Database;
  readonly retentionMs: number;
  readonly #record: BetterSqlite3.Statement<[string, number, number]>;
  readonly #has: BetterSqlite3.Statement<[string], { n: number }>;
  readonly #prune: BetterSqlite3.Statement<[number]>;

  private constructor(db: BetterSqlite3.Database, retentionMs: number) {
    this.db = db;
    this.retentionMs = retentionMs;
    this.#record = db.prepare(
      'INSERT OR IGNORE INTO backroom_seen_messages (msg_id, first_seen_at, stream_seq) VALUES (?, ?, ?)',
    );
    this.#has = db.prepare('SELECT COUNT(*) AS n FROM backroom_seen_messages WHERE msg_id = ?');
    this.#prune = db.prepare('DELETE FROM backroom_seen_messages WHERE first_seen_at < ?');
  }

  /**
   * Opens (or creates) the store. Commits are fsynced (WAL, synchronous FULL): an id recorded and then acked
   * survives a power cut, so an acked message is never handled again.
   */
  static open(file: string, retentionMs: number): DedupeStore {
    const db = new BetterSqlite3(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > DedupeStore.VERSION)
        throw new Error(
          `${file} holds a dedupe store of version ${version}; this consumer reads up to ${DedupeStore.VERSION}`,
        );
      db.exec(`
        CREATE TABLE IF NOT EXISTS backroom_seen_messages (
          msg_id TEXT PRIMARY KEY NOT NULL,
          first_seen_at INTEGER NOT NULL,
          stream_seq INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS backroom_seen_messages_first_seen ON backroom_seen_messages (first_seen_at);
      `);
      db.pragma(`user_version = ${DedupeStore.VERSION}`);
      return new DedupeStore(db, retentionMs);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  has(msgId: string): boolean {
    return this.#has.get(msgId)!.n > 0;
  }

  /** Records an id; false when it was already there. Call inside a transaction to tie it to an effect. */
  record(msgId: string, streamSeq: number, now = Date.now()): boolean {
    return this.#record.run(msgId, now, streamSeq).changes > 0;
  }

  /** Forgets ids first seen before the retention; returns how many. */
  prune(now = Date.now()): number {
    return this.#prune.run(now - this.retentionMs).changes;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * A durable pull consumer (explicit ack) that calls its handler once per `Nats-Msg-Id`, in stream order, one
 * message at a time.
 *
 * @example
 * const consumer = await ReferenceConsumer.start({
 *   servers: ['nats://central:4222'], stream: 'BACKROOM', durable: 'erp-import', dedupeFile: 'erp-import.db',
 *   handler: { mode: 'exactly_once', handle: (m, db) => db.prepare('INSERT INTO movements ...').run(...) },
 * });
 * // ... on shutdown:
 * await consumer.stop();
 */
export class ReferenceConsumer<T = unknown> {
  readonly #options: ReferenceConsumerOptions<T>;
  readonly #nc: NatsConnection;
  readonly #store: DedupeStore;
  readonly #log: Logger;
  readonly #stats: ConsumerStats = { handled: 0, duplicates: 0, failures: 0, unreadable: 0 };
  #messages: ConsumerMessages | null = null;
  #loop: Promise<void> = Promise.resolve();
  #pruneTimer: NodeJS.Timeout | undefined;
  #isStopped = false;

  private constructor(
    options: ReferenceConsumerOptions<T>,
    nc: NatsConnection,
    store: DedupeStore,
    log: Logger,
  ) {
    this.#options = options;
    this.#nc = nc;
    this.#store = store;
    this.#log = log;
  }

  /** Opens the dedupe store, connects, creates the durable consumer if needed and starts consuming. */
  static async start<T = unknown>(options: ReferenceConsumerOptions<T>): Promise<ReferenceConsumer<T>> {
    const log = (options.logger ?? createLogger()).child({ module: 'nats-reference-consumer' });
    const store = DedupeStore.open(options.dedupeFile, (options.retentionDays ?? 30) * DAY_MS);
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({
        reconnect: true,
        maxReconnectAttempts: -1,
        ...options.connection,
        servers: [...options.servers],
      });
      const consumer = new ReferenceConsumer(options, nc, store, log);
      await consumer.#start();
      return consumer;
    } catch (error) {
      await nc?.close();
      store.close();
      throw error;
    }
  }

  /** Counters since start (copies). */
  get stats(): ConsumerStats {
    return { ...this.#stats };
  }

  /** The dedupe store (to read effects written in `exactly_once` mode, or to prune by hand). */
  get store(): DedupeStore {
    return this.#store;
  }

  /** Whether every message in the stream (for this consumer) was delivered and acknowledged. */
  async isCaughtUp(): Promise<boolean> {
    const jsm = await jetstreamManager(this.#nc, { checkAPI: false });
    const info = await jsm.consumers.info(this.#options.stream, this.#options.durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }

  /**
   * Stops pulling, lets the message in hand finish, flushes the acks and closes the connection and the store.
   * Messages pulled but not handled are redelivered to the next run after the ack wait.
   */
  async stop(): Promise<void> {
    if (this.#isStopped) return;
    this.#isStopped = true;
    clearInterval(this.#pruneTimer);
    await this.#messages?.close();
    await this.#loop;
    await this.#nc.drain().catch((error: unknown) => this.#log.warn({ err: error }, 'draining NATS failed'));
    this.#store.close();
  }

  async #start(): Promise<void> {
    const { stream, durable } = this.#options;
    this.#prune();
    this.#pruneTimer = setInterval(() => this.#prune(), PRUNE_EVERY_MS);
    this.#pruneTimer.unref();
    const jsm = await jetstreamManager(this.#nc);
    try {
      const info = await jsm.consumers.info(stream, durable);
      if (info.config.ack_policy !== AckPolicy.Explicit)
        throw new Error(
          `consumer "${durable}" on stream "${stream}" must use explicit ack (it uses ${info.config.ack_policy})`,
        );
    } catch (error) {
      if (!(
        error instanceof JetStreamApiError && error.code === (JetStreamApiCodes.ConsumerNotFound as number)
      ))
        throw error;
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(this.#options.ackWaitMs ?? 30_000),
        // A failing message is retried (with backoff) until it succeeds; it is never dropped silently.
        max_deliver: -1,
        ...(this.#options.filterSubject === undefined ? {} : { filter_subject: this.#options.filterSubject }),
      });
      this.#log.info({ stream, durable }, 'created the durable consumer');
    }
    const consumer = await jetstream(this.#nc).consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: this.#options.batch ?? 100 });
    this.#messages = messages;
    this.#loop = (async () => {
      for await (const message of messages) await this.#process(message);
    })().catch((error: unknown) => this.#log.error({ err: error }, 'consuming stopped'));
  }

  #prune(): void {
    try {
      const pruned = this.#store.prune();
      if (pruned > 0) this.#log.info({ pruned }, 'forgot message ids past the retention');
    } catch (error) {
      this.#log.error({ err: error }, 'pruning the dedupe store failed');
    }
  }

  /** A message whose id was handled before: acked without calling the handler. */
  #skipped(m: JsMsg, msgId: string): void {
    this.#stats.duplicates += 1;
    this.#log.debug(
      { msgId, streamSeq: m.seq, deliveryCount: m.info.deliveryCount },
      'already handled; acked without calling the handler',
    );
    m.ack();
  }

  /** Handles one message: skip a known id, else handle and record it, then ack. */
  async #process(m: JsMsg): Promise<void> {
    const msgId = m.headers?.get('Nats-Msg-Id') || `${this.#options.stream}#${m.seq}`;
    const { handler } = this.#options;
    // A known id is acked at once: a copy after the duplicate window, or a redelivery after a crash.
    if (this.#store.has(msgId)) {
      this.#skipped(m, msgId);
      return;
    }
    let message: ConsumedMessage<T>;
    try {
      const body: unknown = m.json();
      message = {
        msgId,
        subject: m.subject,
        streamSeq: m.seq,
        deliveryCount: m.info.deliveryCount,
        storedAt: m.time,
        body: this.#options.parse ? this.#options.parse(body) : (body as T),
      };
    } catch (error) {
      this.#stats.unreadable += 1;
      this.#log.error(
        { err: error, msgId, streamSeq: m.seq },
        'unreadable message terminated (left in the stream)',
      );
      m.term();
      return;
    }
    try {
      if (handler.mode === 'exactly_once') {
        // IMMEDIATE: a second process on the same file waits here, then finds the id recorded.
        const isNew = this.#store.db
          .transaction(() => {
            if (!this.#store.record(msgId, m.seq)) return false;
            handler.handle(message, this.#store.db);
            return true;
          })
          .immediate();
        if (!isNew) {
          this.#skipped(m, msgId);
          return;
        }
        this.#stats.handled += 1;
      } else {
        await handler.handle(message);
        this.#store.record(msgId, m.seq);
        this.#stats.handled += 1;
      }
    } catch (error) {
      this.#stats.failures += 1;
      const delayMs = Math.min(60_000, 1000 * 2 ** Math.min(6, message.deliveryCount - 1));
      this.#log.warn({ err: error, msgId, delayMs }, 'the handler failed; the message is redelivered later');
      m.nak(delayMs);
      return;
    }
    // Only after the record (and in exactly_once mode the effect) committed.
    m.ack();
  }
}

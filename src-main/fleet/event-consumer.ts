import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../platform/logger.js';
import type { FleetDatabase, ReceivedEvent, RejectedMessage } from './fleet-database.js';
import type { FleetMetrics } from './fleet-metrics.js';
import { checkEvent } from './fleet-message.js';

export type EventConsumerOptions = Readonly<{
  stream: string;
  subject: string;
  durable: string;
  ackWaitMs: number;
  batchSize: number;
}>;

/** Wait after a failed pull or a refused batch before the next (bounded, so a broken link never spins). */
const RETRY_MS = 1000;

/**
 * Reads the events stream with the durable pull consumer every instance shares (JetStream hands each pulled
 * message to one instance; one that dies leaves its unacked messages to be redelivered to the others after the
 * ack wait) and stores each pulled batch in one PostgreSQL transaction, then acks it.
 *
 * - A message stored before (a copy JetStream kept after its duplicate window, or a redelivery) is dropped by
 *   the `msg_id` key and acked.
 * - A message that does not parse, or whose store does not match its subject, is stored in `fleet_rejected`
 *   (in the same transaction), counted, logged and terminated: it is never redelivered, never half stored.
 * - If PostgreSQL fails, nothing of the batch is stored: every message is nak'd and comes back later.
 */
export class EventConsumer {
  readonly #nc: NatsConnection;
  readonly #db: FleetDatabase;
  readonly #metrics: FleetMetrics;
  readonly #o: EventConsumerOptions;
  readonly #log: Logger;
  #loop: Promise<void> | null = null;
  #messages: ConsumerMessages | null = null;
  #isStopped = false;
  #wake: (() => void) | null = null;

  constructor(
    nc: NatsConnection,
    db: FleetDatabase,
    metrics: FleetMetrics,
    options: EventConsumerOptions,
    logger: Logger,
  ) {
    this.#nc = nc;
    this.#db = db;
    this.#metrics = metrics;
    this.#o = options;
    this.#log = logger.child({ module: 'fleet-events' });
  }

  /** Creates the durable consumer if it is missing (the stream must exist), then starts pulling. */
  async start(): Promise<void> {
    await this.#ensureConsumer();
    const consumer = await jetstream(this.#nc).consumers.get(this.#o.stream, this.#o.durable);
    this.#loop = this.#run(consumer);
  }

  /** Stops pulling; the batch in hand is stored and acked first. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    await this.#messages?.close();
    this.#wake?.();
    await this.#loop;
  }

  /** Messages not yet delivered plus delivered and not acked, for all instances (the lag). */
  async pending(): Promise<{ pending: number; ackPending: number }> {
    const jsm = await jetstreamManager(this.#nc);
    const info = await jsm.consumers.info(this.#o.stream, this.#o.durable);
    this.#metrics.consumerPending.set(info.num_pending);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  }

  async #ensureConsumer(): Promise<void> {
    const jsm = await jetstreamManager(this.#nc);
    try {
      const info = await jsm.consumers.info(this.#o.stream, this.#o.durable);
      if (info.config.ack_policy !== AckPolicy.Explicit)
        throw new Error(
          `consumer "${this.#o.durable}" must use explicit ack (it uses ${info.config.ack_policy})`,
        );
      return;
    } catch (error) {
      if (!(
        error instanceof JetStreamApiError && error.code === (JetStreamApiCodes.ConsumerNotFound as number)
      ))
        throw error;
    }
    // Two instances starting at once may both add it: the same config is accepted twice.
    await jsm.consumers.add(this.#o.stream, {
      durable_name: this.#o.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.#o.ackWaitMs),
      max_deliver: -1,
      max_ack_pending: 20_000,
      filter_subject: `${this.#o.subject}.>`,
    });
    this.#log.info({ stream: this.#o.stream, durable: this.#o.durable }, 'created the durable consumer');
  }

  async #run(consumer: Consumer): Promise<void> {
    while (!this.#isStopped) {
      let batch: JsMsg[] = [];
      try {
        // The client keeps up to two batches pulled ahead while one is stored.
        const messages = await consumer.consume({ max_messages: this.#o.batchSize * 2 });
        this.#messages = messages;
        for await (const m of messages) {
          batch.push(m);
          // Nothing buffered: one turn of the event loop lets bytes already on the socket become messages.
          if (messages.getPending() === 0) await new Promise((resolve) => setImmediate(resolve));
          // A full batch, or nothing more waiting: a busy stream is stored in full batches, a quiet one at once.
          if (batch.length >= this.#o.batchSize || messages.getPending() === 0) {
            const full = batch;
            batch = [];
            await this.#handle(full);
          }
        }
      } catch (error) {
        // A node lost, a leader election: what was pulled is stored below, the rest comes back.
        this.#log.warn({ err: error }, 'consuming events failed; consuming again');
      }
      if (batch.length > 0) await this.#handle(batch);
      if (!this.#isStopped) await this.#pause(RETRY_MS);
    }
  }

  async #handle(batch: readonly JsMsg[]): Promise<void> {
    const good: { m: JsMsg; event: ReceivedEvent }[] = [];
    const bad: { m: JsMsg; rejected: RejectedMessage }[] = [];
    for (const m of batch) {
      const msgId = m.headers?.get('Nats-Msg-Id') || null;
      const text = m.string();
      const checked = checkEvent(text, m.subject, this.#o.subject, msgId);
      if (checked.ok) {
        good.push({
          m,
          event: {
            msgId: msgId ?? checked.value.idempotencyKey,
            event: checked.value,
            streamSeq: m.seq,
            publishedAt: Math.floor(m.info.timestampNanos / 1_000_000),
          },
        });
      } else {
        bad.push({
          m,
          rejected: {
            kind: 'event',
            reason: checked.reason,
            subject: m.subject,
            streamSeq: m.seq,
            detail: checked.detail,
            body: text,
          },
        });
      }
    }
    const endTimer = this.#metrics.batchSeconds.startTimer();
    let stored: number;
    try {
      stored = await this.#db.storeBatch(
        good.map((g) => g.event),
        bad.map((b) => b.rejected),
      );
    } catch (error) {
      this.#metrics.batchFailures.inc();
      this.#log.error(
        { err: error, messages: batch.length },
        'storing a batch failed; nothing of it was stored',
      );
      for (const m of batch) m.nak(RETRY_MS * 5);
      await this.#pause(RETRY_MS);
      return;
    }
    endTimer();
    const now = Date.now();
    for (const g of good) {
      g.m.ack();
      this.#metrics.storeLatencySeconds.observe(Math.max(0, now - g.event.publishedAt) / 1000);
    }
    for (const b of bad) {
      b.m.term(b.rejected.reason);
      this.#metrics.rejected.inc({ kind: 'event', reason: b.rejected.reason });
      this.#log.warn(
        {
          subject: b.rejected.subject,
          streamSeq: b.rejected.streamSeq,
          reason: b.rejected.reason,
          detail: b.rejected.detail,
        },
        'an event message was refused (kept in fleet_rejected)',
      );
    }
    this.#metrics.events.inc({ result: 'stored' }, stored);
    this.#metrics.events.inc({ result: 'duplicate' }, good.length - stored);
    this.#metrics.events.inc({ result: 'rejected' }, bad.length);
  }

  /** Waits `ms`, or less if the consumer stops. */
  async #pause(ms: number): Promise<void> {
    if (this.#isStopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = null;
  }
}

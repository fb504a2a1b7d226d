import { DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { FLEET_STATUS_VERSION } from '../../shared/fleet-status.js';
import type { Logger } from '../platform/logger.js';
import type { FleetDatabase } from './fleet-database.js';
import type { FleetMetrics } from './fleet-metrics.js';
import { checkStatus } from './fleet-message.js';

/**
 * Watches the status bucket: the last status of every store first, then each new one, through an ordered
 * consumer (every instance sees every status; the stores table keeps the newest revision, so instances
 * agree). Each status is stored with its history row in one transaction. A status that does not parse or
 * names another store than its key is counted, logged and kept in `fleet_rejected`; one of a newer version is
 * stored as far as it is known, its unknown fields counted.
 */
export class StatusWatcher {
  readonly #nc: NatsConnection;
  readonly #db: FleetDatabase;
  readonly #metrics: FleetMetrics;
  readonly #bucket: string;
  readonly #log: Logger;
  #messages: ConsumerMessages | null = null;
  #loop: Promise<void> | null = null;

  constructor(nc: NatsConnection, db: FleetDatabase, metrics: FleetMetrics, bucket: string, logger: Logger) {
    this.#nc = nc;
    this.#db = db;
    this.#metrics = metrics;
    this.#bucket = bucket;
    this.#log = logger.child({ module: 'fleet-statuses' });
  }

  async start(): Promise<void> {
    // The bucket's stream holds only `$KV.<bucket>.>`: no filter needed (and nats-server 2.9 takes only one).
    const consumer = await jetstream(this.#nc).consumers.get(`KV_${this.#bucket}`, {
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    const messages = await consumer.consume();
    this.#messages = messages;
    this.#loop = (async () => {
      for await (const m of messages) await this.#handle(m);
    })().catch((error: unknown) => this.#log.error({ err: error }, 'watching statuses stopped'));
  }

  async stop(): Promise<void> {
    await this.#messages?.close();
    await this.#loop;
  }

  async #handle(m: JsMsg): Promise<void> {
    // A deleted or purged key (an operator removing a store) carries no status.
    const operation = m.headers?.get('KV-Operation');
    if (operation === 'DEL' || operation === 'PURGE') return;
    const key = m.subject.slice(`$KV.${this.#bucket}.`.length);
    const text = m.string();
    const checked = checkStatus(text, key);
    // A failure to store is retried a bounded number of times, then logged: the store's next report replaces it.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        if (!checked.ok) {
          await this.#db.storeRejected({
            kind: 'status',
            reason: checked.reason,
            subject: m.subject,
            streamSeq: m.seq,
            detail: checked.detail,
            body: text,
          });
          this.#metrics.statuses.inc({ result: 'rejected' });
          this.#metrics.rejected.inc({ kind: 'status', reason: checked.reason });
          this.#log.warn(
            { key, revision: m.seq, reason: checked.reason, detail: checked.detail },
            'a status was refused',
          );
          return;
        }
        const { status, unknownFields } = checked.value;
        if (status.v > FLEET_STATUS_VERSION) this.#metrics.newerStatuses.inc();
        if (unknownFields.length > 0) {
          this.#metrics.unknownFields.inc(unknownFields.length);
          this.#log.info(
            { key, version: status.version, statusVersion: status.v, unknownFields },
            'a status has fields this version does not know (stored without them being read)',
          );
        }
        const isNew = await this.#db.storeStatus({ status, revision: m.seq, unknownFields });
        this.#metrics.statuses.inc({ result: isNew ? 'stored' : 'old' });
        return;
      } catch (error) {
        this.#log.warn({ err: error, key, attempt }, 'storing a status failed');
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }
}

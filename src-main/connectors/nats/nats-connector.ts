import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { PosEvent } from '../../../shared/events.js';
import type { DeliveryResult, LedgerItem, SendOutcome } from '../port/connector.js';
import type { ConnectorBundle } from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';
import { NatsLink, type NatsConfig } from './nats-link.js';
import { probeNats } from './nats-probe.js';
import {
  connectFailure,
  diagnoseNoResponders,
  pubAckResult,
  requestFailure,
  type PublishOutcome,
} from './nats-results.js';
import { natsSubject } from './nats-subjects.js';

/**
 * The JSON body of every message: the event as it was captured, plus where it comes from. `idempotencyKey`
 * (`<agentId>:<source>:<event id>`) is also the `Nats-Msg-Id` header; `seq` is the agent's capture order.
 */
export type FleetMessage = PosEvent &
  Readonly<{ agentId: string; source: string; seq: number; idempotencyKey: string }>;

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
  const publisher = new NatsPublisher(config, context.agentId, link);
  return {
    connector: {
      mode: 'ledger',
      maxBatch: config.batchSize,
      send: (items, signal) => publisher.send(items, signal),
    },
    probe: () => probeNats(link, config, context.agentId),
    close: () => link.close(),
  };
}

/** Publishing a lane's batch over the destination's connection, and reading the acknowledgements in order. */
class NatsPublisher {
  readonly #config: NatsConfig;
  readonly #agentId: string;
  readonly #link: NatsLink;

  constructor(config: NatsConfig, agentId: string, link: NatsLink) {
    this.#config = config;
    this.#agentId = agentId;
    this.#link = link;
  }

  async send(items: readonly LedgerItem[], signal: AbortSignal): Promise<SendOutcome> {
    const all = (result: DeliveryResult): SendOutcome => ({ results: items.map(() => result) });
    if (this.#link.isClosed)
      return all({ kind: 'retry', detail: 'the NATS connector is closed (the agent is stopping)' });
    let nc: NatsConnection;
    try {
      nc = await this.#link.connect();
    } catch (error) {
      return all(connectFailure(error, this.#config));
    }
    if (signal.aborted) return all({ kind: 'retry', detail: 'the send was cancelled before publishing' });
    if (!this.#link.isUp(nc))
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
      diagnosis ??= await diagnoseNoResponders(nc, this.#subject(items[i]!), this.#config);
      results.push(diagnosis);
    }
    return { results };
  }

  #subject(item: LedgerItem): string {
    return natsSubject(this.#config.subject, this.#agentId, item.event.location);
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
      return requestFailure(error, subject, this.#config);
    }
    return pubAckResult(reply, subject, this.#config);
  }
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

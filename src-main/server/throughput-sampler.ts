import type { ThroughputPoint } from '../../shared/rpc-views.js';
import { lastEventSeq } from '../capture/event-views.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { deliveriesBetween, lastDeliveryAttemptId } from '../outbox/outbox-views.js';

/** Throughput chart buckets: 10 s each, the last 15 minutes. */
export const BUCKET_SECONDS = 10;
const BUCKETS = 90;

/**
 * Counts captures and deliveries for the overview: cheap reads by primary key once a tick, kept in memory (so
 * the chart starts empty when the agent starts), rather than scans of the event log on every push.
 */
export class ThroughputSampler {
  readonly #db: AgentDatabase;
  #lastSeq: number;
  #lastAttemptId: number;
  readonly #buckets: ThroughputPoint[] = [];
  /** (time, seq) once a tick over the last minute, for the capture rate. */
  readonly #seqSamples: { at: number; seq: number }[] = [];

  constructor(db: AgentDatabase) {
    this.#db = db;
    this.#lastSeq = lastEventSeq(db);
    this.#lastAttemptId = lastDeliveryAttemptId(db);
    // The rate counts from the start, so it is known after the first tick rather than the second.
    this.#seqSamples.push({ at: Date.now(), seq: this.#lastSeq });
  }

  sample(now: number): void {
    const seq = lastEventSeq(this.#db);
    const attemptId = lastDeliveryAttemptId(this.#db);
    const delivered = deliveriesBetween(this.#db, this.#lastAttemptId, attemptId);
    const t = Math.floor(now / 1000 / BUCKET_SECONDS) * BUCKET_SECONDS;
    let bucket = this.#buckets.at(-1);
    if (bucket?.t !== t) {
      bucket = { t, captured: 0, delivered: {} };
      this.#buckets.push(bucket);
      if (this.#buckets.length > BUCKETS) this.#buckets.shift();
    }
    bucket.captured += Math.max(0, seq - this.#lastSeq);
    for (const { destinationId, count } of delivered)
      bucket.delivered[destinationId] = (bucket.delivered[destinationId] ?? 0) + count;
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

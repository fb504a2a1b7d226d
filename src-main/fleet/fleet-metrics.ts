import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The fleet service's Prometheus metrics (`GET /metrics` of `backroom fleet serve`). */
export class FleetMetrics {
  readonly registry = new Registry();
  /** Event messages by result: stored, duplicate (id stored before), rejected. */
  readonly events: Counter<'result'>;
  /** Status messages by result: stored, old (an equal or newer revision was there), rejected. */
  readonly statuses: Counter<'result'>;
  /** Refused messages by kind (event, status) and reason (unparsable, invalid, store_mismatch, id_mismatch). */
  readonly rejected: Counter<'kind' | 'reason'>;
  /** Fields of newer statuses that this version does not know. */
  readonly unknownFields: Counter;
  /** Messages of a newer status version than this service reads. */
  readonly newerStatuses: Counter;
  /** Batches that PostgreSQL refused (nothing of them stored; redelivered). */
  readonly batchFailures: Counter;
  readonly batchSeconds: Histogram;
  /** From JetStream storing an event to PostgreSQL committing it. */
  readonly storeLatencySeconds: Histogram;
  /** Requests sent to the central ERP by the relay (one tenant-wide limit). */
  readonly relayRequests: Counter;
  /** Relayed events by the ERP's answer (delivered, already_applied, retry, rate_limited, unknown, rejected, ...). */
  readonly relayResults: Counter<'result'>;
  /** Messages of the stream not yet delivered to the consumer (all instances), as last read. */
  readonly consumerPending: Gauge;

  constructor() {
    const registers = [this.registry];
    this.events = new Counter({
      name: 'backroom_fleet_events_total',
      help: 'Event messages by result: stored, duplicate (its Nats-Msg-Id was stored before), rejected',
      labelNames: ['result'],
      registers,
    });
    this.statuses = new Counter({
      name: 'backroom_fleet_statuses_total',
      help: 'Status messages by result: stored, old (a newer revision was stored), rejected',
      labelNames: ['result'],
      registers,
    });
    this.rejected = new Counter({
      name: 'backroom_fleet_rejected_total',
      help: 'Refused messages by kind (event, status) and reason (unparsable, invalid, store_mismatch, id_mismatch)',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.unknownFields = new Counter({
      name: 'backroom_fleet_status_unknown_fields_total',
      help: 'Fields of statuses (from newer agents) that this version does not know; the rest is stored',
      registers,
    });
    this.newerStatuses = new Counter({
      name: 'backroom_fleet_status_newer_version_total',
      help: 'Statuses of a newer version than this service reads',
      registers,
    });
    this.batchFailures = new Counter({
      name: 'backroom_fleet_batch_failures_total',
      help: 'Batches PostgreSQL refused: nothing of them was stored, and they are redelivered',
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'backroom_fleet_batch_seconds',
      help: 'Time to store one batch of events in PostgreSQL (one transaction)',
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    this.storeLatencySeconds = new Histogram({
      name: 'backroom_fleet_store_latency_seconds',
      help: 'From JetStream storing an event to PostgreSQL committing it',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
    this.relayRequests = new Counter({
      name: 'backroom_fleet_relay_requests_total',
      help: 'Requests the relay sent to the central ERP; rate() against relay.requestsPerSecond',
      registers,
    });
    this.relayResults = new Counter({
      name: 'backroom_fleet_relay_results_total',
      help: 'Relayed events by the answer of the central ERP',
      labelNames: ['result'],
      registers,
    });
    this.consumerPending = new Gauge({
      name: 'backroom_fleet_consumer_pending',
      help: 'Messages of the events stream not yet delivered to the durable consumer',
      registers,
    });
  }
}

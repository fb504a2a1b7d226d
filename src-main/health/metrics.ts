import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';

/**
 * The agent's Prometheus metrics. Queue gauges are computed from the database when scraped, so they are never
 * stale and cost nothing between scrapes.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly eventsTotal: Counter<'source' | 'status'>;
  readonly commitSeconds: Histogram;
  readonly commitEvents: Histogram;
  readonly deliveryResults: Counter<'destination' | 'result'>;

  constructor(
    deps: Readonly<{
      outbox: OutboxRepo;
      exceptions: ExceptionsRepo;
      destinations: readonly { id: string }[];
    }>,
  ) {
    const registers = [this.registry];
    this.deliveryResults = new Counter({
      name: 'backroom_delivery_results_total',
      help: 'Items answered by destinations, by result (delivered, already_applied, retry, rate_limited, unknown, rejected, auth_failed, misconfigured, unmapped); rate() of delivered is deliveries per second',
      labelNames: ['destination', 'result'],
      registers,
    });
    this.eventsTotal = new Counter({
      name: 'backroom_capture_events_total',
      help: 'Events answered by capture, by source and status (accepted, duplicate, rejected)',
      labelNames: ['source', 'status'],
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'backroom_capture_commit_seconds',
      help: 'Time of one durable capture transaction (group commit), fsync included',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers,
    });
    this.commitEvents = new Histogram({
      name: 'backroom_capture_commit_events',
      help: 'Events written per group commit',
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000, 20000],
      registers,
    });
    // One database read per scrape feeds both queue gauges: depth collects, age reuses what it read.
    let lastStats = new Map<string, { pending: number; oldestPendingAt: number | null }>();
    new Gauge({
      name: 'backroom_outbox_queue_depth',
      help: 'Items waiting for delivery per destination (outbox rows and dirty level marks)',
      labelNames: ['destination'],
      registers,
      collect() {
        lastStats = new Map(deps.outbox.queueStats().map((s) => [s.destinationId, s]));
        for (const { id } of deps.destinations)
          this.set({ destination: id }, lastStats.get(id)?.pending ?? 0);
      },
    });
    new Gauge({
      name: 'backroom_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest item waiting for delivery per destination; 0 when none',
      labelNames: ['destination'],
      registers,
      collect() {
        const now = Date.now();
        for (const { id } of deps.destinations) {
          const oldest = lastStats.get(id)?.oldestPendingAt;
          this.set({ destination: id }, oldest != null ? (now - oldest) / 1000 : 0);
        }
      },
    });
    new Gauge({
      name: 'backroom_exceptions_open',
      help: 'Open exceptions by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const { kind, count } of deps.exceptions.openCountsByKind()) this.set({ kind }, count);
      },
    });
  }

  /** Exposes each destination's state: 0 closed (flowing), 1 half-open (probing), 2 open (backing off), 3 paused. */
  observeDestinations(
    states: () => readonly { id: string; state: 'closed' | 'half_open' | 'open' | 'paused' }[],
  ): void {
    const code = { closed: 0, half_open: 1, open: 2, paused: 3 } as const;
    new Gauge({
      name: 'backroom_destination_state',
      help: 'Destination state: 0 closed (flowing), 1 half-open (probing), 2 open (circuit breaker backing off), 3 paused (auth failed)',
      labelNames: ['destination'],
      registers: [this.registry],
      collect() {
        for (const { id, state } of states()) this.set({ destination: id }, code[state]);
      },
    });
  }
}

import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { FLEET_STATUS_VERSION, type FleetStatus } from '../../shared/fleet-status.js';
import { natsSubject } from '../../src-main/connectors/nats/nats-subjects.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * Simulated stores that speak the real protocol to a real NATS JetStream: each publishes its movements as the
 * `nats` destination does (subject `<subject>.<agentId>.<location>`, `Nats-Msg-Id` = the idempotency key,
 * `Nats-Expected-Stream`, the `FleetMessage` body) and reports its status to the bucket as the agent's
 * FleetReporter does. Realistic mixes: most stores on the current version and some on older ones, outages
 * (a store goes quiet, queues, then catches up at up to 20x its rate and resends its last unacknowledged
 * events, so some copies arrive twice), exception bursts, a few paused or backing-off destinations.
 *
 * @example
 * const sim = await FleetSimulator.start({ servers: cluster.urls, stores: 500 });
 * await sim.runFor(60_000);
 * await sim.stop();
 */
export type FleetSimulatorOptions = Readonly<{
  servers: readonly string[];
  stores: number;
  /** Movements per second per store, on average (exponential gaps). Default 2. */
  movementsPerSecond?: number;
  /** Seconds between a store's reports. Default 30. */
  reportSeconds?: number;
  subject?: string;
  stream?: string;
  bucket?: string;
  seed?: number;
  /** Chance per store per minute of an outage (30 s to 3 min). Default 0.02. */
  outagePerMinute?: number;
  /** Connections the stores share (a real fleet has one each; a few are enough to load the cluster). Default 4. */
  connections?: number;
  /** Store ids start here (several simulators side by side). Default 1. */
  firstStore?: number;
}>;

export const CURRENT_VERSION = '0.1.0';
const OLD_VERSIONS = ['0.0.9', '0.0.8'];
const CITIES = ['Lyon', 'Gent', 'Porto', 'Graz', 'Turku', 'Brno', 'Bergen', 'Malmö', 'Cork', 'Basel'];
const SKUS = Array.from({ length: 400 }, (_, i) => `SKU-${String(i + 1).padStart(4, '0')}`);
const TYPES = ['sale', 'sale', 'sale', 'sale', 'sale', 'sale', 'return', 'receipt', 'adjustment'] as const;

type SimStore = {
  agentId: string;
  name: string;
  version: string;
  location: string;
  seq: number;
  /** Captured while offline, not yet published. */
  backlog: number;
  offlineUntil: number;
  offlineSince: number;
  /** Whether the last event before an outage is resent when it ends. */
  isResendDue: boolean;
  nextMovementAt: number;
  nextReportAt: number;
  startedAt: number;
  exceptions: Map<string, number>;
  /** A destination that is not flowing, if any. */
  trouble: { id: string; state: 'open' | 'paused'; since: number } | null;
  lastDeliveryAt: number;
};

/** What a simulator did. */
export type SimulatorStats = {
  published: number;
  duplicatesAcked: number;
  failed: number;
  statuses: number;
  /** Distinct movements published (each `Nats-Msg-Id` once). */
  distinct: number;
};

export class FleetSimulator {
  readonly #o: Required<FleetSimulatorOptions>;
  readonly #connections: NatsConnection[];
  readonly #clients: JetStreamClient[];
  readonly #stores: SimStore[];
  readonly #random: () => number;
  readonly stats: SimulatorStats = { published: 0, duplicatesAcked: 0, failed: 0, statuses: 0, distinct: 0 };
  #timer: NodeJS.Timeout | null = null;
  #inFlight = new Set<Promise<void>>();

  private constructor(options: Required<FleetSimulatorOptions>, connections: NatsConnection[]) {
    this.#o = options;
    this.#connections = connections;
    this.#clients = connections.map((nc) => jetstream(nc));
    this.#random = seededRandom(options.seed);
    const now = Date.now();
    this.#stores = Array.from({ length: options.stores }, (_, i) => {
      const n = options.firstStore + i;
      const r = this.#random();
      return {
        agentId: `store-${String(n).padStart(4, '0')}`,
        name: `${CITIES[n % CITIES.length]} ${String(n).padStart(4, '0')}`,
        // About one store in eight lags a version behind, one in forty two.
        version: r < 0.025 ? OLD_VERSIONS[1]! : r < 0.15 ? OLD_VERSIONS[0]! : CURRENT_VERSION,
        location: `S${n}`,
        seq: 0,
        backlog: 0,
        offlineUntil: 0,
        offlineSince: 0,
        isResendDue: false,
        nextMovementAt: now + this.#gap(),
        // Reports spread over the interval, as agents started at different times.
        nextReportAt: now + this.#random() * options.reportSeconds * 1000,
        startedAt: now - Math.floor(this.#random() * 30 * 86_400_000),
        exceptions: new Map(
          this.#random() < 0.3 ? [['unknown_sku', 1 + Math.floor(this.#random() * 5)]] : [],
        ),
        trouble: this.#random() < 0.03 ? { id: 'shopify', state: 'paused', since: now - 3600_000 } : null,
        lastDeliveryAt: now,
      };
    });
  }

  static async start(options: FleetSimulatorOptions): Promise<FleetSimulator> {
    const full: Required<FleetSimulatorOptions> = {
      movementsPerSecond: 2,
      reportSeconds: 30,
      subject: 'backroom.events',
      stream: 'BACKROOM',
      bucket: 'BACKROOM_STATUS',
      seed: 15,
      outagePerMinute: 0.02,
      connections: 4,
      firstStore: 1,
      ...options,
    };
    const connections = await Promise.all(
      Array.from({ length: full.connections }, (_, i) =>
        connect({
          servers: [...full.servers],
          name: `fleet-sim ${i}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
        }),
      ),
    );
    return new FleetSimulator(full, connections);
  }

  get storeIds(): string[] {
    return this.#stores.map((s) => s.agentId);
  }

  /** Publishes every store's status once, now (the fleet view's seed). */
  async reportAll(): Promise<void> {
    const now = Date.now();
    await Promise.all(this.#stores.map((s, i) => this.#report(s, i, now)));
  }

  /** Starts the stores: movements and reports on a 50 ms tick, until `stop()`. */
  start(): void {
    this.#timer = setInterval(() => this.#tick(), 50);
  }

  /** Runs for `ms`, then stops the stores (waiting for every publish in flight). */
  async runFor(ms: number): Promise<void> {
    this.start();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await this.stop();
  }

  /** Stops the stores and waits for what is in flight; the connections stay for `close()`. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all([...this.#inFlight]);
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.all(this.#connections.map((nc) => nc.drain().catch(() => undefined)));
  }

  #gap(): number {
    return (-Math.log(1 - this.#random()) / this.#o.movementsPerSecond) * 1000;
  }

  #tick(): void {
    const now = Date.now();
    // Bound the work in flight: a slow cluster slows the stores (they queue), never the process's memory.
    if (this.#inFlight.size > 20_000) return;
    for (const [i, store] of this.#stores.entries()) {
      const isOffline = now < store.offlineUntil;
      if (!isOffline && this.#random() < this.#o.outagePerMinute / 1200) {
        store.offlineUntil = now + 30_000 + this.#random() * 150_000;
        store.offlineSince = now;
        store.isResendDue = store.seq > 0;
        continue;
      }
      while (store.nextMovementAt <= now) {
        store.nextMovementAt += this.#gap();
        if (isOffline) store.backlog += 1;
        else this.#track(this.#movement(store, i, false));
      }
      if (!isOffline && store.backlog > 0) {
        // Catching up at 20x the normal rate; the last event before the outage is resent first (its ack was lost).
        if (store.isResendDue) {
          store.isResendDue = false;
          this.#track(this.#resend(store, i));
        }
        const perTick = Math.max(1, Math.ceil(this.#o.movementsPerSecond * 0.05 * 20));
        for (let k = 0; k < perTick && store.backlog > 0; k += 1) {
          store.backlog -= 1;
          this.#track(this.#movement(store, i, true));
        }
      }
      if (this.#random() < 1 / 20_000)
        store.exceptions.set(
          'unknown_sku',
          (store.exceptions.get('unknown_sku') ?? 0) + 20 + Math.floor(this.#random() * 80),
        );
      if (!isOffline && now >= store.nextReportAt) {
        store.nextReportAt = now + this.#o.reportSeconds * 1000;
        this.#track(this.#report(store, i, now));
      }
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  #body(store: SimStore, seq: number): { id: string; body: string } {
    const r = seededRandom(seq * 7919 + store.agentId.length)();
    const id = `till-1:${seq}`;
    const type = TYPES[Math.floor(r * TYPES.length)]!;
    const qty = type === 'adjustment' ? (r < 0.5 ? -1 : 2) : 1 + Math.floor(r * 3);
    return {
      id,
      body: JSON.stringify({
        id,
        type,
        location: store.location,
        occurredAt: new Date().toISOString(),
        lines: [{ sku: SKUS[Math.floor(r * 10_000) % SKUS.length]!, qty }],
        agentId: store.agentId,
        source: 'pos-1',
        seq,
        idempotencyKey: `${store.agentId}:pos-1:${id}`,
      }),
    };
  }

  async #movement(store: SimStore, i: number, isCatchUp: boolean): Promise<void> {
    store.seq += 1;
    this.stats.distinct += 1;
    if (isCatchUp) store.lastDeliveryAt = Date.now();
    await this.#publish(store, i, store.seq);
  }

  async #resend(store: SimStore, i: number): Promise<void> {
    await this.#publish(store, i, store.seq);
  }

  async #publish(store: SimStore, i: number, seq: number): Promise<void> {
    const { id, body } = this.#body(store, seq);
    const h = headers();
    h.set('Nats-Msg-Id', `${store.agentId}:pos-1:${id}`);
    h.set('Nats-Expected-Stream', this.#o.stream);
    // Retried with the same id until JetStream acknowledges it, as the agent's outbox does.
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        const ack = await this.#clients[i % this.#clients.length]!.publish(
          natsSubject(this.#o.subject, store.agentId, store.location),
          body,
          { headers: h, timeout: 10_000 },
        );
        if (ack.duplicate) this.stats.duplicatesAcked += 1;
        else this.stats.published += 1;
        store.lastDeliveryAt = Date.now();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    }
    this.stats.failed += 1;
  }

  /** The store's status as its agent would report it. */
  status(store: SimStore, now: number): FleetStatus {
    const isCatchingUp = store.backlog > 0;
    const trouble = store.trouble;
    return {
      v: FLEET_STATUS_VERSION,
      agentId: store.agentId,
      name: store.name,
      version: store.version,
      schemaVersion: store.version === CURRENT_VERSION ? 12 : 11,
      reportedAt: new Date(now).toISOString(),
      uptimeSeconds: Math.floor((now - store.startedAt) / 1000),
      running: true,
      destinations: [
        {
          id: 'hq',
          type: 'nats',
          state: isCatchingUp ? 'half_open' : 'closed',
          queueDepth: store.backlog,
          oldestPendingAgeSeconds: isCatchingUp ? Math.round((now - store.offlineSince) / 1000) : null,
          lastDeliveryAt: new Date(store.lastDeliveryAt).toISOString(),
          lastError: null,
        },
        {
          id: 'shopify',
          type: 'shopify',
          state: trouble?.state ?? 'closed',
          queueDepth: trouble ? 40 + (store.seq % 200) : 0,
          oldestPendingAgeSeconds: trouble ? Math.round((now - trouble.since) / 1000) : null,
          lastDeliveryAt: new Date(trouble ? trouble.since : store.lastDeliveryAt).toISOString(),
          lastError: trouble
            ? 'auth_failed: 401 Invalid API key or access token (unrecognized login or wrong password)'
            : null,
        },
      ],
      openExceptions: [...store.exceptions].map(([kind, count]) => ({ kind, count })),
      capturePerMinute: Math.round(this.#o.movementsPerSecond * 60 * (0.8 + 0.4 * this.#random())),
      lastEventSeq: store.seq,
      chainHead: store.seq === 0 ? null : (store.seq * 2654435761).toString(16).padStart(64, '0').slice(-64),
      diskFreeBytes: 40e9 + Math.floor(this.#random() * 1e10),
    };
  }

  async #report(store: SimStore, i: number, now: number): Promise<void> {
    try {
      await this.#clients[i % this.#clients.length]!.publish(
        `$KV.${this.#o.bucket}.${store.agentId}`,
        JSON.stringify(this.status(store, now)),
        { expect: { streamName: `KV_${this.#o.bucket}` }, timeout: 10_000 },
      );
      this.stats.statuses += 1;
    } catch {
      // A store's report that does not arrive is replaced by its next one, as in the agent.
    }
  }
}

import type { IngestResponse } from '../../shared/api.js';

export type PosSimulatorOptions = Readonly<{
  /** The agent's base URL. */
  url: string;
  token: string;
  /** Prefix of event ids; ids are unique per simulator. */
  idPrefix: string;
  locations: readonly string[];
  skus: readonly string[];
  /** SKUs the catalog does not know, sold now and then. */
  unknownSkus?: readonly string[];
  /** SKUs sold first, one sale each at the first location, before the random traffic (a demo's set-up). */
  firstSkus?: readonly string[];
  /** Events per second, on average. */
  rate: number;
  /** Deterministic randomness (a simple LCG), so runs can be repeated. */
  seed?: number;
  onResult?: (event: SimEvent, status: string) => void;
}>;

export type SimEvent = {
  id: string;
  type: string;
  location: string;
  occurredAt: string;
  lines: { sku: string; qty: number; unitPrice?: string; currency?: string }[];
  reference: string;
};

/**
 * A simulated POS: sells through the ingest API with realistic traffic — mostly sales of one to three lines,
 * some returns, periodic goods receipts and stock counts, now and then an unknown SKU or a resent (duplicate)
 * event. Used by the demo and by tests that need live traffic.
 */
export class PosSimulator {
  readonly #o: PosSimulatorOptions;
  #seq = 0;
  #state: number;
  #timer: NodeJS.Timeout | null = null;
  #last: SimEvent | null = null;
  #inFlight = 0;
  readonly stats = { sent: 0, accepted: 0, duplicate: 0, rejected: 0, failed: 0 };

  constructor(options: PosSimulatorOptions) {
    this.#o = options;
    this.#state = options.seed ?? 42;
  }

  #random(): number {
    this.#state = (this.#state * 1_103_515_245 + 12_345) % 2 ** 31;
    return this.#state / 2 ** 31;
  }

  #pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.#random() * list.length)]!;
  }

  /** The next event this POS would send. */
  next(): SimEvent {
    const r = this.#random();
    this.#seq += 1;
    const n = String(this.#seq).padStart(6, '0');
    const location = this.#pick(this.#o.locations);
    const occurredAt = new Date().toISOString().replace('Z', '+00:00');
    const sku = () =>
      this.#o.unknownSkus && this.#o.unknownSkus.length > 0 && this.#random() < 0.02
        ? this.#pick(this.#o.unknownSkus)
        : this.#pick(this.#o.skus);
    const price = () => (1 + Math.floor(this.#random() * 5000) / 100).toFixed(2);
    const base = { id: `${this.#o.idPrefix}:${n}`, location, occurredAt, reference: `R-${n}` };
    const first = this.#o.firstSkus?.[this.#seq - 1];
    if (first !== undefined) {
      return {
        ...base,
        location: this.#o.locations[0]!,
        type: 'sale',
        lines: [{ sku: first, qty: 1, unitPrice: price(), currency: 'EUR' }],
      };
    }
    if (r < 0.75) {
      const lines = Array.from({ length: 1 + Math.floor(this.#random() * 3) }, () => ({
        sku: sku(),
        qty: 1 + Math.floor(this.#random() * 2),
        unitPrice: price(),
        currency: 'EUR',
      }));
      return { ...base, type: 'sale', lines };
    }
    if (r < 0.83)
      return {
        ...base,
        type: 'return',
        lines: [{ sku: sku(), qty: 1, unitPrice: price(), currency: 'EUR' }],
      };
    if (r < 0.95) {
      const lines = Array.from({ length: 2 + Math.floor(this.#random() * 4) }, () => ({
        sku: this.#pick(this.#o.skus),
        qty: 6 + Math.floor(this.#random() * 24),
      }));
      return { ...base, type: 'receipt', reference: `GR-${n}`, lines };
    }
    return {
      ...base,
      type: 'count',
      reference: `CNT-${n}`,
      lines: [{ sku: this.#pick(this.#o.skus), qty: Math.floor(this.#random() * 40) }],
    };
  }

  /** Sends one event (or, now and then, resends the previous one: a POS retry after a lost answer). */
  async sendOne(): Promise<void> {
    const event = this.#last !== null && this.#random() < 0.03 ? this.#last : this.next();
    this.#last = event;
    this.stats.sent += 1;
    this.#inFlight += 1;
    try {
      const response = await fetch(`${this.#o.url}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#o.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) {
        this.stats.failed += 1;
        return;
      }
      const body = (await response.json()) as IngestResponse;
      const status = body.results[0]?.status ?? 'rejected';
      this.stats[status] += 1;
      this.#o.onResult?.(event, status);
    } catch {
      this.stats.failed += 1;
    } finally {
      this.#inFlight -= 1;
    }
  }

  /** Sends at about `rate` events per second until `stop()`. */
  start(): void {
    const tick = () => {
      // Poisson-like spacing: staff do not ring up sales on a metronome.
      const delay = (-Math.log(1 - this.#random()) * 1000) / this.#o.rate;
      this.#timer = setTimeout(() => {
        if (this.#inFlight < 16) void this.sendOne();
        tick();
      }, delay);
    };
    tick();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

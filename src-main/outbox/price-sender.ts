import { assertNever } from '../../shared/events.js';
import type { DeliveryResult, PriceItem } from '../connectors/port/connector.js';
import type { PriceTarget } from '../connectors/port/connector-bundle.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Logger } from '../platform/logger.js';
import { SenderLoop } from '../platform/sender-loop.js';
import type { DuePriceMark, PriceMarks, PriceRoute } from './price-marks.js';
import { TokenBucket } from './token-bucket.js';

/** An item's price as a destination takes it: the selling price and, where above it, the price before. */
export type CurrentPrice = Readonly<{ amount: string; currency: string; compareAt: string | null }>;

export type PriceSenderOptions = Readonly<{
  route: PriceRoute;
  target: PriceTarget;
  marks: PriceMarks;
  db: AgentDatabase;
  exceptions: ExceptionsRepo;
  logger: Logger;
  /** The item's price on the route's lists now (null: it has none on the selling list). */
  priceFor: (sku: string) => CurrentPrice | null;
  /** How often due marks are looked for when nothing wakes the sender. Default 5 s. */
  tickMs?: number;
  /** Longest wait between two attempts of one mark. Default 5 minutes. */
  maxDelayMs?: number;
  /** A send taking longer is aborted (its outcome unknown: the same absolute price is sent again). */
  sendTimeoutMs?: number;
}>;

/** Counts for tests and the bench: requests sent and updates per result. */
export type PriceSenderCounters = { sends: number; delivered: number; held: number; failed: number };

/** Is `amount` more than `percent` % under `reference`? Prices are compared in cents-exact integers of 1e-6. */
export function isBelowFloor(amount: string, reference: string, percent: number): boolean {
  const micros = (text: string) => {
    const [whole = '0', fraction = ''] = text.split('.');
    return BigInt(whole) * 1_000_000n + BigInt((fraction + '000000').slice(0, 6));
  };
  const a = micros(amount);
  const r = micros(reference);
  // a < r × (1 − percent/100), in integers: 100·a < r·(100 − percent); percent may carry decimals (×100).
  const p = BigInt(Math.round(percent * 100));
  return a * 10_000n < r * (10_000n - p);
}

/**
 * Sends one destination's prices, coalesced: each due mark (`price_marks`) is one update carrying the price read
 * at send time, however many changes came before it. Before sending, a price more than the route's floor under
 * the last price the channel took is held with a `price_below_floor` exception for a person (confirm and send, or
 * keep the old price) and not sent; a price a person confirmed is sent as it is. Results per item, as the level
 * dispatcher's: `unmapped` holds only that item (released by its mapping), `rejected` raises `delivery_rejected`
 * and waits for the next change, transient failures back off. The connector waits for the destination's rate
 * limits itself, sharing them with its quantity updates.
 */
export class PriceSender {
  readonly #o: PriceSenderOptions;
  readonly #log: Logger;
  readonly #loop: SenderLoop;
  readonly counters: PriceSenderCounters = { sends: 0, delivered: 0, held: 0, failed: 0 };
  /** The route's own pacing (`requestsPerSecond`), for an API that states no limit; null: none. */
  readonly #bucket: TokenBucket | null;

  constructor(options: PriceSenderOptions) {
    this.#o = options;
    const rate = options.route.requestsPerSecond;
    // No burst: a limit stated only as requests a second is kept evenly.
    this.#bucket = rate === null ? null : new TokenBucket(rate, 1);
    this.#log = options.logger.child({ module: 'price-sender', destination: options.route.destinationId });
    this.#loop = new SenderLoop(() => this.#runOnce(), {
      everyMs: options.tickMs ?? 5000,
      onError: (error) => this.#log.warn({ err: error }, 'price run failed'),
    });
  }

  get destinationId(): string {
    return this.#o.route.destinationId;
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Sends what is due, soon (a price changed, a mapping was set, a person confirmed). */
  wake(): void {
    this.#loop.wake();
  }

  /** Sends every mark due now, batch after batch (joining a run under way, then running again). */
  runDue(): Promise<void> {
    return this.#loop.run().then(() => undefined);
  }

  /** Sends every mark due now, batch after batch; how many batches went. */
  async #runOnce(): Promise<number> {
    let batches = 0;
    // Bounded: each batch covers or defers every mark it claimed, so due marks run out.
    while (batches < 100_000 && !this.#loop.signal.aborted && (await this.#sendBatch())) batches += 1;
    return batches;
  }

  /** When the next mark is due (tests); null when none waits on time. */
  nextDueAt(): number | null {
    return this.#o.marks.nextDueAt(this.destinationId);
  }

  /** Sends one batch; false when nothing was due. */
  async #sendBatch(): Promise<boolean> {
    const { marks, route } = this.#o;
    const due = marks.due(route.destinationId, Date.now(), this.#o.target.maxBatch);
    if (due.length === 0) return false;
    const items: PriceItem[] = [];
    const claimed: DuePriceMark[] = [];
    this.#bookkeeping(() => {
      for (const mark of due) {
        const price = this.#o.priceFor(mark.sku);
        if (price === null) {
          marks.markSkipped(route.destinationId, mark.sku, mark.version, `no price on list "${route.list}"`);
          continue;
        }
        if (mark.keptAmount === price.amount) {
          // A person kept the old price over this very amount: read again unchanged, it is not sent.
          marks.markSkipped(
            route.destinationId,
            mark.sku,
            mark.version,
            `the old price was kept: ${price.amount} was not sent`,
          );
          continue;
        }
        if (this.#holdBelowFloor(mark, price)) continue;
        items.push({ sku: mark.sku, version: mark.version, ...price });
        claimed.push(mark);
      }
    });
    if (items.length === 0) return true;
    if (this.#bucket !== null) {
      // Bounded: each pass sleeps until the token is due, and a token is due within one period of the rate.
      for (let pass = 0; pass < 1000 && this.#bucket.waitTime(1) > 0; pass += 1)
        await new Promise((resolve) => setTimeout(resolve, this.#bucket!.waitTime(1)));
      this.#bucket.take(1);
    }
    this.counters.sends += 1;
    let results: readonly DeliveryResult[];
    try {
      const signal = AbortSignal.any([
        this.#loop.signal,
        AbortSignal.timeout(this.#o.sendTimeoutMs ?? 120_000),
      ]);
      results = (await this.#o.target.send(items, signal)).results;
    } catch (error) {
      if (this.#loop.signal.aborted) return false;
      const detail = `send failed: ${(error as Error).message}`;
      results = items.map(() => ({ kind: 'retry', detail }) as const);
    }
    this.#bookkeeping(() =>
      items.forEach((item, i) =>
        this.#record(
          item,
          claimed[i]!,
          results[i] ?? { kind: 'retry', detail: 'the connector gave no result' },
        ),
      ),
    );
    return true;
  }

  /**
   * One transaction of the sender's bookkeeping, committed without its own fsync (`synchronous = NORMAL`, as group
   * commit does; the next fsynced commit covers it). A power cut can only take back the last marks' "sent": the
   * same absolute prices are then sent again, which changes nothing at the channel; a hold is judged again.
   */
  #bookkeeping(fn: () => void): void {
    const { db } = this.#o;
    db.sqlite.exec('PRAGMA synchronous = NORMAL');
    try {
      db.transaction(fn);
    } finally {
      db.sqlite.exec('PRAGMA synchronous = FULL');
    }
  }

  /** Holds a price more than the floor under the last one sent (unless a person confirmed it); true if held. */
  #holdBelowFloor(mark: DuePriceMark, price: CurrentPrice): boolean {
    const { route, marks, exceptions } = this.#o;
    if (mark.sentAmount === null || mark.sentCurrency !== price.currency) return false;
    if (mark.confirmedAmount === price.amount) return false;
    if (!isBelowFloor(price.amount, mark.sentAmount, route.floorPercent)) return false;
    const now = Date.now();
    marks.markHeld(
      route.destinationId,
      mark.sku,
      'floor',
      price.amount,
      `${price.amount} ${price.currency} is more than ${route.floorPercent}% under ${mark.sentAmount}: held for a person to confirm`,
      now,
    );
    const entry = EXCEPTION_CATALOG.price_below_floor;
    exceptions.raise({
      kind: 'price_below_floor',
      dedupeKey: entry.key(route.destinationId, mark.sku),
      message: entry.message({
        destinationId: route.destinationId,
        sku: mark.sku,
        amount: price.amount,
        currency: price.currency,
        lastSent: mark.sentAmount,
        floorPercent: route.floorPercent,
      }),
      details: { amount: price.amount, currency: price.currency, lastSent: mark.sentAmount },
      sku: mark.sku,
      destinationId: route.destinationId,
    });
    this.counters.held += 1;
    return true;
  }

  #record(item: PriceItem, mark: DuePriceMark, result: DeliveryResult): void {
    const { route, marks, exceptions } = this.#o;
    const destinationId = route.destinationId;
    const now = Date.now();
    switch (result.kind) {
      case 'delivered':
      case 'already_applied':
        marks.markSent(destinationId, item.sku, item.version, item, now);
        if (mark.confirmedAmount === item.amount)
          exceptions.resolveByKey(
            EXCEPTION_CATALOG.price_below_floor.key(destinationId, item.sku),
            EXCEPTION_CATALOG.price_below_floor.resolvedAs({ how: 'confirmed' }),
            now,
          );
        this.counters.delivered += 1;
        return;
      case 'rejected': {
        const entry = EXCEPTION_CATALOG.delivery_rejected;
        exceptions.raise({
          kind: 'delivery_rejected',
          dedupeKey: entry.levelKey(destinationId, item.sku, 'price'),
          message: entry.message({
            what: `The price of ${item.sku} (${item.amount} ${item.currency})`,
            destinationId,
            detail: result.detail,
          }),
          details: { amount: item.amount, currency: item.currency, error: result.detail },
          sku: item.sku,
          destinationId,
        });
        // Sent again only when the price changes again.
        marks.markSkipped(destinationId, item.sku, item.version, result.detail);
        this.counters.failed += 1;
        return;
      }
      case 'unmapped': {
        const entry = EXCEPTION_CATALOG.unmapped_sku;
        exceptions.raise({
          kind: 'unmapped_sku',
          dedupeKey: entry.key(destinationId, result.localId),
          message: entry.message({
            destinationId,
            localId: result.localId,
            what: `its price ${item.amount} ${item.currency}`,
            detail: result.detail,
          }),
          details: { mapping: result.mapping, detail: result.detail },
          sku: item.sku,
          destinationId,
        });
        marks.markHeld(destinationId, item.sku, 'unmapped', null, result.detail, now);
        return;
      }
      case 'auth_failed':
      case 'misconfigured':
      case 'rate_limited':
      case 'retry':
      case 'unknown': {
        const attempts = mark.attempts + 1;
        const backoff = Math.min(this.#o.maxDelayMs ?? 300_000, 500 * 2 ** Math.min(attempts, 16));
        const delay =
          result.kind === 'rate_limited' && result.retryAfterMs !== null ? result.retryAfterMs : backoff;
        marks.markRetry(destinationId, item.sku, now + delay, result.detail, true);
        this.counters.failed += 1;
        return;
      }
      default:
        assertNever(result);
    }
  }
}

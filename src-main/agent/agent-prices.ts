import type { ResolvedDestination } from '../../shared/config.js';
import type { ConnectorBundle } from '../connectors/port/connector-bundle.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Catalog } from '../ledger/catalog.js';
import { overrideList, PriceMarks, type PriceRoute } from '../outbox/price-marks.js';
import { PriceSender, type CurrentPrice } from '../outbox/price-sender.js';
import type { Logger } from '../platform/logger.js';

/** The price routes of the destinations with a `prices` section. */
export function priceRoutesOf(destinations: readonly ResolvedDestination[]): PriceRoute[] {
  return destinations.flatMap((d) =>
    'prices' in d && d.prices !== undefined
      ? [
          {
            destinationId: d.id,
            list: d.prices.list,
            compareAtList: d.prices.compareAtList ?? null,
            floorPercent: d.prices.floorPercent,
            requestsPerSecond: d.prices.requestsPerSecond ?? null,
          },
        ]
      : [],
  );
}

/**
 * Decimal text compare: is `a` above `b`? Both plain decimals of zero or more (the item master refuses others).
 */
function isAbove(a: string, b: string): boolean {
  const [aw = '0', af = ''] = a.split('.');
  const [bw = '0', bf = ''] = b.split('.');
  const width = Math.max(af.length, bf.length);
  return BigInt(aw + af.padEnd(width, '0')) > BigInt(bw + bf.padEnd(width, '0'));
}

/**
 * Prices out to channels, as the agent composes them: the price marks (bumped by the catalog in the transaction
 * that stores a price change) and one `PriceSender` per destination whose connector takes prices.
 */
export class AgentPrices {
  readonly marks: PriceMarks;
  #senders: readonly PriceSender[] = [];
  readonly #exceptions: ExceptionsRepo;
  readonly #toWake = new Set<string>();
  #isWakeQueued = false;

  constructor(db: AgentDatabase, destinations: readonly ResolvedDestination[], exceptions: ExceptionsRepo) {
    this.marks = new PriceMarks(db, priceRoutesOf(destinations));
    this.#exceptions = exceptions;
  }

  /** One per destination whose connector takes prices (after `createSenders`). */
  get senders(): readonly PriceSender[] {
    return this.#senders;
  }

  /**
   * The catalog stored a change of an item's prices (inside its transaction): bumps the marks, closes a hold
   * under the floor the change overtakes, and wakes the senders once the transaction is over.
   */
  onPricesChanged(sku: string, lists: ReadonlySet<string>, now: number): void {
    const { marked, wasBelowFloor } = this.marks.markChanged(sku, lists, now);
    const entry = EXCEPTION_CATALOG.price_below_floor;
    for (const destinationId of wasBelowFloor)
      this.#exceptions.resolveByKey(entry.key(destinationId, sku), entry.resolvedAs({ how: 'changed' }), now);
    for (const id of marked) this.#toWake.add(id);
    if (marked.length > 0 && !this.#isWakeQueued) {
      this.#isWakeQueued = true;
      setImmediate(() => {
        this.#isWakeQueued = false;
        const ids = [...this.#toWake];
        this.#toWake.clear();
        for (const id of ids) this.wake(id);
      });
    }
  }

  /** Makes the senders, once the connectors exist. */
  createSenders(
    o: Readonly<{
      db: AgentDatabase;
      bundles: ReadonlyMap<string, ConnectorBundle>;
      catalog: Catalog;
      logger: Logger;
    }>,
  ): void {
    this.#senders = this.marks.routes.flatMap((route) => {
      const target = o.bundles.get(route.destinationId)?.prices;
      if (target === undefined) return [];
      const priceFor = (sku: string): CurrentPrice | null => {
        // A price adopted from the channel (reconciliation) wins over the list's.
        const price =
          o.catalog.price(sku, overrideList(route.destinationId)) ?? o.catalog.price(sku, route.list);
        if (price === null) return null;
        const before = route.compareAtList === null ? null : o.catalog.price(sku, route.compareAtList);
        const compareAt =
          before !== null && before.currency === price.currency && isAbove(before.amount, price.amount)
            ? before.amount
            : null;
        return { amount: price.amount, currency: price.currency, compareAt };
      };
      return [
        new PriceSender({
          route,
          target,
          marks: this.marks,
          db: o.db,
          exceptions: this.#exceptions,
          logger: o.logger,
          priceFor,
        }),
      ];
    });
  }

  /** Marks every priced item not sent to its destination yet, and starts the senders. */
  start(): void {
    this.marks.seed();
    for (const sender of this.senders) sender.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.senders.map((s) => s.stop()));
  }

  /** Looks at a destination's due prices now (a price changed, a mapping set, a person confirmed). */
  wake(destinationId: string): void {
    this.senders.find((s) => s.destinationId === destinationId)?.wake();
  }

  /** Sends a destination's due prices now; resolves when done (tests, the bench). */
  async sendNow(destinationId: string): Promise<void> {
    await this.senders.find((s) => s.destinationId === destinationId)?.runDue();
  }
}

import { DESTINATION_MODE, type DestinationConfig } from '../../shared/config.js';
import type { EventType } from '../../shared/events.js';

/** Whether a destination posts POS sales and returns as daily statements rather than item by item. */
export function isStatementDestination(d: DestinationConfig): boolean {
  return d.type === 'tryton' && d.postingMode === 'daily_statement';
}

const isSaleOrReturn = (type: EventType) => type === 'sale' || type === 'return';

/**
 * Which destinations an event goes to: ledger destinations by type and location, level ones by location. A sale
 * or return goes to a `daily_statement` destination through its day's statement, not the outbox.
 */
export class Routing {
  readonly #ledger: readonly DestinationConfig[];
  readonly #level: readonly DestinationConfig[];
  readonly #ledgerCache = new Map<string, readonly string[]>();
  readonly #levelCache = new Map<string, readonly string[]>();
  readonly #statementCache = new Map<string, readonly string[]>();

  constructor(destinations: readonly DestinationConfig[]) {
    this.#ledger = destinations.filter((d) => DESTINATION_MODE[d.type] === 'ledger');
    this.#level = destinations.filter((d) => DESTINATION_MODE[d.type] === 'level');
  }

  /** Ids of the ledger-mode destinations that receive an event of this type at this location. */
  ledgerDestinations(type: EventType, location: string): readonly string[] {
    const key = `${type}\u0000${location}`;
    let ids = this.#ledgerCache.get(key);
    if (!ids) {
      ids = this.#ledger
        .filter((d) => {
          const types = 'eventTypes' in d ? d.eventTypes : undefined;
          return (
            (types === undefined || types.includes(type)) &&
            (d.locations === undefined || d.locations.includes(location)) &&
            !(isSaleOrReturn(type) && isStatementDestination(d))
          );
        })
        .map((d) => d.id);
      this.#ledgerCache.set(key, ids);
    }
    return ids;
  }

  /** Ids of the `daily_statement` destinations whose day statement takes an event of this type at this location. */
  statementDestinations(type: EventType, location: string): readonly string[] {
    if (!isSaleOrReturn(type)) return [];
    const key = `${type}\u0000${location}`;
    let ids = this.#statementCache.get(key);
    if (!ids) {
      ids = this.#ledger
        .filter(
          (d) =>
            isStatementDestination(d) &&
            (!('eventTypes' in d) || d.eventTypes === undefined || d.eventTypes.includes(type)) &&
            (d.locations === undefined || d.locations.includes(location)),
        )
        .map((d) => d.id);
      this.#statementCache.set(key, ids);
    }
    return ids;
  }

  /** Ids of the level-mode destinations that publish stock of this location. */
  levelDestinations(location: string): readonly string[] {
    let ids = this.#levelCache.get(location);
    if (!ids) {
      ids = this.#level
        .filter((d) => d.locations === undefined || d.locations.includes(location))
        .map((d) => d.id);
      this.#levelCache.set(location, ids);
    }
    return ids;
  }
}

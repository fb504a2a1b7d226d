import { InputRefusal } from '../platform/errors.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { PriceMarks } from './price-marks.js';

export type PriceDecision = Readonly<{
  destinationId: string;
  sku: string;
  operator: string;
  reason: string | null;
}>;

export type PriceDecisionsOptions = Readonly<{
  db: AgentDatabase;
  marks: PriceMarks;
  audit: AuditLog;
  exceptions: ExceptionsRepo;
  /** Wakes the destination's price sender (after the decision is stored). */
  wake: (destinationId: string) => void;
}>;

/**
 * What a person decides about a price held under its floor (the `price_below_floor` exception's ways out): confirm
 * it (it is sent as it is) or keep the old price (it is not sent). Each is one transaction with its audit entry and
 * the exception's resolution; the destination's sender is woken after.
 */
export class PriceDecisions {
  readonly #o: PriceDecisionsOptions;

  constructor(options: PriceDecisionsOptions) {
    this.#o = options;
  }

  /** Sends the held price as it is. Throws `InputRefusal` naming the field when nothing is held there. */
  confirm(d: PriceDecision): { amount: string } {
    return this.#decide(d, 'confirmed');
  }

  /** Keeps the channel's price: the held one is not sent. Throws `InputRefusal` when nothing is held there. */
  keep(d: PriceDecision): { amount: string } {
    return this.#decide(d, 'kept');
  }

  #decide(d: PriceDecision, how: 'confirmed' | 'kept'): { amount: string } {
    const { db, marks, audit, exceptions } = this.#o;
    if (marks.route(d.destinationId) === undefined)
      throw new InputRefusal('bad_shape', [
        { path: 'destination', message: `"${d.destinationId}" is no destination that takes prices` },
      ]);
    const amount = db.transaction(() => {
      const before = marks.get(d.destinationId, d.sku);
      const held =
        how === 'confirmed' ? marks.confirm(d.destinationId, d.sku) : marks.keep(d.destinationId, d.sku);
      if (held === null) return null;
      audit.record({
        operator: d.operator,
        action: how === 'confirmed' ? 'prices.confirm' : 'prices.keep',
        subject: `price:${d.destinationId}:${d.sku}`,
        reason: d.reason,
        before: { held, sent: before?.sent_amount ?? null },
        after: how === 'confirmed' ? { sending: held } : { kept: before?.sent_amount ?? null },
      });
      const entry = EXCEPTION_CATALOG.price_below_floor;
      // Confirmed: resolved once the channel took it (the sender does); kept: resolved now.
      if (how === 'kept')
        exceptions.resolveByKey(entry.key(d.destinationId, d.sku), entry.resolvedAs({ how }));
      return held;
    });
    if (amount === null)
      throw new InputRefusal('not_found', [
        { path: 'sku', message: `no price of ${d.sku} is held for ${d.destinationId}` },
      ]);
    this.#o.wake(d.destinationId);
    return { amount };
  }
}

import type {
  PriceDriftCause,
  PriceDriftFix,
  PriceDriftReport,
  PriceDriftRow,
} from '../../shared/rpc-views.js';
import type { PriceTarget } from '../connectors/port/connector-bundle.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { Catalog } from '../ledger/catalog.js';
import { overrideList, type PriceMarks } from '../outbox/price-marks.js';
import { InputRefusal } from '../platform/errors.js';

type Ignored = Record<string, { amount: string | null; operator: string; reason: string; at: number }>;
const IGNORED_KEY = 'reconcile:prices:ignored';

export type PriceDriftOptions = Readonly<{
  db: AgentDatabase;
  catalog: Catalog;
  marks: PriceMarks;
  audit: AuditLog;
  /** The destination's price target (with `readPrices`), or undefined. */
  targetOf: (destinationId: string) => PriceTarget | undefined;
  /** Wakes the destination's price sender. */
  wake: (destinationId: string) => void;
}>;

/** Equal decimal amounts, whatever their trailing zeros (`9.9` and `9.90`). */
function sameAmount(a: string, b: string): boolean {
  const norm = (x: string) => {
    const [w = '0', f = ''] = x.split('.');
    const fraction = f.replace(/0+$/, '');
    return `${w.replace(/^0+(?=[0-9])/, '')}${fraction === '' ? '' : `.${fraction}`}`;
  };
  return norm(a) === norm(b);
}

/**
 * Price drift (issue 12, part 5): each channel's current price read back and compared with the price Backroom
 * holds for it (its override, else its list's), each difference with its cause and the fixes that fit:
 * - `pending`: a change is still queued (or held under the floor) for the channel: it settles by itself;
 * - `not_mapped`: the SKU has no item at the channel (held for a mapping, or never mapped);
 * - `kept`: a person kept the channel's price over this one (held under the floor, "keep the old price");
 * - `changed_remote`: the channel has another price and nothing is queued: changed there by hand;
 * - `in_sync`.
 * Fixes (audited): `push` (mark the price dirty: ours is sent again), `adopt` (take the channel's price into the
 * destination's local override list, so Backroom holds what the channel sells at), `ignore` (with a reason, for
 * this remote price; another one shows again).
 */
export class PriceDrift {
  readonly #o: PriceDriftOptions;

  constructor(options: PriceDriftOptions) {
    this.#o = options;
  }

  /** Whether the destination takes prices and can read them back. */
  canRead(destinationId: string): boolean {
    return (
      this.#o.marks.route(destinationId) !== undefined &&
      this.#o.targetOf(destinationId)?.readPrices !== undefined
    );
  }

  /** The price Backroom holds for the channel: its override, else the route's list. */
  localPrice(destinationId: string, sku: string): { amount: string; currency: string } | null {
    const route = this.#o.marks.route(destinationId);
    if (route === undefined) return null;
    return this.#o.catalog.price(sku, overrideList(destinationId)) ?? this.#o.catalog.price(sku, route.list);
  }

  /** Compares every priced SKU of the destination (or those given) with what the channel holds now. */
  async run(
    destinationId: string,
    skus?: readonly string[],
    signal?: AbortSignal,
  ): Promise<PriceDriftReport> {
    const route = this.#o.marks.route(destinationId);
    const target = this.#o.targetOf(destinationId);
    if (route === undefined || target?.readPrices === undefined)
      throw new InputRefusal('bad_shape', [
        { path: 'destination', message: `"${destinationId}" takes no prices that can be read back` },
      ]);
    const wanted =
      skus ??
      this.#o.db.sqlite
        .prepare<[string, string], { sku: string }>(
          'SELECT DISTINCT sku FROM item_prices WHERE list IN (?, ?) ORDER BY sku',
        )
        .all(route.list, overrideList(destinationId))
        .map((r) => r.sku);
    const remote = await target.readPrices(wanted, signal ?? AbortSignal.timeout(120_000));
    const ignored = this.#ignored(destinationId);
    const rows: PriceDriftRow[] = remote.map((r) => {
      const local = this.localPrice(destinationId, r.sku);
      const mark = this.#o.marks.get(destinationId, r.sku);
      const isQueued = mark !== undefined && (mark.version > mark.sent_version || mark.held === 'floor');
      let cause: PriceDriftCause;
      if (r.amount === null) cause = 'not_mapped';
      else if (local !== null && sameAmount(local.amount, r.amount) && local.currency === r.currency)
        cause = 'in_sync';
      else if (isQueued && mark.held !== 'unmapped') cause = 'pending';
      else if (
        local !== null &&
        mark?.kept_amount === local.amount &&
        mark.sent_amount !== null &&
        sameAmount(mark.sent_amount, r.amount)
      )
        cause = 'kept';
      else cause = 'changed_remote';
      const fixes: PriceDriftFix[] =
        cause === 'in_sync'
          ? []
          : cause === 'not_mapped'
            ? ['ignore']
            : cause === 'pending'
              ? ['push', 'ignore']
              : ['push', 'adopt', 'ignore'];
      const note = ignored[r.sku];
      return {
        sku: r.sku,
        local: local?.amount ?? null,
        localCurrency: local?.currency ?? null,
        remote: r.amount,
        remoteCurrency: r.currency,
        cause,
        fixes,
        ignored:
          note !== undefined && note.amount === r.amount && cause !== 'in_sync'
            ? { operator: note.operator, reason: note.reason, at: note.at }
            : null,
      };
    });
    return {
      destinationId,
      at: Date.now(),
      rows,
      summary: {
        items: rows.length,
        inSync: rows.filter((r) => r.cause === 'in_sync').length,
        pending: rows.filter((r) => r.cause === 'pending').length,
        notMapped: rows.filter((r) => r.cause === 'not_mapped').length,
        changedRemote: rows.filter((r) => r.cause === 'changed_remote' && r.ignored === null).length,
      },
    };
  }

  /** Applies one fix to one SKU, audited with the operator and reason; returns what was done, in words. */
  async fix(
    input: Readonly<{
      destinationId: string;
      sku: string;
      action: PriceDriftFix;
      reason: string;
      operator: string;
    }>,
  ): Promise<{ action: PriceDriftFix; detail: string }> {
    const [row] = (await this.run(input.destinationId, [input.sku])).rows;
    if (row === undefined || !row.fixes.includes(input.action))
      throw new InputRefusal('bad_shape', [
        {
          path: 'action',
          message: `${input.action} does not fit ${input.sku} at ${input.destinationId} (${row?.cause ?? 'not compared'})`,
        },
      ]);
    const { db, audit, marks, catalog } = this.#o;
    const subject = `price:${input.destinationId}:${input.sku}`;
    const before = { local: row.local, remote: row.remote, cause: row.cause };
    switch (input.action) {
      case 'push': {
        db.transaction(() => {
          marks.markAll(input.destinationId, [input.sku]);
          audit.record({
            operator: input.operator,
            action: 'prices.push',
            subject,
            reason: input.reason,
            before,
            after: { sending: row.local },
          });
        });
        this.#o.wake(input.destinationId);
        return {
          action: 'push',
          detail:
            `${row.local ?? '—'} ${row.localCurrency ?? ''} is sent to ${input.destinationId} again`.trim(),
        };
      }
      case 'adopt': {
        const amount = row.remote!;
        const currency = row.remoteCurrency ?? row.localCurrency ?? '';
        db.transaction(() => {
          const report = catalog.apply(
            [{ sku: input.sku, prices: [{ list: overrideList(input.destinationId), amount, currency }] }],
            'reconcile',
          );
          if (report.refused.length > 0) throw new Error(report.refused[0]!.message);
          audit.record({
            operator: input.operator,
            action: 'prices.adopt',
            subject,
            reason: input.reason,
            before,
            after: { override: `${amount} ${currency}` },
          });
        });
        return {
          action: 'adopt',
          detail: `${input.sku} now sells at ${amount} ${currency} on ${input.destinationId} here too (price list ${overrideList(input.destinationId)})`,
        };
      }
      case 'ignore': {
        db.transaction(() => {
          const ignored = this.#ignored(input.destinationId);
          ignored[input.sku] = {
            amount: row.remote,
            operator: input.operator,
            reason: input.reason,
            at: Date.now(),
          };
          db.sqlite
            .prepare(
              `INSERT INTO connector_state (destination_id, key, value, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (destination_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
            )
            .run(input.destinationId, IGNORED_KEY, JSON.stringify(ignored), Date.now());
          audit.record({
            operator: input.operator,
            action: 'prices.ignore',
            subject,
            reason: input.reason,
            before,
            after: null,
          });
        });
        return {
          action: 'ignore',
          detail: `the difference of ${input.sku} at ${input.destinationId} is ignored while it stays ${row.remote ?? 'missing'}`,
        };
      }
    }
  }

  #ignored(destinationId: string): Ignored {
    const row = this.#o.db.sqlite
      .prepare<[string, string], { value: string }>(
        'SELECT value FROM connector_state WHERE destination_id = ? AND key = ?',
      )
      .get(destinationId, IGNORED_KEY);
    return row === undefined ? {} : (JSON.parse(row.value) as Ignored);
  }
}

import { z } from 'zod';
import type { Logger } from '../../platform/logger.js';
import type { OutgoingStatement, RemoteStatement, StatementOutcome } from '../port/connector-bundle.js';
import { ConnectorError } from '../port/connector-error.js';
import { PlanError } from './tryton-documents.js';
import { idSchema, type TrytonMasterData } from './tryton-master-data.js';
import { TrytonCallError, type CallOptions, type TrytonRpc } from './tryton-rpc.js';
import type { TrytonSalePosting } from './tryton-sale-posting.js';
import { planSale } from './tryton-sales.js';

const decimalSchema = z.union([z.object({ decimal: z.string() }), z.number(), z.string()]);
const decimalText = (value: z.output<typeof decimalSchema>): string =>
  typeof value === 'object' ? value.decimal : String(value);

export type StatementPostingDeps = Readonly<{
  rpc: TrytonRpc;
  data: TrytonMasterData;
  sales: TrytonSalePosting;
  logger: Logger;
}>;

type Resolved = { index: number; product: number; currency: number; qty: number; unitPrice: string };

/**
 * The Tryton connector's `daily_statement` posting mode: a statement of one location's business day (or a
 * supplementary one) becomes one Tryton sale (`sale.sale`) with a line per (SKU, unit price) and the statement's
 * reference, dated the day, for the walk-in customer at the store's warehouse, then taken through Tryton's
 * workflow as the `sales` mode takes a sale (quote, confirm, process, its shipments done).
 *
 * Exactly once: the reference is searched first; a sale found (an earlier attempt, cut by a crash or a timeout)
 * is driven on from its state, never made again, and its lines tell which of the statement's lines it holds. A
 * line Tryton cannot take (a SKU with no product, a product withdrawn (inactive), a currency Tryton does not know
 * or another than the statement's) is left off the sale and answered as refused with why; the rest posts.
 */
export class TrytonStatementPosting {
  readonly #d: StatementPostingDeps;

  constructor(deps: StatementPostingDeps) {
    this.#d = deps;
  }

  async post(statement: OutgoingStatement, signal: AbortSignal): Promise<StatementOutcome> {
    try {
      return await this.#post(statement, signal);
    } catch (error) {
      if (error instanceof PlanError) return { kind: 'rejected', detail: error.message };
      if (error instanceof TrytonCallError)
        switch (error.kind) {
          case 'refused':
          case 'warning':
            return { kind: 'rejected', detail: `Tryton refused the sale: ${error.message}` };
          case 'unknown':
            return { kind: 'unknown', detail: error.message };
          case 'auth':
          case 'rate_limited':
          case 'transient':
            return { kind: 'retry', detail: error.message };
        }
      this.#d.logger.error(
        { err: error, reference: statement.reference },
        'unexpected failure posting a statement',
      );
      return {
        kind: 'retry',
        detail: `unexpected: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  async #post(statement: OutgoingStatement, signal: AbortSignal): Promise<StatementOutcome> {
    const { rpc, data } = this.#d;
    const read: CallOptions = { signal, isWrite: false };
    const storage = await data.storageOf(statement.location, signal);
    if (storage === null)
      throw new PlanError(
        `no Tryton storage location or warehouse has the code "${statement.location}"; map the location to a storage location id, then post the statement again`,
      );
    const store = await data.store(storage, signal);
    const refused = new Map<number, string>();
    const resolved: Resolved[] = [];
    const currencies = new Map<number, string>();
    for (const [index, line] of statement.lines.entries()) {
      const product = await data.productOf(line.sku, signal);
      if (product === null) {
        refused.set(index, `no Tryton product has the code "${line.sku}"; map the SKU to a product`);
        continue;
      }
      const currency =
        line.currency === null ? store.places.currency : await data.currencyOf(line.currency, signal);
      if (currency === null) {
        refused.set(index, `Tryton does not know the currency ${line.currency ?? ''}; add it in Tryton`);
        continue;
      }
      currencies.set(currency, line.currency ?? currencies.get(currency) ?? 'the company currency');
      resolved.push({ index, product, currency, qty: line.qty, unitPrice: line.unitPrice });
    }
    // One Tryton sale has one currency: the one most lines are in (the company's on a tie).
    const weight = new Map<number, number>();
    for (const r of resolved) weight.set(r.currency, (weight.get(r.currency) ?? 0) + 1);
    const currency = [...weight].sort(
      (a, b) =>
        b[1] - a[1] ||
        Number(b[0] === store.places.currency) - Number(a[0] === store.places.currency) ||
        a[0] - b[0],
    )[0]?.[0];
    const inCurrency = resolved.filter((r) => {
      if (r.currency === currency) return true;
      refused.set(
        r.index,
        `it is in ${currencies.get(r.currency)} while the statement is in ${currencies.get(currency!)}; a Tryton sale has one currency`,
      );
      return false;
    });
    const inactive =
      inCurrency.length === 0
        ? new Set<number>()
        : await data.inactiveOf(
            inCurrency.map((r) => r.product),
            signal,
          );
    const lines = inCurrency.filter((r) => {
      if (!inactive.has(r.product)) return true;
      refused.set(
        r.index,
        `SKU ${statement.lines[r.index]!.sku} is withdrawn in Tryton (its product is inactive); reactivate it in Tryton or map the SKU to another product`,
      );
      return false;
    });
    const found = await rpc.call(
      z.array(z.object({ id: idSchema, state: z.string(), lines: z.array(idSchema) })),
      'sale.sale',
      'search_read',
      [[['reference', '=', statement.reference]], 0, null, null, ['state', 'lines']],
      read,
    );
    if (found.length > 1)
      throw new PlanError(
        `Tryton holds ${found.length} sales with the reference ${statement.reference}; cancel the extra ones in Tryton`,
      );
    let sale = found[0];
    if (sale !== undefined) {
      this.#d.logger.info(
        { reference: statement.reference, sale: sale.id, state: sale.state },
        'found the sale of an earlier attempt; finishing it',
      );
      // What the sale holds is what was posted: a line it lacks was left off when it was made.
      const held = await rpc.call(
        z.array(z.object({ product: idSchema.nullable(), unit_price: decimalSchema.nullable() })),
        'sale.line',
        'read',
        [sale.lines, ['product', 'unit_price']],
        read,
      );
      const has = new Set(
        held.map((h) => `${h.product}|${h.unit_price === null ? '' : Number(decimalText(h.unit_price))}`),
      );
      for (const r of lines)
        if (r.qty !== 0 && !has.has(`${r.product}|${Number(r.unitPrice)}`))
          refused.set(r.index, 'it is not on the Tryton sale an earlier attempt made; post it again');
    } else {
      const onSale = lines.filter((r) => r.qty !== 0);
      if (onSale.length === 0) return { kind: 'posted', remoteId: null, refused: refusals(refused) };
      const customer = await data.party('customer', signal);
      const uoms = await data.uomsOf(
        onSale.map((r) => r.product),
        signal,
      );
      const values = planSale({
        reference: statement.reference,
        description: `Backroom day statement ${statement.location} ${statement.day}`,
        places: store.places,
        customer,
        currency: currency!,
        date: await data.bookingDateAt(statement.day, statement.reference, store.places.company, signal),
        paymentTerm: await data.customerPaymentTerm(customer.id, signal),
        isReturn: false,
        lines: onSale.map((r) => ({
          product: r.product,
          uom: uoms.get(r.product)!,
          qty: r.qty,
          unitPrice: r.unitPrice,
        })),
      });
      const [id] = await rpc.callAcknowledging(z.array(idSchema), 'sale.sale', 'create', [[values]], {
        signal,
        isWrite: true,
      });
      sale = { id: id!, state: 'draft', lines: [] };
    }
    await this.#d.sales.driveSales([{ layout: store.layout, sale }], signal);
    return { kind: 'posted', remoteId: String(sale.id), refused: refusals(refused) };
  }

  /** The sales Tryton holds among `references`, with their state and untaxed total. */
  async read(references: readonly string[], signal: AbortSignal): Promise<RemoteStatement[]> {
    if (references.length === 0) return [];
    const read: CallOptions = { signal, isWrite: false };
    try {
      const sales = await this.#d.rpc.call(
        z.array(
          z.object({
            id: idSchema,
            reference: z.string().nullable(),
            state: z.string(),
            currency: idSchema,
            untaxed_amount: decimalSchema.nullable(),
          }),
        ),
        'sale.sale',
        'search_read',
        [
          [['reference', 'in', [...references]]],
          0,
          null,
          null,
          ['reference', 'state', 'currency', 'untaxed_amount'],
        ],
        read,
      );
      const ids = [...new Set(sales.map((s) => s.currency))];
      const codes =
        ids.length === 0
          ? []
          : await this.#d.rpc.call(
              z.array(z.object({ id: idSchema, code: z.string() })),
              'currency.currency',
              'read',
              [ids, ['code']],
              read,
            );
      const codeOf = new Map(codes.map((c) => [c.id, c.code]));
      return sales.map((s) => ({
        reference: s.reference ?? '',
        remoteId: String(s.id),
        state: s.state,
        total: {
          currency: codeOf.get(s.currency) ?? String(s.currency),
          amount: s.untaxed_amount === null ? '0' : decimalText(s.untaxed_amount),
        },
      }));
    } catch (error) {
      if (error instanceof PlanError) throw new ConnectorError('rejected', error.message);
      if (error instanceof TrytonCallError)
        throw new ConnectorError(
          error.kind === 'auth' ? 'auth_failed' : error.kind === 'refused' ? 'rejected' : 'unreachable',
          error.message,
        );
      throw error;
    }
  }
}

const refusals = (refused: ReadonlyMap<number, string>) =>
  [...refused].sort((a, b) => a[0] - b[0]).map(([index, why]) => ({ index, why }));

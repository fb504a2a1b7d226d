import { z } from 'zod';
import type { ConnectorContext } from '../port/connector-context.js';
import type { CatalogCheckpoint, CatalogPage, CatalogSource, RemoteItem } from '../port/connector-bundle.js';
import { ConnectorError } from '../port/connector-error.js';
import { connectorErrorOf } from './tryton-connector.js';
import type { TrytonConfig } from './tryton-master-data.js';
import { TrytonCallError, TrytonRpc, type CallOptions } from './tryton-rpc.js';

/** A Tryton datetime as its JSON-RPC encodes it (naive, UTC on the server). */
const datetimeSchema = z.object({
  __class__: z.literal('datetime'),
  year: z.number().int(),
  month: z.number().int(),
  day: z.number().int(),
  hour: z.number().int(),
  minute: z.number().int(),
  second: z.number().int(),
  microsecond: z.number().int().default(0),
});
type TrytonDatetime = z.output<typeof datetimeSchema>;

/** A boolean as Tryton reads it: `true`/`false`, or 1/0 from its SQLite backend. */
const booleanSchema = z.union([z.boolean(), z.number().int()]).transform((v) => v === true || v === 1);

const decimalSchema = z.object({ __class__: z.literal('Decimal'), decimal: z.string() });

/** A datetime as Tryton reads it, to RFC 3339 UTC with microseconds. */
function isoOf(d: TrytonDatetime): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.year, 4)}-${p(d.month)}-${p(d.day)}T${p(d.hour)}:${p(d.minute)}:${p(d.second)}.${p(d.microsecond, 6)}Z`;
}

/** An RFC 3339 time as a Tryton datetime (milliseconds kept). */
function trytonDatetime(iso: string): TrytonDatetime {
  const d = new Date(iso);
  return {
    __class__: 'datetime',
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    microsecond: d.getUTCMilliseconds() * 1000,
  };
}

/**
 * A pull of changes searches `product.product` for products whose own record, template or barcodes
 * (`product.identifier`) were created or written at or after `since`, in one search (so a product changed in
 * several ways is read once), paged by product id: a page's last id is where the pull goes on. A first pull (no
 * `since`) reads every product once.
 */
function changedSince(since: TrytonDatetime): unknown[] {
  return [
    'OR',
    ...['', 'template.', 'identifiers.'].flatMap((prefix) => [
      [`${prefix}write_date`, '>=', since],
      [`${prefix}create_date`, '>=', since],
    ]),
  ];
}

const productSchema = z.object({
  id: z.number().int(),
  code: z.string().nullable(),
  active: booleanSchema,
  template: z.number().int(),
  identifiers: z.array(z.number().int()),
});
const templateSchema = z.object({
  id: z.number().int(),
  name: z.string().nullable(),
  active: booleanSchema,
  list_price: decimalSchema.nullable(),
  default_uom: z.number().int(),
  salable: booleanSchema.optional(),
});

/**
 * A checkpoint's phase during a pull (`mark` set): 0 products changed since the mark; 1 every product (the sale
 * price list changed, or was not the one the last pull read). Between pulls (`mark` null): the id of the sale price
 * list the last pull read, 0 for none.
 */
const PHASE_ALL = 1;

/** A decimal's text without trailing zeros after the point (`9.00000` → `9`, `8.1000` → `8.1`): the same value. */
function trimDecimal(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/**
 * Tryton as the item master's source: products (their `code` is the SKU), name and unit from the template,
 * active (an item whose product or template is deactivated becomes inactive here), barcodes from
 * `product.identifier` and the template's list price in the company's currency, under the configured price list
 * name (`retail`).
 *
 * Changes only: a pull reads products changed at or after the last pull's mark less `overlapSeconds`, by
 * `write_date` and `create_date` of the product, its template and its identifiers. The mark is the newest change
 * Tryton held when the pull began, so a product changed while a pull runs is read again by the next one. Reading
 * the same product twice is harmless: the catalog stores nothing when nothing changed. Inactive products are read
 * too (`active_test: false`). A barcode removed in Tryton leaves no date behind; it goes when the product or its
 * template is next changed. Reads only.
 *
 * With `priceList` (a Tryton sale price list's name) each salable product with a list price also gets its price on
 * that list, read as `product.product`'s `sale_price_uom` with the list, quantity 1, the company's currency and the
 * product's unit in the context (so Tryton's own `compute` applies the list's lines), stored under the list
 * `tryton:<name>`. A change of the list (its own `write_date`, which moves when its lines are edited through it,
 * or a line's create or write date) makes the next pull read every product again (checkpoint phase 1). A line
 * deleted by itself leaves no date behind; it shows when the list or the product is next changed. A name Tryton
 * does not have fails the pull naming it, before anything is stored.
 */
export function createTrytonCatalog(config: TrytonConfig, context: ConnectorContext): CatalogSource {
  const settings = config.catalog ?? { pollSeconds: 300, overlapSeconds: 300, pageSize: 200, list: 'retail' };
  const rpc = new TrytonRpc({
    url: config.url,
    database: config.database,
    username: config.username,
    password: config.password,
    agentId: context.agentId,
    timeoutMs: config.requestTimeoutMs,
    logger: context.logger,
  });
  let currency: Promise<{ id: number; code: string }> | null = null;
  const priceListName = settings.priceList ?? null;

  const options = (signal: AbortSignal): CallOptions => ({
    signal,
    isWrite: false,
    context: { active_test: false },
  });

  /** The user's company currency (the list price's), read once. */
  const companyCurrency = (signal: AbortSignal): Promise<{ id: number; code: string }> => {
    currency ??= (async () => {
      const company = z
        .number()
        .int()
        .parse((await rpc.userContext(signal)).company);
      const [row] = await rpc.call(
        z.array(z.object({ currency: z.number().int() })),
        'company.company',
        'read',
        [[company], ['currency']],
        options(signal),
      );
      const [code] = await rpc.call(
        z.array(z.object({ code: z.string() })),
        'currency.currency',
        'read',
        [[row!.currency], ['code']],
        options(signal),
      );
      return { id: row!.currency, code: code!.code };
    })();
    currency.catch(() => (currency = null));
    return currency;
  };

  /**
   * The id of the configured sale price list, looked up by name at each pull's start (a list renamed or removed in
   * Tryton fails the pull naming it).
   */
  const priceListId = async (signal: AbortSignal): Promise<number | null> => {
    if (priceListName === null) return null;
    const ids = await rpc.call(
      z.array(z.number().int()),
      'product.price_list',
      'search',
      [[['name', '=', priceListName]], 0, 2, [['id', 'ASC']]],
      options(signal),
    );
    if (ids.length === 0)
      throw new ConnectorError(
        'rejected',
        `Tryton has no sale price list named "${priceListName}" (catalog.priceList)`,
      );
    if (ids.length > 1)
      throw new ConnectorError(
        'rejected',
        `Tryton has more than one sale price list named "${priceListName}" (catalog.priceList)`,
      );
    return ids[0]!;
  };

  /** The create and write dates the mark looks at: products, templates, identifiers and the price list's. */
  const watched = (listId: number | null): [string, unknown[]][] => [
    ['product.product', []],
    ['product.template', []],
    ['product.identifier', []],
    ...(listId === null
      ? []
      : ([
          ['product.price_list', [['id', '=', listId]]],
          ['product.price_list.line', [['price_list', '=', listId]]],
        ] as [string, unknown[]][])),
  ];

  /** The newest create or write time of what a pull reads: the mark of a pull beginning now. */
  const newestChange = async (listId: number | null, signal: AbortSignal): Promise<string | null> => {
    let newest: string | null = null;
    for (const [model, scope] of watched(listId))
      for (const field of ['write_date', 'create_date']) {
        const rows = await rpc.call(
          z.array(z.record(z.string(), z.unknown())),
          model,
          'search_read',
          [[...scope, [field, '!=', null]], 0, 1, [[field, 'DESC']], [field]],
          options(signal),
        );
        const value = rows[0]?.[field];
        if (value === undefined) continue;
        const iso = isoOf(datetimeSchema.parse(value));
        if (newest === null || iso > newest) newest = iso;
      }
    return newest;
  };

  /** Whether the price list or one of its lines was created or written at or after `since`. */
  const priceListChanged = async (
    listId: number,
    since: TrytonDatetime,
    signal: AbortSignal,
  ): Promise<boolean> => {
    for (const [model, scope] of watched(listId).slice(3)) {
      const ids = await rpc.call(
        z.array(z.number().int()),
        model,
        'search',
        [[...scope, ['OR', ['write_date', '>=', since], ['create_date', '>=', since]]], 0, 1, null],
        options(signal),
      );
      if (ids.length > 0) return true;
    }
    return false;
  };

  /**
   * The price of each of these products on the price list, by product id: Tryton's `sale_price_uom` with the list,
   * quantity 1, the company's currency and the product's own unit in the context, one read per unit.
   */
  const listPrices = async (
    listId: number,
    byUnit: ReadonlyMap<number, readonly number[]>,
    currencyId: number,
    signal: AbortSignal,
  ): Promise<Map<number, string>> => {
    const prices = new Map<number, string>();
    for (const [uom, ids] of byUnit)
      for (const row of await rpc.call(
        z.array(z.object({ id: z.number().int(), sale_price_uom: decimalSchema.nullable() })),
        'product.product',
        'read',
        [ids, ['sale_price_uom']],
        {
          ...options(signal),
          context: { active_test: false, price_list: listId, quantity: 1, currency: currencyId, uom },
        },
      ))
        if (row.sale_price_uom !== null) prices.set(row.id, trimDecimal(row.sale_price_uom.decimal));
    return prices;
  };

  /** The items of these products, in the order of `ids`; `skipped`: products with no code. */
  const itemsOf = async (
    ids: readonly number[],
    listId: number | null,
    signal: AbortSignal,
  ): Promise<{ items: RemoteItem[]; skipped: number }> => {
    if (ids.length === 0) return { items: [], skipped: 0 };
    const products = await rpc.call(
      z.array(productSchema),
      'product.product',
      'read',
      [ids, ['code', 'active', 'template', 'identifiers']],
      options(signal),
    );
    const templates = new Map(
      (
        await rpc.call(
          z.array(templateSchema),
          'product.template',
          'read',
          [
            [...new Set(products.map((p) => p.template))],
            ['name', 'active', 'list_price', 'default_uom', ...(listId === null ? [] : ['salable'])],
          ],
          options(signal),
        )
      ).map((t) => [t.id, t]),
    );
    const uoms = new Map(
      (
        await rpc.call(
          z.array(z.object({ id: z.number().int(), symbol: z.string().nullable(), name: z.string() })),
          'product.uom',
          'read',
          [[...new Set([...templates.values()].map((t) => t.default_uom))], ['symbol', 'name']],
          options(signal),
        )
      ).map((u) => [u.id, u.symbol || u.name]),
    );
    const identifierIds = products.flatMap((p) => p.identifiers);
    const barcodes = new Map<number, { code: string; id: number }[]>();
    if (identifierIds.length > 0)
      for (const row of await rpc.call(
        z.array(z.object({ id: z.number().int(), product: z.number().int(), code: z.string() })),
        'product.identifier',
        'read',
        [identifierIds, ['product', 'code']],
        options(signal),
      ))
        barcodes.set(row.product, [...(barcodes.get(row.product) ?? []), { code: row.code, id: row.id }]);
    const currency = await companyCurrency(signal);
    // Salable products with a list price (Tryton's price list formulas start from it) have a price on the list.
    const byUnit = new Map<number, number[]>();
    for (const product of products) {
      const template = templates.get(product.template);
      if (template?.list_price == null || template.salable !== true) continue;
      byUnit.set(template.default_uom, [...(byUnit.get(template.default_uom) ?? []), product.id]);
    }
    const onList =
      listId === null ? new Map<number, string>() : await listPrices(listId, byUnit, currency.id, signal);
    const items: RemoteItem[] = [];
    let skipped = 0;
    for (const product of products) {
      const template = templates.get(product.template);
      if (product.code === null || product.code === '' || template === undefined) {
        skipped += 1;
        continue;
      }
      items.push({
        sku: product.code,
        name: template.name,
        unit: uoms.get(template.default_uom) ?? null,
        isActive: product.active && template.active,
        // Identifiers in the order Tryton created them (their sequence is not read; ids follow creation).
        barcodes: (barcodes.get(product.id) ?? []).sort((a, b) => a.id - b.id).map((b) => b.code),
        prices: [
          ...(template.list_price === null
            ? []
            : [{ list: settings.list, amount: template.list_price.decimal, currency: currency.code }]),
          ...(onList.has(product.id)
            ? [{ list: `tryton:${priceListName}`, amount: onList.get(product.id)!, currency: currency.code }]
            : []),
        ],
      });
    }
    return { items, skipped };
  };

  const pullCatalog = async (checkpoint: CatalogCheckpoint, signal: AbortSignal): Promise<CatalogPage> => {
    try {
      const listId = await priceListId(signal);
      const beginning = checkpoint.mark === null;
      // A pull beginning: its mark is the newest change Tryton holds now.
      const mark = checkpoint.mark ?? (await newestChange(listId, signal)) ?? checkpoint.since;
      const since =
        checkpoint.since === null
          ? null
          : trytonDatetime(
              new Date(Date.parse(checkpoint.since) - settings.overlapSeconds * 1000).toISOString(),
            );
      // The price list changed since the last pull, or the last pull read another list (or none): this pull reads
      // every product (its prices on the list may all have moved), and says so in its checkpoint's phase so a pull
      // cut short goes on the same way.
      const phase = !beginning
        ? checkpoint.phase
        : listId !== null &&
            since !== null &&
            (checkpoint.phase !== listId || (await priceListChanged(listId, since, signal)))
          ? PHASE_ALL
          : 0;
      const domain: unknown[] = [['id', '>', checkpoint.afterId]];
      if (since !== null && phase !== PHASE_ALL) domain.push(changedSince(since));
      const ids = await rpc.call(
        z.array(z.number().int()),
        'product.product',
        'search',
        [domain, 0, settings.pageSize, [['id', 'ASC']]],
        options(signal),
      );
      const { items, skipped } = await itemsOf(ids, listId, signal);
      // A short page is the last: the pull is done, and its mark is where the next one starts.
      const isLast = ids.length < settings.pageSize;
      const next: CatalogCheckpoint = isLast
        ? { since: mark, mark: null, phase: listId ?? 0, afterId: 0 }
        : { since: checkpoint.since, mark, phase, afterId: ids.at(-1)! };
      return { items, skipped, next, isLast };
    } catch (error) {
      if (error instanceof TrytonCallError) throw connectorErrorOf(error);
      throw error;
    }
  };

  return { pullCatalog };
}

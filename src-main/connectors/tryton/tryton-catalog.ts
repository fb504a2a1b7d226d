import { z } from 'zod';
import type { ConnectorContext } from '../port/connector-context.js';
import type { CatalogCheckpoint, CatalogPage, CatalogSource, RemoteItem } from '../port/connector-bundle.js';
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
});

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
  let currency: Promise<string> | null = null;

  const options = (signal: AbortSignal): CallOptions => ({
    signal,
    isWrite: false,
    context: { active_test: false },
  });

  /** The code of the user's company currency (the list price's), read once. */
  const companyCurrency = (signal: AbortSignal): Promise<string> => {
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
      return code!.code;
    })();
    currency.catch(() => (currency = null));
    return currency;
  };

  /** The newest create or write time of any product, template or identifier: the mark of a pull beginning now. */
  const newestChange = async (signal: AbortSignal): Promise<string | null> => {
    let newest: string | null = null;
    for (const model of ['product.product', 'product.template', 'product.identifier'])
      for (const field of ['write_date', 'create_date']) {
        const rows = await rpc.call(
          z.array(z.record(z.string(), z.unknown())),
          model,
          'search_read',
          [[[field, '!=', null]], 0, 1, [[field, 'DESC']], [field]],
          options(signal),
        );
        const value = rows[0]?.[field];
        if (value === undefined) continue;
        const iso = isoOf(datetimeSchema.parse(value));
        if (newest === null || iso > newest) newest = iso;
      }
    return newest;
  };

  /** The items of these products, in the order of `ids`; `skipped`: products with no code. */
  const itemsOf = async (
    ids: readonly number[],
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
          [[...new Set(products.map((p) => p.template))], ['name', 'active', 'list_price', 'default_uom']],
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
    const code = await companyCurrency(signal);
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
        prices:
          template.list_price === null
            ? []
            : [{ list: settings.list, amount: template.list_price.decimal, currency: code }],
      });
    }
    return { items, skipped };
  };

  const pullCatalog = async (checkpoint: CatalogCheckpoint, signal: AbortSignal): Promise<CatalogPage> => {
    try {
      // A pull beginning: its mark is the newest change Tryton holds now.
      const mark = checkpoint.mark ?? (await newestChange(signal)) ?? checkpoint.since;
      const since =
        checkpoint.since === null
          ? null
          : trytonDatetime(
              new Date(Date.parse(checkpoint.since) - settings.overlapSeconds * 1000).toISOString(),
            );
      const domain: unknown[] = [['id', '>', checkpoint.afterId]];
      if (since !== null) domain.push(changedSince(since));
      const ids = await rpc.call(
        z.array(z.number().int()),
        'product.product',
        'search',
        [domain, 0, settings.pageSize, [['id', 'ASC']]],
        options(signal),
      );
      const { items, skipped } = await itemsOf(ids, signal);
      // A short page is the last: the pull is done, and its mark is where the next one starts.
      const isLast = ids.length < settings.pageSize;
      const next: CatalogCheckpoint = isLast
        ? { since: mark, mark: null, phase: 0, afterId: 0 }
        : { since: checkpoint.since, mark, phase: 0, afterId: ids.at(-1)! };
      return { items, skipped, next, isLast };
    } catch (error) {
      if (error instanceof TrytonCallError) throw connectorErrorOf(error);
      throw error;
    }
  };

  return { pullCatalog };
}

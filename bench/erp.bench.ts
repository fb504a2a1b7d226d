/*
 * `npm run bench:erp`: one store's offline day of sales posted to a real trytond 6.0, per posting mode, against
 * Tryton's own capacity measured in the same run.
 *
 * The day: BENCH_SALES (default 20,000) POS sales over 2,000 SKUs at one two-step warehouse (S1), 1 to 3 lines
 * each with a unit price in EUR, all on yesterday. Each measurement runs on a fresh trytond (the test harness's
 * template, `test/support/tryton-server.ts`) in which the 2,000 products were created first (not timed).
 *
 *   per_event   Backroom: the Tryton connector (`postingMode: per_event`) sent the day in batches of its
 *               `maxBatch` (50), one after the other, as the dispatcher sends one location's lane (SKU mappings
 *               known, as after a store's first day). Each sale becomes a customer shipment, done.
 *               Baseline: the same customer shipments created directly over JSON-RPC in the cheapest way
 *               Tryton allows: 50 shipments with their moves per `create`, then `wait`, `pick`, `pack` and
 *               `done` once per 50 (acknowledging Tryton's "no origin" warning), no search, no state read.
 *   sales       Backroom: the connector with `postingMode: sales`. Each sale becomes a `sale.sale`, processed,
 *               with its invoice and its shipment done.
 *               Baseline: the same sales created directly, 10 per `create`, then `quote` and `confirm` (Tryton
 *               processes them after the call), one read of their shipments, and the shipments' buttons once
 *               per 10.
 *
 *               The baseline sends as many documents per call as the connector (`TRYTON_MAX_BATCH`): Tryton's
 *               cost per document grows with the list a call validates (a `confirm` of 100 sales costs far more
 *               than ten of 10), so these are its cheapest sizes, not a handicap for either side.
 *   daily_statement  Backroom: the day closed as a manager closes it (`DayStatements.closeDay` makes the statement
 *               of the day's events, recorded in an agent database beforehand, not timed) and posted by the
 *               `StatementSender` through the connector (`postingMode: daily_statement`): one `sale.sale` with a
 *               line per (SKU, unit price), processed, its shipment done.
 *               Baseline: that same sale created directly: one `create` with its lines, `quote`, `confirm` (and
 *               `process` if Tryton left it confirmed), one read of its shipment, its effective date written
 *               (the statement's day, as Backroom dates it), the shipment's buttons once.
 *
 * Targets (issue 14): per_event within 1.5x of Tryton's batched capacity for the same shipments, daily_statement
 * within 1.2x of its baseline.
 *
 * Environment: BENCH_SALES (default 20000), BENCH_ONLY=per_event|sales|daily_statement,
 * BENCH_DIRECT_CHUNK (the baseline's documents per call instead of the connector's batch), BENCH_PARALLEL=1 (the
 * two sides at the same time, each on its own trytond: a Python process, so one core each; both see the same
 * machine, and the run takes half as long; needs two free cores). Traffic only to 127.0.0.1.
 */
import { cpus, loadavg } from 'node:os';
import { z } from 'zod';
import { parseEvent, type PosEvent } from '../shared/events.js';
import type { LedgerItem } from '../src-main/connectors/port/connector.js';
import { createTrytonConnector, TRYTON_MAX_BATCH } from '../src-main/connectors/tryton/tryton-connector.js';
import { TrytonRpc } from '../src-main/connectors/tryton/tryton-rpc.js';
import { DayStatements } from '../src-main/outbox/day-statements.js';
import { StatementSender } from '../src-main/outbox/statement-sender.js';
import { Money } from '../shared/money.js';
import { createLogger } from '../src-main/platform/logger.js';
import { connectorContext } from '../test/support/connector-context.js';
import { seededRandom } from '../test/support/seeded-random.js';
import { startTrytonServer, type TrytonServer } from '../test/support/tryton-server.js';

const SALES = Number(process.env.BENCH_SALES ?? 20_000);
const SKUS = 2_000;
const ONLY = process.env.BENCH_ONLY;
const PARALLEL = process.env.BENCH_PARALLEL === '1';
const DIRECT_CHUNK =
  process.env.BENCH_DIRECT_CHUNK === undefined ? undefined : Number(process.env.BENCH_DIRECT_CHUNK);
const MODES = ['per_event', 'sales', 'daily_statement'] as const;
type Mode = (typeof MODES)[number];
if (!(Number.isInteger(SALES) && SALES > 0)) throw new Error('BENCH_SALES must be a whole number above 0');
if (ONLY !== undefined && !MODES.includes(ONLY as Mode))
  throw new Error('BENCH_ONLY must be per_event, sales or daily_statement');
if (DIRECT_CHUNK !== undefined && !(Number.isInteger(DIRECT_CHUNK) && DIRECT_CHUNK > 0))
  throw new Error('BENCH_DIRECT_CHUNK must be a whole number above 0');
if (process.env.BENCH_PARALLEL !== undefined && !['0', '1'].includes(process.env.BENCH_PARALLEL))
  throw new Error('BENCH_PARALLEL must be 0 or 1');
/** The baseline's documents per call: the connector's own batch for the mode unless BENCH_DIRECT_CHUNK says. */
const directChunk = (mode: Mode) => DIRECT_CHUNK ?? TRYTON_MAX_BATCH[mode];
const TARGETS: Partial<Record<Mode, number>> = { per_event: 1.5, daily_statement: 1.2 };
/** The whole run is killed after this, whatever hangs. */
const WATCHDOG_MS = 4 * 60 * 60_000;
setTimeout(() => {
  console.error('bench:erp: watchdog fired');
  process.exit(1);
}, WATCHDOG_MS).unref();

const skuOf = (n: number) => `B-${String(n).padStart(5, '0')}`;
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const dateOfDay = () => {
  const [year, month, day] = yesterday.split('-').map(Number) as [number, number, number];
  return { __class__: 'date', year, month, day } as const;
};

function storeDay(): PosEvent[] {
  const random = seededRandom(2014);
  return Array.from({ length: SALES }, (_, i) => {
    const seconds = Math.floor((i / SALES) * 12 * 3600);
    const time = new Date(Date.parse(`${yesterday}T08:00:00Z`) + seconds * 1000).toISOString().slice(11, 19);
    const parsed = parseEvent({
      id: `sale-${String(i).padStart(6, '0')}`,
      type: 'sale',
      location: 'S1',
      occurredAt: `${yesterday}T${time}+00:00`,
      reference: `R-${i}`,
      lines: Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const sku = Math.floor(random() * SKUS);
        return {
          sku: skuOf(sku),
          qty: 1 + Math.floor(random() * 3),
          unitPrice: (1 + (sku % 400) / 20).toFixed(2),
          currency: 'EUR',
        };
      }),
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return parsed.event;
  });
}

const write = () => ({ signal: AbortSignal.timeout(600_000), isWrite: true });
const read = () => ({ signal: AbortSignal.timeout(600_000), isWrite: false });
const decimal = (value: string) => ({ __class__: 'Decimal', decimal: value });

type Setup = {
  server: TrytonServer;
  /** The baseline's client: the connector's JSON-RPC client, logged in as the admin, with a long timeout. */
  rpc: TrytonRpc;
  products: Map<string, number>;
  warehouse: number;
  output: number;
  customerLocation: number;
  address: number;
  company: number;
  currency: number;
};

/** A fresh trytond with the bench's 2,000 products (not timed). */
async function setUp(): Promise<Setup> {
  const server = await startTrytonServer();
  const rpc = new TrytonRpc({
    url: server.url,
    database: server.database,
    username: server.username,
    password: server.password,
    agentId: 'bench-baseline',
    timeoutMs: 600_000,
    logger: createLogger({ level: 'silent' }),
  });
  const [category] = await rpc.call(
    z.array(z.number()),
    'product.category',
    'search',
    [[['name', '=', 'Goods sold']], 0, 1, null],
    read(),
  );
  const products = new Map<string, number>();
  for (let start = 0; start < SKUS; start += 250) {
    const skus = Array.from({ length: Math.min(250, SKUS - start) }, (_, i) => skuOf(start + i));
    const templates = await rpc.call(
      z.array(z.number()),
      'product.template',
      'create',
      [
        skus.map((sku) => ({
          name: `Bench ${sku}`,
          type: 'goods',
          default_uom: 1,
          sale_uom: 1,
          salable: true,
          account_category: category,
          list_price: decimal('10'),
          products: [['create', [{ suffix_code: sku }]]],
        })),
      ],
      write(),
    );
    const rows = await rpc.call(
      z.array(z.object({ id: z.number(), products: z.array(z.number()) })),
      'product.template',
      'read',
      [templates, ['products']],
      read(),
    );
    for (const [i, row] of rows.entries()) products.set(skus[i]!, row.products[0]!);
  }
  const [warehouse] = await rpc.call(
    z.array(z.object({ id: z.number(), output_location: z.number() })),
    'stock.location',
    'search_read',
    [[['code', '=', 'WH-S1']], 0, 1, null, ['output_location']],
    read(),
  );
  const [party] = await rpc.call(
    z.array(z.object({ addresses: z.array(z.number()), customer_location: z.number() })),
    'party.party',
    'read',
    [[server.seed.customer], ['addresses', 'customer_location']],
    read(),
  );
  const [company] = await rpc.call(
    z.array(z.object({ currency: z.number() })),
    'company.company',
    'read',
    [[server.seed.company], ['currency']],
    read(),
  );
  return {
    server,
    rpc,
    products,
    warehouse: warehouse!.id,
    output: warehouse!.output_location,
    customerLocation: party!.customer_location,
    address: party!.addresses[0]!,
    company: server.seed.company,
    currency: company!.currency,
  };
}

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Backroom: the connector, one batch after another as one lane is sent. */
async function viaConnector(
  setup: Setup,
  mode: Mode,
  day: readonly PosEvent[],
  timing: Timing,
): Promise<void> {
  const test = connectorContext('erp', 'store-bench');
  try {
    for (const [sku, id] of setup.products) test.context.mappings.saveDiscovered('item', sku, String(id));
    const { server } = setup;
    const bundle = createTrytonConnector(
      {
        id: 'erp',
        type: 'tryton',
        url: server.url,
        database: server.database,
        username: server.username,
        password: server.password,
        customerParty: 'WALKIN',
        supplierParty: 'SUPPLIER',
        postingMode: mode,
        requestTimeoutMs: 300_000,
      },
      test.context,
    );
    if (bundle.connector.mode !== 'ledger') throw new Error('the Tryton connector is a ledger connector');
    if (mode === 'daily_statement') {
      const target = bundle.statements;
      if (target === undefined) throw new Error('a daily_statement destination takes statements');
      await closeAndPost(test, target, day, timing);
      return;
    }
    const items: LedgerItem[] = day.map((event, i) => ({
      outboxId: i + 1,
      seq: i + 1,
      source: 'pos-1',
      idempotencyKey: `store-bench:pos-1:${event.id}`,
      event,
      receivedAt: Date.now(),
      attempts: 0,
    }));
    for (const batch of chunks(items, bundle.connector.maxBatch)) {
      const outcome = await bundle.connector.send(batch, AbortSignal.timeout(600_000));
      const bad = outcome.results.find((r) => r.kind !== 'delivered');
      if (bad !== undefined) throw new Error(`the connector answered ${JSON.stringify(bad)}`);
    }
  } finally {
    test.cleanup();
  }
}

/**
 * The day recorded in an agent database as capture records it (not timed: `record` runs inside capture's own
 * transaction), then, timed, closed and posted as the agent does.
 */
async function closeAndPost(
  test: ReturnType<typeof connectorContext>,
  target: NonNullable<ReturnType<typeof createTrytonConnector>['statements']>,
  day: readonly PosEvent[],
  timing: Timing,
): Promise<void> {
  const statements = new DayStatements(test.db, 'store-bench', test.exceptions);
  const insert = test.db.sqlite.prepare(
    `INSERT INTO events (seq, source, event_id, type, location, occurred_at, received_at, body, content_hash, prev_hash, hash)
     VALUES (?, 'pos-1', ?, ?, ?, ?, 0, ?, '', '', '')`,
  );
  test.db.sqlite.transaction(() => {
    for (const [i, event] of day.entries()) {
      insert.run(i + 1, event.id, event.type, event.location, event.occurredAt, JSON.stringify(event));
      statements.record('erp', i + 1, event);
    }
  })();
  const sender = new StatementSender({
    destinationId: 'erp',
    target,
    statements,
    logger: createLogger({ level: 'silent' }),
    postTimeoutMs: 3_600_000,
  });
  timing.started = performance.now();
  statements.closeDay(['erp'], 'S1', yesterday, 'bench');
  await sender.runDue();
  const rows = test.db.sqlite.prepare('SELECT reference, state, last_error FROM statements').all() as {
    state: string;
  }[];
  if (rows.length !== 1 || rows[0]!.state !== 'posted')
    throw new Error(`the statement was not posted: ${JSON.stringify(rows)}`);
}

/** The statement's lines as Backroom makes them: one per (SKU, unit price), the day's units. */
function statementLines(day: readonly PosEvent[]): { sku: string; unitPrice: string; qty: number }[] {
  const lines = new Map<string, { sku: string; unitPrice: string; qty: number }>();
  for (const event of day)
    for (const line of event.lines) {
      const unitPrice = Money.normalize(line.unitPrice!);
      const key = `${line.sku}|${unitPrice}`;
      const sum = lines.get(key) ?? { sku: line.sku, unitPrice, qty: 0 };
      sum.qty += event.type === 'return' ? -line.qty : line.qty;
      lines.set(key, sum);
    }
  return [...lines.values()].sort((a, b) => a.sku.localeCompare(b.sku));
}

/** Where the timed part of the Backroom side starts, when it is not the start of the measurement. */
type Timing = { started: number | null };

/**
 * Tryton's own capacity: the same documents created directly over JSON-RPC, as many per call as the connector
 * sends (`TRYTON_MAX_BATCH`, chosen because Tryton's cost per document grows with the list it validates).
 */
async function directly(setup: Setup, mode: Mode, day: readonly PosEvent[]): Promise<void> {
  const rpc = setup.rpc;
  if (mode === 'daily_statement') {
    const [id] = await rpc.call(
      z.array(z.number()),
      'sale.sale',
      'create',
      [
        [
          {
            company: setup.company,
            reference: `direct:S1:${yesterday}`,
            party: setup.server.seed.customer,
            invoice_address: setup.address,
            shipment_address: setup.address,
            warehouse: setup.warehouse,
            currency: setup.currency,
            sale_date: dateOfDay(),
            payment_term: setup.server.seed.paymentTerm,
            lines: [
              [
                'create',
                statementLines(day).map((line) => ({
                  type: 'line',
                  product: setup.products.get(line.sku)!,
                  unit: 1,
                  quantity: line.qty,
                  unit_price: decimal(line.unitPrice),
                })),
              ],
            ],
          },
        ],
      ],
      write(),
    );
    await rpc.call(z.unknown(), 'sale.sale', 'quote', [[id]], write());
    await rpc.call(z.unknown(), 'sale.sale', 'confirm', [[id]], write());
    let [sale] = await rpc.call(
      z.array(z.object({ state: z.string(), shipments: z.array(z.number()) })),
      'sale.sale',
      'read',
      [[id], ['state', 'shipments']],
      read(),
    );
    if (sale!.state === 'confirmed') {
      await rpc.call(z.unknown(), 'sale.sale', 'process', [[id]], write());
      [sale] = await rpc.call(
        z.array(z.object({ state: z.string(), shipments: z.array(z.number()) })),
        'sale.sale',
        'read',
        [[id], ['state', 'shipments']],
        read(),
      );
    }
    // Dated the statement's day, as Backroom dates it (its moves take the shipment's effective date when done).
    await rpc.call(
      z.unknown(),
      'stock.shipment.out',
      'write',
      [sale!.shipments, { effective_date: dateOfDay() }],
      write(),
    );
    await shipmentButtons(rpc, sale!.shipments, false);
    return;
  }
  for (const batch of chunks(day, directChunk(mode))) {
    if (mode === 'per_event') {
      const ids = await rpc.callAcknowledging(
        z.array(z.number()),
        'stock.shipment.out',
        'create',
        [
          batch.map((event) => ({
            company: setup.company,
            reference: `direct:${event.id}`,
            warehouse: setup.warehouse,
            customer: setup.server.seed.customer,
            delivery_address: setup.address,
            planned_date: dateOfDay(),
            effective_date: dateOfDay(),
            outgoing_moves: [
              [
                'create',
                event.lines.map((line) => ({
                  product: setup.products.get(line.sku)!,
                  uom: 1,
                  quantity: line.qty,
                  from_location: setup.output,
                  to_location: setup.customerLocation,
                  company: setup.company,
                  unit_price: decimal(line.unitPrice!),
                  currency: setup.currency,
                })),
              ],
            ],
          })),
        ],
        write(),
      );
      await shipmentButtons(rpc, ids);
    } else {
      const ids = await rpc.call(
        z.array(z.number()),
        'sale.sale',
        'create',
        [
          batch.map((event) => ({
            company: setup.company,
            reference: `direct:${event.id}`,
            description: event.reference,
            party: setup.server.seed.customer,
            invoice_address: setup.address,
            shipment_address: setup.address,
            warehouse: setup.warehouse,
            currency: setup.currency,
            sale_date: dateOfDay(),
            payment_term: setup.server.seed.paymentTerm,
            lines: [
              [
                'create',
                event.lines.map((line) => ({
                  type: 'line',
                  product: setup.products.get(line.sku)!,
                  unit: 1,
                  quantity: line.qty,
                  unit_price: decimal(line.unitPrice!),
                })),
              ],
            ],
          })),
        ],
        write(),
      );
      await rpc.call(z.unknown(), 'sale.sale', 'quote', [ids], write());
      await rpc.call(z.unknown(), 'sale.sale', 'confirm', [ids], write());
      const sales = await rpc.call(
        z.array(z.object({ shipments: z.array(z.number()) })),
        'sale.sale',
        'read',
        [ids, ['shipments']],
        read(),
      );
      // Shipments made by a sale are already waiting.
      await shipmentButtons(
        rpc,
        sales.flatMap((s) => s.shipments),
        false,
      );
    }
  }
}

async function shipmentButtons(rpc: TrytonRpc, ids: number[], isDraft = true): Promise<void> {
  for (const button of [...(isDraft ? ['wait'] : []), 'pick', 'pack', 'done'])
    await rpc.callAcknowledging(z.unknown(), 'stock.shipment.out', button, [ids], write());
}

/** Counts what the run left in Tryton, so a side that did less than the other cannot look faster. */
async function countDocuments(rpc: TrytonRpc, mode: Mode): Promise<string> {
  const done = await rpc.call(
    z.array(z.number()),
    'stock.shipment.out',
    'search',
    [[['state', '=', 'done']], 0, null, null],
    read(),
  );
  if (mode === 'per_event') return `${done.length} customer shipments done`;
  if (mode === 'daily_statement') {
    const sales = await rpc.call(
      z.array(z.object({ lines: z.array(z.number()), untaxed_amount: z.object({ decimal: z.string() }) })),
      'sale.sale',
      'search_read',
      [[['state', '=', 'processing']], 0, null, null, ['lines', 'untaxed_amount']],
      read(),
    );
    return `${sales.length} sale processing (${sales.map((s) => `${s.lines.length} lines, ${s.untaxed_amount.decimal}`).join('; ')}), ${done.length} shipment done`;
  }
  const sales = await rpc.call(
    z.array(z.number()),
    'sale.sale',
    'search',
    [[['state', '=', 'processing']], 0, null, null],
    read(),
  );
  const invoices = await rpc.call(
    z.array(z.number()),
    'account.invoice',
    'search',
    [[], 0, null, null],
    read(),
  );
  return `${sales.length} sales processing, ${invoices.length} invoices, ${done.length} shipments done`;
}

async function measure(
  mode: Mode,
  side: 'backroom' | 'baseline',
  day: readonly PosEvent[],
): Promise<{ seconds: number; left: string }> {
  const setup = await setUp();
  try {
    const timing: Timing = { started: null };
    let started = performance.now();
    if (side === 'backroom') await viaConnector(setup, mode, day, timing);
    else await directly(setup, mode, day);
    // The daily statement's side starts its clock after the day is recorded (capture's part, not timed).
    started = timing.started ?? started;
    const seconds = (performance.now() - started) / 1000;
    const left = await countDocuments(setup.rpc, mode);
    console.error(`bench:erp: ${mode} ${side}: ${seconds.toFixed(1)} s (${left})`);
    return { seconds, left };
  } finally {
    await setup.server.stop();
  }
}

const day = storeDay();
const lines = day.reduce((n, e) => n + e.lines.length, 0);
console.log(
  `bench:erp: ${SALES} sales (${lines} lines) over ${SKUS} SKUs at one warehouse; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}; ` +
    `sides ${PARALLEL ? 'at the same time' : 'one after the other'}; baseline ${DIRECT_CHUNK ?? "the connector's batch"} per call`,
);
const rows: string[] = [];
for (const mode of MODES) {
  if (ONLY !== undefined && ONLY !== mode) continue;
  // In parallel, each side has its own trytond (one Python process, one core) at the same time, so both see the
  // same machine; one after the other, the baseline runs first.
  const [baseline, backroom] = PARALLEL
    ? await Promise.all([measure(mode, 'baseline', day), measure(mode, 'backroom', day)])
    : [await measure(mode, 'baseline', day), await measure(mode, 'backroom', day)];
  const ratio = backroom.seconds / baseline.seconds;
  const target = TARGETS[mode] === undefined ? '' : ` (target ≤ ${TARGETS[mode]}x)`;
  rows.push(
    `| ${mode.padEnd(15)} | ${baseline.seconds.toFixed(1).padStart(8)} s | ${backroom.seconds.toFixed(1).padStart(8)} s | ${ratio.toFixed(2)}x${target} | ${(SALES / backroom.seconds).toFixed(0)} sales/s | ${backroom.left} |`,
  );
}
console.log('| mode            | baseline   | Backroom   | ratio | Backroom rate | left in Tryton |');
console.log('| --------------- | ---------- | ---------- | ----- | ------------- | -------------- |');
for (const row of rows) console.log(row);
process.exit(0);

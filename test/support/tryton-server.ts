import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { z } from 'zod';
import { createLogger } from '../../src-main/platform/logger.js';
import { TrytonRpc, trytonDateSchema } from '../../src-main/connectors/tryton/tryton-rpc.js';
import { freePort } from './server-process.js';

const run = promisify(execFile);

export const TRYTON_USER = 'admin';
export const TRYTON_PASSWORD = 'backroom-test-admin';
const DATABASE = 'backroom';

/** Products of the seeded database: goods SKU-1..SKU-4 and SKU-SVC, a service, which stock moves refuse. */
export const TRYTON_GOODS = ['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4'] as const;
export const TRYTON_SERVICE = 'SKU-SVC';

/**
 * The master data seeded into every test database (ids as Tryton gave them). S1 is a two-step warehouse
 * (input, output and storage apart, as Tryton's own default warehouse), S2 a one-step one (all three the same),
 * so both workflows are exercised. The storage locations carry the codes `S1` and `S2`, the products their SKU as
 * code, so the connector discovers its mappings.
 */
export type TrytonSeed = Readonly<{
  company: number;
  /** Party codes `WALKIN` and `SUPPLIER`. */
  customer: number;
  supplier: number;
  storage: Readonly<Record<'S1' | 'S2', number>>;
  products: Readonly<Record<string, number>>;
  /** The immediate payment term, the walk-in party's customer payment term. */
  paymentTerm: number;
  /** The revenue account of the products' account category (sale lines are invoiced to it). */
  revenueAccount: number;
}>;

export type TrytonServer = Readonly<{
  /** `http://127.0.0.1:<port>/` */
  url: string;
  database: string;
  username: string;
  password: string;
  seed: TrytonSeed;
  /** A client logged in as the admin, for assertions (the connector's own JSON-RPC client). */
  rpc: TrytonRpc;
  /** Ends every session, as a session timeout would: the next call with an old session gets 401. */
  expireSessions: () => void;
  /** The end of trytond's log, for failure messages. */
  log: () => string;
  /** Stops trytond and removes its folder. */
  stop: () => Promise<void>;
}>;

/**
 * Seeds a freshly initialised database through trytond's Pool (the way Tryton's own tests do), printing the ids
 * as JSON. Run with the Python that runs trytond.
 */
const SEED_SCRIPT = `
import datetime, json, sys
from decimal import Decimal
conf, dbname, goods, service = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
from trytond.config import config
config.update_etc(conf)
from trytond.pool import Pool
from trytond.transaction import Transaction

Pool.start()
pool = Pool(dbname)
pool.init()
with Transaction().start(dbname, 0, context={}) as transaction:
    get = pool.get
    ModelData = get('ir.model.data')
    Currency, Party, Company, User = (get('currency.currency'), get('party.party'), get('company.company'),
        get('res.user'))
    Location, Template = get('stock.location'), get('product.template')
    eur, = Currency.create([{'name': 'Euro', 'code': 'EUR', 'symbol': 'EUR', 'rounding': Decimal('0.01'),
        'digits': 2}])
    party, customer, supplier = Party.create([
        {'name': 'Backroom Test Stores', 'addresses': [('create', [{'street': '1 Main St'}])]},
        {'name': 'Walk-in customer', 'code': 'WALKIN', 'addresses': [('create', [{'street': '2 Main St'}])]},
        {'name': 'Test supplier', 'code': 'SUPPLIER', 'addresses': [('create', [{'street': '3 Main St'}])]},
    ])
    company, = Company.create([{'party': party.id, 'currency': eur.id, 'timezone': 'UTC'}])
    User.write(User.search([('login', '=', 'admin')]), {'companies': [('add', [company.id])], 'company': company.id})
    lost_found = ModelData.get_id('stock', 'location_lost_found')
    seed = {'company': company.id, 'customer': customer.id, 'supplier': supplier.id, 'storage': {}, 'products': {}}
    for code, one_step in (('S1', False), ('S2', True)):
        storage, = Location.create([{'name': code + ' storage', 'code': code, 'type': 'storage'}])
        if one_step:
            inp = out = storage
        else:
            inp, out = Location.create([{'name': code + ' input', 'type': 'storage'},
                {'name': code + ' output', 'type': 'storage'}])
        Location.create([{'name': code + ' warehouse', 'code': 'WH-' + code, 'type': 'warehouse',
            'input_location': inp.id, 'output_location': out.id, 'storage_location': storage.id,
            'lost_found_location': lost_found}])
        seed['storage'][code] = storage.id
    # What sales need (sale.sale, its invoice): Tryton's minimal English chart of accounts with the receivable
    # and payable defaults (as account's own tests create it), fiscal years around today with monthly periods and
    # invoice sequences, an immediate payment term for the walk-in party, and an account category that gives
    # products a revenue and an expense account.
    with Transaction().set_context(company=company.id, companies=[company.id]):
        Account, AccountTemplate = get('account.account'), get('account.account.template')
        CreateChart = get('account.create_chart', type='wizard')
        session_id, _, _ = CreateChart.create()
        chart = CreateChart(session_id)
        chart.account.account_template = AccountTemplate(ModelData.get_id('account', 'account_template_root_en'))
        chart.account.company = company
        chart.transition_create_account()
        receivable, = Account.search([('type.receivable', '=', True), ('party_required', '=', True)], limit=1)
        payable, = Account.search([('type.payable', '=', True), ('party_required', '=', True)], limit=1)
        revenue, = Account.search([('type.revenue', '=', True)], limit=1)
        expense, = Account.search([('type.expense', '=', True)], limit=1)
        chart.properties.company = company
        chart.properties.account_receivable = receivable
        chart.properties.account_payable = payable
        chart.transition_create_properties()
        SequenceType, Sequence, StrictSequence = (get('ir.sequence.type'), get('ir.sequence'),
            get('ir.sequence.strict'))
        FiscalYear = get('account.fiscalyear')
        move_type, = SequenceType.search([('name', '=', 'Account Move')], limit=1)
        invoice_type, = SequenceType.search([('name', '=', 'Invoice')], limit=1)
        today = datetime.date.today()
        for year in (today.year - 1, today.year, today.year + 1):
            moves, = Sequence.create([{'name': str(year), 'sequence_type': move_type.id, 'company': company.id}])
            invoices, = StrictSequence.create([{'name': str(year), 'sequence_type': invoice_type.id,
                'company': company.id}])
            fiscalyear, = FiscalYear.create([{'name': str(year), 'company': company.id,
                'start_date': datetime.date(year, 1, 1), 'end_date': datetime.date(year, 12, 31),
                'post_move_sequence': moves.id,
                'invoice_sequences': [('create', [{'company': company.id, 'in_invoice_sequence': invoices.id,
                    'in_credit_note_sequence': invoices.id, 'out_invoice_sequence': invoices.id,
                    'out_credit_note_sequence': invoices.id}])]}])
            FiscalYear.create_period([fiscalyear])
        term, = get('account.invoice.payment_term').create([{'name': 'Immediate',
            'lines': [('create', [{'type': 'remainder'}])]}])
        Party.write([customer], {'customer_payment_term': term.id})
        category, = get('product.category').create([{'name': 'Goods sold', 'accounting': True,
            'account_revenue': revenue.id, 'account_expense': expense.id}])
        seed['paymentTerm'] = term.id
        seed['revenueAccount'] = revenue.id
    unit = ModelData.get_id('product', 'uom_unit')
    for sku, kind in [(sku, 'goods') for sku in goods] + [(service, 'service')]:
        template, = Template.create([{'name': 'Product ' + sku, 'type': kind, 'default_uom': unit,
            'list_price': Decimal('10'), 'salable': True, 'sale_uom': unit, 'account_category': category.id,
            'products': [('create', [{'suffix_code': sku}])]}])
        seed['products'][sku] = template.products[0].id
    transaction.commit()
print(json.dumps(seed))
`;

const seedSchema = z.object({
  company: z.number(),
  customer: z.number(),
  supplier: z.number(),
  storage: z.object({ S1: z.number(), S2: z.number() }),
  products: z.record(z.string(), z.number()),
  paymentTerm: z.number(),
  revenueAccount: z.number(),
});

type Template = { file: string; seed: TrytonSeed };

function which(name: string): string {
  return execFileSync('which', [name], { encoding: 'utf8' }).trim();
}

/** The Python that runs trytond (its shebang), so the seed script imports the same trytond. */
function trytonPython(trytond: string): string {
  const shebang = readFileSync(trytond, 'utf8').split('\n')[0] ?? '';
  const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(shebang);
  if (!match) return 'python3';
  return match[1]!.endsWith('/env') && match[2] ? match[2] : match[1]!;
}

function configText(dir: string, port: number): string {
  // SQLite: a database is the file <path>/<name>.sqlite. More retries than the default 5, since two lanes of
  // the agent write at once and SQLite has one writer.
  return `[database]\nuri = sqlite://\npath = ${dir}\nretry = 20\n\n[web]\nlisten = 127.0.0.1:${port}\n`;
}

let template: Promise<Template> | null = null;

/**
 * The modules the template database activates (with their dependencies): stock, sale, and sale_price_list (the
 * catalog pull's sale price list; it brings product_price_list).
 */
const TRYTON_MODULES = ['stock', 'sale', 'sale_price_list'] as const;

/**
 * The seeded template database, made once per test process (trytond-admin takes most of a minute) and copied for
 * each server. With `TRYTON_TEMPLATE_CACHE=<dir>` it is kept there between runs, keyed by trytond's version and
 * the modules activated and the seed script (a developer convenience; CI builds it fresh).
 */
function templateDatabase(): Promise<Template> {
  template ??= (async () => {
    const trytond = which('trytond');
    const version = execFileSync(trytond, ['--version'], { encoding: 'utf8' }).trim();
    const key = createHash('sha256')
      .update(`${version}\n${TRYTON_MODULES.join(',')}\n${SEED_SCRIPT}\n${TRYTON_PASSWORD}`)
      .digest('hex')
      .slice(0, 16);
    const cacheDir = process.env.TRYTON_TEMPLATE_CACHE;
    if (cacheDir !== undefined && existsSync(join(cacheDir, `${key}.json`)))
      return {
        file: join(cacheDir, `${key}.sqlite`),
        seed: seedSchema.parse(JSON.parse(readFileSync(join(cacheDir, `${key}.json`), 'utf8'))),
      };
    const dir = mkdtempSync(join(tmpdir(), 'backroom-tryton-template-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const conf = join(dir, 'trytond.conf');
    writeFileSync(conf, configText(dir, 0));
    writeFileSync(join(dir, 'password'), TRYTON_PASSWORD);
    writeFileSync(join(dir, 'seed.py'), SEED_SCRIPT);
    // The SQLite backend opens an existing file only.
    writeFileSync(join(dir, `${DATABASE}.sqlite`), '');
    await run(
      which('trytond-admin'),
      [
        '-c',
        conf,
        '-d',
        DATABASE,
        '--all',
        '-u',
        ...TRYTON_MODULES,
        '--activate-dependencies',
        '--email',
        'admin@example.com',
      ],
      {
        env: { ...process.env, TRYTONPASSFILE: join(dir, 'password') },
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const { stdout } = await run(
      trytonPython(trytond),
      [join(dir, 'seed.py'), conf, DATABASE, JSON.stringify(TRYTON_GOODS), TRYTON_SERVICE],
      { timeout: 60_000 },
    );
    const seed = seedSchema.parse(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
    const file = join(dir, `${DATABASE}.sqlite`);
    if (cacheDir !== undefined) {
      mkdirSync(cacheDir, { recursive: true });
      copyFileSync(file, join(cacheDir, `${key}.sqlite`));
      writeFileSync(join(cacheDir, `${key}.json`), JSON.stringify(seed));
    }
    return { file, seed };
  })();
  // A failed build is not kept, so the next test reports its own failure rather than a stale one.
  template.catch(() => (template = null));
  return template;
}

/**
 * Starts a fresh trytond for one test: a temp folder with its own copy of the seeded database, listening on a
 * free loopback port. Resolves once it answers JSON-RPC; `stop()` kills it and removes the folder.
 */
export async function startTrytonServer(): Promise<TrytonServer> {
  const { file, seed } = await templateDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'backroom-tryton-'));
  const dbFile = join(dir, `${DATABASE}.sqlite`);
  copyFileSync(file, dbFile);
  const port = await freePort();
  const conf = join(dir, 'trytond.conf');
  writeFileSync(conf, configText(dir, port));
  const proc: ChildProcess = spawn(which('trytond'), ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  let isExited = false;
  // Should the test process end without stop() (a crash, a cancelled run), trytond must not outlive it.
  const killOnExit = () => proc.kill('SIGKILL');
  process.on('exit', killOnExit);
  void exited.then(() => {
    isExited = true;
    process.off('exit', killOnExit);
  });
  const stop = async () => {
    if (!isExited) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}/`;
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (isExited) throw new Error(`trytond exited before it answered:\n${log}`);
      if (Date.now() > deadline) throw new Error(`trytond did not answer within 30 s:\n${log}`);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: 1, method: 'common.server.version', params: [] }),
        });
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const rpc = new TrytonRpc({
    url,
    database: DATABASE,
    username: TRYTON_USER,
    password: TRYTON_PASSWORD,
    agentId: 'test',
    logger: createLogger({ level: 'silent' }),
  });
  return {
    url,
    database: DATABASE,
    username: TRYTON_USER,
    password: TRYTON_PASSWORD,
    seed,
    rpc,
    expireSessions: () => {
      const db = new BetterSqlite3(dbFile, { timeout: 10_000 });
      try {
        db.prepare('DELETE FROM ir_session').run();
      } finally {
        db.close();
      }
    },
    log: () => log,
    stop,
  };
}

const SHIPMENT_MODELS = [
  'stock.shipment.out',
  'stock.shipment.out.return',
  'stock.shipment.in',
  'stock.shipment.internal',
] as const;

/** Every shipment of any model whose reference starts with `prefix`, with its model, reference and state. */
export async function shipmentsByReference(
  rpc: TrytonRpc,
  prefix: string,
): Promise<{ model: string; id: number; reference: string; state: string }[]> {
  const signal = AbortSignal.timeout(30_000);
  const found = [];
  for (const model of SHIPMENT_MODELS) {
    const rows = await rpc.call(
      z.array(z.object({ id: z.number(), reference: z.string().nullable(), state: z.string() })),
      model,
      'search_read',
      [[['reference', 'like', `${prefix}%`]], 0, null, null, ['reference', 'state']],
      { signal, isWrite: false },
    );
    for (const row of rows)
      found.push({ model, id: row.id, reference: row.reference ?? '', state: row.state });
  }
  return found;
}

/** Tryton's on-hand quantity (done moves, today) of each product at a storage location, read independently of the connector. */
export async function trytonOnHand(
  rpc: TrytonRpc,
  storage: number,
  products: readonly number[],
): Promise<Map<number, number>> {
  const signal = AbortSignal.timeout(30_000);
  const today = await rpc.call(trytonDateSchema, 'ir.date', 'today', [], { signal, isWrite: false });
  const rows = await rpc.call(
    z.array(z.object({ id: z.number(), quantity: z.number() })),
    'product.product',
    'read',
    [products, ['quantity']],
    { signal, isWrite: false, context: { locations: [storage], stock_date_end: today } },
  );
  return new Map(rows.map((r) => [r.id, r.quantity]));
}

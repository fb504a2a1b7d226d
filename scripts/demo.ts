/**
 * `npm run demo`: the agent with its embedded SQLite, a demo config, two simulated POS tills, a legacy POS that
 * drops CSV exports into a watched folder, a simulated ERP (a webhook receiver with faults) and two simulated
 * marketplaces (the Shopify and Amazon fakes the tests use, which read the official API models from
 * ../shared/contracts) taking orders now and then. Prints the URL to open and a token to use; stops on Ctrl+C.
 *
 * Options: --port N (default 7420), --seconds N (stop by itself after N seconds), --fresh (start from an empty
 * data folder), --dir PATH (default ./demo-data), --erp-port N (the simulated ERP's port; default port + 79).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ConfigInput } from '../shared/config.js';
import { Agent } from '../src-main/agent/agent.js';
import { loadConfig } from '../src-main/agent/config-loader.js';
import { createLogger } from '../src-main/platform/logger.js';
import { readStatus } from '../src-main/health/status.js';
import { AmazonFake } from '../test/simulators/amazon-fake.js';
import { FaultSink } from '../test/simulators/fault-sink.js';
import { ShopifyFake } from '../test/simulators/shopify-fake.js';
import { CONTRACTS_DIR } from '../test/support/contracts.js';
import { PosSimulator } from '../test/simulators/pos-simulator.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7420' },
    seconds: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    dir: { type: 'string', default: 'demo-data' },
    'erp-port': { type: 'string' },
  },
});

const dir = resolve(values.dir);
const erpPort = Number(values['erp-port'] ?? Number(values.port) + 79);
if (values.fresh) rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, 'drop'), { recursive: true });

const CATEGORIES = ['TEE', 'JEANS', 'SOCK', 'CAP', 'MUG', 'BAG', 'SCARF', 'BELT'];
const SIZES = ['S', 'M', 'L', 'XL', 'ONE'];
const skus = CATEGORIES.flatMap((c) => SIZES.map((s) => `${c}-${s}`));
// Retail prices in the shops' currency: they go out to Shopify and Amazon (the Prices page).
const PRICES: Record<string, string> = {
  TEE: '19.90',
  JEANS: '59.00',
  SOCK: '6.50',
  CAP: '14.90',
  MUG: '9.90',
  BAG: '34.00',
  SCARF: '24.90',
  BELT: '29.00',
};
writeFileSync(
  join(dir, 'catalog.csv'),
  `sku,name,barcode,price,currency\n${skus
    .map(
      (sku, i) =>
        `${sku},${sku.replace('-', ' size ')},${4006381333900 + i},${PRICES[sku.split('-')[0]!] ?? '9.99'},USD`,
    )
    .join('\n')}\n`,
);

// The marketplaces: simulated Shopify (the store sells online from Main St) and Amazon (shipped from the back
// warehouse). One SKU is left out of Shopify's catalog, so its sales show the "unmapped SKU" exception.
const hasContracts = existsSync(CONTRACTS_DIR);
const shopify = hasContracts ? await ShopifyFake.start() : null;
const amazon = hasContracts ? await AmazonFake.start({ feedProcessingMs: 1500 }) : null;
const NOT_ON_SHOPIFY = 'SCARF-XL';
let shopifyStore = '';
if (shopify) {
  shopifyStore = shopify.addLocation('Main St store');
  for (const sku of skus) if (sku !== NOT_ON_SHOPIFY) shopify.addItem(sku, { [shopifyStore]: 0 });
}
if (amazon) for (const sku of skus) amazon.seedListing({ sku, quantity: 0 });

const tokens = {
  till1: 'demo-till-1-token-change-me',
  till2: 'demo-till-2-token-change-me',
  legacy: 'demo-legacy-token',
};
const config: ConfigInput = {
  agentId: 'demo-store-042',
  dataDir: './data',
  listen: { host: '127.0.0.1', port: Number(values.port) },
  sources: [
    { id: 'till-1', token: tokens.till1 },
    { id: 'till-2', token: tokens.till2 },
    { id: 'legacy-pos', token: tokens.legacy },
  ],
  locations: [
    { id: 'S042', name: 'Main St store' },
    { id: 'W01', name: 'Back warehouse' },
  ],
  catalog: { path: './catalog.csv' },
  stock: { safetyStock: 1, safetyStockBySku: { 'MUG-ONE': 3 } },
  channels: [
    { id: 'shopify', buffer: 2 },
    { id: 'amazon', buffer: 1 },
  ],
  destinations: [
    {
      id: 'erp',
      type: 'webhook',
      url: `http://127.0.0.1:${erpPort}/erp/events`,
      secret: 'demo-erp-hmac-secret',
    },
    ...(shopify
      ? [
          {
            id: 'shopify',
            type: 'shopify' as const,
            url: shopify.url,
            accessToken: 'shpat_fake_token',
            channel: 'shopify',
            locations: ['S042'],
            orders: { location: 'S042', pollSeconds: 10 },
            prices: { list: 'retail' },
          },
        ]
      : []),
    ...(amazon
      ? [
          {
            id: 'amazon',
            type: 'amazon' as const,
            endpoint: amazon.endpoint,
            tokenUrl: amazon.tokenUrl,
            ...amazon.credentials,
            channel: 'amazon',
            locations: ['W01'],
            orders: { location: 'W01', pollSeconds: 20 },
            prices: { list: 'retail' },
          },
        ]
      : []),
  ],
  dropFolders: [{ path: './drop', source: 'legacy-pos', stableMs: 1000 }],
  operators: [{ name: 'Store manager', token: 'demo-manager-password' }],
};
const configFile = join(dir, 'config.json');
writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);

// The simulated ERP: a webhook receiver that is a little slow and now and then fails, as real ones do.
const erp = await FaultSink.start({
  port: erpPort,
  secret: 'demo-erp-hmac-secret',
  latencyMs: { min: 5, max: 40 },
  rate5xx: 0.03,
  rate429: 0.01,
  seed: 3,
});

const resolved = loadConfig(configFile);
const logger = createLogger({ level: 'warn', file: join(dir, 'agent.log') });
const agent = await Agent.start({ config: resolved, logger });
const url = agent.address;

// An opening stock count per location, so the store does not start empty (idempotent across demo restarts).
// The store's last mugs (MUG-M) are almost gone, so a sale soon drives the level below zero: the demo's
// "negative stock" exception, fixed by counting the shelf (README, "A first tour").
const LOW_AT_STORE = 'MUG-M';
for (const location of ['S042', 'W01']) {
  await agent.capture.capture('legacy-pos', [
    {
      id: `opening-count-${location}`,
      type: 'count',
      location,
      occurredAt: '2026-11-24T07:00:00+00:00',
      reference: `Opening count ${location}`,
      lines: skus.map((sku, i) => ({
        sku,
        qty: location === 'S042' && sku === LOW_AT_STORE ? 0 : 20 + ((i * 7) % 25),
      })),
    },
  ]);
}
// A transfer the warehouse sent to the store this morning, waiting to be received there (Stock entry,
// Transfer, "Expected here").
await agent.capture.capture('legacy-pos', [
  {
    id: 'transfer-W01-S042-1',
    type: 'transfer_out',
    location: 'W01',
    occurredAt: '2026-11-24T08:00:00+00:00',
    reference: 'TR-1001',
    lines: [
      { sku: LOW_AT_STORE, qty: 6 },
      { sku: 'TEE-M', qty: 4 },
    ],
    meta: { to: 'S042' },
  },
]);

// Each run's till events get new ids: a demo restarted on its kept data sells again instead of resending the
// previous run's events (which the agent would rightly answer as duplicates).
const run = Date.now().toString(36);
const tills = [
  new PosSimulator({
    url,
    token: tokens.till1,
    idPrefix: `till-1-${run}`,
    locations: ['S042'],
    skus,
    unknownSkus: ['TEE-XXL', 'GIFTCARD-50'],
    // Sells the nearly gone mugs first, so the negative level shows within the first minute.
    firstSkus: [LOW_AT_STORE],
    rate: 3,
    seed: 7,
  }),
  new PosSimulator({
    url,
    token: tokens.till2,
    idPrefix: `till-2-${run}`,
    locations: ['S042', 'W01'],
    skus,
    unknownSkus: ['SOCK-KIDS'],
    rate: 2,
    seed: 11,
  }),
];
for (const till of tills) till.start();

// Online orders: a Shopify order every 15 s (shipped a minute later), an Amazon order every 30 s.
let orderNo = 0;
const shopifyOrders: string[] = [];
const ordersTimer = setInterval(() => {
  orderNo += 1;
  const sku = skus[(orderNo * 7) % skus.length]!;
  if (shopify && sku !== NOT_ON_SHOPIFY) {
    shopifyOrders.push(
      shopify.placeOrder({ location: shopifyStore, lines: [{ sku, quantity: 1 + (orderNo % 2) }] }),
    );
    if (shopifyOrders.length > 4) shopify.fulfilOrder(shopifyOrders.shift()!);
  }
  if (amazon && orderNo % 2 === 0) {
    amazon.seedOrder({
      OrderStatus: 'Unshipped',
      LastUpdateDate: new Date(Date.now() - 5000).toISOString(),
      items: [{ SellerSKU: skus[(orderNo * 3) % skus.length]!, QuantityOrdered: 1 }],
    });
  }
}, 15_000);

// The legacy POS writes an export every 20 seconds; its second export, and every 15th after, has a bad row (a
// typo in qty): a "bad import row" exception, fixed in the workbench's row form.
let exportNo = 0;
const legacyTimer = setInterval(() => {
  exportNo += 1;
  const stamp = new Date().toISOString().replace('Z', '+00:00');
  const rows = Array.from({ length: 5 }, (_, i) => {
    const id = `legacy-${Date.now()}-${i}`;
    const qty = (exportNo === 2 || exportNo % 15 === 0) && i === 2 ? 'two' : String(1 + (i % 2));
    return `${id},sale,S042,${stamp},${skus[(exportNo * 5 + i) % skus.length]},${qty},12.50,EUR,L-${exportNo}-${i}`;
  });
  const name = `export-${String(exportNo).padStart(4, '0')}.csv`;
  // Written under a temporary name and renamed, as a well-behaved POS does; the agent ignores *.tmp.
  const temp = join(dir, 'drop', `${name}.tmp`);
  writeFileSync(
    temp,
    `event_id,type,location,occurred_at,sku,qty,unit_price,currency,reference\n${rows.join('\n')}\n`,
  );
  renameSync(temp, join(dir, 'drop', name));
}, 20_000);

const out = (line: string) => process.stdout.write(`${line}\n`);
out('');
out(
  `Backroom demo is running. Open ${url}/ and sign in as "Store manager" with password demo-manager-password`,
);
out(`  health:  ${url}/api/v1/health`);
out(`  stock:   curl -H 'Authorization: Bearer ${tokens.till1}' '${url}/api/v1/stock?sku=TEE-M'`);
out(`  status:  npx backroom status --config ${configFile}`);
out(`  metrics: curl -H 'Authorization: Bearer ${tokens.till1}' ${url}/metrics`);
out(`  drop a POS export (CSV) into ${join(dir, 'drop')}`);
out(
  hasContracts
    ? `  marketplaces: simulated Shopify at ${shopify!.url} and Amazon at ${amazon!.endpoint}, taking orders`
    : `  marketplaces: not simulated (the official API models are not at ${CONTRACTS_DIR})`,
);
out(`  data: ${dir} (logs in agent.<n>.log, rotated); Ctrl+C stops.`);
out('');

const statusTimer = setInterval(() => {
  const s = readStatus(agent.db, resolved, true);
  const exceptions = s.openExceptions.map((e) => `${e.kind}=${e.count}`).join(' ') || 'none';
  const sent = tills.reduce((n, t) => n + t.stats.accepted, 0);
  out(
    `[demo] events ${s.events} (tills accepted ${sent}) · ERP applied ${erp.applied.length} · queue ${s.destinations.map((d) => `${d.id}=${d.pending}`).join(' ')} · open exceptions: ${exceptions}`,
  );
}, 10_000);

let isStopping = false;
async function stop(): Promise<void> {
  if (isStopping) {
    out('stopping already; exiting now');
    process.exit(1);
  }
  isStopping = true;
  for (const till of tills) till.stop();
  clearInterval(legacyTimer);
  clearInterval(ordersTimer);
  clearInterval(statusTimer);
  await agent.stop();
  await erp.stop();
  await shopify?.stop();
  await amazon?.stop();
  out('demo stopped');
  // Everything above is closed, so the process should end by itself. If a handle a library left open (a file
  // watcher, a kept-alive socket) still holds it, say which and end anyway: Ctrl+C must end the demo.
  setTimeout(() => {
    process.stderr.write(
      `demo: still open after the stop: ${process.getActiveResourcesInfo().join(', ')}; exiting\n`,
    );
    process.exit(0);
  }, 3_000).unref();
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
if (values.seconds !== undefined) setTimeout(() => void stop(), Number(values.seconds) * 1000);

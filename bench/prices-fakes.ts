/*
 * The channels of `bench:prices`, in a child process of their own (so their request handling does not share the
 * agent's event loop): the Shopify fake, the Amazon fake and a Vendure stand-in, seeded with the SKUs, answering
 * the parent's questions over IPC. Started by bench/prices.bench.ts with `fork`; not run by hand.
 */
import { createServer, type Server } from 'node:http';
import { AmazonFake } from '../test/simulators/amazon-fake.js';
import { ShopifyFake } from '../test/simulators/shopify-fake.js';

/** What the parent sends first: the limits and the SKUs to seed. */
export type FakesSetup = Readonly<{
  skus: readonly string[];
  shopify: Readonly<{ bucket: number; rate: number }>;
  amazon: Readonly<{ rate: number; burst: number }>;
  vendure: Readonly<{ rate: number; burst: number }>;
}>;

/** What the child answers once its servers listen. */
export type FakesReady = Readonly<{
  shopify: { url: string; accessToken: string; items: string[] };
  amazon: { endpoint: string; tokenUrl: string; credentials: AmazonFake['credentials'] };
  vendureUrl: string;
}>;

/** The channels' account of the run, for the SKUs' last prices (`expected`: sku → amount). */
export type FakesReport = Readonly<
  Record<
    'shopify' | 'amazon' | 'vendure',
    { updates: number; maxPerSku: number; violations: number; requests: number; wrong: number }
  >
>;

/** A Vendure stand-in: the connector's Admin API calls, a request limit, and what it applied. */
class VendureSink {
  readonly prices = new Map<string, number>();
  readonly updatesPerVariant = new Map<string, number>();
  violations = 0;
  requests = 0;
  readonly #plan: Readonly<{ rate: number; burst: number }>;
  #tokens: number;
  #at = performance.now();
  #server: Server | null = null;
  url = '';

  constructor(plan: Readonly<{ rate: number; burst: number }>) {
    this.#plan = plan;
    this.#tokens = plan.burst;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.requests += 1;
        const now = performance.now();
        this.#tokens = Math.min(this.#plan.burst, this.#tokens + ((now - this.#at) / 1000) * this.#plan.rate);
        this.#at = now;
        // 25 ms of slack for clocks, as the Amazon fake allows.
        if (this.#tokens < 1 - (25 / 1000) * this.#plan.rate) {
          this.violations += 1;
          res.writeHead(429, { 'retry-after': '1' }).end('{}');
          return;
        }
        this.#tokens -= 1;
        const { query, variables } = JSON.parse(body) as {
          query: string;
          variables: { input?: { id: string; prices: { currencyCode: string; price: number }[] }[] };
        };
        const json = (data: unknown, headers: Record<string, string> = {}) =>
          res
            .writeHead(200, { 'content-type': 'application/json', ...headers })
            .end(JSON.stringify({ data }));
        if (query.includes('login('))
          return json({ login: { __typename: 'CurrentUser' } }, { 'vendure-auth-token': 'bench-token' });
        if (query.includes('activeChannel'))
          return json({
            activeChannel: { code: 'default', defaultCurrencyCode: 'USD', availableCurrencyCodes: ['USD'] },
          });
        if (query.includes('updateProductVariants')) {
          const out = (variables.input ?? []).map((v) => {
            this.prices.set(v.id, v.prices[0]!.price);
            this.updatesPerVariant.set(v.id, (this.updatesPerVariant.get(v.id) ?? 0) + 1);
            return { id: v.id, prices: v.prices };
          });
          return json({ updateProductVariants: out });
        }
        res.writeHead(400).end(JSON.stringify({ errors: [{ message: 'not served by the bench sink' }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${address.port}`;
    this.#server = server;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

const maxOf = (values: Iterable<number>) => Math.max(0, ...values);
function countBy(keys: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

const send = (message: unknown) => process.send?.(message);
let shop: ShopifyFake;
let amazon: AmazonFake;
let vendure: VendureSink;
let skus: readonly string[] = [];

process.on('message', (raw) => {
  const message = raw as
    | { kind: 'setup'; setup: FakesSetup }
    | { kind: 'report'; expected: Record<string, string> }
    | { kind: 'stop' };
  void (async () => {
    switch (message.kind) {
      case 'setup': {
        const setup = message.setup;
        skus = setup.skus;
        shop = await ShopifyFake.start({
          throttle: { maximumAvailable: setup.shopify.bucket, restoreRate: setup.shopify.rate },
        });
        amazon = await AmazonFake.start({ rateLimits: { patchListingsItem: setup.amazon } });
        vendure = new VendureSink(setup.vendure);
        await vendure.start();
        shop.addLocation('Store one');
        const items = skus.map((sku) => shop.addItem(sku));
        for (const sku of skus) amazon.seedListing({ sku, quantity: 0 });
        send({
          kind: 'ready',
          ready: {
            shopify: { url: shop.url, accessToken: shop.accessToken, items },
            amazon: { endpoint: amazon.endpoint, tokenUrl: amazon.tokenUrl, credentials: amazon.credentials },
            vendureUrl: vendure.url,
          },
        });
        return;
      }
      case 'report': {
        const expected = message.expected;
        const wrong = (
          actual: (sku: string, i: number) => string | number | undefined,
          scale: (a: string) => string | number,
        ) =>
          skus.filter((sku, i) => {
            const amount = expected[sku];
            return amount !== undefined && actual(sku, i) !== scale(amount);
          }).length;
        const report: FakesReport = {
          shopify: {
            updates: shop.prices.applied.length,
            maxPerSku: maxOf(countBy(shop.prices.applied.map((a) => a.sku)).values()),
            violations: shop.throttledCount + shop.invalidRequests.length,
            requests: shop.requests.length,
            wrong: wrong(
              (sku) => shop.prices.priceOf(sku)?.price,
              (a) => a,
            ),
          },
          amazon: {
            updates: amazon.prices.applied.length,
            maxPerSku: maxOf(countBy(amazon.prices.applied.map((a) => a.sku)).values()),
            violations:
              amazon.quotaExceeded.length + amazon.earlyRequests.length + amazon.invalidRequests.length,
            requests: amazon.requests.length,
            wrong: wrong(
              (sku) => amazon.prices.offerOf(sku)?.amount,
              (a) => Number(a),
            ),
          },
          vendure: {
            updates: [...vendure.updatesPerVariant.values()].reduce((a, b) => a + b, 0),
            maxPerSku: maxOf(vendure.updatesPerVariant.values()),
            violations: vendure.violations,
            requests: vendure.requests,
            wrong: wrong(
              (_, i) => vendure.prices.get(`V${i}`),
              (a) => Math.round(Number(a) * 100),
            ),
          },
        };
        send({ kind: 'report', report });
        return;
      }
      case 'stop':
        await shop.stop();
        await amazon.stop();
        await vendure.stop();
        process.exit(0);
    }
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});

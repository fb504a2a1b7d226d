import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { CONTRACTS_DIR } from '../support/contracts.js';
import { SpApiModels, type OperationModel, type UsagePlan } from './amazon/sp-api-models.js';
import { AmazonFakePrices } from './amazon-fake-prices.js';

/*
 * A fake of the Amazon Selling Partner API for tests: a real HTTP server on 127.0.0.1 serving Login with Amazon's
 * token endpoint, Feeds 2021-06-30 (with the pre-signed upload and download URLs), Listings Items 2021-08-01 and
 * Orders v0. It reads the official models from ../shared/contracts at start and validates every request against
 * them; enforces each operation's usage plan with a token bucket; and can be told to fail.
 */

/** The seller, marketplace and LWA client the fake knows by default. */
export const FAKE_SELLER_ID = 'A2FAKESELLER01';
export const FAKE_MARKETPLACE_ID = 'ATVPDKIKX0DER';
export const FAKE_CLIENT_ID = 'amzn1.application-oa2-client.fake';
export const FAKE_CLIENT_SECRET = 'fake-client-secret';
export const FAKE_REFRESH_TOKEN = 'Atzr|fake-refresh-token';

/** The operations the fake serves, besides the token endpoint and the pre-signed document URLs. */
export const SERVED_OPERATIONS = [
  'createFeedDocument',
  'createFeed',
  'getFeed',
  'getFeedDocument',
  'getListingsItem',
  'patchListingsItem',
  'getOrders',
  'getOrder',
  'getOrderItems',
  'confirmShipment',
] as const;
export type ServedOperation = (typeof SERVED_OPERATIONS)[number];

export type OrderStatus =
  | 'Pending'
  | 'Unshipped'
  | 'PartiallyShipped'
  | 'Shipped'
  | 'Canceled'
  | 'Unfulfillable'
  | 'InvoiceUnconfirmed'
  | 'PendingAvailability';

/** An order to seed. Times are ISO 8601. */
export type OrderSeed = Readonly<{
  AmazonOrderId?: string;
  OrderStatus: OrderStatus;
  LastUpdateDate: string;
  PurchaseDate?: string;
  FulfillmentChannel?: 'MFN' | 'AFN';
  MarketplaceId?: string;
  items: readonly Readonly<{ SellerSKU?: string; QuantityOrdered: number; ASIN?: string }>[];
}>;

/** A listing as the fake holds it. */
export type FakeListing = Readonly<{
  sku: string;
  quantity: number;
  productType: string;
  asin: string;
  createdDate: string;
  lastUpdatedDate: string;
}>;

/** One applied quantity update, in the order applied. */
export type AppliedUpdate = Readonly<{
  sku: string;
  quantity: number;
  via: 'patch' | 'feed';
  at: number;
  feedId?: string;
}>;

/** What the fake did with a request. */
export type RequestOutcome =
  | 'ok'
  | 'invalid'
  | 'unauthorized'
  | 'throttled'
  | 'injected'
  | 'hang'
  | 'reset'
  | 'not_found'
  | 'unsupported';

/** One request, in arrival order. */
export type FakeRequest = Readonly<{
  at: number;
  method: string;
  path: string;
  query: string;
  /** The model's operationId, or `lwaToken`, `uploadFeedDocument`, `downloadDocument`; null when none matched. */
  operation: string | null;
  /** Whether the request conforms to the models (and to the documented rules the models state in words). */
  isValid: boolean;
  problems: readonly string[];
  status: number | null;
  outcome: RequestOutcome;
}>;

/** A failure to inject into the next request(s) of an operation. */
export type Fault =
  | Readonly<{ kind: 'status'; status: number }>
  | Readonly<{ kind: 'throttle'; retryAfterSeconds?: number }>
  | Readonly<{ kind: 'hang' }>
  /** The request takes effect, and its answer never comes (a timeout after sending). */
  | Readonly<{ kind: 'apply_then_hang' }>
  /** Answered `status` with no body (204 for `confirmShipment`), and lost on Amazon's side: nothing applied. */
  | Readonly<{ kind: 'accept_then_drop'; status: number }>
  | Readonly<{ kind: 'reset' }>;

/** A 429 sent because an operation's bucket was empty (not an injected one). */
export type QuotaExceeded = Readonly<{ at: number; operation: string }>;

/** A request that came before the time the fake's last 429 of that operation said a token would be there. */
export type EarlyRequest = Readonly<{ at: number; operation: string; notBefore: number }>;

export type AmazonFakeOptions = Readonly<{
  /** The folder holding `amazon/` models. Default: ../shared/contracts beside the repository. */
  contractsDir?: string;
  sellerId?: string;
  marketplaceId?: string;
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  /** Lifetime of an access token. Default 3600 s. */
  tokenTtlSeconds?: number;
  /** A feed is IN_QUEUE, then IN_PROGRESS after half of this, then DONE. Default 200 ms. */
  feedProcessingMs?: number;
  /** Usage plans replacing the documented ones (which are read from the models). */
  rateLimits?: Readonly<Partial<Record<ServedOperation, UsagePlan>>>;
  /** Serve processing reports gzipped (`compressionAlgorithm: GZIP`). Default false. */
  isReportGzipped?: boolean;
  /** Order items per `getOrderItems` page. Default 100. */
  orderItemsPageSize?: number;
  /**
   * Slack for clocks: a request arriving up to this much before its bucket has a whole token is let through (a
   * client pacing exactly at the rate sees its requests arrive with jitter). Default 25 ms.
   */
  toleranceMs?: number;
}>;

type Feed = {
  feedId: string;
  feedType: string;
  marketplaceIds: string[];
  createdTime: string;
  processingStatus: 'IN_QUEUE' | 'IN_PROGRESS' | 'DONE' | 'FATAL' | 'CANCELLED';
  processingStartTime?: string;
  processingEndTime?: string;
  resultFeedDocumentId?: string;
  document: unknown;
};

type FeedDocument = {
  id: string;
  contentType: string;
  signature: string;
  expiresAt: number;
  content: Buffer | null;
  isReport: boolean;
};

type Order = {
  AmazonOrderId: string;
  OrderStatus: OrderStatus;
  LastUpdateDate: string;
  PurchaseDate: string;
  FulfillmentChannel: 'MFN' | 'AFN';
  MarketplaceId: string;
  items: {
    ASIN: string;
    OrderItemId: string;
    SellerSKU?: string;
    QuantityOrdered: number;
    /** Set once a shipment of it was confirmed (else: all of it once the order is Shipped, none before). */
    QuantityShipped?: number;
  }[];
  /** The packages confirmed (`confirmShipment`), in order. */
  packages: ShipmentPackage[];
};

/** A package confirmed for an order, as `confirmShipment` gave it. */
export type ShipmentPackage = Readonly<{
  packageReferenceId: string;
  carrierCode: string;
  carrierName?: string;
  trackingNumber: string;
  orderItems: readonly Readonly<{ orderItemId: string; quantity: number }>[];
}>;

/** The body of `confirmShipment`, as validated against the model. */
type ConfirmShipmentBody = {
  marketplaceId: string;
  packageDetail: {
    packageReferenceId: string;
    carrierCode: string;
    carrierName?: string;
    trackingNumber: string;
    shipDate: string;
    orderItems: { orderItemId: string; quantity: number }[];
  };
};

type Bucket = { plan: UsagePlan; tokens: number; at: number; notBefore: number };

type Answer = Readonly<{
  status: number;
  body?: unknown;
  raw?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}>;

type Entry = { -readonly [K in keyof FakeRequest]: FakeRequest[K] };

/** ISO 8601 the way SP-API writes it: UTC, whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const spError = (code: string, message: string, details?: string) => ({
  errors: [{ code, message, ...(details === undefined ? {} : { details }) }],
});

/**
 * The fake. Start with `AmazonFake.start()`, point an `amazon` destination at `endpoint` and `tokenUrl`, seed
 * listings and orders, and stop it with `stop()`.
 *
 * @example
 * const fake = await AmazonFake.start({ feedProcessingMs: 100 });
 * fake.seedListing({ sku: 'SKU-1', quantity: 5 });
 * // ... run the connector ...
 * assert.deepEqual(fake.invalidRequests, []);
 */
export class AmazonFake {
  readonly models: SpApiModels;
  readonly sellerId: string;
  readonly marketplaceId: string;
  /** Listings' offer prices, set by `patchListingsItem` of `purchasable_offer` (amazon-fake-prices.ts). */
  readonly prices: AmazonFakePrices;
  readonly #o: AmazonFakeOptions;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #port = 0;
  #tokenTtlSeconds: number;
  #refreshToken: string;
  readonly #accessTokens = new Map<string, number>();
  readonly #log: Entry[] = [];
  readonly #listings = new Map<string, FakeListing>();
  readonly #applied: AppliedUpdate[] = [];
  readonly #feeds = new Map<string, Feed>();
  readonly #documents = new Map<string, FeedDocument>();
  readonly #orders = new Map<string, Order>();
  readonly #orderTokens = new Map<string, number>();
  readonly #itemTokens = new Map<string, { orderId: string; offset: number }>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #faults = new Map<string, Fault[]>();
  readonly #nextFeedStatuses: ('FATAL' | 'CANCELLED')[] = [];
  readonly #quotaExceeded: QuotaExceeded[] = [];
  readonly #early: EarlyRequest[] = [];
  readonly #internalErrors: string[] = [];
  #sequence = 0;

  private constructor(options: AmazonFakeOptions, models: SpApiModels) {
    this.#o = options;
    this.models = models;
    this.sellerId = options.sellerId ?? FAKE_SELLER_ID;
    this.marketplaceId = options.marketplaceId ?? FAKE_MARKETPLACE_ID;
    this.prices = new AmazonFakePrices(this.marketplaceId);
    this.#tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
    this.#refreshToken = options.refreshToken ?? FAKE_REFRESH_TOKEN;
    for (const op of SERVED_OPERATIONS) {
      const documented = models.operation(op).plan;
      const plan = options.rateLimits?.[op] ?? documented;
      if (plan === null) throw new Error(`the model states no usage plan for ${op}`);
      this.#buckets.set(op, { plan, tokens: plan.burst, at: Date.now(), notBefore: 0 });
    }
  }

  /** Reads the models and listens on a free port of 127.0.0.1. */
  static async start(options: AmazonFakeOptions = {}): Promise<AmazonFake> {
    const fake = new AmazonFake(options, SpApiModels.load(options.contractsDir ?? CONTRACTS_DIR));
    const server = createServer((req, res) => fake.#onRequest(req, res));
    server.requestTimeout = 0;
    server.on('connection', (socket) => {
      fake.#sockets.add(socket);
      socket.on('close', () => fake.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the fake has no TCP address');
    fake.#port = address.port;
    fake.#server = server;
    return fake;
  }

  /** Closes the server, dropping held requests and pending feed timers. */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The SP-API endpoint (the `endpoint` of an `amazon` destination). */
  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Login with Amazon's token URL (the `tokenUrl` of an `amazon` destination). */
  get tokenUrl(): string {
    return `${this.endpoint}/auth/o2/token`;
  }

  /** The credentials of the destination config, for the fake's seller. */
  get credentials(): {
    sellerId: string;
    marketplaceId: string;
    clientId: string;
    clientSecret: string;
    refreshToken: string;
  } {
    return {
      sellerId: this.sellerId,
      marketplaceId: this.marketplaceId,
      clientId: this.#o.clientId ?? FAKE_CLIENT_ID,
      clientSecret: this.#o.clientSecret ?? FAKE_CLIENT_SECRET,
      refreshToken: this.#refreshToken,
    };
  }

  // ---- seeding ----

  /** Adds (or replaces) a listing of the seller with a merchant-fulfilled quantity. */
  seedListing(listing: Readonly<{ sku: string; quantity: number; productType?: string }>): void {
    const now = isoSeconds(Date.now());
    this.#listings.set(listing.sku, {
      sku: listing.sku,
      quantity: listing.quantity,
      productType: listing.productType ?? 'PRODUCT',
      asin: `B0${String(this.#listings.size + 1).padStart(8, '0')}`,
      createdDate: now,
      lastUpdatedDate: now,
    });
  }

  /** Removes a listing (its SKU then gets 404 and feed errors). */
  deleteListing(sku: string): void {
    this.#listings.delete(sku);
  }

  /** Adds an order; returns its AmazonOrderId. */
  seedOrder(seed: OrderSeed): string {
    this.#sequence += 1;
    const n = this.#sequence;
    const id =
      seed.AmazonOrderId ?? `902-${String(1_000_000 + n).slice(-7)}-${String(5_000_000 + n * 7).slice(-7)}`;
    this.#orders.set(id, {
      AmazonOrderId: id,
      OrderStatus: seed.OrderStatus,
      LastUpdateDate: isoSeconds(Date.parse(seed.LastUpdateDate)),
      PurchaseDate: isoSeconds(Date.parse(seed.PurchaseDate ?? seed.LastUpdateDate)),
      FulfillmentChannel: seed.FulfillmentChannel ?? 'MFN',
      MarketplaceId: seed.MarketplaceId ?? this.marketplaceId,
      items: seed.items.map((item, i) => ({
        ASIN: item.ASIN ?? `B0ITEM${String(i).padStart(4, '0')}`,
        OrderItemId: `${String(10_000_000_000_000 + n * 100 + i)}`,
        ...(item.SellerSKU === undefined ? {} : { SellerSKU: item.SellerSKU }),
        QuantityOrdered: item.QuantityOrdered,
      })),
      packages: [],
    });
    return id;
  }

  /** The packages confirmed for an order (`confirmShipment`), in order. */
  packagesOf(id: string): readonly ShipmentPackage[] {
    return this.#orders.get(id)?.packages ?? [];
  }

  /** Changes an order's status (and its LastUpdateDate). */
  updateOrder(id: string, change: Readonly<{ OrderStatus: OrderStatus; LastUpdateDate: string }>): void {
    const order = this.#orders.get(id);
    if (order === undefined) throw new Error(`no order ${id}`);
    order.OrderStatus = change.OrderStatus;
    order.LastUpdateDate = isoSeconds(Date.parse(change.LastUpdateDate));
  }

  /**
   * Every confirmed shipment of an order is taken back, as when staff reverse it in Seller Central: no package,
   * no unit shipped, the order Unshipped again.
   */
  undoShipments(id: string): void {
    const order = this.#orders.get(id);
    if (order === undefined) throw new Error(`no order ${id}`);
    order.packages = [];
    for (const item of order.items) item.QuantityShipped = 0;
    order.OrderStatus = 'Unshipped';
    order.LastUpdateDate = isoSeconds(Date.now());
  }

  // ---- faults ----

  /** The next requests of `operation` (or of any, `*`) fail as given, one fault a request, in order. */
  injectFaults(operation: ServedOperation | 'lwaToken' | '*', ...faults: Fault[]): void {
    this.#faults.set(operation, [...(this.#faults.get(operation) ?? []), ...faults]);
  }

  /** The next feeds created end FATAL or CANCELLED instead of DONE, one status a feed. */
  failNextFeeds(...statuses: ('FATAL' | 'CANCELLED')[]): void {
    this.#nextFeedStatuses.push(...statuses);
  }

  /** Replaces an operation's usage plan; `isEmpty` starts its bucket empty (the seller is already throttled). */
  setRateLimit(operation: ServedOperation, plan: UsagePlan, isEmpty = false): void {
    this.#buckets.set(operation, { plan, tokens: isEmpty ? 0 : plan.burst, at: Date.now(), notBefore: 0 });
  }

  /** Every access token issued so far expires now (the API then answers 403 with an expired-token error). */
  expireAccessTokens(): void {
    for (const token of this.#accessTokens.keys()) this.#accessTokens.set(token, 0);
  }

  /** Changes the lifetime of access tokens issued from now on. */
  setTokenTtl(seconds: number): void {
    this.#tokenTtlSeconds = seconds;
  }

  /** The seller revoked the app: the refresh token is refused and every access token with it. */
  revokeRefreshToken(): void {
    this.#refreshToken = `revoked-${randomUUID()}`;
    this.#accessTokens.clear();
  }

  // ---- what happened ----

  /** Every request, in arrival order. */
  get requests(): readonly FakeRequest[] {
    return this.#log;
  }

  /** The requests that did not conform to the models. */
  get invalidRequests(): readonly FakeRequest[] {
    return this.#log.filter((r) => !r.isValid);
  }

  /** 429s caused by an empty bucket (injected throttles are not counted). */
  get quotaExceeded(): readonly QuotaExceeded[] {
    return this.#quotaExceeded;
  }

  /** Requests that came before the fake's last 429 of their operation said a token would be there. */
  get earlyRequests(): readonly EarlyRequest[] {
    return this.#early;
  }

  /** Failures of the fake itself (a response not matching the model, a crash in a handler): a test bug. */
  get internalErrors(): readonly string[] {
    return this.#internalErrors;
  }

  /** The requests of one operation. */
  requestsOf(operation: string): readonly FakeRequest[] {
    return this.#log.filter((r) => r.operation === operation);
  }

  listing(sku: string): FakeListing | undefined {
    return this.#listings.get(sku);
  }

  /** The merchant-fulfilled quantity of a listing (undefined: no such listing). */
  quantityOf(sku: string): number | undefined {
    return this.#listings.get(sku)?.quantity;
  }

  /** Every quantity update applied, in order. */
  get applied(): readonly AppliedUpdate[] {
    return this.#applied;
  }

  /** How many quantity updates were applied to a SKU (a repeat of the same quantity counts too). */
  appliedCount(sku: string): number {
    return this.#applied.filter((u) => u.sku === sku).length;
  }

  /** The feeds created, in order, as `getFeed` shows them. */
  get feeds(): readonly Readonly<Omit<Feed, 'document'>>[] {
    return [...this.#feeds.values()].map(feedResource);
  }

  // ---- request handling ----

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: Entry = {
      at: Date.now(),
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
      operation: null,
      isValid: true,
      problems: [],
      status: null,
      outcome: 'ok',
    };
    this.#log.push(entry);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('end', () => {
      try {
        this.#handle(req, res, entry, url, Buffer.concat(chunks));
      } catch (error) {
        this.#internalErrors.push(
          `${entry.method} ${entry.path}: ${(error as Error).stack ?? String(error)}`,
        );
        this.#send(res, entry, { status: 500, body: spError('InternalFailure', 'the fake failed') });
      }
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse, entry: Entry, url: URL, raw: Buffer): void {
    const path = url.pathname;
    if (path === '/auth/o2/token') {
      entry.operation = 'lwaToken';
      if (this.#injected(req, res, entry, 'lwaToken')) return;
      return this.#send(res, entry, this.#token(req, entry, raw));
    }
    if (path.startsWith('/feed-documents/')) return this.#document(req, res, entry, url, raw);

    const matched = this.models.match(req.method ?? '', path);
    if (typeof matched === 'string') {
      this.#invalid(entry, [
        matched === 'no_path' ? `no SP-API operation at ${path}` : `${req.method} is not allowed on ${path}`,
      ]);
      return this.#send(
        res,
        entry,
        {
          status: matched === 'no_path' ? 404 : 405,
          body: spError(matched === 'no_path' ? 'NotFound' : 'MethodNotAllowed', 'Resource not found'),
        },
        'not_found',
      );
    }
    const op = matched.operation;
    entry.operation = op.operationId;
    const validated = this.models.validateRequest(op, {
      pathParams: matched.pathParams,
      query: url.searchParams,
      contentType: req.headers['content-type'],
      body: raw.toString('utf8'),
    });
    const problems = [...validated.problems, ...this.#documentedRules(op, validated.path, validated.query)];
    if (problems.length > 0) this.#invalid(entry, problems);

    const token = req.headers['x-amz-access-token'];
    const expiresAt = typeof token === 'string' ? this.#accessTokens.get(token) : undefined;
    if (expiresAt === undefined)
      return this.#send(
        res,
        entry,
        {
          status: 401,
          body: spError(
            'Unauthorized',
            'Access to requested resource is denied.',
            'The access token is missing or not valid.',
          ),
        },
        'unauthorized',
      );
    if (expiresAt <= Date.now())
      return this.#send(
        res,
        entry,
        {
          status: 403,
          body: spError(
            'Unauthorized',
            'Access to requested resource is denied.',
            'The access token you provided has expired.',
          ),
        },
        'unauthorized',
      );

    if (this.#injected(req, res, entry, op.operationId)) return;
    if (!this.#takeToken(res, entry, op.operationId)) return;
    if (problems.length > 0)
      return this.#send(
        res,
        entry,
        { status: 400, body: spError('InvalidInput', 'Invalid input', problems.join('; ').slice(0, 2000)) },
        'invalid',
        op,
      );
    if (!(SERVED_OPERATIONS as readonly string[]).includes(op.operationId))
      return this.#send(
        res,
        entry,
        { status: 500, body: spError('InternalFailure', `${op.operationId} is not simulated`) },
        'unsupported',
      );
    const answer = this.#operation(
      op.operationId as ServedOperation,
      validated.path,
      validated.query,
      validated.body,
    );
    this.#send(res, entry, answer, answer.status === 404 ? 'not_found' : 'ok', op);
  }

  /** Rules the models state in words rather than in schema: the seller, the marketplace, dates, limits. */
  #documentedRules(
    op: OperationModel,
    path: Readonly<Record<string, unknown>>,
    query: Readonly<Record<string, unknown>>,
  ): string[] {
    const problems: string[] = [];
    if ('sellerId' in path && path['sellerId'] !== this.sellerId)
      problems.push(`sellerId ${String(path['sellerId'])} is not the authorized seller`);
    const marketplaces = query['marketplaceIds'] ?? query['MarketplaceIds'];
    if (Array.isArray(marketplaces) && !marketplaces.includes(this.marketplaceId))
      problems.push(`marketplace ${this.marketplaceId} is not among ${JSON.stringify(marketplaces)}`);
    if (op.operationId === 'getOrders') {
      const dates = ['CreatedAfter', 'CreatedBefore', 'LastUpdatedAfter', 'LastUpdatedBefore'] as const;
      for (const name of dates) {
        const value = query[name];
        if (
          value !== undefined &&
          (typeof value !== 'string' || !ISO_8601.test(value) || Number.isNaN(Date.parse(value)))
        )
          problems.push(`${name} is not an ISO 8601 date`);
      }
      const hasCreated = query['CreatedAfter'] !== undefined;
      const hasUpdated = query['LastUpdatedAfter'] !== undefined;
      if (hasCreated === hasUpdated)
        problems.push('exactly one of CreatedAfter and LastUpdatedAfter is required');
      if (hasCreated && query['LastUpdatedBefore'] !== undefined)
        problems.push('LastUpdatedBefore cannot be set with CreatedAfter');
      const after = Date.parse((query['LastUpdatedAfter'] ?? query['CreatedAfter']) as string);
      if (after > Date.now()) problems.push('the window starts in the future');
      if (query['LastUpdatedBefore'] !== undefined) {
        const before = Date.parse(query['LastUpdatedBefore'] as string);
        if (before < after || before > Date.now() - 120_000)
          problems.push(
            'LastUpdatedBefore must be at or after LastUpdatedAfter and at least two minutes ago',
          );
      }
      const size = query['MaxResultsPerPage'];
      if (typeof size === 'number' && (size < 1 || size > 100))
        problems.push('MaxResultsPerPage must be 1-100');
      const nextToken = query['NextToken'];
      if (typeof nextToken === 'string' && !this.#orderTokens.has(nextToken))
        problems.push('NextToken is not one this API gave');
    }
    if (op.operationId === 'getOrderItems') {
      const nextToken = query['NextToken'];
      if (typeof nextToken === 'string' && this.#itemTokens.get(nextToken)?.orderId !== path['orderId'])
        problems.push('NextToken is not one this API gave for this order');
    }
    return problems;
  }

  #invalid(entry: Entry, problems: readonly string[]): void {
    entry.isValid = false;
    entry.problems = [...entry.problems, ...problems];
  }

  /** Answers with the next injected fault of this operation (or of any), if there is one. */
  #injected(req: IncomingMessage, res: ServerResponse, entry: Entry, operation: string): boolean {
    const queue = this.#faults.get(operation)?.length ? this.#faults.get(operation)! : this.#faults.get('*');
    const fault = queue?.shift();
    if (fault === undefined) return false;
    switch (fault.kind) {
      case 'status':
        this.#send(
          res,
          entry,
          {
            status: fault.status,
            body: spError(fault.status >= 500 ? 'InternalFailure' : 'Injected', `injected ${fault.status}`),
          },
          'injected',
        );
        return true;
      case 'throttle':
        this.#send(
          res,
          entry,
          {
            status: 429,
            body: spError('QuotaExceeded', 'You exceeded your quota for the requested resource.'),
            headers:
              fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
          },
          'injected',
        );
        if (fault.retryAfterSeconds !== undefined) {
          const bucket = this.#buckets.get(operation);
          if (bucket !== undefined)
            bucket.notBefore = Math.max(bucket.notBefore, Date.now() + fault.retryAfterSeconds * 1000);
        }
        return true;
      case 'hang':
        // Held until the client gives up or the fake stops.
        entry.outcome = 'hang';
        return true;
      case 'apply_then_hang':
        // Runs as usual (`#send` then holds the answer back).
        entry.outcome = 'hang';
        return false;
      case 'accept_then_drop':
        this.#send(res, entry, { status: fault.status }, 'injected');
        return true;
      case 'reset':
        entry.outcome = 'reset';
        req.socket.resetAndDestroy();
        return true;
    }
  }

  /** Takes a token of the operation's bucket; answers 429 QuotaExceeded when there is none. */
  #takeToken(res: ServerResponse, entry: Entry, operation: string): boolean {
    const bucket = this.#buckets.get(operation);
    if (bucket === undefined) return true;
    const now = Date.now();
    if (now < bucket.notBefore) this.#early.push({ at: now, operation, notBefore: bucket.notBefore });
    bucket.tokens = Math.min(
      bucket.plan.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * bucket.plan.rate,
    );
    bucket.at = now;
    const slack = ((this.#o.toleranceMs ?? 25) / 1000) * bucket.plan.rate;
    if (bucket.tokens >= 1 - slack) {
      bucket.tokens -= 1;
      return true;
    }
    bucket.notBefore = now + Math.ceil(((1 - bucket.tokens) / bucket.plan.rate) * 1000);
    this.#quotaExceeded.push({ at: now, operation });
    this.#send(
      res,
      entry,
      { status: 429, body: spError('QuotaExceeded', 'You exceeded your quota for the requested resource.') },
      'throttled',
    );
    return false;
  }

  #send(
    res: ServerResponse,
    entry: Entry,
    answer: Answer,
    outcome: RequestOutcome = 'ok',
    op?: OperationModel,
  ): void {
    entry.status = answer.status;
    // An `apply_then_hang` fault: the effect happened, the answer never comes.
    if (entry.outcome === 'hang') return;
    if (entry.outcome === 'ok') entry.outcome = outcome;
    if (op !== undefined && answer.body !== undefined) {
      const problems = this.models.validateResponse(op.operationId, answer.status, answer.body);
      if (problems.length > 0)
        this.#internalErrors.push(`response of ${op.operationId}: ${problems.join('; ')}`);
    }
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = { 'x-amzn-requestid': randomUUID(), ...answer.headers };
    const bucket = entry.operation === null ? undefined : this.#buckets.get(entry.operation);
    // The usage plan applied, on every answer but a 429 (as the models list it).
    if (bucket !== undefined && answer.status !== 429)
      headers['x-amzn-ratelimit-limit'] = String(bucket.plan.rate);
    if (answer.raw !== undefined) {
      res
        .writeHead(answer.status, {
          ...headers,
          'content-type': answer.contentType ?? 'application/octet-stream',
        })
        .end(answer.raw);
      return;
    }
    if (answer.body === undefined) {
      res.writeHead(answer.status, headers).end();
      return;
    }
    res
      .writeHead(answer.status, { ...headers, 'content-type': 'application/json' })
      .end(JSON.stringify(answer.body));
  }

  // ---- Login with Amazon ----

  #token(req: IncomingMessage, entry: Entry, raw: Buffer): Answer {
    const problems: string[] = [];
    if (req.method !== 'POST') problems.push('the token endpoint takes POST');
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? ''))
      problems.push('the token request must be application/x-www-form-urlencoded');
    const form = new URLSearchParams(raw.toString('utf8'));
    for (const name of ['grant_type', 'refresh_token', 'client_id', 'client_secret'])
      if (!form.get(name)) problems.push(`${name} is missing`);
    if (problems.length > 0) {
      this.#invalid(entry, problems);
      return { status: 400, body: { error: 'invalid_request', error_description: problems.join('; ') } };
    }
    if (form.get('grant_type') !== 'refresh_token') {
      this.#invalid(entry, ['grant_type must be refresh_token']);
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'only refresh_token is served' },
      };
    }
    const { clientId, clientSecret } = this.credentials;
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret)
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'Client authentication failed' },
      };
    if (form.get('refresh_token') !== this.#refreshToken)
      return {
        status: 400,
        body: {
          error: 'invalid_grant',
          error_description: 'The request has an invalid grant parameter : refresh_token',
        },
      };
    const accessToken = `Atza|${randomUUID()}`;
    this.#accessTokens.set(accessToken, Date.now() + this.#tokenTtlSeconds * 1000);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        refresh_token: this.#refreshToken,
        token_type: 'bearer',
        expires_in: this.#tokenTtlSeconds,
      },
    };
  }

  // ---- pre-signed document URLs ----

  #documentUrl(doc: FeedDocument): string {
    return `${this.endpoint}/feed-documents/${encodeURIComponent(doc.id)}?X-Amz-Expires=300&X-Amz-Signature=${doc.signature}`;
  }

  #newDocument(contentType: string, content: Buffer | null, isReport: boolean): FeedDocument {
    const id = `amzn1.tortuga.4.na.${randomUUID()}`;
    const doc: FeedDocument = {
      id,
      contentType,
      signature: createHmac('sha256', 'fake-s3').update(id).digest('hex'),
      expiresAt: Date.now() + 300_000,
      content,
      isReport,
    };
    this.#documents.set(id, doc);
    return doc;
  }

  #document(req: IncomingMessage, res: ServerResponse, entry: Entry, url: URL, raw: Buffer): void {
    const id = decodeURIComponent(url.pathname.slice('/feed-documents/'.length));
    const doc = this.#documents.get(id);
    entry.operation = req.method === 'PUT' ? 'uploadFeedDocument' : 'downloadDocument';
    const refuse = (status: number, message: string, outcome: RequestOutcome = 'invalid') => {
      this.#invalid(entry, [message]);
      this.#send(
        res,
        entry,
        { status, body: spError(status === 403 ? 'AccessDenied' : 'InvalidInput', message) },
        outcome,
      );
    };
    if (doc === undefined) return refuse(404, `no document ${id}`, 'not_found');
    if (url.searchParams.get('X-Amz-Signature') !== doc.signature)
      return refuse(403, 'the URL signature does not match');
    if (Date.now() > doc.expiresAt) return refuse(403, 'the pre-signed URL has expired');
    if (req.method === 'GET') {
      if (doc.content === null) return refuse(404, 'the document has no content', 'not_found');
      return this.#send(res, entry, { status: 200, raw: doc.content, contentType: doc.contentType });
    }
    if (req.method !== 'PUT' || doc.isReport) return refuse(403, `${req.method} is not signed for this URL`);
    if (req.headers['content-type'] !== doc.contentType)
      return refuse(
        403,
        `the Content-Type (${req.headers['content-type']}) is not the one the document was created with (${doc.contentType})`,
      );
    if (/json/i.test(doc.contentType)) {
      let document: unknown;
      try {
        document = JSON.parse(raw.toString('utf8'));
      } catch {
        return refuse(400, 'the feed document is not JSON');
      }
      const problems = this.models.validateFeedDocument(document);
      if (problems.length > 0) {
        this.#invalid(entry, problems);
        return this.#send(
          res,
          entry,
          {
            status: 400,
            body: spError(
              'InvalidInput',
              'The feed document does not match listings-feed-schema-v2',
              problems.join('; ').slice(0, 2000),
            ),
          },
          'invalid',
        );
      }
    }
    doc.content = raw;
    this.#send(res, entry, {
      status: 200,
      headers: { etag: `"${createHash('md5').update(raw).digest('hex')}"` },
    });
  }

  // ---- operations ----

  #operation(
    op: ServedOperation,
    path: Readonly<Record<string, unknown>>,
    query: Readonly<Record<string, unknown>>,
    body: unknown,
  ): Answer {
    switch (op) {
      case 'createFeedDocument': {
        const { contentType } = body as { contentType: string };
        const doc = this.#newDocument(contentType, null, false);
        return { status: 201, body: { feedDocumentId: doc.id, url: this.#documentUrl(doc) } };
      }
      case 'createFeed':
        return this.#createFeed(
          body as { feedType: string; marketplaceIds: string[]; inputFeedDocumentId: string },
        );
      case 'getFeed': {
        const feed = this.#feeds.get(String(path['feedId']));
        if (feed === undefined)
          return { status: 404, body: spError('NotFound', `no feed ${String(path['feedId'])}`) };
        return { status: 200, body: feedResource(feed) };
      }
      case 'getFeedDocument': {
        const doc = this.#documents.get(String(path['feedDocumentId']));
        if (doc === undefined)
          return { status: 404, body: spError('NotFound', `no document ${String(path['feedDocumentId'])}`) };
        doc.expiresAt = Date.now() + 300_000;
        return {
          status: 200,
          body: {
            feedDocumentId: doc.id,
            url: this.#documentUrl(doc),
            ...(doc.isReport && this.#o.isReportGzipped ? { compressionAlgorithm: 'GZIP' } : {}),
          },
        };
      }
      case 'getListingsItem':
        return this.#getListingsItem(
          String(path['sku']),
          (query['includedData'] as string[] | undefined) ?? ['summaries'],
        );
      case 'patchListingsItem':
        return this.#patchListingsItem(
          String(path['sku']),
          query['mode'] === 'VALIDATION_PREVIEW',
          body as { patches: unknown[] },
        );
      case 'getOrders':
        return this.#getOrders(query);
      case 'getOrder': {
        const order = this.#orders.get(String(path['orderId']));
        if (order === undefined)
          return {
            status: 404,
            body: { errors: [{ code: 'InvalidInput', message: `no order ${String(path['orderId'])}` }] },
          };
        return { status: 200, body: { payload: orderResource(order) } };
      }
      case 'getOrderItems':
        return this.#getOrderItems(String(path['orderId']), query['NextToken'] as string | undefined);
      case 'confirmShipment':
        return this.#confirmShipment(String(path['orderId']), body as ConfirmShipmentBody);
    }
  }

  #createFeed(spec: { feedType: string; marketplaceIds: string[]; inputFeedDocumentId: string }): Answer {
    const doc = this.#documents.get(spec.inputFeedDocumentId);
    if (doc === undefined || doc.content === null || doc.isReport)
      return {
        status: 400,
        body: spError('InvalidInput', 'inputFeedDocumentId names no uploaded feed document'),
      };
    if (spec.feedType !== 'JSON_LISTINGS_FEED')
      return { status: 400, body: spError('InvalidInput', `feed type ${spec.feedType} is not simulated`) };
    this.#sequence += 1;
    const feed: Feed = {
      feedId: String(50_000_000 + this.#sequence),
      feedType: spec.feedType,
      marketplaceIds: spec.marketplaceIds,
      createdTime: new Date().toISOString(),
      processingStatus: 'IN_QUEUE',
      document: JSON.parse(doc.content.toString('utf8')) as unknown,
    };
    this.#feeds.set(feed.feedId, feed);
    const delay = this.#o.feedProcessingMs ?? 200;
    const end = this.#nextFeedStatuses.shift();
    this.#later(delay / 2, () => {
      feed.processingStatus = 'IN_PROGRESS';
      feed.processingStartTime = new Date().toISOString();
    });
    this.#later(delay, () => {
      feed.processingEndTime = new Date().toISOString();
      if (end !== undefined) {
        feed.processingStatus = end;
        return;
      }
      const report = this.#process(feed);
      const problems = this.models.validateProcessingReport(report);
      if (problems.length > 0) this.#internalErrors.push(`processing report: ${problems.join('; ')}`);
      const json = Buffer.from(JSON.stringify(report));
      const resultDoc = this.#newDocument(
        'application/json',
        this.#o.isReportGzipped ? gzipSync(json) : json,
        true,
      );
      feed.resultFeedDocumentId = resultDoc.id;
      feed.processingStatus = 'DONE';
    });
    return { status: 202, body: { feedId: feed.feedId } };
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  /** Applies a JSON_LISTINGS_FEED and writes its processing report (one ERROR issue per refused message). */
  #process(feed: Feed) {
    const document = feed.document as {
      messages: {
        messageId: number;
        sku: string;
        operationType: string;
        patches?: unknown[];
        attributes?: Record<string, unknown>;
      }[];
    };
    const issues: {
      messageId: number;
      sku: string;
      code: string;
      severity: 'ERROR' | 'WARNING';
      message: string;
    }[] = [];
    let accepted = 0;
    for (const message of document.messages) {
      const refuse = (code: string, text: string) =>
        issues.push({
          messageId: message.messageId,
          sku: message.sku,
          code,
          severity: 'ERROR',
          message: text,
        });
      if (!this.#listings.has(message.sku)) {
        refuse(
          '4000001',
          `SKU '${message.sku}' does not match any listing of seller ${this.sellerId} in marketplace ${this.marketplaceId}.`,
        );
        continue;
      }
      let quantity: number | string;
      if (message.operationType === 'PATCH') quantity = quantityOfPatches(message.patches ?? []);
      else if (message.operationType === 'PARTIAL_UPDATE')
        quantity = quantityOfValue(message.attributes?.['fulfillment_availability']);
      else quantity = `operation ${message.operationType} is not simulated`;
      if (typeof quantity === 'string') {
        refuse('90244', quantity);
        continue;
      }
      this.#apply(message.sku, quantity, 'feed', feed.feedId);
      accepted += 1;
    }
    return {
      header: { sellerId: this.sellerId, version: '2.0', feedId: feed.feedId },
      issues,
      summary: {
        errors: issues.length,
        warnings: 0,
        messagesProcessed: document.messages.length,
        messagesAccepted: accepted,
        messagesInvalid: document.messages.length - accepted,
      },
    };
  }

  #apply(sku: string, quantity: number, via: 'patch' | 'feed', feedId?: string): void {
    const listing = this.#listings.get(sku)!;
    this.#listings.set(sku, { ...listing, quantity, lastUpdatedDate: isoSeconds(Date.now()) });
    this.#applied.push({ sku, quantity, via, at: Date.now(), ...(feedId === undefined ? {} : { feedId }) });
  }

  #getListingsItem(sku: string, includedData: readonly string[]): Answer {
    const listing = this.#listings.get(sku);
    if (listing === undefined)
      return {
        status: 404,
        body: spError('NOT_FOUND', `SKU '${sku}' not found in marketplace ${this.marketplaceId}`),
      };
    const item: Record<string, unknown> = { sku };
    if (includedData.includes('summaries'))
      item['summaries'] = [
        {
          marketplaceId: this.marketplaceId,
          asin: listing.asin,
          productType: listing.productType,
          conditionType: 'new_new',
          status: ['BUYABLE', 'DISCOVERABLE'],
          itemName: `Item ${sku}`,
          createdDate: listing.createdDate,
          lastUpdatedDate: listing.lastUpdatedDate,
        },
      ];
    if (includedData.includes('attributes'))
      item['attributes'] = {
        fulfillment_availability: [{ fulfillment_channel_code: 'DEFAULT', quantity: listing.quantity }],
        ...this.prices.attributesOf(sku),
      };
    if (includedData.includes('issues')) item['issues'] = [];
    if (includedData.includes('fulfillmentAvailability'))
      item['fulfillmentAvailability'] = [{ fulfillmentChannelCode: 'DEFAULT', quantity: listing.quantity }];
    return { status: 200, body: item };
  }

  #patchListingsItem(sku: string, isPreview: boolean, request: { patches: unknown[] }): Answer {
    const submissionId = randomUUID();
    const invalid = (code: string, message: string) => ({
      status: 200,
      body: {
        sku,
        status: 'INVALID',
        submissionId,
        issues: [
          {
            code,
            message,
            severity: 'ERROR',
            categories: ['INVALID_ATTRIBUTE'],
            attributeNames: ['fulfillment_availability'],
          },
        ],
      },
    });
    if (!this.#listings.has(sku))
      return invalid('4000001', `SKU '${sku}' does not match any listing of seller ${this.sellerId}.`);
    if (this.prices.isPricePatch(request.patches)) {
      const outcome = this.prices.apply(sku, request.patches, isPreview);
      if (!outcome.ok) return invalid(outcome.code, outcome.message);
      return {
        status: 200,
        body: { sku, status: isPreview ? 'VALID' : 'ACCEPTED', submissionId, issues: [] },
      };
    }
    const quantity = quantityOfPatches(request.patches);
    if (typeof quantity === 'string') return invalid('90244', quantity);
    if (isPreview) return { status: 200, body: { sku, status: 'VALID', submissionId, issues: [] } };
    this.#apply(sku, quantity, 'patch');
    return { status: 200, body: { sku, status: 'ACCEPTED', submissionId, issues: [] } };
  }

  #getOrders(query: Readonly<Record<string, unknown>>): Answer {
    const marketplaces = query['MarketplaceIds'] as string[];
    const statuses = query['OrderStatuses'] as string[] | undefined;
    const channels = query['FulfillmentChannels'] as string[] | undefined;
    const bound = (name: string) => (typeof query[name] === 'string' ? Date.parse(query[name]) : null);
    const [createdAfter, createdBefore, updatedAfter, updatedBefore] = [
      'CreatedAfter',
      'CreatedBefore',
      'LastUpdatedAfter',
      'LastUpdatedBefore',
    ].map(bound);
    const matching = [...this.#orders.values()]
      .filter((o) => marketplaces.includes(o.MarketplaceId))
      .filter((o) => statuses === undefined || statuses.includes(o.OrderStatus))
      .filter((o) => channels === undefined || channels.includes(o.FulfillmentChannel))
      .filter((o) => createdAfter == null || Date.parse(o.PurchaseDate) >= createdAfter)
      .filter((o) => createdBefore == null || Date.parse(o.PurchaseDate) <= createdBefore)
      .filter((o) => updatedAfter == null || Date.parse(o.LastUpdateDate) >= updatedAfter)
      .filter((o) => updatedBefore == null || Date.parse(o.LastUpdateDate) <= updatedBefore)
      .sort(
        (a, b) =>
          Date.parse(a.LastUpdateDate) - Date.parse(b.LastUpdateDate) ||
          a.AmazonOrderId.localeCompare(b.AmazonOrderId, 'en'),
      );
    const size = typeof query['MaxResultsPerPage'] === 'number' ? query['MaxResultsPerPage'] : 100;
    const start =
      typeof query['NextToken'] === 'string' ? (this.#orderTokens.get(query['NextToken']) ?? 0) : 0;
    const page = matching.slice(start, start + size);
    let nextToken: string | undefined;
    if (start + size < matching.length) {
      nextToken = randomUUID().replaceAll('-', '');
      this.#orderTokens.set(nextToken, start + size);
    }
    return {
      status: 200,
      body: {
        payload: {
          Orders: page.map((o) => orderResource(o)),
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          LastUpdatedBefore: isoSeconds(Date.now() - 120_000),
        },
      },
    };
  }

  /**
   * A merchant's shipment of (part of) an order: each item's quantity must be in the order and not shipped yet;
   * a cancelled order is refused. The order becomes PartiallyShipped, or Shipped once every unit is.
   */
  #confirmShipment(orderId: string, body: ConfirmShipmentBody): Answer {
    const refuse = (status: number, message: string): Answer => ({
      status,
      body: { errors: [{ code: status === 404 ? 'NotFound' : 'InvalidInput', message }] },
    });
    const order = this.#orders.get(orderId);
    if (order === undefined) return refuse(404, `no order ${orderId}`);
    if (order.OrderStatus === 'Canceled') return refuse(400, `The order ${orderId} is canceled.`);
    if (body.marketplaceId !== order.MarketplaceId)
      return refuse(400, `marketplaceId ${body.marketplaceId} is not the order's`);
    const detail = body.packageDetail;
    for (const wanted of detail.orderItems) {
      const item = order.items.find((i) => i.OrderItemId === wanted.orderItemId);
      if (item === undefined)
        return refuse(400, `orderItemId ${wanted.orderItemId} is not in order ${orderId}`);
      const left = item.QuantityOrdered - (item.QuantityShipped ?? 0);
      if (wanted.quantity > left)
        return refuse(
          400,
          `quantity ${wanted.quantity} of ${wanted.orderItemId} exceeds the ${left} unshipped`,
        );
    }
    for (const wanted of detail.orderItems) {
      const item = order.items.find((i) => i.OrderItemId === wanted.orderItemId)!;
      item.QuantityShipped = (item.QuantityShipped ?? 0) + wanted.quantity;
    }
    order.packages.push({
      packageReferenceId: detail.packageReferenceId,
      carrierCode: detail.carrierCode,
      ...(detail.carrierName === undefined ? {} : { carrierName: detail.carrierName }),
      trackingNumber: detail.trackingNumber,
      orderItems: detail.orderItems.map((i) => ({ orderItemId: i.orderItemId, quantity: i.quantity })),
    });
    const isAll = order.items.every((i) => (i.QuantityShipped ?? 0) >= i.QuantityOrdered);
    order.OrderStatus = isAll ? 'Shipped' : 'PartiallyShipped';
    order.LastUpdateDate = isoSeconds(Date.now());
    return { status: 204 };
  }

  #getOrderItems(orderId: string, token: string | undefined): Answer {
    const order = this.#orders.get(orderId);
    if (order === undefined)
      return { status: 404, body: { errors: [{ code: 'InvalidInput', message: `no order ${orderId}` }] } };
    const size = this.#o.orderItemsPageSize ?? 100;
    const start = token === undefined ? 0 : (this.#itemTokens.get(token)?.offset ?? 0);
    let nextToken: string | undefined;
    if (start + size < order.items.length) {
      nextToken = randomUUID().replaceAll('-', '');
      this.#itemTokens.set(nextToken, { orderId, offset: start + size });
    }
    return {
      status: 200,
      body: {
        payload: {
          AmazonOrderId: orderId,
          OrderItems: order.items.slice(start, start + size).map((item) => ({
            ...item,
            Title: `Item ${item.SellerSKU ?? item.ASIN}`,
            QuantityShipped:
              item.QuantityShipped ?? (order.OrderStatus === 'Shipped' ? item.QuantityOrdered : 0),
          })),
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        },
      },
    };
  }
}

/** An order as Orders v0 shows it (`Order`, in `getOrders` and `getOrder`). */
function orderResource(o: Order): Record<string, unknown> {
  const shipped = o.items.reduce(
    (n, i) => n + (i.QuantityShipped ?? (o.OrderStatus === 'Shipped' ? i.QuantityOrdered : 0)),
    0,
  );
  const ordered = o.items.reduce((n, i) => n + i.QuantityOrdered, 0);
  return {
    AmazonOrderId: o.AmazonOrderId,
    PurchaseDate: o.PurchaseDate,
    LastUpdateDate: o.LastUpdateDate,
    OrderStatus: o.OrderStatus,
    FulfillmentChannel: o.FulfillmentChannel,
    MarketplaceId: o.MarketplaceId,
    NumberOfItemsShipped: shipped,
    NumberOfItemsUnshipped: ordered - shipped,
    OrderType: 'StandardOrder',
    IsBusinessOrder: false,
    IsPrime: false,
    IsPremiumOrder: false,
    IsGlobalExpressEnabled: false,
    IsSoldByAB: false,
  };
}

/** A feed as the Feeds API shows it (without the document it was made from). */
function feedResource(feed: Feed): Omit<Feed, 'document'> {
  return {
    feedId: feed.feedId,
    feedType: feed.feedType,
    marketplaceIds: feed.marketplaceIds,
    createdTime: feed.createdTime,
    processingStatus: feed.processingStatus,
    ...(feed.processingStartTime === undefined ? {} : { processingStartTime: feed.processingStartTime }),
    ...(feed.processingEndTime === undefined ? {} : { processingEndTime: feed.processingEndTime }),
    ...(feed.resultFeedDocumentId === undefined ? {} : { resultFeedDocumentId: feed.resultFeedDocumentId }),
  };
}

/**
 * The quantity a set of JSON Patch operations sets, or why the fake cannot apply them: it simulates only
 * `/attributes/fulfillment_availability` with one DEFAULT (merchant-fulfilled) entry and a whole quantity.
 */
function quantityOfPatches(patches: readonly unknown[]): number | string {
  let quantity: number | string = 'no patch sets fulfillment_availability';
  for (const patch of patches) {
    const { op, path, value } = patch as { op: string; path: string; value?: unknown };
    if (path !== '/attributes/fulfillment_availability') return `patching ${path} is not simulated`;
    if (op === 'delete') return 'deleting fulfillment_availability is not simulated';
    quantity = quantityOfValue(value);
    if (typeof quantity === 'string') return quantity;
  }
  return quantity;
}

function quantityOfValue(value: unknown): number | string {
  if (!Array.isArray(value) || value.length !== 1) return 'fulfillment_availability must hold one entry';
  const entry = value[0] as { fulfillment_channel_code?: unknown; quantity?: unknown };
  if (entry.fulfillment_channel_code !== 'DEFAULT')
    return 'fulfillment_channel_code must be DEFAULT (merchant fulfilled)';
  if (typeof entry.quantity !== 'number' || !Number.isInteger(entry.quantity) || entry.quantity < 0)
    return `'${JSON.stringify(entry.quantity)}' is not a valid quantity: a whole number of 0 or more is required`;
  return entry.quantity;
}

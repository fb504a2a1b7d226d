import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './harness.js';
import { freePort, stopProcess } from './server-process.js';
import type { VendureBootOptions } from './vendure/main.js';

/** How long Vendure may take to boot (module loading, schema sync, initial data) on a slow CI machine. */
const START_TIMEOUT_MS = 90_000;
/** How long a clean stop may take before the process is killed. */
const STOP_TIMEOUT_MS = 5_000;
/** How long one GraphQL request of the helpers may take. */
const REQUEST_TIMEOUT_MS = 20_000;

const MAIN = join(import.meta.dirname, 'vendure', 'main.ts');

/** A line of an order placed in the test shop. */
export type VendureOrderLine = Readonly<{ sku: string; qty: number }>;

/** One stock level of a variant as Vendure holds it, by stock location name. */
export type VendureStockLevel = Readonly<{
  location: string;
  stockLocationId: string;
  stockOnHand: number;
  stockAllocated: number;
}>;

type GraphQlBody = { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };

/** Thrown by the helpers when Vendure answers with GraphQL errors or an ErrorResult. */
export class VendureTestError extends Error {
  constructor(
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'VendureTestError';
  }
}

/**
 * A real Vendure server (@vendure/core, SQLite through better-sqlite3) on 127.0.0.1, in a child process whose
 * working folder is a fresh temp folder holding its database; nothing is written elsewhere (telemetry is off).
 * It boots with a superadmin, one country and zone, a 0% tax rate, a free shipping method and a payment method
 * with the dummy handler that settles at once. The helpers seed stock locations and products through the Admin
 * API and play a shopper through the Shop API.
 *
 * @example
 * const vendure = await VendureServer.start();
 * t.after(() => vendure.stop());
 * await vendure.setUpStockLocations(['S1', 'S2']);
 * await vendure.createProduct('SKU-1', { S1: 5 });
 * const order = await vendure.placeOrder([{ sku: 'SKU-1', qty: 2 }]);   // PaymentSettled, 2 allocated
 */
export class VendureServer {
  readonly port: number;
  readonly username = 'superadmin';
  readonly password = 'superadmin-test-password';
  /** Milliseconds from spawn until the server answered (module loading, schema sync and initial data). */
  bootMs = 0;
  readonly #dir: { path: string; cleanup: () => void };
  #proc: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #log = '';
  #adminToken: string | null = null;
  readonly #killOnExit = () => this.#proc?.kill('SIGKILL');

  private constructor(port: number, dir: { path: string; cleanup: () => void }) {
    this.port = port;
    this.#dir = dir;
  }

  /**
   * Starts a server on a free port with an empty database; resolves once it serves. A port taken between
   * choosing and binding it is retried once on another.
   */
  static async start(
    options: Readonly<{ logLevel?: VendureBootOptions['logLevel'] }> = {},
  ): Promise<VendureServer> {
    for (let attempt = 1; ; attempt += 1) {
      const server = new VendureServer(await freePort(), tempDir('backroom-vendure-'));
      try {
        await server.#spawn(options.logLevel ?? 'error');
        return server;
      } catch (error) {
        await server.stop();
        if (attempt >= 2 || !server.#log.includes('EADDRINUSE')) throw error;
      }
    }
  }

  /** `http://127.0.0.1:<port>`: what a `vendure` destination's `url` is. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the server wrote on stderr (for assertion messages). */
  get log(): string {
    return this.#log;
  }

  #spawn(logLevel: NonNullable<VendureBootOptions['logLevel']>): Promise<void> {
    const startedAt = performance.now();
    const boot: VendureBootOptions = {
      dir: this.#dir.path,
      port: this.port,
      superadmin: { username: this.username, password: this.password },
      logLevel,
    };
    return new Promise((resolve, reject) => {
      // The working folder is the temp folder, so tsx is given by URL (a bare `tsx` resolves from the cwd).
      const proc = spawn(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), MAIN, JSON.stringify(boot)],
        {
          cwd: this.#dir.path,
          env: { ...process.env, VENDURE_DISABLE_TELEMETRY: 'true' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      this.#proc = proc;
      process.once('exit', this.#killOnExit);
      let isReady = false;
      let stdout = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`Vendure was not ready within ${START_TIMEOUT_MS} ms:\n${this.#log}`));
      }, START_TIMEOUT_MS);
      this.#exited = new Promise((done) =>
        proc.once('exit', (code, signal) => {
          this.#proc = null;
          process.removeListener('exit', this.#killOnExit);
          if (!isReady) {
            clearTimeout(timer);
            reject(new Error(`Vendure exited (${code ?? signal}) before it was ready:\n${this.#log}`));
          }
          done();
        }),
      );
      proc.stderr.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
      proc.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (!isReady && stdout.includes('VENDURE_READY')) {
          isReady = true;
          clearTimeout(timer);
          this.bootMs = Math.round(performance.now() - startedAt);
          resolve();
        }
      });
    });
  }

  /** Stops the server (SIGTERM, then SIGKILL past a bound) and removes its folder. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (proc) await stopProcess(proc, this.#exited, STOP_TIMEOUT_MS);
    this.#dir.cleanup();
  }

  // ---- GraphQL ----

  async #post(
    api: 'admin-api' | 'shop-api',
    query: string,
    variables: Record<string, unknown>,
    token: string | null,
  ): Promise<{ data: Record<string, unknown>; token: string | null }> {
    const response = await fetch(`${this.url}/${api}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json()) as GraphQlBody;
    if (body.errors !== undefined && body.errors.length > 0)
      throw new VendureTestError(`${api}: ${body.errors.map((e) => e.message).join('; ')}`, body);
    if (typeof body.data !== 'object' || body.data === null)
      throw new VendureTestError(`${api}: no data`, body);
    return {
      data: body.data as Record<string, unknown>,
      token: response.headers.get('vendure-auth-token') ?? token,
    };
  }

  /**
   * Runs an Admin API operation as the superadmin; throws on GraphQL errors. A session that ended (a test
   * logged the superadmin out) is renewed once.
   */
  async admin<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      this.#adminToken ??= (
        await this.#post(
          'admin-api',
          `mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { __typename } }`,
          { u: this.username, p: this.password },
          null,
        )
      ).token;
      try {
        return (await this.#post('admin-api', query, variables, this.#adminToken)).data as T;
      } catch (error) {
        const isForbidden =
          error instanceof VendureTestError &&
          (error.body as GraphQlBody | undefined)?.errors?.some((e) => e.extensions?.code === 'FORBIDDEN') ===
            true;
        if (!isForbidden || attempt >= 2) throw error;
        this.#adminToken = null;
      }
    }
  }

  // ---- seeding ----

  /**
   * Makes the stock locations named `names`, in this order: the default one Vendure boots with is renamed to
   * the first (so Vendure allocates orders from it first), the others are created. Returns name → id.
   */
  async setUpStockLocations(names: readonly string[]): Promise<Record<string, string>> {
    const list = await this.admin<{ stockLocations: { items: { id: string; name: string }[] } }>(
      `{ stockLocations(options: { sort: { id: ASC } }) { items { id name } } }`,
    );
    const ids: Record<string, string> = {};
    const [first, ...rest] = names;
    const defaultLocation = list.stockLocations.items[0];
    if (first !== undefined && defaultLocation !== undefined) {
      await this.admin(
        `mutation ($id: ID!, $name: String!) { updateStockLocation(input: { id: $id, name: $name }) { id } }`,
        {
          id: defaultLocation.id,
          name: first,
        },
      );
      ids[first] = defaultLocation.id;
    }
    for (const name of rest) {
      const created = await this.admin<{ createStockLocation: { id: string } }>(
        `mutation ($name: String!) { createStockLocation(input: { name: $name }) { id } }`,
        { name },
      );
      ids[name] = created.createStockLocation.id;
    }
    return ids;
  }

  /**
   * Creates a product with one variant of SKU `sku` (inventory tracked, price 10.00), with stock on hand per
   * stock location name. Returns the variant id.
   */
  async createProduct(
    sku: string,
    stock: Readonly<Record<string, number>> = {},
    options: Readonly<{ outOfStockThreshold?: number }> = {},
  ): Promise<string> {
    const locations = await this.#locationIds();
    const product = await this.admin<{ createProduct: { id: string } }>(
      `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
      {
        input: {
          enabled: true,
          translations: [
            { languageCode: 'en', name: `Product ${sku}`, slug: sku.toLowerCase(), description: '' },
          ],
        },
      },
    );
    const stockLevels = Object.entries(stock).map(([name, stockOnHand]) => {
      const stockLocationId = locations.get(name);
      if (stockLocationId === undefined) throw new VendureTestError(`no stock location named ${name}`);
      return { stockLocationId, stockOnHand };
    });
    const variants = await this.admin<{ createProductVariants: { id: string }[] }>(
      `mutation ($input: [CreateProductVariantInput!]!) { createProductVariants(input: $input) { id } }`,
      {
        input: [
          {
            productId: product.createProduct.id,
            sku,
            price: 1000,
            trackInventory: 'TRUE',
            translations: [{ languageCode: 'en', name: `Variant ${sku}` }],
            stockLevels,
            ...(options.outOfStockThreshold === undefined
              ? {}
              : { outOfStockThreshold: options.outOfStockThreshold, useGlobalOutOfStockThreshold: false }),
          },
        ],
      },
    );
    return variants.createProductVariants[0]!.id;
  }

  async #locationIds(): Promise<Map<string, string>> {
    const list = await this.admin<{ stockLocations: { items: { id: string; name: string }[] } }>(
      `{ stockLocations(options: { take: 100 }) { items { id name } } }`,
    );
    return new Map(list.stockLocations.items.map((l) => [l.name, l.id]));
  }

  /** The variant of a SKU with its stock levels by location name and its out-of-stock threshold. */
  async variant(sku: string): Promise<{ id: string; threshold: number; levels: VendureStockLevel[] }> {
    const names = new Map([...(await this.#locationIds())].map(([name, id]) => [id, name]));
    const result = await this.admin<{
      productVariants: {
        items: {
          id: string;
          outOfStockThreshold: number;
          useGlobalOutOfStockThreshold: boolean;
          stockLevels: { stockLocationId: string; stockOnHand: number; stockAllocated: number }[];
        }[];
      };
      globalSettings: { outOfStockThreshold: number };
    }>(
      `query ($sku: String!) {
        productVariants(options: { filter: { sku: { eq: $sku } } }) {
          items { id outOfStockThreshold useGlobalOutOfStockThreshold
                  stockLevels { stockLocationId stockOnHand stockAllocated } }
        }
        globalSettings { outOfStockThreshold }
      }`,
      { sku },
    );
    const variant = result.productVariants.items[0];
    if (variant === undefined) throw new VendureTestError(`no variant with SKU ${sku}`);
    return {
      id: variant.id,
      threshold: variant.useGlobalOutOfStockThreshold
        ? result.globalSettings.outOfStockThreshold
        : variant.outOfStockThreshold,
      levels: variant.stockLevels.map((l) => ({
        ...l,
        location: names.get(l.stockLocationId) ?? l.stockLocationId,
      })),
    };
  }

  /**
   * What Vendure would still sell of a SKU from one stock location: on hand − allocated − the out-of-stock
   * threshold (what its MultiChannelStockLocationStrategy allocates against); 0 − threshold with no stock level.
   */
  async saleable(sku: string, location: string): Promise<number> {
    const variant = await this.variant(sku);
    const level = variant.levels.find((l) => l.location === location);
    return (level?.stockOnHand ?? 0) - (level?.stockAllocated ?? 0) - variant.threshold;
  }

  // ---- shopping ----

  /**
   * Places an order as a guest through the Shop API: adds the lines, sets a customer, a shipping address and
   * the shipping method, moves to ArrangingPayment and pays with the dummy handler. The order is then
   * PaymentSettled and its stock allocated. Returns its id, code and state.
   */
  async placeOrder(lines: readonly VendureOrderLine[]): Promise<{ id: string; code: string; state: string }> {
    let token: string | null = null;
    const shop = async (query: string, variables: Record<string, unknown> = {}) => {
      const answer = await this.#post('shop-api', query, variables, token);
      token = answer.token;
      return answer.data;
    };
    /** Returns the one field of a mutation whose result is an ErrorResult union, or throws its message. */
    const expect = (data: Record<string, unknown>, field: string, typename: string) => {
      const value = data[field] as { __typename?: string; message?: string } | null;
      if (value?.__typename !== typename)
        throw new VendureTestError(`${field}: ${value?.__typename ?? 'null'}: ${value?.message ?? ''}`, data);
      return value as Record<string, unknown>;
    };
    for (const line of lines) {
      const { id } = await this.variant(line.sku);
      expect(
        await shop(
          `mutation ($id: ID!, $qty: Int!) { addItemToOrder(productVariantId: $id, quantity: $qty) {
             __typename ... on ErrorResult { message } } }`,
          { id, qty: line.qty },
        ),
        'addItemToOrder',
        'Order',
      );
    }
    const email = `shopper-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.test`;
    expect(
      await shop(
        `mutation ($input: CreateCustomerInput!) { setCustomerForOrder(input: $input) {
           __typename ... on ErrorResult { message } } }`,
        { input: { emailAddress: email, firstName: 'Test', lastName: 'Shopper' } },
      ),
      'setCustomerForOrder',
      'Order',
    );
    expect(
      await shop(
        `mutation ($input: CreateAddressInput!) { setOrderShippingAddress(input: $input) {
           __typename ... on ErrorResult { message } } }`,
        {
          input: {
            fullName: 'Test Shopper',
            streetLine1: '1 High Street',
            city: 'London',
            postalCode: 'N1 1AA',
            countryCode: 'GB',
          },
        },
      ),
      'setOrderShippingAddress',
      'Order',
    );
    const methods = (await shop(`{ eligibleShippingMethods { id } }`)) as {
      eligibleShippingMethods: { id: string }[];
    };
    const method = methods.eligibleShippingMethods[0];
    if (method === undefined) throw new VendureTestError('no eligible shipping method');
    expect(
      await shop(
        `mutation ($id: [ID!]!) { setOrderShippingMethod(shippingMethodId: $id) {
           __typename ... on ErrorResult { message } } }`,
        { id: [method.id] },
      ),
      'setOrderShippingMethod',
      'Order',
    );
    expect(
      await shop(
        `mutation { transitionOrderToState(state: "ArrangingPayment") {
           __typename ... on OrderStateTransitionError { message transitionError } } }`,
      ),
      'transitionOrderToState',
      'Order',
    );
    const paid = expect(
      await shop(
        `mutation { addPaymentToOrder(input: { method: "dummy", metadata: {} }) {
           __typename ... on Order { id code state } ... on ErrorResult { message } } }`,
      ),
      'addPaymentToOrder',
      'Order',
    );
    return { id: String(paid.id), code: String(paid.code), state: String(paid.state) };
  }

  /** Leaves a cart in AddingItems (a shopper who never paid); returns its order id. */
  async startCart(lines: readonly VendureOrderLine[]): Promise<string> {
    let token: string | null = null;
    let orderId = '';
    for (const line of lines) {
      const { id } = await this.variant(line.sku);
      const answer = await this.#post(
        'shop-api',
        `mutation ($id: ID!, $qty: Int!) { addItemToOrder(productVariantId: $id, quantity: $qty) {
           __typename ... on Order { id } ... on ErrorResult { message } } }`,
        { id, qty: line.qty },
        token,
      );
      token = answer.token;
      const result = answer.data.addItemToOrder as { __typename: string; id?: string; message?: string };
      if (result.__typename !== 'Order')
        throw new VendureTestError(`addItemToOrder: ${result.message ?? ''}`);
      orderId = result.id!;
    }
    return orderId;
  }

  /** Ends an Admin API session as Vendure's own `logout` does (the token no longer works). */
  async logout(token: string): Promise<void> {
    await this.#post('admin-api', `mutation { logout { success } }`, {}, token);
  }

  /**
   * Creates an administrator (login `username`) with a role of only these permissions in the default channel.
   */
  async createAdministrator(
    username: string,
    password: string,
    permissions: readonly string[],
  ): Promise<void> {
    const role = await this.admin<{ createRole: { id: string } }>(
      `mutation ($input: CreateRoleInput!) { createRole(input: $input) { id } }`,
      {
        input: {
          code: `role-${username.replace(/\W/g, '-')}`,
          description: `Role of ${username}`,
          permissions,
        },
      },
    );
    await this.admin(
      `mutation ($input: CreateAdministratorInput!) { createAdministrator(input: $input) { id } }`,
      {
        input: {
          firstName: 'Test',
          lastName: 'Admin',
          emailAddress: username,
          password,
          roleIds: [role.createRole.id],
        },
      },
    );
  }

  /** Fulfils every line of an order (manual fulfilment) and marks it shipped; returns the order's state. */
  async ship(orderId: string): Promise<string> {
    const order = await this.admin<{ order: { lines: { id: string; quantity: number }[] } | null }>(
      `query ($id: ID!) { order(id: $id) { lines { id quantity } } }`,
      { id: orderId },
    );
    if (order.order === null) throw new VendureTestError(`no order ${orderId}`);
    const fulfilled = await this.admin<{
      addFulfillmentToOrder: { __typename: string; id?: string; message?: string };
    }>(
      `mutation ($input: FulfillOrderInput!) { addFulfillmentToOrder(input: $input) {
         __typename ... on Fulfillment { id } ... on ErrorResult { message } } }`,
      {
        input: {
          lines: order.order.lines
            .filter((l) => l.quantity > 0)
            .map((l) => ({ orderLineId: l.id, quantity: l.quantity })),
          handler: {
            code: 'manual-fulfillment',
            arguments: [
              { name: 'method', value: 'Courier' },
              { name: 'trackingCode', value: `T-${orderId}` },
            ],
          },
        },
      },
    );
    if (fulfilled.addFulfillmentToOrder.__typename !== 'Fulfillment')
      throw new VendureTestError(
        `addFulfillmentToOrder: ${fulfilled.addFulfillmentToOrder.message ?? ''}`,
        fulfilled,
      );
    const shipped = await this.admin<{
      transitionFulfillmentToState: { __typename: string; message?: string };
    }>(
      `mutation ($id: ID!) { transitionFulfillmentToState(id: $id, state: "Shipped") {
         __typename ... on ErrorResult { message } } }`,
      { id: fulfilled.addFulfillmentToOrder.id },
    );
    if (shipped.transitionFulfillmentToState.__typename !== 'Fulfillment')
      throw new VendureTestError(
        `transitionFulfillmentToState: ${shipped.transitionFulfillmentToState.message ?? ''}`,
      );
    return this.orderState(orderId);
  }

  /** Cancels a whole order (its allocations are released); returns its state. */
  async cancel(orderId: string): Promise<string> {
    const result = await this.admin<{
      cancelOrder: { __typename: string; state?: string; message?: string };
    }>(
      `mutation ($id: ID!) { cancelOrder(input: { orderId: $id, cancelShipping: true, reason: "test" }) {
         __typename ... on Order { state } ... on ErrorResult { message } } }`,
      { id: orderId },
    );
    if (result.cancelOrder.__typename !== 'Order')
      throw new VendureTestError(`cancelOrder: ${result.cancelOrder.message ?? ''}`, result);
    return result.cancelOrder.state!;
  }

  async orderState(orderId: string): Promise<string> {
    const result = await this.admin<{ order: { state: string } | null }>(
      `query ($id: ID!) { order(id: $id) { state } }`,
      {
        id: orderId,
      },
    );
    if (result.order === null) throw new VendureTestError(`no order ${orderId}`);
    return result.order.state;
  }
}

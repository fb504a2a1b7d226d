import { z } from 'zod';
import { carrierConfigSchema } from './carriers.js';
import { OPERATOR_ROLES } from './operator-roles.js';
import { EVENT_TYPES } from './events.js';
import { WORKBENCH_SOURCE } from './stock-entry.js';

/** A secret given inline, or read from an environment variable or a file when the agent starts. */
export const secretSchema = z.union(
  [
    z.string().min(1, 'must not be empty'),
    z.strictObject({ env: z.string().min(1, 'must name an environment variable') }),
    z.strictObject({ file: z.string().min(1, 'must name a file') }),
  ],
  { error: 'must be a string, { "env": "NAME" } or { "file": "PATH" }' },
);
export type SecretRef = z.output<typeof secretSchema>;

const id = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"');

const url = z.url({ error: 'must be an http(s) URL', protocol: /^https?$/ });

/** A local time of day, `HH:MM` on a 24-hour clock. */
const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time "HH:MM", like "22:30"');

/** Which events a ledger-mode destination receives; absent means all. */
const routing = {
  eventTypes: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
  locations: z.array(z.string().min(1)).min(1).optional(),
};

/** Keys every level-mode destination (a marketplace) has. */
const levelBase = {
  id,
  /** The channel whose buffer applies; defaults to the destination id. */
  channel: id.optional(),
  locations: z.array(z.string().min(1)).min(1).optional(),
  /**
   * Pull this marketplace's orders in as reservations. `location`: the local location that fulfils an order
   * whose remote system does not say (or names a location with no mapping).
   */
  orders: z
    .strictObject({
      location: z.string().min(1, 'must name a location'),
      /** How often orders are pulled. */
      pollSeconds: z.number().int().min(1).max(86_400).default(60),
      /** Each pull reads again this far behind the checkpoint, so an order saved late is not missed. */
      overlapSeconds: z.number().int().min(0).max(86_400).default(300),
    })
    .optional(),
  /**
   * Send this marketplace each item's price from the item master, coalesced per SKU (absent: prices are not
   * sent). `list`: the price list whose amount is the selling price. `compareAtList`: a list whose amount, where it
   * is above the selling price, is sent as the price it was before (Shopify's `compareAtPrice`). `floorPercent`: a
   * new price more than this many percent under the last one sent is held for a person to confirm, not sent.
   */
  prices: z
    .strictObject({
      list: z.string().min(1).max(64).default('retail'),
      compareAtList: z.string().min(1).max(64).optional(),
      floorPercent: z.number().min(1).max(100).default(50),
      /**
       * Most price requests a second, for a marketplace whose API states no limit of its own (Vendure); absent:
       * one request at a time, as fast as it answers. Shopify and Amazon pace themselves by their own limits.
       */
      requestsPerSecond: z.number().min(0.1).max(1000).optional(),
    })
    .optional(),
};

export const destinationSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      id,
      type: z.literal('webhook'),
      url,
      secret: secretSchema,
      /** Send up to this many events in one request (`{ "events": [...] }`); 1 sends one event a request. */
      batchSize: z.number().int().min(1).max(1000).default(1),
      /** Requests per second the receiver accepts (token bucket, burst of the same size). */
      requestsPerSecond: z.number().positive().max(10_000).default(50),
      ...routing,
    }),
    z.strictObject({
      ...levelBase,
      type: z.literal('level_webhook'),
      url,
      secret: secretSchema,
      /** Level updates per request (`{ "levels": [...] }`). */
      batchSize: z.number().int().min(1).max(1000).default(100),
      requestsPerSecond: z.number().positive().max(10_000).default(5),
    }),
    z.strictObject({
      id,
      type: z.literal('tryton'),
      url,
      database: z.string().min(1),
      username: z.string().min(1),
      password: secretSchema,
      /**
       * The code of the Tryton party that customer shipments (sales, marketplace shipments) and customer returns
       * name; it needs an address and a customer location. Absent: the company's own party.
       */
      customerParty: z.string().min(1).optional(),
      /** The code of the Tryton party that supplier shipments (receipts) name. Absent: the company's own party. */
      supplierParty: z.string().min(1).optional(),
      /** Per-request timeout in ms; a change that times out after it was sent is checked again by its reference. */
      requestTimeoutMs: z.number().int().min(1000).max(300_000).optional(),
      /**
       * Make this Tryton the item master's source: its products (code as SKU, name, unit, active), barcodes
       * (`product.identifier`) and list prices are pulled, changes only, into the catalog.
       */
      catalog: z
        .strictObject({
          /** How often the catalog is pulled. */
          pollSeconds: z.number().int().min(1).max(86_400).default(300),
          /** Each pull reads again this far behind the checkpoint, so a change saved late is not missed. */
          overlapSeconds: z.number().int().min(0).max(86_400).default(300),
          /** Products read per page; the checkpoint moves after each page is stored. */
          pageSize: z.number().int().min(1).max(1000).default(200),
          /** The price list the Tryton list price is stored under (what tills see as `prices[].list`). */
          list: id.default('retail'),
          /**
           * The name of a Tryton sale price list (`product.price_list`, module `sale_price_list`): each product's
           * price on it (quantity 1, the company's currency) is stored under the list `tryton:<name>` too.
           */
          priceList: z.string().trim().min(1).max(57).optional(),
        })
        .optional(),
      /**
       * What POS sales and returns become in Tryton (src-main/connectors/tryton/README.md, "Posting modes"):
       * `per_event` a customer shipment (return) each, stock only; `sales` a Tryton sale each (`sale.sale`, with
       * its prices, shipment and invoice); `daily_statement` one Tryton sale per location and business day, a line
       * per (SKU, unit price), posted when the day is closed. Receipts, counts, adjustments and transfers are
       * shipments in all three.
       */
      postingMode: z.enum(['per_event', 'sales', 'daily_statement']).default('per_event'),
      /**
       * `daily_statement` mode: where business days end and when each closes by itself. `dayEndsAt` (`HH:MM`, the
       * tills' own local time; default `00:00`) is where one business day ends and the next begins: a store open
       * past midnight sets `"04:00"` and a sale rung up at 01:30 belongs to the day before. `at` (`HH:MM`, local
       * time in `timeZone`, an IANA name, or the agent's own time zone) closes each day by itself at the first
       * `at` after the day began: `"22:30"` closes it that evening, `"02:30"` with `dayEndsAt` `"04:00"` the next
       * morning, and `at` equal to `dayEndsAt` (`"00:00"` by default) as the day ends; a past day found open is
       * closed at once. Without `at`, days close only when a manager closes them.
       */
      dayClose: z
        .strictObject({
          at: localTime.optional(),
          dayEndsAt: localTime.optional(),
          timeZone: z
            .string()
            .refine(
              (zone) => {
                try {
                  new Intl.DateTimeFormat('en', { timeZone: zone });
                  return true;
                } catch {
                  return false;
                }
              },
              { message: 'must be an IANA time zone, like "Europe/Paris"' },
            )
            .optional(),
        })
        .optional(),
      ...routing,
    }),
    z
      .strictObject({
        id,
        type: z.literal('nats'),
        servers: z.array(z.string().min(1)).min(1),
        /**
         * Subject prefix: each event goes to `<subject>.<agentId>.<location>` (src-main/connectors/nats/README.md),
         * so the stream takes `<subject>.>`.
         */
        subject: z
          .string()
          .min(1)
          .regex(/^[^\s*>]+$/, 'must be a plain subject without spaces or wildcards, like "backroom.events"')
          .refine((s) => !s.startsWith('.') && !s.endsWith('.') && !s.includes('..'), {
            message: 'must not start or end with "." nor hold an empty token',
          }),
        /** The JetStream stream that must store the events (sent as `Nats-Expected-Stream`). */
        stream: z
          .string()
          .min(1)
          .regex(/^[^\s.*>]+$/, 'must be a stream name without spaces, ".", "*" or ">"'),
        /** User and password, when the server uses them. */
        user: z.string().min(1).optional(),
        password: secretSchema.optional(),
        /** An authentication token, when the server uses one. */
        token: secretSchema.optional(),
        /** The content of a NATS `.creds` file (JWT and NKey seed), usually `{ "file": "store.creds" }`. */
        credentials: secretSchema.optional(),
        /**
         * TLS to the servers (required by `tls://` URLs, used for every URL once set): `ca` the PEM of the
         * authority that signed the servers' certificates, when it is a private one; `cert` and `key` a client
         * certificate and its key, when the servers verify clients (mutual TLS). Each is PEM text, usually
         * `{ "file": "ca.pem" }`.
         */
        tls: z
          .strictObject({
            ca: secretSchema.optional(),
            cert: secretSchema.optional(),
            key: secretSchema.optional(),
            /** TLS before NATS's greeting: only for servers configured with `handshake_first`. */
            handshakeFirst: z.boolean().default(false),
          })
          .refine((t) => (t.cert === undefined) === (t.key === undefined), {
            message:
              'cert and key go together: a client certificate needs its key, and a key its certificate',
            path: ['key'],
          })
          .optional(),
        /** Events published together (pipelined, acknowledged in order). */
        batchSize: z.number().int().min(1).max(1000).default(100),
        /** How long to wait for JetStream's acknowledgement of a publish; past it the outcome is unknown. */
        ackTimeoutMs: z.number().int().min(100).max(120_000).default(5000),
        /** How long one connection attempt may take. */
        connectTimeoutMs: z.number().int().min(100).max(120_000).default(5000),
        ...routing,
      })
      .refine((d) => (d.user === undefined) === (d.password === undefined), {
        message: 'user and password go together',
        path: ['password'],
      }),
    z.strictObject({
      ...levelBase,
      type: z.literal('shopify'),
      url,
      accessToken: secretSchema,
      apiVersion: z
        .string()
        .regex(/^\d{4}-\d{2}$/, 'must look like 2026-10')
        .default('2026-10'),
      /** Levels per `inventorySetQuantities` call (Shopify takes at most 250 quantities in one). */
      batchSize: z.number().int().min(1).max(250).default(250),
      /**
       * The Shopify location name of a local location id, where the two differ; used once, to discover the
       * location mapping. Without one, a Shopify location named like the local location is taken.
       */
      locationNames: z.record(z.string().min(1), z.string().min(1)).optional(),
      /**
       * Longest wait for one Admin API answer, in ms (default 20 000); past it a publish's outcome is unknown and
       * it is sent again with the same idempotency key.
       */
      timeoutMs: z.number().int().min(1000).max(120_000).optional(),
    }),
    z.strictObject({
      ...levelBase,
      type: z.literal('amazon'),
      endpoint: url,
      tokenUrl: url,
      sellerId: z.string().min(1),
      marketplaceId: z.string().min(1),
      clientId: z.string().min(1),
      clientSecret: secretSchema,
      refreshToken: secretSchema,
      /** Level updates per send: up to `patchMaxItems` go one `patchListingsItem` each, more as one feed. */
      batchSize: z.number().int().min(1).max(10_000).default(500),
      /** A send of at most this many SKUs patches each listing; a larger one is one JSON_LISTINGS_FEED. */
      patchMaxItems: z.number().int().min(0).max(1000).default(10),
      /**
       * Longest one send waits, in all, for Amazon's rate limits and for Amazon to process its feed; what is
       * left is handed back and picked up on a later send. Keep it below the engine's 30 s send timeout.
       */
      sendWaitSeconds: z.number().min(0).max(25).default(20),
      /** Longest wait for one HTTP answer from Amazon. */
      requestTimeoutSeconds: z.number().min(0.1).max(120).default(15),
      /** Orders asked for per `getOrders` page (`MaxResultsPerPage`, 1–100). */
      ordersPageSize: z.number().int().min(1).max(100).default(50),
      /** The `productType` sent with quantity patches; `PRODUCT` works for any existing listing. */
      productType: z.string().min(1).default('PRODUCT'),
    }),
    z.strictObject({
      ...levelBase,
      type: z.literal('vendure'),
      /** The server's base URL; the Admin API is `<url>/admin-api`. */
      url,
      username: z.string().min(1),
      password: secretSchema,
      /** The Vendure channel's token (sent as `vendure-token`); absent: Vendure's default channel. */
      channelToken: z.string().min(1).optional(),
      /** Level updates per `updateProductVariants` request. */
      batchSize: z.number().int().min(1).max(500).default(50),
      /** Longest wait for one Admin API answer; past it a write's outcome is unknown (it is sent again). */
      timeoutMs: z.number().int().min(1000).max(120_000).default(15_000),
      /**
       * The Vendure stock location name of a local location id, where the two differ; used once, to discover
       * the location mapping. Without one, a stock location named like the local location id is taken.
       */
      locationNames: z.record(z.string().min(1), z.string().min(1)).optional(),
    }),
  ],
  { error: 'must have a "type" of webhook, level_webhook, tryton, nats, shopify, amazon or vendure' },
);
export type DestinationConfig = z.output<typeof destinationSchema>;
export type DestinationType = DestinationConfig['type'];

/**
 * How a destination receives stock: `ledger` destinations get every movement in capture order; `level`
 * destinations (marketplaces) get the current available-to-sell per (sku, location), coalesced.
 */
export const DESTINATION_MODE = {
  webhook: 'ledger',
  level_webhook: 'level',
  tryton: 'ledger',
  nats: 'ledger',
  shopify: 'level',
  amazon: 'level',
  vendure: 'level',
} as const satisfies Record<DestinationType, 'ledger' | 'level'>;

export const configSchema = z
  .strictObject({
    /** Names this agent in idempotency keys and to the fleet; keep it stable for the life of the store. */
    agentId: id,
    /** Where the database, drop-folder bookkeeping and logs live; relative to the config file. */
    dataDir: z.string().min(1),
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7420),
      })
      .default({ host: '127.0.0.1', port: 7420 }),
    /** POS systems and other senders, each with its own bearer token; the id namespaces event ids. */
    sources: z.array(z.strictObject({ id, token: secretSchema })).min(1, 'must list at least one source'),
    locations: z
      .array(z.strictObject({ id: z.string().min(1).max(64), name: z.string().min(1) }))
      .min(1, 'must list at least one location'),
    /** Known items; a SKU not listed here raises an `unknown_sku` exception (the event is still captured). */
    catalog: z
      .strictObject({
        /** CSV with a header row: sku, name (optional), barcode (optional). Relative to the config file. */
        path: z.string().min(1),
      })
      .optional(),
    stock: z
      .strictObject({
        /** Units held back from every channel, per (sku, location). */
        safetyStock: z.number().int().min(0).default(0),
        /** Per-SKU safety stock, overriding `safetyStock`. */
        safetyStockBySku: z.record(z.string(), z.number().int().min(0)).default({}),
      })
      .default({ safetyStock: 0, safetyStockBySku: {} }),
    /** Sales channels with their own buffer: available = on hand − reserved − safety stock − buffer, ≥ 0. */
    channels: z
      .array(
        z.strictObject({
          id,
          buffer: z.number().int().min(0).default(0),
          /**
           * The oversell guard: while the channel has been unreachable (its deliveries or order pulls failing)
           * or its oldest unpublished level has waited longer than `afterMinutes`, what is published to it
           * tightens: `holdBackUnits` more are held back, then `holdBackPercent` of the rest. It is restored
           * (republished) once the channel syncs again.
           */
          tighten: z
            .strictObject({
              afterMinutes: z.number().positive().max(10_080).default(15),
              holdBackPercent: z.number().int().min(0).max(100).default(50),
              holdBackUnits: z.number().int().min(0).default(0),
            })
            .optional(),
        }),
      )
      .default([]),
    /**
     * The carriers the warehouse ships with (`shared/carriers.ts`): the Fulfil page offers these and refuses any
     * other. `trackingUrl` makes a parcel's tracking page, `{trackingNumber}` standing for its number. Absent:
     * the common carriers, without tracking pages.
     */
    carriers: z.array(carrierConfigSchema).min(1, 'must list at least one carrier').optional(),
    destinations: z.array(destinationSchema).default([]),
    dropFolders: z
      .array(
        z.strictObject({
          /** Folder a legacy POS writes its exports into; relative to the config file. */
          path: z.string().min(1),
          /** The source id that the folder's events are captured under. */
          source: id,
          /** A file must be unchanged this long before it is read (still being written otherwise). */
          stableMs: z.number().int().min(50).max(600_000).default(2000),
        }),
      )
      .default([]),
    /** How delivery retries: exponential backoff with full jitter, then a dead-letter exception. */
    delivery: z
      .strictObject({
        baseDelayMs: z.number().int().min(10).max(600_000).default(1000),
        maxDelayMs: z.number().int().min(100).max(86_400_000).default(300_000),
        maxAttempts: z.number().int().min(1).max(10_000).default(50),
        maxAgeHours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(168),
      })
      .default({ baseDelayMs: 1000, maxDelayMs: 300_000, maxAttempts: 50, maxAgeHours: 168 }),
    /** How long delivered outbox rows and delivery attempts are kept (events and movements are kept forever). */
    retention: z
      .strictObject({
        deliveredDays: z.number().positive().max(3650).default(7),
        attemptsDays: z.number().positive().max(3650).default(30),
      })
      .default({ deliveredDays: 7, attemptsDays: 30 }),
    /** Reconciliation: each destination that reads levels back is compared with the ledger on a schedule. */
    reconcile: z
      .strictObject({
        /** Minutes between scheduled runs; 0 turns the schedule off (runs by hand still work). */
        everyMinutes: z.number().int().min(0).max(10_080).default(60),
      })
      .default({ everyMinutes: 60 }),
    /** People who may act on the outbox and exceptions through the API; the token names the operator. */
    /**
     * People who may act through the API and the UI, each with a role (`shared/operator-roles.ts`). Without one,
     * an operator is an admin, as every operator was before roles existed: an upgrade locks nobody out.
     */
    operators: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(100),
          token: secretSchema,
          role: z.enum(OPERATOR_ROLES).default('admin'),
        }),
      )
      .default([]),
    /**
     * Reporting to head office (the fleet): the agent publishes its status to a JetStream key-value bucket
     * (last value per store, with history) over the connection settings and TLS of the `nats` destination named
     * by `broker`. Reporting never blocks capture or delivery; while the broker is unreachable it costs one
     * connection attempt per `reportSeconds`.
     */
    fleet: z
      .strictObject({
        /** The id of a `nats` destination whose servers, credentials and TLS the reports use. */
        broker: id,
        /** The status bucket (its stream is `KV_<bucket>`; `backroom fleet serve` creates it). */
        bucket: z
          .string()
          .min(1)
          .max(64)
          .regex(/^[A-Za-z0-9_-]+$/, 'may hold only letters, digits, "_" and "-"')
          .default('BACKROOM_STATUS'),
        /** Seconds between reports (a change of a destination's state is reported within a second). */
        reportSeconds: z.number().min(0.2).max(3600).default(30),
      })
      .optional(),
    ingest: z
      .strictObject({
        /** Largest request body accepted; larger gets 413. */
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(5 * 1024 * 1024),
      })
      .default({ maxBodyBytes: 5 * 1024 * 1024 }),
  })
  .superRefine((config, ctx) => {
    const unique = (key: 'sources' | 'locations' | 'destinations' | 'channels') => {
      const seen = new Set<string>();
      config[key].forEach((item, i) => {
        if (seen.has(item.id))
          ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${item.id}"` });
        seen.add(item.id);
      });
    };
    unique('sources');
    // The workbench captures under its own source: a till under that id would share its event ids.
    config.sources.forEach((source, i) => {
      if (source.id === WORKBENCH_SOURCE)
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'id'],
          message: `"${WORKBENCH_SOURCE}" is the source of stock entered at the workbench: choose another`,
        });
    });
    unique('locations');
    unique('destinations');
    unique('channels');
    const sourceIds = new Set(config.sources.map((s) => s.id));
    config.dropFolders.forEach((folder, i) => {
      if (!sourceIds.has(folder.source))
        ctx.addIssue({
          code: 'custom',
          path: ['dropFolders', i, 'source'],
          message: `names no source in "sources" ("${folder.source}")`,
        });
    });
    if (config.fleet !== undefined) {
      const broker = config.destinations.find((d) => d.id === config.fleet?.broker);
      if (broker === undefined || broker.type !== 'nats')
        ctx.addIssue({
          code: 'custom',
          path: ['fleet', 'broker'],
          message: `names no "nats" destination in "destinations" ("${config.fleet.broker}")`,
        });
    }
    const channelIds = new Set(config.channels.map((c) => c.id));
    config.destinations.forEach((d, i) => {
      if ('channel' in d && d.channel !== undefined && !channelIds.has(d.channel))
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', i, 'channel'],
          message: `names no channel in "channels" ("${d.channel}")`,
        });
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;

/** A config value with every secret read: what the agent runs with. */
export type Resolved<T> = T extends string
  ? T
  : T extends { env: string } | { file: string }
    ? string
    : T extends readonly (infer U)[]
      ? Resolved<U>[]
      : T extends object
        ? { [K in keyof T]: Resolved<T[K]> }
        : T;
export type ResolvedConfig = Resolved<Config>;
export type ResolvedDestination = Resolved<DestinationConfig>;

/** The keys of a destination that hold secrets. */
export const DESTINATION_SECRET_KEYS = [
  'secret',
  'password',
  'accessToken',
  'clientSecret',
  'refreshToken',
  'token',
  'credentials',
] as const;

/**
 * Boots a real Vendure server for tests, in its own process (Vendure is a NestJS app with process-wide state):
 * `node --import tsx test/support/vendure/main.ts '<VendureBootOptions as JSON>'`.
 *
 * SQLite (better-sqlite3) in `dir`, schema by `synchronize`, Admin and Shop APIs on 127.0.0.1:<port>, bearer and
 * cookie tokens, the dummy payment handler; no asset server, no email, no search plugin, telemetry off. On an
 * empty database it populates what placing an order needs (one country in one zone as the channel's default
 * tax and shipping zone, a 0% tax rate, a free shipping method, a payment method that settles at once).
 * Prints `VENDURE_READY <milliseconds>` on stdout when it serves; closes on SIGTERM.
 * Started and stopped by `VendureServer` (../vendure-server.ts); not meant to be run by hand.
 */
import { join } from 'node:path';
import {
  bootstrap,
  DefaultLogger,
  dummyPaymentHandler,
  LanguageCode,
  LogLevel,
  Populator,
  type VendureConfig,
} from '@vendure/core';

/** What the parent passes as the only argument. */
export type VendureBootOptions = {
  /** Folder of the database; the process's working folder too. */
  dir: string;
  port: number;
  superadmin: { username: string; password: string };
  /** Vendure's own log level on stderr: 'error' (default) or 'info' to debug the server. */
  logLevel?: 'error' | 'warn' | 'info';
};

const startedAt = performance.now();
const options = JSON.parse(process.argv[2] ?? '{}') as VendureBootOptions;

const logLevels = { error: LogLevel.Error, warn: LogLevel.Warn, info: LogLevel.Info } as const;

const config: VendureConfig = {
  apiOptions: {
    hostname: '127.0.0.1',
    port: options.port,
    adminApiPath: 'admin-api',
    shopApiPath: 'shop-api',
    adminApiPlayground: false,
    shopApiPlayground: false,
  },
  authOptions: {
    tokenMethod: ['bearer', 'cookie'],
    superadminCredentials: { identifier: options.superadmin.username, password: options.superadmin.password },
    cookieOptions: { secret: 'backroom-test-cookie-secret' },
    // Guest checkout needs no verified account.
    requireVerification: false,
  },
  dbConnectionOptions: {
    type: 'better-sqlite3',
    database: join(options.dir, 'vendure.sqlite'),
    synchronize: true,
    logging: false,
  },
  paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
  logger: new DefaultLogger({ level: logLevels[options.logLevel ?? 'error'] }),
  plugins: [],
};

async function main(): Promise<void> {
  const app = await bootstrap(config);
  await app.get(Populator).populateInitialData({
    defaultLanguage: LanguageCode.en,
    defaultZone: 'Europe',
    countries: [{ code: 'GB', name: 'United Kingdom', zone: 'Europe' }],
    taxRates: [{ name: 'Zero', percentage: 0 }],
    shippingMethods: [{ name: 'Standard Shipping', price: 0 }],
    paymentMethods: [
      {
        name: 'Dummy',
        handler: { code: dummyPaymentHandler.code, arguments: [{ name: 'automaticSettle', value: 'true' }] },
      },
    ],
    collections: [],
  });
  process.stdout.write(`VENDURE_READY ${Math.round(performance.now() - startedAt)}\n`);
  let isClosing = false;
  process.on('SIGTERM', () => {
    if (isClosing) return;
    isClosing = true;
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Vendure failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

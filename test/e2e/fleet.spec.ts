import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from '@playwright/test';
import { parseFleetConfig } from '../../src-main/fleet/fleet-config-loader.js';
import { FleetService } from '../../src-main/fleet/fleet-service.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { NatsServer } from '../support/nats-server.js';
import { PostgresServer } from '../support/postgres-server.js';
import { CURRENT_VERSION, FleetSimulator } from '../simulators/fleet-simulator.js';
import { screenshotPath } from './fixtures.js';

/*
 * The fleet view of `backroom fleet serve` with 500 simulated stores reporting through a real NATS JetStream
 * into a real PostgreSQL: login, the table sorted and filtered, stale stores flagged, a store's page.
 */

const OPERATOR = { name: 'Ines', token: 'fleet-e2e-token-0123456789abcdef' };
const STALE_STORES = 30;

test('the fleet view shows 500 stores: sortable, filterable, stale ones flagged, a store page', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const [nats, postgres] = await Promise.all([NatsServer.start(), PostgresServer.start()]);
  let fleet: FleetService | null = null;
  const sims: FleetSimulator[] = [];
  try {
    const config = parseFleetConfig(
      {
        nats: { servers: [nats.url] },
        postgres: { connectionString: await postgres.createDatabase('fleet') },
        listen: { host: '127.0.0.1', port: 0 },
        replicas: 1,
        staleSeconds: 5,
        operators: [{ ...OPERATOR, role: 'clerk' }],
      },
      process.cwd(),
    );
    fleet = await FleetService.start({ config, logger: createLogger({ level: 'silent' }) });
    // 30 stores report once and fall silent; after the stale time, 470 more report, and keep reporting.
    const quiet = await FleetSimulator.start({ servers: [nats.url], stores: STALE_STORES, connections: 1 });
    sims.push(quiet);
    await quiet.reportAll();
    await sleep(6000);
    const busy = await FleetSimulator.start({
      servers: [nats.url],
      stores: 500 - STALE_STORES,
      firstStore: STALE_STORES + 1,
      seed: 16,
      connections: 1,
      // These keep reporting (every 2 s, well within the 5 s stale time), with a trickle of movements.
      reportSeconds: 2,
      movementsPerSecond: 0.05,
      outagePerMinute: 0,
    });
    sims.push(busy);
    await busy.reportAll();
    busy.start();
    const db = fleet.db;
    await expect
      .poll(async () =>
        Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM fleet_stores')).rows[0]!.n),
      )
      .toBe(500);

    await page.goto(fleet.address);
    await expect(page).toHaveURL(/\/login/);
    await page.getByLabel('Name').fill(OPERATOR.name);
    await page.getByLabel('Token').fill('wrong-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Wrong name or token.');
    await page.getByLabel('Name').fill(OPERATOR.name);
    await page.getByLabel('Token').fill(OPERATOR.token);
    await page.getByRole('button', { name: 'Log in' }).click();

    const rows = page.getByRole('table', { name: 'Stores' }).locator('tbody tr');
    await expect(rows).toHaveCount(500);
    await expect(page.getByRole('heading', { name: /Stores/ })).toContainText(
      `500 shown, ${STALE_STORES} stale`,
    );
    await expect(page.locator('tr.stale')).toHaveCount(STALE_STORES);
    await expect(page.locator('tr[data-store="store-0001"] .stale-flag')).toHaveText('stale');
    await expect(page.getByLabel('Stores per version')).toContainText(`${CURRENT_VERSION}:`);
    // The default order puts the worst first: paused destinations on top.
    await expect(rows.first().locator('td').nth(3)).toHaveText('paused');
    await page.screenshot({ path: screenshotPath('fleet.png') });

    // Sorted by open exceptions, most first.
    await page.getByRole('link', { name: 'Open exceptions' }).click();
    await expect(page.getByRole('columnheader', { name: /Open exceptions/ })).toHaveAttribute(
      'aria-sort',
      'descending',
    );
    const counts = (await rows.locator('td:nth-child(6)').allTextContents()).map(Number);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));

    // Filtered: an older version only, then stale only.
    await page.getByLabel('Version', { exact: true }).selectOption('0.0.9');
    await page.getByRole('button', { name: 'Filter' }).click();
    const oldVersion = await rows.count();
    expect(oldVersion).toBeGreaterThan(0);
    expect(oldVersion).toBeLessThan(500);
    await expect(rows.locator('td:nth-child(2)')).toHaveText(Array(oldVersion).fill('0.0.9'));
    await page.getByRole('link', { name: 'Clear' }).click();
    await page.getByLabel('Stale only').check();
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(rows).toHaveCount(STALE_STORES);

    // A store's page: its destinations (a paused one with its error), exceptions and trend.
    await page.getByRole('link', { name: 'Clear' }).click();
    const pausedRow = page.locator('tbody tr', { has: page.locator('td.state-paused') }).first();
    const storeId = await pausedRow.getAttribute('data-store');
    await pausedRow.getByRole('link').click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText(storeId!);
    const shopify = page
      .getByRole('table', { name: 'Destinations' })
      .locator('tr[data-destination="shopify"]');
    await expect(shopify.locator('td').nth(2)).toHaveText('paused');
    await expect(shopify).toContainText('401 Invalid API key');
    await expect(page.getByRole('table', { name: 'Trend' }).locator('tbody tr')).toHaveCount(1);
    // A clerk does not see refused messages.
    const refused = await page.request.get(`${fleet.address}/rejected`);
    expect(refused.status()).toBe(403);
    await page.screenshot({ path: screenshotPath('fleet-store.png'), fullPage: true });
  } finally {
    for (const sim of sims) await sim.close();
    await fleet?.stop();
    await Promise.all([nats.dispose(), postgres.dispose()]);
  }
});

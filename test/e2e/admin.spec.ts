import { existsSync } from 'node:fs';
import { ShopifyFake } from '../simulators/shopify-fake.js';
import { CONTRACTS_DIR } from '../support/contracts.js';
import { ActivityPage } from './pages/activity-page.js';
import { AppPage } from './pages/app-page.js';
import { ExceptionsPage } from './pages/exceptions-page.js';
import { MappingsPage } from './pages/mappings-page.js';
import { ReconcilePage } from './pages/reconcile-page.js';
import { SettingsPage } from './pages/settings-page.js';
import { StockPage } from './pages/stock-page.js';
import { expect, OPERATOR, sale, screenshotPath, test, WEBHOOK_SECRET, type Backroom } from './fixtures.js';

/** A goods receipt at S1 through the POS, so a later sale leaves stock to publish. */
function receipt(reference: string, sku: string, qty: number): Record<string, unknown> {
  return {
    id: `pos-1:${reference}`,
    type: 'receipt',
    location: 'S1',
    occurredAt: '2026-11-24T08:00:00+01:00',
    reference,
    lines: [{ sku, qty }],
  };
}

/** A Shopify fake's shop as the `shopify` destination (a marketplace: levels, read back for reconciliation). */
function shopifyDestination(fake: ShopifyFake) {
  return { id: 'shopify', type: 'shopify' as const, url: fake.url, accessToken: fake.accessToken };
}

/** The Shopify fake reads the official schema from ../shared/contracts: without it these tests skip, saying why. */
function skipWithoutContracts(): void {
  test.skip(!existsSync(CONTRACTS_DIR), `the official API models are not at ${CONTRACTS_DIR}`);
}

/** The agent must have built the Shopify connector: a missing one fails the test, it never skips it. */
function requireShopifyConnector(backroom: Backroom): void {
  expect(backroom.agent.agent.connectorOf('shopify'), 'the agent built the Shopify connector').toBeDefined();
}

test('mappings are added, changed, removed with a reason and imported from CSV with errors per line and column, each in the audit log', async ({
  page,
  backroom,
}) => {
  const { agent } = await backroom();
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.goTo('Mappings');
  const mappings = new MappingsPage(page);

  // Validated before anything is stored: an empty remote id names its field.
  await mappings.add('SKU-1', '', '');
  await expect(mappings.addForm.getByLabel('Remote id')).toHaveAttribute('aria-invalid', 'true');
  await expect(mappings.addForm).toContainText('Enter the id the destination knows it by');
  await expect(mappings.count).toHaveText('0 of 0');

  await mappings.add('SKU-1', 'ERP-PRODUCT-1', 'Product created in the ERP');
  await expect(mappings.addForm.getByRole('status')).toHaveText(/Mapped SKU-1 to ERP-PRODUCT-1 for erp/);
  await expect(mappings.row('SKU-1')).toContainText('ERP-PRODUCT-1');
  await expect(mappings.row('SKU-1')).toContainText(OPERATOR.name);

  await mappings.change('SKU-1', 'ERP-PRODUCT-1B', 'Duplicate product merged');
  await expect(mappings.row('SKU-1')).toContainText('ERP-PRODUCT-1B');

  await mappings.importCsv(
    [
      'destination,kind,local,remote',
      'erp,item,SKU-2,ERP-PRODUCT-2',
      'erp,item,SKU-3,ERP-PRODUCT-3',
      'nowhere,item,SKU-4,X-4',
      'erp,thing,SKU-5,X-5',
      'erp,item,SKU-6,',
    ].join('\n'),
  );
  const result = mappings.importForm.getByTestId('import-result');
  await expect(result).toContainText('Imported 2, unchanged 0, 3 row(s) not imported');
  const errors = mappings.importForm.getByTestId('import-errors');
  await expect(errors.getByRole('row').nth(1)).toContainText(
    /4\s*destination\s*names no configured destination/,
  );
  await expect(errors.getByRole('row').nth(2)).toContainText(/5\s*kind/);
  await expect(errors.getByRole('row').nth(3)).toContainText(/6\s*remote/);
  await expect(mappings.count).toHaveText('3 of 3');
  await mappings.filter('product-3');
  await expect(mappings.count).toHaveText('1 of 3');
  await mappings.filter('');
  await page.screenshot({ path: screenshotPath('mappings.png'), fullPage: true });

  // Removing needs a reason; without one nothing is removed.
  const removeForm = await mappings.remove('SKU-2', '');
  await expect(removeForm.getByRole('alert')).toHaveText('Say why the mapping goes');
  await expect(mappings.row('SKU-2')).toContainText('ERP-PRODUCT-2');
  await mappings.remove('SKU-2', 'Product discontinued');
  await expect(mappings.row('SKU-2')).toHaveCount(0);
  await expect(mappings.count).toHaveText('2 of 2');

  await app.goTo('Activity');
  const activity = new ActivityPage(page);
  await expect(activity.entry('Product created in the ERP')).toContainText('Mapped');
  await expect(activity.entry('Duplicate product merged')).toContainText('remote: ERP-PRODUCT-1B');
  await expect(activity.entry('Duplicate product merged')).toContainText('remote: ERP-PRODUCT-1,');
  const removal = activity.entry('Product discontinued');
  await expect(removal).toContainText(OPERATOR.name);
  await expect(removal).toContainText('Removed mapping');
  await expect(removal).toContainText('remote: ERP-PRODUCT-2');
  await expect(activity.entry('Imported mappings')).toContainText('imported: 2');
});

test('the mapping and reconciliation routes refuse bad input naming the field, and store nothing', async ({
  page,
  backroom,
}) => {
  const { agent } = await backroom();
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.expectLoggedInAs(OPERATOR.name);
  // The page's own session: these are the requests the UI would send, checked by the agent as well.
  const api = page.request;
  const post = (path: string, data: unknown) => api.post(`${agent.url}${path}`, { data });
  const fieldsOf = async (response: Awaited<ReturnType<typeof post>>) => {
    expect(response.status()).toBe(400);
    const body = (await response.json()) as { errors?: { path: string }[] };
    return (body.errors ?? []).map((e) => e.path);
  };

  expect(
    await fieldsOf(await post('/api/v1/mappings', { destination: 'nowhere', local: 'SKU-1', remote: 'X' })),
  ).toEqual(['destination']);
  expect(
    await fieldsOf(await post('/api/v1/mappings', { destination: 'erp', local: 'SKU-1', remote: '  ' })),
  ).toEqual(['remote']);
  expect(
    await fieldsOf(
      await post('/api/v1/mappings', { destination: 'erp', kind: 'sku', local: 'SKU-1', remote: 'X' }),
    ),
  ).toEqual(['kind']);
  expect(
    await fieldsOf(
      await post('/api/v1/mappings', { destination: 'erp', local: 'SKU-1', remote: 'X', extra: 1 }),
    ),
  ).toEqual(['']);
  expect((await post('/api/v1/mappings', { destination: 'erp', local: 'SKU-1', remote: 'X' })).status()).toBe(
    200,
  );
  expect(
    await fieldsOf(
      await post('/api/v1/mappings/remove', {
        destination: 'erp',
        kind: 'item',
        local: 'SKU-1',
        reason: ' ',
      }),
    ),
  ).toEqual(['reason']);
  expect(await fieldsOf(await post('/api/v1/reconcile', { destination: 'erp' }))).toEqual(['destination']);
  expect(
    await fieldsOf(
      await post('/api/v1/reconcile/fix', {
        destination: 'erp',
        sku: 'SKU-1',
        location: 'S1',
        action: 'delete',
      }),
    ),
  ).toEqual(expect.arrayContaining(['action', 'reason']));

  const list = await api.get(`${agent.url}/api/v1/mappings?destination=erp`);
  const { mappings } = (await list.json()) as { mappings: { localId: string; remoteId: string }[] };
  expect(mappings.map((m) => [m.localId, m.remoteId])).toEqual([['SKU-1', 'X']]);
});

test('the settings page shows the agent, channels with their oversell guard and each destination with secrets masked', async ({
  page,
  backroom,
}) => {
  const clientKey =
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBackroomTestKeyNotARealOne\n-----END PRIVATE KEY-----';
  const { agent } = await backroom({
    config: {
      channels: [
        { id: 'web', buffer: 2, tighten: { afterMinutes: 15, holdBackPercent: 50, holdBackUnits: 1 } },
      ],
    },
    // A fleet broker over TLS (nothing listens there: only its settings are shown).
    destinations: [
      {
        id: 'fleet',
        type: 'nats',
        servers: ['tls://127.0.0.1:1'],
        subject: 'backroom.events',
        stream: 'BACKROOM',
        tls: {
          ca: '-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUBackroomTestCA\n-----END CERTIFICATE-----',
          cert: '-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUBackroomClient\n-----END CERTIFICATE-----',
          key: clientKey,
        },
      },
    ],
  });
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.goTo('Settings');
  const settings = new SettingsPage(page);
  await expect(page.getByTestId('agent-facts')).toContainText('store-test');
  const web = settings.channels.getByRole('row', { name: /web/ });
  await expect(web).toContainText('2');
  await expect(web).toContainText(
    'After 15 min unreachable or behind: hold back 1 unit(s), then 50% of the rest',
  );
  await expect(web).toContainText('Normal');
  const erp = settings.destination('erp');
  await expect(erp).toContainText('webhook');
  await expect(erp).toContainText('Online');
  await expect(erp).toContainText(/secret\s*••••/);
  await expect(page.locator('body')).not.toContainText(WEBHOOK_SECRET);
  // Certificates show as their first line and size; the client key is masked.
  const fleet = settings.destination('fleet');
  await expect(fleet).toContainText('"ca":"-----BEGIN CERTIFICATE----- … (');
  await expect(fleet).toContainText('"key":"••••"');
  await expect(page.locator('body')).not.toContainText('BackroomTestKeyNotARealOne');
  await expect(page.getByRole('form', { name: 'Import mappings from CSV' })).toBeVisible();
  await page.screenshot({ path: screenshotPath('settings.png'), fullPage: true });
});

test('a channel buffer is changed in the settings with a reason, applies to available-to-sell at once, is audited, and goes back to the config file’s', async ({
  page,
  backroom,
}) => {
  const { agent } = await backroom({ config: { channels: [{ id: 'web', buffer: 2 }] } });
  await agent.post(receipt('GR-7', 'SKU-7', 10));
  const webAvailable = async () => {
    const { body } = await agent.get('/api/v1/stock?sku=SKU-7');
    const levels = body['levels'] as { channels: { channel: string; available: number }[] }[];
    return levels[0]?.channels.find((c) => c.channel === 'web')?.available;
  };
  expect(await webAvailable()).toBe(8);
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.goTo('Settings');
  const settings = new SettingsPage(page);
  await expect(settings.channel('web')).toContainText('(config file)');

  // Refused, naming the field, and nothing changes.
  let form = await settings.changeBuffer('web', '-3', 'Black Friday');
  await expect(form.getByText('A buffer cannot be negative')).toBeVisible();
  await expect(form.getByLabel('Units held back')).toHaveAttribute('aria-invalid', 'true');
  form = await settings.changeBuffer('web', '5', '');
  await expect(form.getByText('Say why the buffer changes')).toBeVisible();
  expect(await webAvailable()).toBe(8);

  await settings.changeBuffer('web', '5', 'Black Friday');
  await expect(page.getByTestId('channel-web-buffer')).toHaveText('5');
  await expect(settings.channel('web')).toContainText(`by ${OPERATOR.name}: “Black Friday”; config file: 2`);
  expect(await webAvailable()).toBe(5);

  await app.goTo('Activity');
  const entry = new ActivityPage(page).entry('Black Friday');
  await expect(entry).toContainText('Changed channel buffer');
  await expect(entry).toContainText('channel:web');
  await expect(entry).toContainText(OPERATOR.name);

  await app.goTo('Settings');
  await settings.changeBuffer('web', '', 'Black Friday is over', 'back to config');
  await expect(page.getByTestId('channel-web-buffer')).toHaveText('2');
  await expect(settings.channel('web')).toContainText('(config file)');
  expect(await webAvailable()).toBe(8);
});

test('"Test connection" of a Shopify destination shows ok with the time taken, and a wrong token as refused credentials in Shopify’s words; audited', async ({
  page,
  backroom,
}) => {
  skipWithoutContracts();
  const shop = await ShopifyFake.start();
  try {
    shop.addLocation('Store one');
    const started = await backroom({
      destinations: [
        shopifyDestination(shop),
        { ...shopifyDestination(shop), id: 'shopify-old', accessToken: 'shpat_revoked_token' },
      ],
    });
    requireShopifyConnector(started);
    const { agent } = started;
    const app = new AppPage(page);
    await app.open(agent.url);
    await app.login(OPERATOR.name, OPERATOR.password);
    await app.goTo('Settings');
    const settings = new SettingsPage(page);

    const ok = await settings.testConnection('shopify');
    await expect(ok).toHaveAttribute('aria-live', 'polite');
    await expect(ok).toContainText(/^Connected \(\d+ ms\): Shopify accepted the access token/);
    await expect(ok).toContainText('its first location is "Store one"');

    // By keyboard: the button takes focus and Enter runs the test.
    const refused = await settings.testConnection('shopify-old', 'keyboard');
    await expect(refused).toContainText(/^Credentials refused \(after \d+ ms\): /);
    await expect(refused).toContainText('Invalid API key or access token');
    await expect(settings.testConnectionButton('shopify-old')).toBeFocused();

    // A webhook has no connection test: no button, and the page says why.
    await expect(settings.testConnectionButton('erp')).toHaveCount(0);
    await expect(settings.destination('erp')).toContainText(
      'No connection test for a webhook destination; its delivery results show whether it works',
    );
    const api = page.request;
    const test = (destination: string) =>
      api.post(`${agent.url}/api/v1/destinations/test`, { data: { destination } });
    const webhook = await test('erp');
    expect(webhook.status()).toBe(400);
    expect(((await webhook.json()) as { message: string }).message).toContain('has no connection test');
    const nowhere = await test('nowhere');
    expect(nowhere.status()).toBe(404);
    expect(((await nowhere.json()) as { message: string }).message).toContain('"nowhere"');

    await app.goTo('Activity');
    const entry = new ActivityPage(page).entry(/destination:shopify-old/);
    await expect(entry).toContainText('Tested connection');
    await expect(entry).toContainText(OPERATOR.name);
    await expect(entry).toContainText('auth_failed');
  } finally {
    await shop.stop();
  }
});

test('a POS source token created in the settings is shown once, accepted by the ingest API and refused once revoked, both audited', async ({
  page,
  backroom,
}) => {
  const { agent } = await backroom();
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.goTo('Settings');
  const settings = new SettingsPage(page);
  const token = await settings.createSourceToken('pos-9', 'Till 9, back door');
  expect(token).toMatch(/^brt_/);
  const ingest = (bearer: string, reference: string) =>
    fetch(`${agent.url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...sale(reference), id: `pos-9:${reference}` }),
    });
  const accepted = await ingest(token, 'R-901');
  expect(accepted.status).toBe(200);
  expect(((await accepted.json()) as { results: { status: string }[] }).results[0]?.status).toBe('accepted');

  // Shown once: after "Done" (or a reload) only its last four characters remain.
  await settings.page.getByRole('button', { name: 'Done' }).click();
  await page.reload();
  await expect(settings.sourceTokens).toContainText(`…${token.slice(-4)}`);
  await expect(page.locator('body')).not.toContainText(token);

  const form = await settings.revokeSourceToken('pos-9', token.slice(-4), '');
  await expect(form.getByRole('alert')).toHaveText('Say why it is revoked');
  expect((await ingest(token, 'R-902')).status).toBe(200);
  await settings.revokeSourceToken('pos-9', token.slice(-4), 'Till 9 replaced');
  await expect(settings.sourceTokens.getByRole('row', { name: /pos-9/ })).toContainText(`Revoked`);
  expect((await ingest(token, 'R-903')).status).toBe(401);

  await app.goTo('Activity');
  const activity = new ActivityPage(page);
  await expect(activity.entry('Till 9 replaced')).toContainText('source:pos-9');
  await expect(activity.entry('Created source token')).toContainText(`hint: ${token.slice(-4)}`);
  await expect(page.locator('body')).not.toContainText(token);
});

test('a sale with an unmapped SKU appears as an exception; the user maps the SKU in the UI; the sale is delivered and the exception is resolved, with the action in the audit log', async ({
  page,
  backroom,
}) => {
  skipWithoutContracts();
  const shop = await ShopifyFake.start();
  try {
    const store = shop.addLocation('Store one');
    // The shop knows the T-shirt under another SKU, so the connector cannot find it by SKU.
    const tee = shop.addItem('SHOP-TEE-M', { [store]: 20 });
    const started = await backroom({ destinations: [shopifyDestination(shop)] });
    requireShopifyConnector(started);
    const { agent, sink, send } = started;
    const app = new AppPage(page);
    await app.open(agent.url);
    await app.login(OPERATOR.name, OPERATOR.password);

    // The store's location is mapped by CSV first, so only the SKU is missing.
    await app.goTo('Mappings');
    const mappings = new MappingsPage(page);
    await mappings.importCsv(`destination,kind,local,remote\nshopify,location,S1,${store}\n`);
    await expect(mappings.importForm.getByTestId('import-result')).toContainText('Imported 1');

    await send([receipt('GR-7', 'TEE-M', 10), sale('R-000777', 'TEE-M', 3)]);
    await expect.poll(() => sink.applied.length).toBe(2);

    await app.goTo('Exceptions');
    const exceptions = new ExceptionsPage(page);
    await exceptions.filterByKind('Unmapped SKU');
    const row = exceptions.row(/shopify has no item mapped to SKU TEE-M/);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await exceptions.open(/shopify has no item mapped to SKU TEE-M/);
    const form = exceptions.detail.getByRole('form', { name: 'Map this SKU' });
    await expect(form.getByLabel('Destination')).toHaveValue('shopify');
    await expect(form.getByLabel('Local SKU')).toHaveValue('TEE-M');
    expect(shop.available(tee, store)).toBe(20);
    await page.screenshot({ path: screenshotPath('map-sku.png') });

    await exceptions.mapThisSku(tee, 'Listed under SHOP-TEE-M in the shop');
    await expect(exceptions.detail.getByTestId('mapped')).toHaveText(/Mapped TEE-M to .* for shopify/);
    // The held level goes out by itself: 10 received − 3 sold.
    await expect.poll(() => shop.available(tee, store), { timeout: 30_000 }).toBe(7);
    await expect(exceptions.detail.getByRole('heading', { level: 2 })).toContainText('resolved');
    await expect(exceptions.detail).toContainText(`Resolution: mapped to ${tee} (${OPERATOR.name})`);
    await expect(form).toHaveCount(0);
    await expect(row).toHaveCount(0);

    await app.goTo('Activity');
    const entry = new ActivityPage(page).entry('Listed under SHOP-TEE-M in the shop');
    await expect(entry).toContainText(OPERATOR.name);
    await expect(entry).toContainText('Mapped');
    await expect(entry).toContainText('mapping:shopify:item:TEE-M');
  } finally {
    await shop.stop();
  }
});

test('a drift between local and remote is found and fixed with "adopt remote"', async ({
  page,
  backroom,
}) => {
  skipWithoutContracts();
  const shop = await ShopifyFake.start();
  try {
    const store = shop.addLocation('Store one');
    const tee = shop.addItem('TEE-M', { [store]: 0 });
    const started = await backroom({ destinations: [shopifyDestination(shop)] });
    requireShopifyConnector(started);
    const { agent, send } = started;
    const app = new AppPage(page);
    await app.open(agent.url);
    await app.login(OPERATOR.name, OPERATOR.password);
    await app.goTo('Mappings');
    const mappings = new MappingsPage(page);
    await mappings.importCsv(
      `destination,kind,local,remote\nshopify,location,S1,${store}\nshopify,item,TEE-M,${tee}\n`,
    );
    await send([receipt('GR-8', 'TEE-M', 10)]);
    await expect.poll(() => shop.available(tee, store), { timeout: 30_000 }).toBe(10);

    // Someone counts 6 in the shop's admin: the shop now shows 4 fewer than Backroom publishes.
    shop.setAvailable(tee, store, 6);
    await app.goTo('Reconcile');
    const reconcile = new ReconcilePage(page);
    await reconcile.run('shopify');
    const drift = reconcile.row('TEE-M', 'S1');
    await expect(drift).toContainText('Lower there');
    await expect(drift.getByRole('cell').nth(3)).toHaveText('6');
    await expect(drift.getByRole('cell').nth(4)).toHaveText('-4');
    await expect(reconcile.summary).toContainText('1 drifting');
    await page.screenshot({ path: screenshotPath('reconcile.png'), fullPage: true });

    const form = await reconcile.fixWithReason('TEE-M', 'S1', 'Adopt remote', '');
    await expect(page.getByRole('alert')).toHaveText(/Say why/);
    await reconcile.fixWithReason('TEE-M', 'S1', 'Adopt remote', 'Counted 6 on the shelf');
    await expect(form).toHaveCount(0);
    await expect(page.getByRole('status').filter({ hasText: 'recorded an adjustment of -4' })).toBeVisible();
    await expect(async () => {
      await reconcile.run();
      await expect(reconcile.summary).toContainText('0 drifting', { timeout: 2000 });
    }).toPass({ timeout: 30_000 });
    expect(shop.available(tee, store)).toBe(6);

    await app.goTo('Stock');
    const stock = new StockPage(page);
    await stock.find('TEE-M');
    await expect(stock.levels.getByRole('row', { name: /S1/ })).toContainText('6');
    await expect(stock.movements.getByRole('row').nth(1)).toContainText('Reconciliation with shopify');

    await app.goTo('Activity');
    const entry = new ActivityPage(page).entry('Counted 6 on the shelf');
    await expect(entry).toContainText(OPERATOR.name);
    await expect(entry).toContainText('Adopted remote level');
  } finally {
    await shop.stop();
  }
});

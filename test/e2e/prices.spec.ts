import { existsSync } from 'node:fs';
import { ShopifyFake } from '../simulators/shopify-fake.js';
import { CONTRACTS_DIR } from '../support/contracts.js';
import { AppPage } from './pages/app-page.js';
import { PricesPage } from './pages/prices-page.js';
import { expect, OPERATOR, screenshotPath, test } from './fixtures.js';

/*
 * Prices out to channels in the UI (issue 12, part 6): the Prices page lists pending and held price changes and a
 * manager confirms or keeps a held one; the item page shows the item's price per channel and what is pending.
 */

const price = (amount: string) => [{ list: 'retail', amount, currency: 'USD' }];

test('the Prices page holds a price far under the last one, a manager confirms one and keeps another; the item page shows each channel', async ({
  page,
  backroom,
}) => {
  test.skip(!existsSync(CONTRACTS_DIR), `the official API models are not at ${CONTRACTS_DIR}`);
  const shop = await ShopifyFake.start();
  try {
    shop.addLocation('Store one');
    for (const sku of ['MUG-ONE', 'TEE-M', 'CAP-RED']) shop.addItem(sku);
    const clerk = { name: 'Cleo', password: 'cleo-e2e-token-0123456789' };
    const { agent } = await backroom({
      destinations: [
        {
          id: 'shopify',
          type: 'shopify',
          url: shop.url,
          accessToken: shop.accessToken,
          locations: ['S1'],
          prices: { list: 'retail' },
        },
      ],
      config: {
        operators: [
          { name: OPERATOR.name, token: OPERATOR.password },
          { name: clerk.name, token: clerk.password, role: 'clerk' },
        ],
      },
    });
    const catalog = agent.agent.catalog;
    const prices = agent.agent.prices;
    catalog.apply(
      [
        { sku: 'MUG-ONE', name: 'Mug', prices: price('12.00') },
        { sku: 'TEE-M', name: 'T-shirt M', prices: price('25.00') },
        { sku: 'CAP-RED', name: 'Cap red', prices: price('9.00') },
      ],
      'erp',
    );
    await prices.sendNow('shopify');
    expect(shop.prices.priceOf('MUG-ONE')?.price).toBe('12.00');
    // The ERP misplaces two decimal points; a new item has no Shopify product yet.
    catalog.apply(
      [
        { sku: 'MUG-ONE', prices: price('1.20') },
        { sku: 'TEE-M', prices: price('2.50') },
        { sku: 'CAP-RED', prices: price('8.50') },
        { sku: 'SOCK-X', name: 'Sock', prices: price('3.00') },
      ],
      'erp',
    );
    await prices.sendNow('shopify');
    expect(shop.prices.priceOf('CAP-RED')?.price).toBe('8.50');
    expect(shop.prices.priceOf('MUG-ONE')?.price).toBe('12.00');

    // A clerk sees the held prices but is not offered the decision.
    const app = new AppPage(page);
    await app.open(agent.url);
    await app.login(clerk.name, clerk.password);
    await app.goTo('Prices');
    const pricesPage = new PricesPage(page);
    await expect(pricesPage.row('shopify', 'MUG-ONE')).toContainText('Held: below the floor');
    await expect(page.getByRole('button', { name: /Confirm and send/ })).toHaveCount(0);
    await expect(page.getByTestId('role-note')).toHaveText('A manager can confirm or keep a held price.');
    await page.getByRole('button', { name: 'Log out' }).click();

    await app.login(OPERATOR.name, OPERATOR.password);
    await app.goTo('Prices');
    await expect(pricesPage.summary).toContainText('shopify (retail): 0 waiting, 3 held');
    await expect(pricesPage.row('shopify', 'MUG-ONE')).toContainText('1.20 USD');
    await expect(pricesPage.row('shopify', 'MUG-ONE')).toContainText('12.00 USD');
    await expect(pricesPage.row('shopify', 'SOCK-X')).toContainText('Held: not mapped');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: screenshotPath('prices.png'), fullPage: true });

    // Keeping asks for a reason first.
    const form = await pricesPage.keep('shopify', 'TEE-M', '');
    await expect(form.getByLabel('Reason (required)')).toHaveAttribute('aria-invalid', 'true');
    await pricesPage.keep('shopify', 'TEE-M', 'ERP typo, fixed there tomorrow');
    await expect(
      page.getByRole('status').filter({ hasText: 'TEE-M: shopify keeps 25.00 USD' }),
    ).toBeVisible();
    await expect(pricesPage.row('shopify', 'TEE-M')).toHaveCount(0);

    await pricesPage.confirm('shopify', 'MUG-ONE');
    await expect(page.getByRole('status').filter({ hasText: 'MUG-ONE: 1.20 USD confirmed' })).toBeVisible();
    await expect.poll(() => shop.prices.priceOf('MUG-ONE')?.price).toBe('1.20');
    expect(shop.prices.priceOf('TEE-M')?.price).toBe('25.00');
    expect(agent.agent.audit.list({ subject: 'price:shopify:TEE-M' })[0]?.reason).toBe(
      'ERP typo, fixed there tomorrow',
    );

    // Drift: a price changed in the Shopify admin by hand is found, and adopted as the channel's own price.
    shop.prices.setPrice('CAP-RED', '7.99');
    const drift = page.getByRole('form', { name: 'Compare prices with a channel' });
    await drift.getByRole('button', { name: 'Compare now' }).click();
    const capRow = page.getByTestId('price-drift-CAP-RED');
    await expect(capRow).toContainText('Changed there by hand');
    await expect(capRow).toContainText('8.50 USD');
    await expect(capRow).toContainText('7.99 USD');
    await page.getByRole('button', { name: 'Adopt theirs: CAP-RED at shopify' }).click();
    await page
      .getByRole('form', { name: 'Adopt theirs: CAP-RED at shopify' })
      .getByLabel('Reason (required)')
      .fill('weekend offer set at the shop');
    await page.screenshot({ path: screenshotPath('prices-drift.png'), fullPage: true });
    await page.getByRole('button', { name: 'Adopt 7.99 USD' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'CAP-RED now sells at 7.99 USD' })).toBeVisible();
    await expect(capRow).toHaveCount(0);
    await expect(page.getByTestId('price-drift-TEE-M')).toContainText('Old price kept by a person');
    expect(catalog.price('CAP-RED', 'override:shopify')?.amount).toBe('7.99');

    // The item page: its price per channel, and what waits.
    await page.goto(`${agent.url}/#/stock?sku=SOCK-X`);
    const channelPrices = page.getByTestId('channel-prices');
    await expect(channelPrices).toContainText('Held: not mapped');
    await expect(channelPrices).toContainText('3.00 USD');
    await page.goto(`${agent.url}/#/stock?sku=MUG-ONE`);
    await expect(channelPrices.getByRole('row', { name: /shopify/ })).toContainText('Up to date');
    await expect(channelPrices).toContainText('1.20 USD');
    await page.screenshot({ path: screenshotPath('item-prices.png'), fullPage: true });
    expect(shop.invalidRequests).toEqual([]);
  } finally {
    await shop.stop();
  }
});

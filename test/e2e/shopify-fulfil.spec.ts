import { existsSync } from 'node:fs';
import { CONTRACTS_DIR } from '../support/contracts.js';
import { ShopifyFake } from '../simulators/shopify-fake.js';
import { AppPage } from './pages/app-page.js';
import { FulfilPage } from './pages/fulfil-page.js';
import { ReconcilePage } from './pages/reconcile-page.js';
import { expect, OPERATOR, screenshotPath, test } from './fixtures.js';

const CATALOG = 'sku,name,barcode\nMUG-M,Mug M,4006381333948\nTEE-M,Tee M,4006381333955\n';

test('a Shopify order is picked by scanning and shipped: Shopify holds the fulfilment with the tracking; undone there, the Reconciliation page shows it and resends it', async ({
  page,
  backroom,
}) => {
  test.skip(!existsSync(CONTRACTS_DIR), `the official API models are not at ${CONTRACTS_DIR}`);
  const shop = await ShopifyFake.start();
  try {
    const store = shop.addLocation('Store one');
    shop.addItem('MUG-M', { [store]: 10 });
    shop.addItem('TEE-M', { [store]: 10 });
    const started = await backroom({
      catalogCsv: CATALOG,
      destinations: [
        {
          id: 'shopify',
          type: 'shopify',
          url: shop.url,
          accessToken: shop.accessToken,
          locationNames: { S1: 'Store one' },
          orders: { location: 'S1', pollSeconds: 3600, overlapSeconds: 300 },
        },
      ],
      config: {
        carriers: [
          { id: 'DHL', name: 'DHL Parcel', trackingUrl: 'https://track.carrier.test/p/{trackingNumber}' },
        ],
      },
    });
    await started.send([
      {
        id: 'pos-1:in-shop',
        type: 'receipt',
        location: 'S1',
        occurredAt: '2026-11-24T08:00:00+01:00',
        lines: [
          { sku: 'MUG-M', qty: 5 },
          { sku: 'TEE-M', qty: 5 },
        ],
      },
    ]);
    const order = shop.placeOrder({
      location: store,
      lines: [
        { sku: 'MUG-M', quantity: 2 },
        { sku: 'TEE-M', quantity: 1 },
      ],
      at: new Date(Date.now() - 60_000),
    });
    await started.agent.agent.orders.pullNow('shopify');

    const app = new AppPage(page);
    await app.open(started.agent.url);
    await app.login(OPERATOR.name, OPERATOR.password);
    await app.goTo('Fulfil');
    const fulfil = new FulfilPage(page);
    await fulfil.location.fill('S1');
    await expect(fulfil.orders.getByRole('rowheader')).toHaveText(['#1001']);
    await fulfil.scan('1001');
    await expect(fulfil.pick.getByRole('heading', { name: /Picking #1001/ })).toBeVisible();
    await fulfil.scan('4006381333948');
    await fulfil.scan('4006381333948');
    await fulfil.scan('4006381333955');
    await expect(fulfil.picked('MUG-M')).toHaveText('2');
    await expect(fulfil.picked('TEE-M')).toHaveText('1');
    await fulfil.scan('DHL');
    await fulfil.shipForm.getByLabel('Tracking number').fill('JJD000390007');
    await fulfil.shipForm.getByRole('button', { name: 'Confirm shipment' }).click();
    await expect(fulfil.message).toContainText('Order #1001 shipped with DHL Parcel, tracking JJD000390007');
    await started.agent.agent.fulfilments.sendNow('shopify');
    expect(shop.fulfilments.of(order).map((f) => [f.tracking, f.lines])).toEqual([
      [
        { company: 'DHL', number: 'JJD000390007', url: 'https://track.carrier.test/p/JJD000390007' },
        [
          { sku: 'MUG-M', quantity: 2 },
          { sku: 'TEE-M', quantity: 1 },
        ],
      ],
    ]);

    // Staff undo the fulfilment in Shopify's admin: the Reconciliation page shows the order as drift.
    shop.fulfilments.cancelFulfilment(shop.fulfilments.of(order)[0]!.id);
    await app.goTo('Reconcile');
    const reconcile = new ReconcilePage(page);
    await reconcile.run('shopify');
    const shipments = page.getByTestId('shipment-drift');
    await shipments.getByRole('button', { name: 'Check orders' }).click();
    const row = shipments.getByTestId('shipment-#1001');
    await expect(row).toContainText('Unfulfilled there');
    await expect(row).toContainText('2 × MUG-M, 1 × TEE-M');
    await shipments.getByRole('button', { name: 'Resend fulfilment: order #1001' }).click();
    await page.screenshot({ path: screenshotPath('reconcile-shipments.png'), fullPage: true });
    const form = shipments.getByRole('form', { name: 'Resend fulfilment: order #1001' });
    await form.getByLabel('Reason (required)').fill('Undone by mistake in the Shopify admin');
    await form.getByRole('button', { name: 'Resend fulfilment' }).click();
    await expect(shipments.getByRole('status').filter({ hasText: 'Order #1001: 1 shipment' })).toBeVisible();
    await started.agent.agent.fulfilments.sendNow('shopify');
    await expect
      .poll(() => shop.fulfilments.of(order).filter((f) => f.tracking?.number === 'JJD000390007').length)
      .toBe(2);
    await shipments.getByRole('button', { name: 'Check orders' }).click();
    await expect(shipments.getByRole('status').filter({ hasText: 'Every order is in step.' })).toBeVisible();
    expect(shop.invalidRequests).toEqual([]);
  } finally {
    await shop.stop();
  }
});

import { AppPage } from './pages/app-page.js';
import { FulfilPage } from './pages/fulfil-page.js';
import { expect, OPERATOR, screenshotPath, test, type Backroom } from './fixtures.js';

const CATALOG = 'sku,name,barcode\nMUG-M,Mug M,4006381333948\nTEE-M,Tee M,4006381333955\n';

/** Stock on the shelf at S1 and three web shop orders reserving it, promised on different days. */
async function seed(backroom: Backroom): Promise<void> {
  const at = '2026-11-24T08:00:00+01:00';
  await backroom.send([
    {
      id: 'pos-1:in-1',
      type: 'receipt',
      location: 'S1',
      occurredAt: at,
      lines: [
        { sku: 'MUG-M', qty: 3 },
        { sku: 'TEE-M', qty: 1 },
      ],
    },
    {
      id: 'pos-1:order-1003',
      type: 'reserve',
      location: 'S1',
      occurredAt: at,
      reference: 'web-1003',
      lines: [{ sku: 'TEE-M', qty: 2 }],
      meta: { order: '#1003' },
    },
    {
      id: 'pos-1:order-1001',
      type: 'reserve',
      location: 'S1',
      occurredAt: at,
      reference: 'web-1001',
      lines: [
        { sku: 'MUG-M', qty: 2 },
        { sku: 'TEE-M', qty: 1 },
      ],
      meta: { order: '#1001', shipBy: '2026-11-26T17:00:00Z' },
    },
    {
      id: 'pos-1:order-1002',
      type: 'reserve',
      location: 'S1',
      occurredAt: at,
      reference: 'web-1002',
      lines: [{ sku: 'MUG-M', qty: 1 }],
      meta: { order: '#1002', shipBy: '2026-11-27T17:00:00Z' },
    },
  ]);
}

/** The ship events captured, as the agent stored them. */
function shipments(backroom: Backroom): Record<string, unknown>[] {
  return (
    backroom.agent.agent.db.sqlite
      .prepare("SELECT body FROM events WHERE type = 'ship' ORDER BY seq")
      .all() as {
      body: string;
    }[]
  ).map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

test('an order is picked and shipped by scanning: wrong items, over-picks and a bad tracking number are refused, nothing captured', async ({
  page,
  backroom,
}) => {
  const started = await backroom({
    catalogCsv: CATALOG,
    config: {
      carriers: [
        { id: 'DHL', name: 'DHL Parcel', trackingUrl: 'https://track.carrier.test/p/{trackingNumber}' },
        { id: 'VAN', name: 'Own van' },
      ],
    },
  });
  await seed(started);
  const app = new AppPage(page);
  await app.open(started.agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.goTo('Fulfil');
  const fulfil = new FulfilPage(page);
  await fulfil.location.fill('S1');

  // Oldest promise first; the order without a ship-by date last, short of the tee #1001 holds.
  await expect(fulfil.orders.getByRole('rowheader')).toHaveText(['#1001', '#1002', '#1003']);
  await expect(fulfil.order('#1003')).toContainText('2 short');
  await expect(fulfil.order('#1001')).toContainText('reserved, on the shelf');
  await page.screenshot({ path: screenshotPath('fulfil.png'), fullPage: true });

  // An order that is not open here is said so.
  await fulfil.scan('9999');
  await expect(fulfil.message).toHaveText('No open order 9999 to ship at S1.');
  // The packing slip of #1001 carries its number.
  await fulfil.scan('1001');
  await expect(fulfil.pick.getByRole('heading', { name: /Picking #1001/ })).toBeVisible();

  await fulfil.scan('4006381333948');
  await expect(fulfil.scanMessage).toHaveText('Picked MUG-M (1 of 2).');
  await fulfil.scan('MUG-M');
  await expect(fulfil.picked('MUG-M')).toHaveText('2');
  // A third mug is one more than the order has: refused, still 2.
  await fulfil.scan('4006381333948');
  await expect(fulfil.scanMessage).toHaveText(
    'All 2 × MUG-M of order #1001 are picked already: put this one back.',
  );
  await expect(fulfil.picked('MUG-M')).toHaveText('2');
  // An item of another order, not of this one.
  await fulfil.scan('SOCK-1');
  await expect(fulfil.scanMessage).toHaveText('SOCK-1 is not on order #1001: put it back.');
  // The carrier's label is scanned.
  await fulfil.scan('DHL');
  await expect(fulfil.shipForm.getByLabel('Carrier')).toHaveValue('DHL');

  // A tracking number with spaces is refused under its field; nothing is shipped.
  await fulfil.shipForm.getByLabel('Tracking number').fill('JJD 0001');
  await fulfil.shipForm.getByRole('button', { name: 'Confirm shipment' }).click();
  await expect(
    fulfil.shipForm.getByText('must be letters, digits and "-" only, without spaces'),
  ).toBeVisible();
  expect(shipments(started)).toEqual([]);
  await page.screenshot({ path: screenshotPath('fulfil-pick.png'), fullPage: true });

  // The tee is left for later: a partial shipment of the two mugs.
  await fulfil.shipForm.getByLabel('Tracking number').fill('JJD0001');
  await fulfil.shipForm.getByRole('button', { name: 'Confirm shipment' }).click();
  await expect(fulfil.message).toHaveText(
    'Order #1001 shipped with DHL Parcel, tracking JJD0001 (https://track.carrier.test/p/JJD0001). 1 unit stays reserved for a later shipment.',
  );
  const [shipped] = shipments(started);
  expect(shipped).toMatchObject({
    reference: 'web-1001',
    lines: [{ sku: 'MUG-M', qty: 2 }],
    carrier: 'DHL',
    trackingNumber: 'JJD0001',
    trackingUrl: 'https://track.carrier.test/p/JJD0001',
  });
  // #1001 is still listed for its tee, now 1 of 1 left to ship.
  await expect(fulfil.order('#1001')).toContainText('1 of 1 × TEE-M');
  await expect(fulfil.order('#1001')).not.toContainText('MUG-M');

  // The rest of #1001 goes with the own van, picked by typing the code.
  await fulfil.order('#1001').getByRole('button', { name: 'Pick #1001' }).click();
  await fulfil.pick.getByLabel('SKU or barcode').fill('TEE-M');
  await fulfil.pick.getByLabel('SKU or barcode').press('Enter');
  await expect(fulfil.picked('TEE-M')).toHaveText('1');
  await fulfil.shipForm.getByLabel('Carrier').selectOption('VAN');
  await fulfil.shipForm.getByLabel('Tracking number').fill('VAN-2611-07');
  await fulfil.shipForm.getByRole('button', { name: 'Confirm shipment' }).click();
  await expect(fulfil.message).toHaveText('Order #1001 shipped with Own van, tracking VAN-2611-07.');
  await expect(fulfil.orders.getByRole('rowheader')).toHaveText(['#1002', '#1003']);
  expect(shipments(started)).toHaveLength(2);

  // One mug of #1001 comes back damaged: received against the order and written off.
  await page
    .getByRole('navigation', { name: 'Fulfilment' })
    .getByRole('link', { name: 'Receive a return' })
    .click();
  const returns = page.getByRole('form', { name: 'Receive a return' });
  await returns.getByLabel('Location').fill('S1');
  await returns.getByLabel('Order number').fill('#1001');
  await returns.getByLabel('Condition').selectOption('damaged');
  await fulfil.scan('4006381333948');
  await expect(returns.getByRole('status').or(page.getByTestId('scan-message'))).toContainText('MUG-M');
  await returns.getByRole('button', { name: 'Receive return' }).click();
  await expect(page.getByText(/Return received: posted as event #\d+/)).toBeVisible();
  // Two more would be more than the order shipped: refused, naming the line.
  await returns.getByLabel('Order number').fill('#1001');
  await fulfil.scan('4006381333948');
  await fulfil.scan('4006381333948');
  await returns.getByRole('button', { name: 'Receive return' }).click();
  await expect(returns.getByRole('alert')).toContainText(
    'Line 1 (MUG-M) quantity: 2 × MUG-M is more than came back of order #1001 could be (2 shipped, 1 returned already)',
  );
  await page.screenshot({ path: screenshotPath('fulfil-return.png'), fullPage: true });
  const kinds = (
    started.agent.agent.db.sqlite
      .prepare(
        "SELECT type FROM events WHERE source = 'workbench' AND type IN ('return', 'adjustment') ORDER BY seq",
      )
      .all() as { type: string }[]
  ).map((r) => r.type);
  expect(kinds).toEqual(['return', 'adjustment']);
});

import { AppPage } from './pages/app-page.js';
import { StockPage } from './pages/stock-page.js';
import { expect, OPERATOR, screenshotPath, test } from './fixtures.js';

const CATALOG =
  'sku,name,barcode,unit,price,currency\nTEE-M,T-shirt M,4006381333931,,,\nMUG-ONE,Mug,4006381333948|4006381333962,Piece,7.50,EUR\nCAP-RED,Cap red,4006381333955,,,\nSOCK-X,Sock,,,,\n';

/** Receipts at both stores, then sales: MUG-ONE sells at S2 where it was never received (−2), CAP-RED sells out. */
const EVENTS = [
  {
    id: 'pos-1:GR-1',
    type: 'receipt',
    location: 'S1',
    occurredAt: '2026-12-06T08:00:00+01:00',
    reference: 'GR-1',
    lines: [
      { sku: 'TEE-M', qty: 20 },
      { sku: 'MUG-ONE', qty: 6 },
      { sku: 'CAP-RED', qty: 2 },
    ],
  },
  {
    id: 'pos-1:GR-2',
    type: 'receipt',
    location: 'S2',
    occurredAt: '2026-12-06T08:05:00+01:00',
    reference: 'GR-2',
    lines: [{ sku: 'TEE-M', qty: 8 }],
  },
  {
    id: 'pos-1:R-1',
    type: 'sale',
    location: 'S2',
    occurredAt: '2026-12-06T10:00:00+01:00',
    reference: 'R-1',
    lines: [{ sku: 'MUG-ONE', qty: 2, unitPrice: '7.50', currency: 'EUR' }],
  },
  {
    id: 'pos-1:R-2',
    type: 'sale',
    location: 'S1',
    occurredAt: '2026-12-06T10:05:00+01:00',
    reference: 'R-2',
    lines: [{ sku: 'CAP-RED', qty: 2, unitPrice: '12.00', currency: 'EUR' }],
  },
];

test('the Stock page lists every item at every location, filters the negative ones and opens an item with its actions', async ({
  page,
  backroom,
}) => {
  const { agent, send } = await backroom({
    catalogCsv: CATALOG,
    config: { channels: [{ id: 'shopify', buffer: 2 }], stock: { safetyStock: 1, safetyStockBySku: {} } },
  });
  await send(EVENTS);
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.goTo('Stock');
  const stock = new StockPage(page);

  // Rows are levels: SOCK-X never moved and has none.
  await expect(stock.count).toHaveText('5 rows');
  await expect(stock.rows).toHaveCount(5);
  await expect(stock.rows.first()).toContainText('CAP-RED');
  // TEE-M at S1: on hand 20, reserved 0, safety 1, shopify 20 − 1 − 2 = 17.
  await expect(stock.row('TEE-M', 'S1').getByRole('gridcell')).toHaveText([
    'T-shirt M',
    '4006381333931',
    'S1',
    '20',
    '0',
    '1',
    '17',
    /\d/,
  ]);
  await expect(stock.grid.getByRole('columnheader', { name: 'SKU' })).toHaveAttribute(
    'aria-sort',
    'ascending',
  );

  await stock.sortBy('On hand');
  await expect(stock.grid.getByRole('columnheader', { name: 'On hand' })).toHaveAttribute(
    'aria-sort',
    'ascending',
  );
  await expect(stock.rows.first()).toContainText('MUG-ONE');
  await stock.sortBy('On hand');
  await expect(stock.grid.getByRole('columnheader', { name: 'On hand' })).toHaveAttribute(
    'aria-sort',
    'descending',
  );
  await expect(stock.rows.first()).toContainText('TEE-M');
  await stock.sortBy('SKU');

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: screenshotPath('stock-1280.png') });
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.screenshot({ path: screenshotPath('stock-1024.png') });

  await stock.show('Negative');
  await expect(stock.count).toHaveText('1 row');
  await expect(stock.rows).toHaveCount(1);
  await expect(stock.row('MUG-ONE', 'S2')).toContainText('-2');

  await stock.search('sock');
  await expect(stock.count).toHaveText('0 rows');
  await expect(stock.grid.getByRole('status')).toContainText('never received, sold or counted has no row');
  await stock.search('');
  await stock.show('All');

  await stock.search('Mug');
  await stock.row('MUG-ONE', 'S2').click();
  await expect(page).toHaveURL(/#\/stock\?sku=MUG-ONE$/);
  await expect(page.getByRole('heading', { level: 2, name: /MUG-ONE/ })).toContainText('Mug');
  await expect(stock.levels.getByRole('row', { name: /S2/ })).toContainText('-2');
  await expect(stock.movements.getByRole('row').nth(1)).toContainText('Sale R-1');
  // The item master: each field with the source that set it, and the price per list.
  await expect(stock.master.getByRole('row', { name: /Barcodes/ })).toContainText(
    '4006381333948, 4006381333962',
  );
  await expect(stock.master.getByRole('row', { name: /Barcodes/ })).toContainText('csv');
  await expect(stock.master.getByRole('row', { name: /Unit/ })).toContainText('Piece');
  await expect(stock.prices.getByRole('row', { name: /retail/ })).toContainText('7.50 EUR');
  await expect(page.getByRole('link', { name: 'Count this item at S2' })).toHaveAttribute(
    'href',
    '#/entry?tab=count&location=S2&sku=MUG-ONE',
  );
  await expect(page.getByRole('link', { name: 'Adjust at S1' })).toHaveAttribute(
    'href',
    '#/entry?tab=adjust&location=S1&sku=MUG-ONE',
  );
  await expect(page.getByRole('link', { name: 'Receive at S2' })).toHaveAttribute(
    'href',
    '#/entry?tab=receive&location=S2',
  );
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: screenshotPath('stock-item-1280.png'), fullPage: true });
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.screenshot({ path: screenshotPath('stock-item-1024.png'), fullPage: true });

  // Back to the list as it was left.
  await page.getByRole('link', { name: '← All stock' }).click();
  await expect(stock.grid).toHaveAttribute('data-search', 'Mug');
  await expect(stock.rows).toHaveCount(2);

  // A sale captured while the list is open shows without a reload.
  await expect(stock.row('MUG-ONE', 'S1').getByRole('gridcell').nth(3)).toHaveText('6');
  await send([
    {
      id: 'pos-1:R-3',
      type: 'sale',
      location: 'S1',
      occurredAt: '2026-12-06T11:00:00+01:00',
      reference: 'R-3',
      lines: [{ sku: 'MUG-ONE', qty: 1, unitPrice: '7.50', currency: 'EUR' }],
    },
  ]);
  await expect(stock.row('MUG-ONE', 'S1').getByRole('gridcell').nth(3)).toHaveText('5');
});

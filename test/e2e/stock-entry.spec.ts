import { AppPage } from './pages/app-page.js';
import { EntryPage } from './pages/entry-page.js';
import { ExceptionsPage } from './pages/exceptions-page.js';
import { StockPage } from './pages/stock-page.js';
import { expect, OPERATOR, sale, test } from './fixtures.js';

const CATALOG = 'sku,name,barcode\nSKU-1,Blue mug,4006381333931\nMUG-M,Mug M,4006381333948\n';

/** A goods receipt sent through the ingest API, so a test starts with stock on the shelf. */
function receipt(reference: string, lines: { sku: string; qty: number }[], location = 'S1') {
  return {
    id: `pos-1:${reference}`,
    type: 'receipt',
    location,
    occurredAt: '2026-11-24T08:00:00+01:00',
    reference,
    lines,
  };
}

/** On hand of `sku` at `location` as the Stock page shows it. */
async function expectOnHand(page: AppPage, sku: string, location: string, onHand: string): Promise<void> {
  await page.goTo('Stock');
  const stock = new StockPage(page.page);
  await stock.find(sku);
  await expect(
    stock.levels
      .getByRole('row', { name: new RegExp(location) })
      .getByRole('cell')
      .first(),
  ).toHaveText(onHand);
}

test('a delivery is received by scanning anywhere on the page; an unknown code beeps, flashes and raises an exception once posted', async ({
  page,
  backroom,
}) => {
  const { agent } = await backroom({ catalogCsv: CATALOG });
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  const entry = new EntryPage(page);
  await entry.open('Receive');
  const form = entry.form('Receive a delivery');
  await form.getByLabel('Location').fill('S1');
  await form.getByLabel('Delivery note or order (optional)').fill('DN-4711');

  await entry.scan('SKU-1');
  await expect(entry.scanMessage).toHaveText('Scanned SKU-1 (Blue mug).');
  await entry.scan('SKU-1');
  // The barcode of the same item adds to its line.
  await entry.scan('4006381333931');
  await expect(entry.qtyOf('SKU-1')).toHaveValue('3');
  await entry.typeLine('MUG-M', '4');
  await expect(entry.qtyOf('MUG-M')).toHaveValue('4');

  // A person typing on the page is not a scanner: nothing is added.
  await entry.scan('SLOW-1', 150);
  await expect(entry.lines).toContainText('2 lines, 7 units');

  await entry.scan('NOPE-99');
  await expect(entry.scanMessage).toHaveText('Unknown code NOPE-99: added as an unknown SKU.');
  await expect(entry.lineEntry).toHaveClass(/flash-unknown/);
  await expect(entry.line('NOPE-99')).toContainText('Unknown SKU');
  await expect(entry.lines).toContainText('3 lines, 8 units');
  await expect(entry.line('SLOW-1')).toHaveCount(0);
  await entry.screenshots('entry-receive');

  await form.getByRole('button', { name: 'Post receipt' }).click();
  await expect(entry.outcome).toContainText(/Delivery received: posted as event #\d+/);
  await expect(entry.outcome.getByTestId('unknown-skus')).toContainText('NOPE-99');
  // A new entry starts: no lines, and posting it now is refused by the schema, naming what is missing.
  await expect(page.getByTestId('no-lines')).toBeVisible();
  await form.getByRole('button', { name: 'Post receipt' }).click();
  await expect(entry.problems).toContainText('Add at least one line');

  await expectOnHand(app, 'SKU-1', 'S1', '3');
  await app.goTo('Exceptions');
  const exceptions = new ExceptionsPage(page);
  await exceptions.filterByKind('Unknown SKU');
  await expect(exceptions.row(/NOPE-99/)).toHaveCount(1);
});

test('a count keeps the sales that came in after an item was counted: the review names the item, and the level is counted minus sold since', async ({
  page,
  backroom,
}) => {
  const { agent, send } = await backroom({ catalogCsv: CATALOG });
  await send([
    receipt('GR-C1', [
      { sku: 'SKU-1', qty: 10 },
      { sku: 'MUG-M', qty: 5 },
    ]),
  ]);
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  const entry = new EntryPage(page);
  // "Count now" from an exception opens the new count with the item and the place filled in.
  await entry.follow(agent.url, '/#/entry?tab=count&location=S1&sku=SKU-1');
  const start = entry.form('Start a count');
  await expect(start.getByLabel('Location')).toHaveValue('S1');
  await expect(start.getByLabel('SKUs or barcodes')).toHaveValue('SKU-1');
  await start.getByLabel('SKUs or barcodes').fill('SKU-1, MUG-M');
  await start.getByRole('button', { name: 'Start count' }).click();

  const session = page.getByTestId('count-session');
  await expect(session.getByRole('heading', { level: 2 })).toContainText('at S1');
  // A SKU and Enter go on to its counted quantity; that and Enter record it.
  await entry.lineEntry.getByLabel('SKU or barcode').fill('SKU-1');
  await entry.lineEntry.getByLabel('SKU or barcode').press('Enter');
  await expect(entry.lineEntry.getByLabel('Counted')).toBeFocused();
  await page.keyboard.type('8');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('count-line-SKU-1').getByRole('textbox')).toHaveValue('8');
  // Each scan counts one more.
  await entry.scan('MUG-M');
  await entry.scan('4006381333948');
  await expect(page.getByTestId('count-line-MUG-M').getByRole('textbox')).toHaveValue('2');

  // The till sells 2 of SKU-1 after it was counted, before the count is posted.
  await send([sale('R-AFTER-COUNT', 'SKU-1', 2)]);
  await session.getByRole('button', { name: 'Review and post…' }).click();
  const review = page.getByTestId('count-review');
  await expect(review.getByTestId('review-moved')).toContainText('SKU-1');
  await expect(review.getByTestId('review-moved')).toContainText('2 sold/moved since counted — kept');
  await expect(review.getByTestId('review-moves')).toContainText('MUG-M');
  await expect(page.getByTestId('count-line-SKU-1')).toContainText('2 sold/moved since counted — kept');
  await entry.screenshots('entry-count-review');

  await review.getByRole('button', { name: 'Post count' }).click();
  await expect(entry.outcome).toContainText(/posted as event #\d+/);
  await expect(session.getByRole('heading', { level: 2 })).toContainText('posted');
  await expectOnHand(app, 'SKU-1', 'S1', '6');
  await expectOnHand(app, 'MUG-M', 'S1', '2');
});

test('an adjustment for another reason needs a note, and the problems name the line and the field', async ({
  page,
  backroom,
}) => {
  const { agent, send } = await backroom({ catalogCsv: CATALOG });
  await send([receipt('GR-A1', [{ sku: 'SKU-1', qty: 10 }])]);
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  const entry = new EntryPage(page);
  await entry.follow(agent.url, '/#/entry?tab=adjust&location=S1&sku=SKU-1');
  const form = entry.form('Adjust stock');
  await expect(entry.line('SKU-1')).toContainText('Blue mug');
  await form.getByLabel('Reason').selectOption({ label: 'Other (say what)' });
  await expect(form.getByLabel('Note (required)')).toBeVisible();

  await form.getByRole('button', { name: 'Post adjustment' }).click();
  await expect(entry.problems).toContainText('Line 1 (SKU-1) quantity: Enter a quantity');
  await expect(entry.problems).toContainText('Note: Say what the adjustment is for');
  await expect(form.getByLabel('Note (required)')).toHaveAttribute('aria-invalid', 'true');
  await expect(entry.qtyOf('SKU-1')).toHaveAttribute('aria-invalid', 'true');

  await entry.qtyOf('SKU-1').fill('-2');
  await form.getByLabel('Note (required)').fill('Two mugs used for the window display');
  await entry.screenshots('entry-adjust');
  await form.getByRole('button', { name: 'Post adjustment' }).click();
  await expect(entry.outcome).toContainText(/Adjustment: posted as event #\d+/);
  await expect(entry.problems).toHaveCount(0);
  await expectOnHand(app, 'SKU-1', 'S1', '8');
});

test('a transfer sent from one location is expected at the other and received there with a difference', async ({
  page,
  backroom,
}) => {
  const { agent, send } = await backroom({ catalogCsv: CATALOG });
  await send([
    receipt('GR-T1', [
      { sku: 'SKU-1', qty: 10 },
      { sku: 'MUG-M', qty: 4 },
    ]),
  ]);
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  const entry = new EntryPage(page);
  await entry.open('Transfer');
  const out = entry.form('Send to another location');
  await out.getByLabel('From', { exact: true }).fill('S1');
  // The agent refuses a location that is not configured, and names the field.
  await out.getByLabel('To', { exact: true }).fill('S9');
  await entry.typeLine('SKU-1', '3', out.getByTestId('line-entry'));
  await out.getByRole('button', { name: 'Post transfer' }).click();
  await expect(entry.problems).toContainText(/^Not posted:.*To: /);
  await expect(out.getByLabel('To', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await out.getByLabel('To', { exact: true }).fill('S2');
  await expect(out.getByLabel('To', { exact: true })).toHaveAttribute('aria-invalid', 'false');
  await out.getByLabel('Reference (optional)').fill('T-100');
  await entry.typeLine('MUG-M', '2', out.getByTestId('line-entry'));
  await expect(entry.qtyOf('MUG-M')).toHaveValue('2');
  await out.getByRole('button', { name: 'Post transfer' }).click();
  await expect(out.getByTestId('entry-outcome')).toContainText(/Transfer sent: posted as event #\d+/);

  await page.getByLabel('Transfers expected at').fill('S2');
  const expected = page.getByRole('article', { name: 'Transfer T-100' });
  await expect(expected).toContainText('from S1');
  await expected.getByRole('button', { name: 'Receive' }).click();
  const arriving = page.getByRole('form', { name: 'Receive transfer T-100' });
  await expect(arriving.getByLabel('Received of SKU-1')).toHaveValue('3');
  await arriving.getByLabel('Received of SKU-1').fill('2');
  await expect(arriving.getByRole('row', { name: /SKU-1/ }).getByTestId('line-difference')).toHaveText('-1');
  await expect(arriving.getByRole('row', { name: /MUG-M/ }).getByTestId('line-difference')).toHaveText('0');
  await entry.screenshots('entry-transfer');

  await arriving.getByRole('button', { name: 'Post receipt of T-100' }).click();
  const received = page.getByTestId('received-outcome');
  await expect(received).toContainText(/Transfer T-100 received: posted as event #\d+/);
  await expect(
    received.getByTestId('received-differences').getByRole('row', { name: /SKU-1/ }),
  ).toContainText('3');
  await expect(page.getByRole('article', { name: 'Transfer T-100' })).toHaveCount(0);

  await expectOnHand(app, 'SKU-1', 'S1', '7');
  await expectOnHand(app, 'SKU-1', 'S2', '2');
});

test('a receipt whose answer was lost is sent again under the same entry id and answered duplicate: the stock moves once', async ({
  page,
  backroom,
}) => {
  const { agent } = await backroom({ catalogCsv: CATALOG });
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  const entry = new EntryPage(page);
  await entry.open('Receive');
  const form = entry.form('Receive a delivery');
  await form.getByLabel('Location').fill('S1');
  await entry.scan('SKU-1');
  await entry.scan('SKU-1');
  await expect(entry.qtyOf('SKU-1')).toHaveValue('2');

  // The agent captures the first post, but its answer never reaches the browser.
  let sent = 0;
  await page.route('**/api/v1/entry/receive', async (route) => {
    sent += 1;
    if (sent === 1) {
      await route.fetch();
      await route.abort('connectionreset');
    } else await route.continue();
  });
  await form.getByRole('button', { name: 'Post receipt' }).click();
  await expect(entry.problems).toContainText('cannot be reached');
  await expect(entry.qtyOf('SKU-1')).toHaveValue('2');
  await form.getByRole('button', { name: 'Post receipt' }).click();
  await expect(entry.outcome).toContainText(
    /Duplicate: already posted as event #\d+\. Nothing moved twice\./,
  );
  expect(sent).toBe(2);
  await expectOnHand(app, 'SKU-1', 'S1', '2');
});

test('a count of every item below zero and a shelf list file lists those items; cancelling it needs a reason', async ({
  page,
  backroom,
}) => {
  const { agent, send } = await backroom({ catalogCsv: CATALOG });
  await send([sale('R-NEG-1', 'MUG-M', 2)]);
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  const entry = new EntryPage(page);
  await entry.open('Count');
  const start = entry.form('Start a count');
  await start.getByRole('button', { name: 'Start count' }).click();
  await expect(start.getByRole('alert')).toContainText('Not started: Choose a location');
  await expect(start.getByRole('alert')).toContainText('Name the items to count');
  await expect(start.getByLabel('SKUs or barcodes')).toHaveAttribute('aria-invalid', 'true');

  await start.getByLabel('Location').fill('S1');
  await start.getByLabel('Add all items with negative stock here').check();
  await start.getByLabel(/^Shelf list/).setInputFiles({
    name: 'aisle-3.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('sku\nSKU-1\n'),
  });
  await start.getByLabel('Label (optional)').fill('Aisle 3');
  await start.getByRole('button', { name: 'Start count' }).click();
  const session = page.getByTestId('count-session');
  await expect(session.getByRole('heading', { level: 2 })).toContainText('Aisle 3');
  await expect(page.getByTestId('count-line-MUG-M')).toContainText('-2');
  await expect(page.getByTestId('count-line-SKU-1')).toBeVisible();

  await session.getByRole('button', { name: 'Cancel count…' }).click();
  const cancel = page.getByRole('form', { name: /^Cancel count #\d+$/ });
  await cancel.getByRole('button', { name: /^Cancel count #\d+$/ }).click();
  await expect(cancel.getByRole('alert')).toContainText('Say why');
  await cancel.getByLabel('Reason (required)').fill('Started on the wrong aisle');
  await cancel.getByRole('button', { name: /^Cancel count #\d+$/ }).click();
  await expect(session.getByRole('heading', { level: 2 })).toContainText('cancelled');
  await expect(session.getByRole('button', { name: 'Review and post…' })).toHaveCount(0);
});

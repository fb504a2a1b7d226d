import { ActivityPage } from './pages/activity-page.js';
import { AppPage } from './pages/app-page.js';
import { ExceptionsPage } from './pages/exceptions-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { StockPage } from './pages/stock-page.js';
import { expect, OPERATOR, sale, screenshotPath, test } from './fixtures.js';

test('an operator logs in and the overview shows each destination online with its deliveries', async ({
  page,
  backroom,
}) => {
  const { agent, sink, send } = await backroom();
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText(/do not match an operator/);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.expectLoggedInAs(OPERATOR.name);

  await send(Array.from({ length: 12 }, (_, i) => sale(`R-1${String(i).padStart(4, '0')}`)));
  await expect.poll(() => sink.applied.length).toBe(12);
  const overview = new OverviewPage(page);
  await overview.expectDestinationState('erp', 'Online');
  await expect(overview.destination('erp')).toContainText(/ago/);
  await expect(page.getByTestId('capture-rate')).not.toHaveText('0 / min');
  await expect(app.dataAtRisk).toBeHidden();
  await page.screenshot({ path: screenshotPath('overview.png'), fullPage: true });
});

test('a sale the ERP refuses becomes an exception; discarding it needs a reason and is in the audit log', async ({
  page,
  backroom,
}) => {
  const { agent, send } = await backroom({
    sink: { rejectWhen: (event) => event.reference === 'R-000123' },
  });
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await send([sale('R-000122'), sale('R-000123', 'SKU-4711', 2)]);

  await app.goTo('Exceptions');
  const exceptions = new ExceptionsPage(page);
  const row = exceptions.row('Sale R-000123 was not accepted by erp');
  await expect(row).toContainText('Refused by destination');
  await expect(exceptions.row('Stock of SKU-4711 at S1 fell to -2 after Sale R-000123')).toContainText(
    'Negative stock',
  );
  await exceptions.open('Sale R-000123 was not accepted by erp');
  await expect(exceptions.detail.getByTestId('attempts')).toContainText('rejected');
  await expect(exceptions.detail).toContainText('SKU-4711');
  await page.screenshot({ path: screenshotPath('exceptions.png') });

  await exceptions.detailAction('Discard', '');
  await expect(exceptions.detail.getByRole('alert')).toHaveText(/Say why this will never be delivered/);
  await expect(exceptions.detail.getByTestId('outbox-state')).toHaveText('rejected');

  await exceptions.detailAction('Discard', 'Posted by hand in the ERP');
  await expect(exceptions.detail.getByRole('status')).toHaveText(/Discarded/);
  await expect(exceptions.detail.getByTestId('outbox-state')).toHaveText('discarded');
  await expect(exceptions.row('Sale R-000123 was not accepted')).toHaveCount(0);

  await app.goTo('Activity');
  const activity = new ActivityPage(page);
  const entry = activity.entry('Posted by hand in the ERP');
  await expect(entry).toContainText(OPERATOR.name);
  await expect(entry).toContainText('Discarded');
  await expect(entry).toContainText('state: rejected');
  await page.screenshot({ path: screenshotPath('audit.png') });
});

test('a bulk retry of the exceptions filtered by SKU delivers exactly those sales', async ({
  page,
  backroom,
}) => {
  const { agent, sink, send } = await backroom({
    sink: {
      rejectWhen: (event) => JSON.stringify(event.lines).includes('SKU-X') || event.reference === 'R-Y',
    },
  });
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await send([sale('R-X1', 'SKU-X'), sale('R-X2', 'SKU-X'), sale('R-X3', 'SKU-X'), sale('R-Y', 'SKU-Y')]);

  await app.goTo('Exceptions');
  const exceptions = new ExceptionsPage(page);
  await exceptions.filterByKind('Refused by destination');
  await expect(exceptions.matchCount).toHaveText('4 matching');
  await exceptions.filterBySku('SKU-X');
  await expect(exceptions.matchCount).toHaveText('3 matching');
  await expect(exceptions.row('Sale R-Y')).toHaveCount(0);

  // The ERP now takes SKU-X (its product was created there); R-Y is still refused.
  sink.setFaults({ rejectWhen: (event) => event.reference === 'R-Y' });
  await exceptions.retryAllMatching('SKU-X created in the ERP');
  await expect(
    page.getByRole('status').filter({ hasText: 'Retried 3 of 3 matching deliveries' }),
  ).toBeVisible();
  await expect
    .poll(() => ['R-X1', 'R-X2', 'R-X3'].every((r) => sink.applied.some((a) => a.body.reference === r)))
    .toBe(true);
  await expect(exceptions.matchCount).toHaveText('0 matching');

  await exceptions.filterBySku('');
  await expect(exceptions.matchCount).toHaveText('1 matching');
  await expect(exceptions.row('Sale R-Y')).toBeVisible();
  expect(sink.applied.some((a) => a.body.reference === 'R-Y')).toBe(false);

  await app.goTo('Activity');
  await expect(new ActivityPage(page).entry('SKU-X created in the ERP')).toHaveCount(3);
});

test('the data-at-risk banner shows while the ERP is down and clears once it is back', async ({
  page,
  backroom,
}) => {
  const { agent, sink, send } = await backroom();
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  const overview = new OverviewPage(page);
  await overview.setRiskThresholdSeconds(2);

  await sink.setDown(true);
  await send([sale('R-DOWN-1'), sale('R-DOWN-2')]);
  await expect(app.dataAtRisk).toBeVisible({ timeout: 30_000 });
  await expect(app.dataAtRisk).toContainText('2 item(s) for erp');
  await expect(overview.destination('erp')).toContainText(/Offline|Degraded|Online/);

  await sink.setDown(false);
  await expect(app.dataAtRisk).toBeHidden({ timeout: 60_000 });
  await expect.poll(() => sink.applied.length, { timeout: 30_000 }).toBe(2);
  await overview.expectDestinationState('erp', 'Online');
});

test('the stock page finds an item by barcode with its levels per channel and its ledger history', async ({
  page,
  backroom,
}) => {
  const { agent, send } = await backroom({
    catalogCsv: 'sku,name,barcode\nTEE-M,T-shirt M,4006381333931\nMUG-ONE,Mug,4006381333948\n',
    config: { channels: [{ id: 'shopify', buffer: 2 }] },
  });
  await send([
    {
      id: 'pos-1:GR-1',
      type: 'receipt',
      location: 'S1',
      occurredAt: '2026-11-24T08:00:00+01:00',
      reference: 'GR-1',
      lines: [{ sku: 'TEE-M', qty: 20 }],
    },
    sale('R-500', 'TEE-M', 3),
    // A web shop's order, sent through the ingest API: it holds 2 until it ships.
    {
      id: 'pos-1:web-1007',
      type: 'reserve',
      location: 'S1',
      occurredAt: '2026-11-24T09:00:00+01:00',
      reference: 'W-1007',
      lines: [{ sku: 'TEE-M', qty: 2 }],
      meta: { order: '#1007' },
    },
  ]);
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(OPERATOR.name, OPERATOR.password);
  await app.goTo('Stock');
  const stock = new StockPage(page);
  await stock.find('4006381333931');
  await expect(page.getByRole('heading', { level: 2, name: /TEE-M/ })).toContainText('T-shirt M');
  const s1 = stock.levels.getByRole('row', { name: /S1/ });
  await expect(s1).toContainText('17');
  await expect(stock.levels).toContainText('Available on shopify');
  // On hand 17, reserved 2 by the order, so available 15, and 13 on shopify after its buffer of 2.
  await expect(s1.getByRole('cell')).toHaveText(['17', '2', '0', '15', '13']);
  const held = stock.reservations.getByRole('row', { name: /#1007/ });
  await expect(held).toContainText('pos-1');
  await expect(held).toContainText('(W-1007)');
  await expect(held).toContainText('S1');
  await expect(stock.movements.getByRole('row').nth(1)).toContainText('Sale R-500');
  await expect(stock.movements.getByRole('row').nth(2)).toContainText('Goods receipt GR-1');
  await page.screenshot({ path: screenshotPath('stock.png'), fullPage: true });
});

test('a clerk sees an exception but cannot retry, discard or close it: the actions are not offered, and the agent refuses them; a clerk can acknowledge it', async ({
  page,
  backroom,
}) => {
  const clerk = { name: 'Cleo', password: 'cleo-e2e-token-0123456789' };
  const { agent, send } = await backroom({
    sink: { rejectWhen: (event) => event.reference === 'R-000777' },
    config: {
      operators: [
        { name: OPERATOR.name, token: OPERATOR.password, role: 'manager' },
        { name: clerk.name, token: clerk.password, role: 'clerk' },
      ],
    },
  });
  const app = new AppPage(page);
  await app.open(agent.url);
  await app.login(clerk.name, clerk.password);
  await expect(page.getByTestId('operator-role')).toHaveText('clerk');
  await send([sale('R-000777')]);

  await app.goTo('Exceptions');
  const exceptions = new ExceptionsPage(page);
  await exceptions.open('Sale R-000777 was not accepted by erp');
  await expect(exceptions.detail.getByTestId('outbox-state')).toHaveText('rejected');
  for (const action of ['Retry now', 'Replay as new', 'Discard'])
    await expect(exceptions.detail.getByRole('button', { name: action })).toHaveCount(0);
  await expect(exceptions.detail.getByTestId('role-note').first()).toContainText('manager');
  await expect(page.getByRole('link', { name: 'Settings' })).toHaveCount(0);
  await page.screenshot({ path: screenshotPath('exceptions-clerk.png') });

  // The sale also took SKU-1 below zero: closing that is a manager's, but a clerk may acknowledge it (seen, being
  // handled; it stays open), and everyone sees who did.
  await exceptions.open('Stock of SKU-1 at S1 fell to -1');
  await expect(exceptions.detail.getByRole('button', { name: 'Close', exact: true })).toHaveCount(0);
  await expect(
    exceptions.detail.getByTestId('role-note').filter({ hasText: 'close it with a reason' }),
  ).toHaveText('A manager can close it with a reason.');
  await exceptions.acknowledge('Counting it after closing time');
  await expect(exceptions.detail.getByTestId('acknowledged')).toContainText(`by ${clerk.name}`);
  await expect(exceptions.detail.getByRole('heading', { level: 2 })).toContainText('open');
  await expect(exceptions.row('Stock of SKU-1 at S1 fell to -1')).toContainText(`seen by ${clerk.name}`);
  await exceptions.open('Sale R-000777 was not accepted by erp');

  // The same request the manager's button sends, made from the clerk's session: refused, nothing changes.
  const outboxId = agent.agent.outboxOperations.list({ state: 'rejected' })[0]!.id;
  const refused = await page.evaluate(async (id) => {
    const response = await fetch('/api/v1/outbox/discard', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [id], reason: 'clerk tries' }),
    });
    return { status: response.status, body: (await response.json()) as { reason: string; message: string } };
  }, outboxId);
  expect(refused.status).toBe(403);
  expect(refused.body.message).toMatch(/Cleo is a clerk: this needs a manager/);
  await expect(exceptions.detail.getByTestId('outbox-state')).toHaveText('rejected');
});

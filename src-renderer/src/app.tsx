import { useEffect, useRef } from 'react';
import type { OperatorRole } from '../../shared/operator-roles.js';
import { DataAtRiskBanner } from './components/data-at-risk-banner.js';
import { useMayCall } from './hooks/use-may-call.js';
import { ActivityPage } from './pages/activity-page.js';
import { DaysPage } from './pages/days-page.js';
import { EntryPage } from './pages/entry-page.js';
import { FulfilPage } from './pages/fulfil-page.js';
import { ExceptionsPage } from './pages/exceptions-page.js';
import { LoginPage } from './pages/login-page.js';
import { MappingsPage } from './pages/mappings-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { PricesPage } from './pages/prices-page.js';
import { ReconcilePage } from './pages/reconcile-page.js';
import { SettingsPage } from './pages/settings-page.js';
import { StockPage } from './pages/stock-page.js';
import { hrefOf, PAGES, useRoute } from './route.js';
import { useLive } from './stores/live-store.js';
import { useSession } from './stores/session-store.js';

export function App() {
  const { operator, role, isChecked, check } = useSession();
  useEffect(() => {
    void check();
  }, [check]);
  if (!isChecked) return null;
  return operator === null || role === null ? <LoginPage /> : <Shell operator={operator} role={role} />;
}

function Shell({ operator, role }: { operator: string; role: OperatorRole }) {
  const route = useRoute();
  const logout = useSession((s) => s.logout);
  const may = useMayCall();
  // A page whose data the role may not read is left out of the navigation (its URL still explains why).
  const pages = PAGES.filter(
    (p) => (p.id !== 'settings' || may('settings.get')) && (p.id !== 'days' || may('days.list')),
  );
  const isConnected = useLive((s) => s.isConnected);
  const hasSnapshot = useLive((s) => s.snapshot !== null);
  const start = useLive((s) => s.start);
  useEffect(() => start(), [start]);

  // Move focus to the page heading on navigation, so screen readers announce the new page.
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    main.current?.querySelector('h1')?.focus();
  }, [route.page]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <span className="brand">Backroom</span>
        <nav aria-label="Pages">
          <ul>
            {pages.map((p) => (
              <li key={p.id}>
                <a href={hrefOf(p.id)} aria-current={route.page === p.id ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="operator">
          <span className="signed-in">Signed in as </span>
          <strong>{operator}</strong> · <span data-testid="operator-role">{role}</span>
        </span>
        <button type="button" className="secondary" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      {hasSnapshot && !isConnected && (
        <div className="banner banner-warn" role="status">
          The connection to the agent was lost. Reconnecting… (figures below may be out of date)
        </div>
      )}
      <DataAtRiskBanner />
      <main id="main" ref={main}>
        {route.page === 'overview' && <OverviewPage />}
        {route.page === 'exceptions' && <ExceptionsPage params={route.params} />}
        {route.page === 'entry' && <EntryPage params={route.params} />}
        {route.page === 'fulfil' && <FulfilPage params={route.params} />}
        {route.page === 'stock' && <StockPage params={route.params} />}
        {route.page === 'prices' && <PricesPage />}
        {route.page === 'days' && <DaysPage />}
        {route.page === 'reconcile' && <ReconcilePage params={route.params} />}
        {route.page === 'mappings' && <MappingsPage params={route.params} />}
        {route.page === 'activity' && <ActivityPage />}
        {route.page === 'settings' && <SettingsPage />}
      </main>
    </>
  );
}

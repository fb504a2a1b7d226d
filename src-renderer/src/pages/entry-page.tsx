import { AdjustForm } from '../components/adjust-form.js';
import { CountTab } from '../components/count-tab.js';
import { PageSection } from '../components/page-section.js';
import { ReceiveForm } from '../components/receive-form.js';
import { TransferTab } from '../components/transfer-tab.js';
import { rememberedLocation } from '../components/location-field.js';
import { hrefOf } from '../route.js';

const TABS = [
  { id: 'receive', label: 'Receive' },
  { id: 'count', label: 'Count' },
  { id: 'adjust', label: 'Adjust' },
  { id: 'transfer', label: 'Transfer' },
] as const;
type TabId = (typeof TABS)[number]['id'];

/**
 * Stock entry at the back office: receive a delivery, count, adjust and transfer, by scanner or keyboard. The
 * tab and what to prefill come from the link (`#/entry?tab=count&location=S1&sku=MUG-M`, from a negative stock
 * exception); each form is made anew when the link changes, so a new link prefills a fresh form.
 */
export function EntryPage({ params }: { params: URLSearchParams }) {
  const tab: TabId = TABS.find((t) => t.id === params.get('tab'))?.id ?? 'receive';
  const location = params.get('location') ?? rememberedLocation();
  const sku = params.get('sku') ?? '';
  const key = params.toString();
  return (
    <PageSection name="entry" title="Stock entry" className="entry-page">
      <nav aria-label="Kinds of stock entry" className="tabs">
        <ul>
          {TABS.map((t) => (
            <li key={t.id}>
              <a href={hrefOf('entry', { tab: t.id })} aria-current={t.id === tab ? 'page' : undefined}>
                {t.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {tab === 'receive' && <ReceiveForm key={key} initialLocation={location} />}
      {tab === 'adjust' && <AdjustForm key={key} initialLocation={location} initialSku={sku} />}
      {tab === 'transfer' && <TransferTab key={key} initialLocation={location} />}
      {tab === 'count' && (
        <CountTab
          key={key}
          initialLocation={location}
          initialSku={sku}
          session={Number(params.get('session') ?? '') || null}
        />
      )}
    </PageSection>
  );
}

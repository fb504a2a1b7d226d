import { useId, useState } from 'react';
import type { DestinationSettings, DestinationTestResult, SettingsView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';
import { ChannelBuffersTable } from '../components/channel-buffers.js';
import { ErrorMessage } from '../components/error-message.js';
import { LocationForm } from '../components/location-form.js';
import { MappingImport } from '../components/mapping-import.js';
import { PageSection } from '../components/page-section.js';
import { RoleNote } from '../components/role-note.js';
import { SourceTokens } from '../components/source-tokens.js';
import { TableHead } from '../components/table-head.js';
import { formatAgo, formatTime, STATE_LABELS, TEST_FAILURE_LABELS } from '../format.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { hrefOf } from '../route.js';
import { useLoadedAgentSettings } from '../stores/agent-settings-store.js';
import { useLive } from '../stores/live-store.js';
import { useSession } from '../stores/session-store.js';

/** A PEM (a certificate in NATS's `tls`) as its first line and size: the whole text says nothing at a glance. */
function shortPem(text: string): string {
  return text.startsWith('-----BEGIN ') ? `${text.split('\n', 1)[0]} … (${text.length} characters)` : text;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return shortPem(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? shortPem(v) : v));
}

/**
 * What the agent runs with (read from its config file; secrets masked) and how each part stands now. A role
 * that may not read the settings (a clerk who opened the URL; the link is hidden) is told so, and nothing is
 * asked of the agent, which would refuse it.
 */
export function SettingsPage() {
  const may = useMayCall();
  const role = useSession((s) => s.role);
  if (!may('settings.get'))
    return (
      <PageSection name="settings" title="Settings">
        <p className="muted" role="status" data-testid="settings-forbidden">
          Your role ({role}) cannot see the settings.
        </p>
      </PageSection>
    );
  return <AllowedSettingsPage />;
}

function AllowedSettingsPage() {
  // Reload with the live stream's changes of destination state (at most every 2 s while this page is open).
  const stateKey = useLive((s) => s.snapshot?.status.destinations.map((d) => d.state).join() ?? '');
  const { settings, load, error } = useLoadedAgentSettings([stateKey]);

  return (
    <PageSection name="settings" title="Settings">
      <p className="muted">
        Read from the agent's configuration file; change them there and restart the agent. Secrets are never
        shown. Locations can also be added here, channel buffers changed, and POS source tokens created and
        revoked.
      </p>
      <ErrorMessage message={error} />
      {settings === null ? (
        <p role="status">Loading…</p>
      ) : (
        <SettingsBody settings={settings} onChanged={() => void load()} />
      )}
    </PageSection>
  );
}

function SettingsBody({ settings, onChanged }: { settings: SettingsView; onChanged: () => void }) {
  const may = useMayCall();
  return (
    <>
      <h2>Agent</h2>
      <dl className="facts wide" data-testid="agent-facts">
        <dt>Agent id</dt>
        <dd className="mono">{settings.agentId}</dd>
        <dt>Version</dt>
        <dd>{settings.version}</dd>
        <dt>Data folder</dt>
        <dd className="mono">{settings.dataDir}</dd>
        <dt>Listening on</dt>
        <dd className="mono">{settings.listen}</dd>
        <dt>Safety stock</dt>
        <dd>
          {settings.stock.safetyStock} per SKU and location
          {Object.keys(settings.stock.safetyStockBySku).length > 0 &&
            ` (${Object.entries(settings.stock.safetyStockBySku)
              .map(([sku, n]) => `${sku}: ${n}`)
              .join(', ')})`}
        </dd>
        <dt>Delivery</dt>
        <dd>
          {Object.entries(settings.delivery)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}
        </dd>
        <dt>Reconciliation</dt>
        <dd>
          {settings.reconcile.everyMinutes === 0
            ? 'By hand only'
            : `Every ${settings.reconcile.everyMinutes} min for each destination that reads levels back`}
        </dd>
        <dt>Retention</dt>
        <dd>
          {Object.entries(settings.retention)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}
        </dd>
      </dl>

      <h2>Locations</h2>
      <table className="data compact narrow" data-testid="locations">
        <TableHead columns={['Id', 'Name', 'Added']} />
        <tbody>
          {settings.locations.map((l) => (
            <tr key={l.id}>
              <th scope="row" className="mono">
                {l.id}
              </th>
              <td>{l.name}</td>
              <td>
                {l.added === null ? (
                  <span className="muted">Config file</span>
                ) : (
                  `${formatTime(l.added.at)} by ${l.added.by}: ${l.added.reason}`
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {may('settings.addLocation') ? (
        <LocationForm label="Add a location" onSaved={onChanged} />
      ) : (
        <RoleNote route="settings.addLocation">add a location</RoleNote>
      )}

      <h2>Channels</h2>
      <p className="muted">
        Available-to-sell on a channel is on hand − reserved − safety stock − its buffer. A buffer changed
        here applies at once, over the config file’s, until it is set back; every change is in the activity
        log.
      </p>
      <ChannelBuffersTable channels={settings.channels} onChanged={onChanged} />

      <h2>Destinations</h2>
      {settings.destinations.length === 0 ? (
        <p>No destinations are configured.</p>
      ) : (
        settings.destinations.map((d) => <DestinationCard key={d.id} destination={d} />)
      )}

      <h2>Mapping import</h2>
      {may('mappings.import') ? (
        <MappingImport />
      ) : (
        <RoleNote route="mappings.import">import mappings from a CSV file</RoleNote>
      )}
      <p className="small">
        <a href={hrefOf('mappings')}>See and change mappings</a>
      </p>

      <h2>POS sources</h2>
      {/* Not mounted without the role: listing the tokens is itself an admin's call. */}
      {may('sources.list') ? (
        <SourceTokens />
      ) : (
        <RoleNote route="sources.list">see, create and revoke POS source tokens</RoleNote>
      )}
    </>
  );
}

function DestinationCard({ destination: d }: { destination: DestinationSettings }) {
  const may = useMayCall();
  const state = STATE_LABELS[d.state] ?? { label: d.state, tone: 'muted' as const };
  return (
    <section className="card" aria-labelledby={`dest-${d.id}`} data-testid={`settings-destination-${d.id}`}>
      <h3 id={`dest-${d.id}`}>
        {d.id}{' '}
        <span className="muted">
          ({d.type}, {d.mode === 'ledger' ? 'every movement' : 'levels'})
        </span>{' '}
        <span className={`pill pill-${state.tone}`}>{state.label}</span>
      </h3>
      <dl className="facts wide">
        {Object.entries(d.settings).map(([k, v]) => (
          <div key={k} className="fact">
            <dt>{k}</dt>
            <dd className="mono">{show(v)}</dd>
          </div>
        ))}
        <div className="fact">
          <dt>Connection</dt>
          <dd>
            {d.canTest && may('destinations.test') ? (
              <ConnectionTest destination={d.id} />
            ) : d.canTest ? (
              <RoleNote route="destinations.test" isInline>
                test the connection
              </RoleNote>
            ) : (
              <span className="muted">
                No connection test for a {d.type} destination; its delivery results show whether it works
              </span>
            )}
          </dd>
        </div>
        <div className="fact">
          <dt>Reconciliation</dt>
          <dd>
            {d.canReconcile ? (
              <a href={`#/reconcile?destination=${encodeURIComponent(d.id)}`}>
                Levels can be read back: reconcile
              </a>
            ) : (
              'Cannot read levels back'
            )}
          </dd>
        </div>
        {d.orders !== null && (
          <div className="fact">
            <dt>Order pull</dt>
            <dd data-testid={`orders-${d.id}`}>
              {d.orders.lastPullAt === null
                ? 'Not pulled yet'
                : `Last pulled ${formatAgo(d.orders.lastPullAt)} (${formatTime(d.orders.lastPullAt)})`}
              , {d.orders.ordersSeen.toLocaleString()} order(s) seen
              {d.orders.updatedAfter !== null && `, read up to ${formatTime(d.orders.updatedAfter)}`}
              {d.orders.lastError !== null && (
                <span className="error"> — last pull failed: {d.orders.lastError}</span>
              )}
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}

/**
 * "Test connection": a read-only call to the destination (reachable? credentials accepted?), answered beside
 * the button in a live region, so a screen reader announces it. The button stays focusable while it runs.
 */
function ConnectionTest({ destination }: { destination: string }) {
  const id = useId();
  const [result, setResult] = useState<DestinationTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [isTesting, setTesting] = useState(false);

  const test = async () => {
    if (isTesting) return;
    setTesting(true);
    setResult(null);
    setError(null);
    try {
      setResult(await call('destinations.test', { destination }));
    } catch (e) {
      setError(messageOf(e));
    }
    setTesting(false);
  };

  return (
    <>
      <button
        type="button"
        className="secondary"
        aria-disabled={isTesting}
        aria-describedby={`${id}-result`}
        onClick={() => void test()}
      >
        Test connection
      </button>{' '}
      <span
        id={`${id}-result`}
        role="status"
        aria-live="polite"
        aria-atomic="true"
        data-testid={`connection-test-${destination}`}
      >
        {isTesting ? (
          'Testing…'
        ) : result?.ok === true ? (
          <>
            <span className="ok">Connected ({result.ms} ms)</span>: {result.detail}
          </>
        ) : result?.ok === false ? (
          <>
            <span className="error">{TEST_FAILURE_LABELS[result.reason]}</span> (after {result.ms} ms):{' '}
            {result.detail}
          </>
        ) : error !== null ? (
          <span className="error">The test could not run: {error}</span>
        ) : null}
      </span>
    </>
  );
}

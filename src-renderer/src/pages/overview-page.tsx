import { useId } from 'react';
import { PageSection } from '../components/page-section.js';
import { TableHead } from '../components/table-head.js';
import { ThroughputChart } from '../components/throughput-chart.js';
import { formatAge, formatAgo, KIND_LABELS, STATE_LABELS } from '../format.js';
import { hrefOf } from '../route.js';
import { oldestUnsyncedSeconds, useLive } from '../stores/live-store.js';
import { useSettings } from '../stores/settings-store.js';

/** At a glance: is anything at risk, is every destination flowing, what waits for a person. */
export function OverviewPage() {
  const snapshot = useLive((s) => s.snapshot);
  const { riskThresholdSeconds, setRiskThresholdSeconds } = useSettings();
  const thresholdId = useId();
  if (snapshot === null) {
    return (
      <PageSection name="overview" title="Overview">
        <p role="status">Waiting for the agent…</p>
      </PageSection>
    );
  }
  const { status } = snapshot;
  const totalOpen = status.openExceptions.reduce((n, e) => n + e.count, 0);
  const oldest = oldestUnsyncedSeconds(snapshot);
  const destinationIds = status.destinations.map((d) => d.id);
  return (
    <PageSection name="overview" title="Overview">
      <div className="tiles">
        <div className="tile">
          <span className="tile-label">Capture rate</span>
          <span className="tile-value" data-testid="capture-rate">
            {snapshot.captureRatePerMinute} / min
          </span>
          <span className="tile-note">{status.events.toLocaleString()} events stored</span>
        </div>
        <div className="tile">
          <span className="tile-label">Oldest unsynced</span>
          <span className="tile-value">{formatAge(oldest)}</span>
          <span className="tile-note">
            {oldest === null ? 'everything is delivered' : 'waiting to be sent'}
          </span>
        </div>
        <div className="tile">
          <span className="tile-label">Open exceptions</span>
          <span className="tile-value">{totalOpen.toLocaleString()}</span>
          <span className="tile-note">
            {snapshot.waitingForPerson.toLocaleString()} deliveries wait for a person
          </span>
        </div>
      </div>

      <h2>Destinations</h2>
      {status.destinations.length === 0 ? (
        <p>No destinations are configured.</p>
      ) : (
        <table className="data">
          <TableHead
            columns={[
              'Destination',
              'State',
              { label: 'Queue', isNumeric: true },
              'Oldest pending',
              'Last delivery',
            ]}
          />
          <tbody>
            {status.destinations.map((d) => {
              const state = STATE_LABELS[d.state] ?? { label: d.state, tone: 'muted' as const };
              return (
                <tr key={d.id} data-testid={`destination-${d.id}`}>
                  <th scope="row">
                    {d.id} <span className="muted">({d.type})</span>
                  </th>
                  <td>
                    <span className={`pill pill-${state.tone}`}>{state.label}</span>
                  </td>
                  <td className="num">{d.pending.toLocaleString()}</td>
                  <td>{formatAge(d.oldestPendingAgeSeconds)}</td>
                  <td>{formatAgo(d.lastDeliveryAt, snapshot.at)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}

      <div className="columns">
        <div>
          <h2>Throughput</h2>
          <ThroughputChart
            points={snapshot.throughput}
            destinations={destinationIds}
            bucketSeconds={snapshot.bucketSeconds}
            at={snapshot.at}
          />
        </div>
        <div>
          <h2>Open exceptions by kind</h2>
          {status.openExceptions.length === 0 ? (
            <p>Nothing needs attention.</p>
          ) : (
            <ul className="kind-list">
              {status.openExceptions.map((e) => (
                <li key={e.kind}>
                  <a href={hrefOf('exceptions', { kind: e.kind })}>{KIND_LABELS[e.kind] ?? e.kind}</a>
                  <span className="count">{e.count.toLocaleString()}</span>
                </li>
              ))}
            </ul>
          )}
          <h2>Warning threshold</h2>
          <label htmlFor={thresholdId}>
            Show “data at risk” when anything unsynced is older than (seconds)
          </label>
          <input
            id={thresholdId}
            type="number"
            min={1}
            step={1}
            value={riskThresholdSeconds}
            onChange={(e) => {
              const value = Number(e.target.value);
              if (Number.isFinite(value) && value >= 1) setRiskThresholdSeconds(value);
            }}
          />
        </div>
      </div>
    </PageSection>
  );
}

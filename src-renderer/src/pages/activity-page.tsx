import { ErrorMessage } from '../components/error-message.js';
import { PageSection } from '../components/page-section.js';
import { TableHead } from '../components/table-head.js';
import { ACTION_LABELS, formatTime } from '../format.js';
import { useRpc } from '../hooks/use-rpc.js';
import { useLive } from '../stores/live-store.js';

function describe(json: string | null): string {
  if (json === null) return '—';
  try {
    const value = JSON.parse(json) as Record<string, unknown>;
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ');
  } catch {
    return json;
  }
}

/** The audit log: every human action with operator, time, reason, before and after. Newest first. */
export function ActivityPage() {
  // Reload when the agent pushes a new snapshot (at most every 2 s while this page is open).
  const tick = useLive((s) => s.snapshot?.at ?? 0);
  const { data, error } = useRpc('audit.list', {}, [tick]);
  const entries = data?.entries ?? null;

  return (
    <PageSection name="activity" title="Activity">
      <p className="muted">
        Every action taken by a person, newest first. Entries cannot be changed or removed.
      </p>
      <ErrorMessage message={error} />
      {entries !== null && entries.length === 0 && <p>No actions yet.</p>}
      {entries !== null && entries.length > 0 && (
        <table className="data" data-testid="audit">
          <TableHead columns={['Time', 'Operator', 'Role', 'Action', 'On', 'Reason', 'Before', 'After']} />
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{formatTime(e.at)}</td>
                <td>{e.operator}</td>
                <td>{e.role ?? '—'}</td>
                <td>{ACTION_LABELS[e.action] ?? e.action}</td>
                <td className="mono">{e.subject}</td>
                <td>{e.reason ?? '—'}</td>
                <td className="small">{describe(e.before)}</td>
                <td className="small">{describe(e.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PageSection>
  );
}

import { formatAge } from '../format.js';
import { hrefOf } from '../route.js';
import { oldestUnsyncedSeconds, useLive } from '../stores/live-store.js';
import { useSettings } from '../stores/settings-store.js';

/** Shown on every page while anything unsynced is older than the threshold set on the overview. */
export function DataAtRiskBanner() {
  const snapshot = useLive((s) => s.snapshot);
  const threshold = useSettings((s) => s.riskThresholdSeconds);
  const oldest = oldestUnsyncedSeconds(snapshot);
  if (snapshot === null || oldest === null || oldest <= threshold) return null;
  const late = snapshot.status.destinations.filter(
    (d) => d.oldestPendingAgeSeconds !== null && d.oldestPendingAgeSeconds > threshold,
  );
  return (
    <div className="banner banner-risk" role="alert" data-testid="data-at-risk">
      <strong>Data at risk:</strong> {late.map((d) => `${d.pending} item(s) for ${d.id}`).join(', ')} not
      synced — the oldest has waited {formatAge(oldest)} (threshold {formatAge(threshold)}). They are safe on
      this PC and will be sent once the destination is back. <a href={hrefOf('overview')}>See destinations</a>
    </div>
  );
}

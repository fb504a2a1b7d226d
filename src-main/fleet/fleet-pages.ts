import { FLEET_DESTINATION_STATES } from '../../shared/fleet-status.js';
import type { FleetViews, StoreQuery, StoreRow, StoreSort } from './fleet-views.js';

/** Escapes text for HTML content and attribute values. */
function h(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "42 s", "5 min", "3 h", "2 d". */
export function ago(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

const STYLE = `
  body { font: 14px system-ui, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
  header { display: flex; gap: 16px; align-items: center; padding: 10px 20px; background: #1d2430; color: #fff; }
  header a { color: #cfe0ff; } header form { margin-left: auto; }
  main { padding: 16px 20px; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e6ea; }
  th a { color: inherit; } td.num, th.num { text-align: right; }
  tr.stale td { background: #fff4e0; } .badge { padding: 1px 6px; border-radius: 8px; font-size: 12px; }
  .stale-flag { background: #f0a020; color: #fff; } .state-paused, .state-stopped { color: #b00020; font-weight: 600; }
  .state-open, .state-half_open { color: #a05a00; } .state-closed { color: #1b7a3a; }
  form.filters { display: flex; gap: 8px; align-items: end; margin-bottom: 12px; flex-wrap: wrap; }
  form.filters .field { display: flex; flex-direction: column; font-size: 12px; }
  .versions { display: flex; gap: 12px; margin-bottom: 12px; flex-wrap: wrap; } .versions span { background: #fff; padding: 4px 8px; border: 1px solid #e3e6ea; }
  .error { color: #b00020; } .login { max-width: 320px; margin: 80px auto; background: #fff; padding: 20px; }
  .login label { display: block; margin-bottom: 10px; } .login input { width: 100%; }
`;

function layout(title: string, body: string, operator: { name: string; role: string } | null): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${h(title)}</title>
<style>${STYLE}</style></head><body>
<header><strong>Backroom fleet</strong><a href="/">Stores</a>${
    operator === null
      ? ''
      : `<form method="post" action="/logout"><span>${h(operator.name)} (${h(operator.role)})</span> <button>Log out</button></form>`
  }</header><main>${body}</main></body></html>`;
}

export function loginPage(next: string, error: string | null): string {
  return layout(
    'Log in · Backroom fleet',
    `<form class="login" method="post" action="/login"><h1>Log in</h1>
      ${error === null ? '' : `<p class="error" role="alert">${h(error)}</p>`}
      <label>Name <input name="name" autocomplete="username" required></label>
      <label>Token <input name="token" type="password" autocomplete="current-password" required></label>
      <input type="hidden" name="next" value="${h(next)}"><button>Log in</button></form>`,
    null,
  );
}

const COLUMNS: readonly { sort: StoreSort; label: string; isNumber?: boolean }[] = [
  { sort: 'name', label: 'Store' },
  { sort: 'version', label: 'Version' },
  { sort: 'age', label: 'Last report', isNumber: true },
  { sort: 'state', label: 'Worst destination' },
  { sort: 'unsynced', label: 'Oldest unsynced', isNumber: true },
  { sort: 'exceptions', label: 'Open exceptions', isNumber: true },
  { sort: 'capture', label: 'Capture / min', isNumber: true },
];

/** The URL of the table with `change` applied to `query`. */
function tableUrl(query: StoreQuery, change: Partial<{ sort: StoreSort; dir: 'asc' | 'desc' }>): string {
  const p = new URLSearchParams();
  p.set('sort', change.sort ?? query.sort);
  p.set('dir', change.dir ?? (query.isDescending ? 'desc' : 'asc'));
  if (query.text) p.set('q', query.text);
  if (query.version) p.set('version', query.version);
  if (query.state) p.set('state', query.state);
  if (query.isStaleOnly) p.set('stale', '1');
  return `/?${p.toString()}`;
}

export function fleetPage(
  page: Readonly<{
    stores: readonly StoreRow[];
    versions: readonly { version: string; stores: number }[];
    query: StoreQuery;
    staleSeconds: number;
    operator: { name: string; role: string };
    mayInspect: boolean;
  }>,
): string {
  const { stores, versions, query } = page;
  const stale = stores.filter((s) => s.isStale).length;
  const head = COLUMNS.map((c) => {
    const isCurrent = query.sort === c.sort;
    const dir = isCurrent && query.isDescending ? 'asc' : 'desc';
    const arrow = isCurrent ? (query.isDescending ? ' ▼' : ' ▲') : '';
    return `<th${c.isNumber ? ' class="num"' : ''} aria-sort="${isCurrent ? (query.isDescending ? 'descending' : 'ascending') : 'none'}"><a href="${h(tableUrl(query, { sort: c.sort, dir }))}">${h(c.label)}${arrow}</a></th>`;
  }).join('');
  const rows = stores
    .map(
      (s) => `<tr data-store="${h(s.agentId)}"${s.isStale ? ' class="stale"' : ''}>
  <td><a href="/stores/${encodeURIComponent(s.agentId)}">${h(s.name)}</a> <small>${h(s.agentId)}</small></td>
  <td>${h(s.version)}</td>
  <td class="num">${h(ago(s.reportAgeSeconds))}${s.isStale ? ' <span class="badge stale-flag">stale</span>' : ''}${s.running ? '' : ' <small>(stopped)</small>'}</td>
  <td class="state-${h(s.worstState ?? 'none')}">${h(s.worstState ?? '—')}</td>
  <td class="num">${h(ago(s.oldestUnsyncedSeconds))}</td>
  <td class="num">${h(s.openExceptions)}</td>
  <td class="num">${h(s.capturePerMinute)}</td></tr>`,
    )
    .join('\n');
  const versionOptions = versions
    .map(
      (v) =>
        `<option value="${h(v.version)}"${query.version === v.version ? ' selected' : ''}>${h(v.version)}</option>`,
    )
    .join('');
  const stateOptions = FLEET_DESTINATION_STATES.map(
    (s) => `<option value="${s}"${query.state === s ? ' selected' : ''}>${s}</option>`,
  ).join('');
  return layout(
    'Stores · Backroom fleet',
    `<h1>Stores <small>(${stores.length} shown, ${stale} stale: no report for ${ago(page.staleSeconds)})</small></h1>
  <div class="versions" aria-label="Stores per version">${versions.map((v) => `<span>${h(v.version)}: <strong>${v.stores}</strong></span>`).join('')}</div>
  <form class="filters" method="get" action="/">
    <input type="hidden" name="sort" value="${h(query.sort)}"><input type="hidden" name="dir" value="${query.isDescending ? 'desc' : 'asc'}">
    <span class="field"><label for="f-q">Store</label><input id="f-q" name="q" value="${h(query.text ?? '')}" placeholder="id or name"></span>
    <span class="field"><label for="f-version">Version</label><select id="f-version" name="version"><option value="">all</option>${versionOptions}</select></span>
    <span class="field"><label for="f-state">Worst destination</label><select id="f-state" name="state"><option value="">any</option>${stateOptions}</select></span>
    <span class="field"><label for="f-stale">Stale only</label><input id="f-stale" type="checkbox" name="stale" value="1"${query.isStaleOnly ? ' checked' : ''}></span>
    <button>Filter</button> <a href="/">Clear</a>${page.mayInspect ? ' · <a href="/rejected">Refused messages</a>' : ''}
  </form>
  <table aria-label="Stores"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`,
    page.operator,
  );
}

export function storePage(
  store: NonNullable<Awaited<ReturnType<FleetViews['store']>>>,
  operator: { name: string; role: string },
): string {
  const { row, status, trend, unknownFields } = store;
  const destinations = status.destinations
    .map(
      (
        d,
      ) => `<tr data-destination="${h(d.id)}"><td>${h(d.id)}</td><td>${h(d.type)}</td><td class="state-${h(d.state)}">${h(d.state)}</td>
  <td class="num">${h(d.queueDepth)}</td><td class="num">${h(ago(d.oldestPendingAgeSeconds))}</td><td>${h(d.lastDeliveryAt ?? '—')}</td><td>${h(d.lastError ?? '')}</td></tr>`,
    )
    .join('');
  const exceptions = status.openExceptions
    .map((e) => `<tr><td>${h(e.kind)}</td><td class="num">${h(e.count)}</td></tr>`)
    .join('');
  const trendRows = trend
    .map(
      (t) =>
        `<tr><td>${h(t.hour)}</td><td class="num">${h(t.openExceptions)}</td><td class="num">${h(t.queueDepth)}</td><td class="num">${h(ago(t.oldestUnsyncedSeconds))}</td></tr>`,
    )
    .join('');
  const gb = status.diskFreeBytes === null ? '—' : `${(status.diskFreeBytes / 1e9).toFixed(1)} GB`;
  return layout(
    `${row.name} · Backroom fleet`,
    `<p><a href="/">All stores</a></p>
  <h1>${h(row.name)} <small>${h(row.agentId)}</small>${row.isStale ? ' <span class="badge stale-flag">stale</span>' : ''}</h1>
  <dl>
    <dt>Version</dt><dd>${h(status.version)} (schema ${h(status.schemaVersion)}, report v${h(status.v)})</dd>
    <dt>Last report</dt><dd>${h(ago(row.reportAgeSeconds))} ago${status.running ? '' : ' — the agent stopped'} (up ${h(ago(status.uptimeSeconds))})</dd>
    <dt>Capture</dt><dd>${h(status.capturePerMinute)} / min, last event ${h(status.lastEventSeq)}, chain head <code>${h((status.chainHead ?? '—').slice(0, 16))}</code></dd>
    <dt>Disk free</dt><dd>${h(gb)}</dd>
    ${unknownFields.length > 0 ? `<dt>Fields this service does not know</dt><dd>${h(unknownFields.join(', '))}</dd>` : ''}
  </dl>
  <h2>Destinations</h2>
  <table aria-label="Destinations"><thead><tr><th>Destination</th><th>Type</th><th>State</th><th class="num">Queue</th><th class="num">Oldest pending</th><th>Last delivery</th><th>Last error</th></tr></thead><tbody>${destinations}</tbody></table>
  <h2>Open exceptions</h2>
  <table aria-label="Open exceptions"><thead><tr><th>Kind</th><th class="num">Open</th></tr></thead><tbody>${exceptions || '<tr><td colspan="2">none</td></tr>'}</tbody></table>
  <h2>Trend (last 24 hours, per hour: the highest reported)</h2>
  <table aria-label="Trend"><thead><tr><th>Hour</th><th class="num">Open exceptions</th><th class="num">Queue</th><th class="num">Oldest unsynced</th></tr></thead><tbody>${trendRows}</tbody></table>`,
    operator,
  );
}

export function rejectedPage(
  rejected: readonly { kind: string; reason: string; subject: string; detail: string; at: string }[],
  operator: { name: string; role: string },
): string {
  return layout(
    'Refused messages · Backroom fleet',
    `<h1>Refused messages <small>(newest 100)</small></h1>
  <table aria-label="Refused messages"><thead><tr><th>When</th><th>Kind</th><th>Reason</th><th>Subject</th><th>What is wrong</th></tr></thead><tbody>${rejected
    .map(
      (r) =>
        `<tr><td>${h(r.at)}</td><td>${h(r.kind)}</td><td>${h(r.reason)}</td><td>${h(r.subject)}</td><td>${h(r.detail)}</td></tr>`,
    )
    .join('')}</tbody></table>`,
    operator,
  );
}

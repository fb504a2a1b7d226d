import type { StatusResponse } from '../../shared/api.js';

/** An age in words: "45 s", "90 min", "5 h", "3 days". */
export function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

/**
 * One line per destination with items waiting: how many, how old the oldest is, and why it is stuck when it is
 * ("hq: 12 waiting, oldest 90 min (unreachable, retrying)"). Used by the desktop's tray and quit warning too.
 */
export function pendingLines(status: StatusResponse): string[] {
  return status.destinations
    .filter((d) => d.pending > 0)
    .map(
      (d) =>
        `${d.id}: ${d.pending} waiting${d.oldestPendingAgeSeconds === null ? '' : `, oldest ${formatAge(d.oldestPendingAgeSeconds)}`}` +
        (d.state === 'paused'
          ? ' (paused: credentials refused)'
          : d.state === 'open'
            ? ' (unreachable, retrying)'
            : ''),
    );
}

/** At most this many destination lines: the report must fit a message box (NSIS reads up to 1024 characters). */
const MAX_DESTINATION_LINES = 6;

export type UnsyncedReport = Readonly<{
  /** Items not yet delivered, summed over destinations (ledger items and level updates). */
  pending: number;
  /** Open exceptions: problems a person still has to resolve (a rejected delivery, an unknown SKU...). */
  openExceptions: number;
  /** Nothing pending and nothing open: uninstalling or wiping this PC abandons nothing. */
  isClear: boolean;
  /** What is at risk in words, with the export command to run first; empty when `isClear`. */
  text: string;
}>;

/**
 * What `backroom unsynced` reports and the uninstallers show: what would be abandoned if Backroom went away
 * now. Pending items are kept on disk and sent while the agent runs; open exceptions wait for a person. Both
 * are lost to the business once the app is uninstalled and its data folder forgotten, so the text names the
 * data folder and the support export.
 *
 * @example
 * const report = unsyncedReport(status, { configFile, dataDir });
 * if (!report.isClear) warn(report.text);
 */
export function unsyncedReport(
  status: StatusResponse,
  where: Readonly<{ configFile: string; dataDir: string }>,
): UnsyncedReport {
  const pending = status.destinations.reduce((n, d) => n + d.pending, 0);
  const openExceptions = status.openExceptions.reduce((n, e) => n + e.count, 0);
  if (pending === 0 && openExceptions === 0) return { pending, openExceptions, isClear: true, text: '' };
  const lines = pendingLines(status);
  const shown = lines.slice(0, MAX_DESTINATION_LINES);
  const kinds = status.openExceptions
    .filter((e) => e.count > 0)
    .map((e) => `${e.kind.replaceAll('_', ' ')}: ${e.count}`)
    .join(', ');
  const text = [
    ...(pending > 0
      ? [
          `${pending} update(s) have not reached every system yet:`,
          ...shown.map((line) => `  ${line}`),
          ...(lines.length > shown.length
            ? [`  and ${lines.length - shown.length} more destination(s)`]
            : []),
        ]
      : []),
    ...(openExceptions > 0 ? [`${openExceptions} problem(s) are still open (${kinds}).`] : []),
    `They are kept in ${where.dataDir} and handled while Backroom runs; uninstalling Backroom leaves them unsent.`,
    'Let Backroom finish first, or export them for support:',
    `  backroom export --config "${where.configFile}" --unsynced --out unsynced.bundle --passphrase-file FILE`,
  ].join('\n');
  return { pending, openExceptions, isClear: false, text };
}

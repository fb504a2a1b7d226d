import type { StatusResponse } from '../../shared/api.js';
import { pendingLines } from '../cli/unsynced-report.js';

/** What the tray icon shows. */
export type SyncState = 'synced' | 'syncing' | 'attention' | 'offline';

/** The tray state: offline without a status, attention with open exceptions or a stuck destination. */
export function syncState(status: StatusResponse | null): SyncState {
  if (status === null) return 'offline';
  const exceptions = status.openExceptions.reduce((n, e) => n + e.count, 0);
  if (exceptions > 0 || status.destinations.some((d) => d.state === 'paused' || d.state === 'open'))
    return 'attention';
  return status.destinations.some((d) => d.pending > 0) ? 'syncing' : 'synced';
}

/** The tray tooltip. */
export function trayTooltip(status: StatusResponse | null): string {
  if (status === null) return 'Backroom: the agent is not answering';
  const exceptions = status.openExceptions.reduce((n, e) => n + e.count, 0);
  const lines = pendingLines(status);
  return [
    `Backroom (${status.agentId}): ${lines.length === 0 ? 'everything is sent' : 'sending'}`,
    ...lines,
    ...(exceptions > 0 ? [`${exceptions} problem(s) to look at`] : []),
  ].join('\n');
}

/**
 * Kinds of exception whose count went up between two statuses, for a native notification ("2 new problems:
 * unknown SKU"). The first status (no previous one) notifies nothing: those were there before the app opened.
 */
export function newExceptions(
  previous: StatusResponse | null,
  next: StatusResponse,
): { kind: string; added: number }[] {
  if (previous === null) return [];
  const before = new Map(previous.openExceptions.map((e) => [e.kind, e.count]));
  return next.openExceptions
    .map((e) => ({ kind: e.kind, added: e.count - (before.get(e.kind) ?? 0) }))
    .filter((e) => e.added > 0);
}

export type QuitWarning = Readonly<{ title: string; message: string; detail: string }>;

/**
 * The warning shown when the user quits (or the uninstaller runs) while events are not yet sent: null when
 * nothing is pending. Says what is pending where, and that nothing is lost: it is sent at the next start.
 */
export function quitWarning(status: StatusResponse, isAgentOwnedByApp: boolean): QuitWarning | null {
  const lines = pendingLines(status);
  if (lines.length === 0) return null;
  const total = status.destinations.reduce((n, d) => n + d.pending, 0);
  return {
    title: 'Events are not synced yet',
    message: `${total} update(s) have not reached every system yet.`,
    detail: [
      ...lines,
      '',
      isAgentOwnedByApp
        ? 'They are saved on this PC and will be sent the next time Backroom runs. Quitting now delays them; uninstalling without exporting them (backroom export --unsynced) loses them.'
        : 'The Backroom service on this PC keeps sending them after you close this window.',
    ].join('\n'),
  };
}

import type { StatusResponse } from '../../shared/api.js';
import { syncState, trayTooltip, type SyncState } from './sync-state.js';

/** What a tray menu item does when clicked; `null` for a line that only informs (shown disabled). */
export type TrayAction = 'open' | 'quit' | null;

export type TrayMenuItem = Readonly<{ label: string; action: TrayAction }>;

/** Everything the tray shows, derived from the agent's status: main.ts applies it as is. */
export type TrayView = Readonly<{
  state: SyncState;
  /** The icon file, relative to the app's root (`app.getAppPath()`); a `@2x` file beside it serves HiDPI. */
  icon: string;
  tooltip: string;
  menu: readonly TrayMenuItem[];
}>;

export type TrayViewOptions = Readonly<{
  /** `process.platform`: Windows cuts tray tooltips at 127 characters. */
  platform: NodeJS.Platform;
  /** The app is stopping its agent (after the user chose Quit): say so, and offer nothing but that line. */
  isStopping?: boolean;
}>;

/** Windows keeps 127 characters of a tray tooltip (NOTIFYICONDATA's szTip holds 128 with the terminator). */
export const WINDOWS_TOOLTIP_MAX = 127;

/** The tray icon file of a state (drawn by build/generate-icons.mjs). */
export function trayIconPath(state: SyncState): string {
  return `assets/tray/tray-${state}.png`;
}

const OPEN_ITEM: TrayMenuItem = { label: 'Open Backroom', action: 'open' };
const QUIT_ITEM: TrayMenuItem = { label: 'Quit Backroom', action: 'quit' };

const HEADLINES: Readonly<Record<SyncState, string>> = {
  synced: 'Everything is sent',
  syncing: 'Sending',
  attention: 'Needs a look',
  offline: 'The agent is not answering',
};

/**
 * Fits a multi-line tooltip into `max` characters by keeping whole lines from the top and saying how many were
 * left out ("+2 more"), so the first line (the state) always shows and a cut never lands mid-word.
 */
export function fitTooltip(text: string, max: number): string {
  if (text.length <= max) return text;
  const lines = text.split('\n');
  for (let keep = lines.length - 1; keep >= 1; keep -= 1) {
    const fitted = [...lines.slice(0, keep), `+${lines.length - keep} more`].join('\n');
    if (fitted.length <= max) return fitted;
  }
  return `${lines[0]!.slice(0, max - 1)}…`;
}

/**
 * The tray for a status (null when the agent does not answer): the icon of its sync state, a tooltip saying what
 * is pending where, and a menu whose first line repeats the state (Linux desktops often show no tooltip, only
 * the menu) followed by Open and Quit. While the agent stops, the menu holds only "Stopping…".
 *
 * @example
 * const view = trayView(status, { platform: process.platform });
 * tray.setImage(nativeImage.createFromPath(join(app.getAppPath(), view.icon)));
 */
export function trayView(status: StatusResponse | null, options: TrayViewOptions): TrayView {
  const state = syncState(status);
  const isStopping = options.isStopping === true;
  const tooltip = isStopping ? 'Backroom: stopping, finishing what is in flight' : trayTooltip(status);
  return {
    state,
    icon: trayIconPath(state),
    tooltip: options.platform === 'win32' ? fitTooltip(tooltip, WINDOWS_TOOLTIP_MAX) : tooltip,
    menu: isStopping
      ? [{ label: 'Stopping…', action: null }]
      : [{ label: HEADLINES[state], action: null }, OPEN_ITEM, QUIT_ITEM],
  };
}

import type { SyncState } from './sync-state.js';

/**
 * The typed bridge the preload exposes to the UI as `window.backroom`: only what the UI needs from the desktop
 * shell. Everything about data goes over HTTP to the agent, as in a browser.
 */
export type BackroomBridge = {
  /** The agent the window is connected to, and the token its UI uses. */
  connection(): Promise<{ address: string; token: string }>;
  /** Whether the app starts at login (an option the user turns on). */
  startAtLogin(): Promise<boolean>;
  setStartAtLogin(isEnabled: boolean): Promise<void>;
  /** Called whenever the tray's sync state changes; returns an unsubscribe function. */
  onSyncState(listener: (state: SyncState) => void): () => void;
};

/** IPC channel names, one per bridge method (invoke) or pushed event. */
export const CHANNELS = {
  connection: 'backroom:connection',
  startAtLogin: 'backroom:start-at-login',
  setStartAtLogin: 'backroom:set-start-at-login',
  syncState: 'backroom:sync-state',
} as const;

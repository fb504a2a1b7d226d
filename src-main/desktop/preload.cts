// The preload of the app window. Sandboxed preloads are plain scripts that may require only `electron` (and a
// few built-ins), so this file is CommonJS and imports nothing of ours at run time: the channel names are
// repeated here and checked against `CHANNELS` by the type below.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload cannot be an ES module
import electron = require('electron');
import type { BackroomBridge, CHANNELS } from './bridge.js';

const channels = {
  connection: 'backroom:connection',
  startAtLogin: 'backroom:start-at-login',
  setStartAtLogin: 'backroom:set-start-at-login',
  syncState: 'backroom:sync-state',
} as const satisfies typeof CHANNELS;

const { contextBridge, ipcRenderer } = electron;

const bridge: BackroomBridge = {
  connection: () => ipcRenderer.invoke(channels.connection) as Promise<{ address: string; token: string }>,
  startAtLogin: () => ipcRenderer.invoke(channels.startAtLogin) as Promise<boolean>,
  setStartAtLogin: async (isEnabled) => {
    await ipcRenderer.invoke(channels.setStartAtLogin, isEnabled === true);
  },
  onSyncState: (listener) => {
    // Never hand the IPC event (with its sender) to the page: only the state.
    const handler = (_event: unknown, state: Parameters<typeof listener>[0]) => listener(state);
    ipcRenderer.on(channels.syncState, handler);
    return () => {
      ipcRenderer.removeListener(channels.syncState, handler);
    };
  },
};

contextBridge.exposeInMainWorld('backroom', bridge);

import { create } from 'zustand';
import type { LiveSnapshot } from '../../../shared/rpc-views.js';
import { subscribe } from '../api/client.js';

type LiveState = {
  snapshot: LiveSnapshot | null;
  /** Whether the stream from the agent is open. */
  isConnected: boolean;
  start: () => () => void;
};

/** The agent's live status, pushed over server-sent events while someone is logged in. */
export const useLive = create<LiveState>()((set) => ({
  snapshot: null,
  isConnected: false,
  start: () =>
    subscribe({
      snapshot: (snapshot) => set({ snapshot, isConnected: true }),
      onConnection: (isConnected) => set({ isConnected }),
    }),
}));

/** The age in seconds of the oldest unsynced item over all destinations, or null when nothing waits. */
export function oldestUnsyncedSeconds(snapshot: LiveSnapshot | null): number | null {
  if (!snapshot) return null;
  const ages = snapshot.status.destinations.flatMap((d) =>
    d.oldestPendingAgeSeconds === null ? [] : [d.oldestPendingAgeSeconds],
  );
  return ages.length === 0 ? null : Math.max(...ages);
}

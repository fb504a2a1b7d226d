import { useEffect, type DependencyList } from 'react';
import { create } from 'zustand';
import type { SettingsView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';

type AgentSettingsState = {
  /** What the agent runs with (secrets masked), or null before the first answer. */
  settings: SettingsView | null;
  error: string | null;
  /** Loads the settings again (pages call it when they open; the live stream does not carry them). */
  load: () => Promise<void>;
};

/** The agent's settings, shared by the mappings, reconciliation and settings pages and the map-SKU form. */
export const useAgentSettings = create<AgentSettingsState>()((set) => ({
  settings: null,
  error: null,
  load: async () => {
    try {
      set({ settings: await call('settings.get', {}), error: null });
    } catch (error) {
      set({ error: messageOf(error) });
    }
  },
}));

/**
 * The agent's settings for a page: loaded again when it opens and whenever one of `deps` changes.
 *
 * @example
 * const { settings, error } = useLoadedAgentSettings();
 */
export function useLoadedAgentSettings(deps: DependencyList = []): AgentSettingsState {
  const state = useAgentSettings();
  const { load } = state;
  useEffect(() => {
    void load();
  }, [load, ...deps]);
  return state;
}

import { create } from 'zustand';
import type { SettingsView } from '../../../shared/rpc.js';
import { ApiCallError, call } from '../api/client.js';

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
      set({ error: error instanceof ApiCallError ? error.message : String(error) });
    }
  },
}));

/** A failed call as a sentence for the user. */
export function messageOf(error: unknown): string {
  return error instanceof ApiCallError ? error.message : String(error);
}

/** Field → message of a failed call (the agent's and the client's zod errors name their field by path). */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  if (!(error instanceof ApiCallError)) return {};
  const fields: Record<string, string> = {};
  for (const e of error.errors) if (e.path !== '' && !(e.path in fields)) fields[e.path] = e.message;
  return fields;
}

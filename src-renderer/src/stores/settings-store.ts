import { create } from 'zustand';
import { persist } from 'zustand/middleware';

type SettingsState = {
  /** "Data at risk" when anything unsynced is older than this many seconds. */
  riskThresholdSeconds: number;
  setRiskThresholdSeconds: (seconds: number) => void;
};

/** Preferences of this browser (kept in localStorage). */
export const useSettings = create<SettingsState>()(
  persist(
    (set) => ({
      riskThresholdSeconds: 300,
      setRiskThresholdSeconds: (seconds) => set({ riskThresholdSeconds: Math.max(1, Math.round(seconds)) }),
    }),
    { name: 'backroom.settings' },
  ),
);

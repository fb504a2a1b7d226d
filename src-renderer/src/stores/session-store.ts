import { create } from 'zustand';
import { ApiCallError, call, setUnauthorizedHandler } from '../api/client.js';

type SessionState = {
  /** The logged-in operator, or null. */
  operator: string | null;
  /** Whether the first check of the session cookie is done (until then nothing is shown). */
  isChecked: boolean;
  check: () => Promise<void>;
  /** Logs in; resolves with an error message, or null on success. */
  login: (name: string, token: string) => Promise<string | null>;
  logout: () => Promise<void>;
};

export const useSession = create<SessionState>()((set) => ({
  operator: null,
  isChecked: false,
  check: async () => {
    try {
      const me = await call('session.me', {});
      set({ operator: me.operator, isChecked: true });
    } catch {
      set({ operator: null, isChecked: true });
    }
  },
  login: async (name, token) => {
    try {
      const me = await call('session.login', { name, token });
      set({ operator: me.operator });
      return null;
    } catch (error) {
      return error instanceof ApiCallError ? error.message : 'Login failed.';
    }
  },
  logout: async () => {
    try {
      await call('session.logout', {});
    } finally {
      set({ operator: null });
    }
  },
}));

setUnauthorizedHandler(() => useSession.setState({ operator: null }));

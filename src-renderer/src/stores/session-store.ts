import { create } from 'zustand';
import type { OperatorRole } from '../../../shared/operator-roles.js';
import { ApiCallError, call, setUnauthorizedHandler } from '../api/client.js';

type SessionState = {
  /** The logged-in operator, or null. */
  operator: string | null;
  /** The operator's role as the agent answered it (null when logged out); the UI shows only what it allows. */
  role: OperatorRole | null;
  /** Whether the first check of the session cookie is done (until then nothing is shown). */
  isChecked: boolean;
  check: () => Promise<void>;
  /** Logs in; resolves with an error message, or null on success. */
  login: (name: string, token: string) => Promise<string | null>;
  logout: () => Promise<void>;
};

export const useSession = create<SessionState>()((set) => ({
  operator: null,
  role: null,
  isChecked: false,
  check: async () => {
    try {
      const me = await call('session.me', {});
      set({ operator: me.operator, role: me.role, isChecked: true });
    } catch {
      set({ operator: null, role: null, isChecked: true });
    }
  },
  login: async (name, token) => {
    try {
      const me = await call('session.login', { name, token });
      set({ operator: me.operator, role: me.role });
      return null;
    } catch (error) {
      return error instanceof ApiCallError ? error.message : 'Login failed.';
    }
  },
  logout: async () => {
    try {
      await call('session.logout', {});
    } finally {
      set({ operator: null, role: null });
    }
  },
}));

setUnauthorizedHandler(() => useSession.setState({ operator: null, role: null }));

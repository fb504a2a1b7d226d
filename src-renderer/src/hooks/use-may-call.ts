import { useCallback } from 'react';
import { mayCall, type RpcName } from '../../../shared/rpc.js';
import { useSession } from '../stores/session-store.js';

/**
 * Whether the logged-in operator may call a route, from the contract's own table (`mayCall` in `shared/rpc.ts`),
 * so every page hides the same things the agent refuses. With no role (logged out) nothing is allowed.
 *
 * @example
 * const may = useMayCall();
 * {may('outbox.retry') && <button>Retry now</button>}
 */
export function useMayCall(): (name: RpcName) => boolean {
  const role = useSession((s) => s.role);
  return useCallback((name: RpcName) => role !== null && mayCall(role, name), [role]);
}

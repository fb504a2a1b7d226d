/**
 * What an operator may do at the back office, each role including the one before it:
 * - `clerk`: enter stock and look at everything the workbench shows;
 * - `manager`: also act on exceptions and deliveries (retry, replay, discard, close), adopt or push levels in
 *   reconciliation, change buffers and mappings, and see the settings;
 * - `admin`: also test connections and manage POS source tokens.
 * The agent enforces the role on every route (`role` of each route in `shared/rpc.ts`); the UI hides what a role
 * cannot do, from the same table (`mayCall`).
 */
export const OPERATOR_ROLES = ['clerk', 'manager', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** Whether `role` includes `needed` (an admin may do what a manager may, a manager what a clerk may). */
export function hasRole(role: OperatorRole, needed: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(needed);
}

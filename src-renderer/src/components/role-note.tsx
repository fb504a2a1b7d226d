import { leastRoleOf, RPC, type RpcName } from '../../../shared/rpc.js';

/**
 * The one short line shown where a whole action area is hidden from the operator's role, so a clerk knows the
 * action exists and whom to ask rather than wondering where it went. The role named is the route's own, so the
 * line cannot drift from what the agent enforces.
 *
 * @example
 * <RoleNote route="outbox.retry">retry or discard this delivery</RoleNote> // "A manager can retry or discard…"
 */
export function RoleNote({
  route,
  children,
  isInline,
}: Readonly<{
  /** The route the hidden action calls; its least role is the one named. */
  route: RpcName;
  /** What that role can do, as the end of "A manager can …" (no full stop). */
  children: string;
  /** A span inside a line of text or a table cell, rather than a paragraph of its own. */
  isInline?: boolean;
}>) {
  const role = leastRoleOf(RPC[route]);
  const Tag = isInline === true ? 'span' : 'p';
  return (
    <Tag className="muted small" data-testid="role-note">
      {role === 'admin' ? 'An admin' : `A ${role}`} can {children}.
    </Tag>
  );
}

/**
 * The Content-Security-Policy of the app window: scripts, styles, images and fonts only from the agent's origin
 * (the bundled UI it serves), API calls and pushed events only to it, no inline script, no eval, no plugins, no
 * frames, no form posts elsewhere. Set on every response by the session's `onHeadersReceived`, so it holds even
 * if a page forgets its own `<meta>` policy.
 */
export function contentSecurityPolicy(agentOrigin: string): string {
  const ws = agentOrigin.replace(/^http:/, 'ws:');
  return [
    "default-src 'none'",
    `script-src ${agentOrigin}`,
    // React style attributes need 'unsafe-inline' for styles only; scripts never get it.
    `style-src ${agentOrigin} 'unsafe-inline'`,
    `img-src ${agentOrigin} data:`,
    `font-src ${agentOrigin}`,
    `connect-src ${agentOrigin} ${ws}`,
    "object-src 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Response headers with the policy added (replacing any the server sent). */
export function withContentSecurityPolicy(
  headers: Readonly<Record<string, string[]>>,
  agentOrigin: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
  out['Content-Security-Policy'] = [contentSecurityPolicy(agentOrigin)];
  return out;
}

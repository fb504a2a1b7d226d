/**
 * What the app window may load, open and be granted. The only content it shows is the agent's own UI, at the
 * agent's loopback origin; everything else is denied. A link to the web (the ERP, a help page) opens in the
 * user's browser, never inside the app.
 */

/** The origin (`http://127.0.0.1:7420`) of an agent address, or null when it is not a loopback http URL. */
export function agentOrigin(address: string): string | null {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:') return null;
  const host = url.hostname;
  const isLoopback = host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
  return isLoopback ? url.origin : null;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** `will-navigate` / `will-redirect`: the window may only move within the agent's own origin. */
export function isNavigationAllowed(url: string, allowedOrigin: string): boolean {
  return originOf(url) === allowedOrigin;
}

/** Only these go to the user's browser or mail client; `file:`, `javascript:`, custom schemes never do. */
const EXTERNAL_PROTOCOLS = new Set(['https:', 'http:', 'mailto:']);

export type WindowOpenDecision = Readonly<{
  /** `setWindowOpenHandler`'s answer: the app never opens a second window. */
  action: 'deny';
  /** Hand the URL to `shell.openExternal`, or null to drop it. */
  openExternally: string | null;
}>;

/** `setWindowOpenHandler`: no new windows; a web or mail link opens outside the app. */
export function windowOpenDecision(url: string, allowedOrigin: string): WindowOpenDecision {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { action: 'deny', openExternally: null };
  }
  if (parsed.origin === allowedOrigin) return { action: 'deny', openExternally: null };
  return { action: 'deny', openExternally: EXTERNAL_PROTOCOLS.has(parsed.protocol) ? parsed.href : null };
}

/**
 * Permission requests and checks (camera, geolocation, notifications from the page, ...): all denied. The UI
 * needs none; desktop notifications come from the main process, not from the page.
 */
export function isPermissionGranted(
  _permission: string,
  _requestingUrl: string,
  _allowedOrigin: string,
): boolean {
  return false;
}

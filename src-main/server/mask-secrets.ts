import { DESTINATION_SECRET_KEYS } from '../../shared/config.js';

/** What a masked secret shows as. */
export const MASK = '••••';
/** Keys whose values are secrets whatever the destination type (config's list plus NATS's TLS key). */
const SECRET_KEYS: ReadonlySet<string> = new Set<string>([...DESTINATION_SECRET_KEYS, 'key']);
const SECRET_PATTERN = /secret|password|token|credential|apikey|api_key|private/i;

/**
 * A destination's settings as staff may see them: every secret (by key, or by a name that looks like one) and
 * the password of any URL with credentials in it replaced by `••••`, at any depth.
 *
 * @example maskSecrets({ url: 'https://u:p@x.test/a', secret: 's' }) // { url: 'https://u:••••@x.test/a', secret: '••••' }
 */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (key !== '' && (SECRET_KEYS.has(key) || SECRET_PATTERN.test(key)))
    return value === undefined ? value : MASK;
  if (typeof value === 'string') return maskUrlPassword(value);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  return value;
}

function maskUrlPassword(text: string): string {
  // `scheme://user:password@host...`: the password goes; a user alone (often a token) goes too.
  return text.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]*)(?::[^/\s@]*)?@/i,
    (whole, scheme: string, user: string) =>
      whole.slice(scheme.length + user.length).startsWith(':')
        ? `${scheme}${user}:${MASK}@`
        : `${scheme}${MASK}@`,
  );
}

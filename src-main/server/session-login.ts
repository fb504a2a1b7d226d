import { SESSION_COOKIE } from './session.js';

/** Failed logins from one address before it must wait. */
const MAX_FAILED_LOGINS = 10;
const FAILED_LOGIN_WINDOW_MS = 5 * 60_000;

/**
 * Slows password guessing at the login form: after ten failed logins from one address within five minutes, that
 * address is refused until the five minutes are over. A good login clears its address's count.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; since: number }>();

  /** Whether `address` must wait before it may try again (forgets a window that has passed). */
  isBlocked(address: string, now: number): boolean {
    const failures = this.#failures.get(address);
    if (failures && now - failures.since > FAILED_LOGIN_WINDOW_MS) this.#failures.delete(address);
    return (this.#failures.get(address)?.count ?? 0) >= MAX_FAILED_LOGINS;
  }

  recordFailure(address: string, now: number): void {
    const f = this.#failures.get(address) ?? { count: 0, since: now };
    f.count += 1;
    this.#failures.set(address, f);
  }

  recordSuccess(address: string): void {
    this.#failures.delete(address);
  }
}

/** The `Set-Cookie` value of a new session: HttpOnly, so page scripts never see it; SameSite=Strict. */
export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

/** The `Set-Cookie` value that ends a session in the browser. */
export const CLEARED_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

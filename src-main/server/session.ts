import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie that carries a UI session id. */
export const SESSION_COOKIE = 'backroom_session';

export type SessionOptions = Readonly<{
  /** The configured operators: the login takes an operator's name and their token as the password. */
  operators: readonly Readonly<{ name: string; token: string }>[];
  /** A session ends after this long without a request. Default 8 hours (a shift). */
  idleMs?: number;
  /** A session ends this long after login, active or not. Default 24 hours. */
  maxAgeMs?: number;
  now?: () => number;
}>;

type Session = { operator: string; createdAt: number; lastSeenAt: number };

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * UI sessions of operators, in memory: a restart of the agent logs everyone out, which is the safe side for a
 * store PC. Ids are 256 random bits; only their sha256 is kept, so a heap dump does not hold usable ids.
 */
export class SessionStore {
  readonly #operators: { name: string; hash: Buffer }[];
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: SessionOptions) {
    this.#operators = options.operators.map((o) => ({ name: o.name, hash: digest(o.token) }));
    this.#idleMs = options.idleMs ?? 8 * 3600_000;
    this.#maxAgeMs = options.maxAgeMs ?? 24 * 3600_000;
    this.#now = options.now ?? Date.now;
  }

  /** How long the cookie lives, in seconds (the hard limit; idle expiry is enforced here). */
  get maxAgeSeconds(): number {
    return Math.floor(this.#maxAgeMs / 1000);
  }

  /**
   * Checks an operator's name and token (in constant time per operator) and opens a session.
   * Returns the session id for the cookie, or null when the pair is wrong.
   */
  login(name: string, token: string): { id: string; operator: string } | null {
    const hash = digest(token);
    // Every operator is compared, so the time taken does not tell which names exist.
    let match: string | null = null;
    for (const o of this.#operators) {
      if (timingSafeEqual(o.hash, hash) && o.name === name) match = o.name;
    }
    if (match === null) return null;
    this.#sweep();
    const id = randomBytes(32).toString('base64url');
    const now = this.#now();
    this.#sessions.set(digest(id).toString('hex'), { operator: match, createdAt: now, lastSeenAt: now });
    return { id, operator: match };
  }

  /** The operator of a live session (and marks it used), or null when unknown or expired. */
  operatorOf(id: string): string | null {
    const key = digest(id).toString('hex');
    const session = this.#sessions.get(key);
    if (!session) return null;
    const now = this.#now();
    if (now - session.lastSeenAt > this.#idleMs || now - session.createdAt > this.#maxAgeMs) {
      this.#sessions.delete(key);
      return null;
    }
    session.lastSeenAt = now;
    return session.operator;
  }

  logout(id: string): void {
    this.#sessions.delete(digest(id).toString('hex'));
  }

  /** Drops expired sessions, so abandoned logins do not pile up. */
  #sweep(): void {
    const now = this.#now();
    for (const [key, s] of this.#sessions) {
      if (now - s.lastSeenAt > this.#idleMs || now - s.createdAt > this.#maxAgeMs) this.#sessions.delete(key);
    }
  }
}

/** Reads one cookie from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

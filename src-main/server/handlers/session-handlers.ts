import type { OperatorRole } from '../../../shared/operator-roles.js';
import { ApiFailure } from '../api-failure.js';
import type { HandlerTable } from '../rpc-router.js';
import { readCookie, SESSION_COOKIE, type SessionStore } from '../session.js';
import { CLEARED_SESSION_COOKIE, LoginThrottle, sessionCookie } from '../session-login.js';

/**
 * Operator login for the UI: the form takes an operator's name and token; the answer sets an HttpOnly,
 * SameSite=Strict session cookie, by which later requests act as that operator (`auth.ts`). Failed logins are
 * throttled per address.
 */
export function sessionHandlers(
  sessions: SessionStore,
  roleOf: (operator: string) => OperatorRole,
): Pick<HandlerTable, 'session.login' | 'session.me' | 'session.logout'> {
  const throttle = new LoginThrottle();
  return {
    'session.login': (input, { request, reply }) => {
      const now = Date.now();
      if (throttle.isBlocked(request.ip, now))
        throw new ApiFailure('unauthorized', 'Too many failed logins; wait five minutes and try again.');
      const session = sessions.login(input.name, input.token);
      if (session === null) {
        throttle.recordFailure(request.ip, now);
        throw new ApiFailure('unauthorized', 'That name and password do not match an operator.');
      }
      throttle.recordSuccess(request.ip);
      void reply.header('set-cookie', sessionCookie(session.id, sessions.maxAgeSeconds));
      return { operator: session.operator, role: roleOf(session.operator) };
    },
    'session.me': (_input, { operator }) => ({ operator, role: roleOf(operator) }),
    'session.logout': (_input, { request, reply }) => {
      const id = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (id !== null) sessions.logout(id);
      void reply.header('set-cookie', CLEARED_SESSION_COOKIE);
      return { ok: true };
    },
  };
}

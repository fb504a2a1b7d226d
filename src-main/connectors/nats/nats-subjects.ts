import type { NatsConfig } from './nats-link.js';

/**
 * One subject token from an identifier: letters, digits, `-` and `_` stay as they are; every other character
 * (a `.` would split the token, `*` and `>` are wildcards, spaces are not allowed) becomes `%XX` of its UTF-8
 * bytes, so `decodeURIComponent` gives the identifier back. `S1` stays `S1`; `Main St.` becomes `Main%20St%2E`.
 */
export function subjectToken(value: string): string {
  return encodeURIComponent(value).replace(
    /[.!~*'()]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The subject an event of `agentId` at `location` is published to: `<prefix>.<agentId>.<location>`. */
export function natsSubject(prefix: string, agentId: string, location: string): string {
  return `${prefix}.${subjectToken(agentId)}.${subjectToken(location)}`;
}

/** Whether a stream subject filter (with `*` and `>` wildcards) takes `subject`. */
export function subjectMatches(filter: string, subject: string): boolean {
  const want = filter.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i += 1) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length) return false;
    if (want[i] !== '*' && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}

/** The `nats stream add` command that creates the stream this destination needs (README has the why). */
export function streamAddCommand(config: Pick<NatsConfig, 'stream' | 'subject'>): string {
  return (
    `nats stream add ${config.stream} --subjects '${config.subject}.>' --storage file --retention limits ` +
    `--discard old --max-age 90d --dupe-window 2m --replicas 3 --defaults`
  );
}

import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import {
  AuthorizationError,
  PermissionViolationError,
  UserAuthenticationExpiredError,
  type NatsConnection,
} from '@nats-io/transport-node';
import type { ProbeResult } from '../port/connector-bundle.js';
import type { NatsConfig, NatsLink } from './nats-link.js';
import { tlsHint } from './nats-results.js';
import { natsSubject, streamAddCommand, subjectMatches } from './nats-subjects.js';

/**
 * The connection test: connects (or uses the connection there is) and reads the stream's info, which says
 * whether it exists and takes this agent's subjects. Publishes nothing. The NATS client takes no signal: its
 * connect and request timeouts bound it.
 */
export async function probeNats(link: NatsLink, config: NatsConfig, agentId: string): Promise<ProbeResult> {
  const { servers, stream } = config;
  if (link.isClosed)
    return {
      ok: false,
      reason: 'unreachable',
      detail: 'the NATS connector is closed (the agent is stopping)',
    };
  let nc: NatsConnection;
  try {
    nc = await link.connect();
  } catch (error) {
    if (error instanceof AuthorizationError || error instanceof UserAuthenticationExpiredError)
      return { ok: false, reason: 'auth_failed', detail: `NATS refused the credentials: ${error.message}` };
    return {
      ok: false,
      reason: 'unreachable',
      detail: `cannot reach NATS (${servers.join(', ')}): ${(error as Error).message}${tlsHint(error, config)}`,
    };
  }
  if (!link.isUp(nc))
    return {
      ok: false,
      reason: 'unreachable',
      detail: `the connection to NATS (${servers.join(', ')}) is down; the client is reconnecting`,
    };
  const server = `connected to NATS at ${nc.getServer()}`;
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: config.ackTimeoutMs });
    const info = await jsm.streams.info(stream);
    const subjects = info.config.subjects ?? [];
    const sample = natsSubject(config.subject, agentId, 'S1');
    if (!subjects.some((filter) => subjectMatches(filter, sample)))
      return {
        ok: false,
        reason: 'rejected',
        detail:
          `${server}, but stream "${stream}" does not take ${config.subject}.> (its subjects: ${subjects.join(', ') || 'none'}). ` +
          `Add it: nats stream edit ${stream} --subjects ...`,
      };
    return {
      ok: true,
      detail: `${server}; stream "${stream}" takes ${subjects.join(', ')} and holds ${info.state.messages} message(s)`,
    };
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === (JetStreamApiCodes.StreamNotFound as number))
      return {
        ok: false,
        reason: 'rejected',
        detail:
          `${server}, but stream "${stream}" does not exist, so nothing can be stored. Create it once on the ` +
          `central NATS system (src-main/connectors/nats/README.md): ${streamAddCommand(config)}`,
      };
    if (error instanceof Error && error.name === 'JetStreamNotEnabled')
      return {
        ok: false,
        reason: 'rejected',
        detail: `${server}, but JetStream is not enabled for this account; enable it and create stream "${stream}"`,
      };
    if (error instanceof PermissionViolationError)
      // Publishing may be all this user is allowed: reaching the server with its credentials is what is known.
      return {
        ok: true,
        detail: `${server} with the credentials accepted; this user may not read stream info, so stream "${stream}" was not checked (${error.message})`,
      };
    return {
      ok: false,
      reason: 'unreachable',
      detail: `${server}, but reading stream "${stream}" failed: ${(error as Error).message}`,
    };
  }
}

import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import {
  AuthorizationError,
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
  type Msg,
  type NatsConnection,
} from '@nats-io/transport-node';
import { z } from 'zod';
import type { DeliveryResult } from '../port/connector.js';
import type { NatsConfig } from './nats-link.js';
import { streamAddCommand, subjectMatches } from './nats-subjects.js';

/** JetStream's answer to a publish: a PubAck, or an API error (which also carries `stream`). */
const pubAckSchema = z.union([
  z.object({
    error: z.object({ code: z.number(), err_code: z.number().optional(), description: z.string() }),
    stream: z.string().optional(),
  }),
  z.object({ stream: z.string(), seq: z.number(), duplicate: z.boolean().optional() }),
]);

/** A publish nobody answered: the subject has no stream, which `send` then looks into once per batch. */
export type NoResponders = { kind: 'no_responders' };
export type PublishOutcome = DeliveryResult | NoResponders;

/** What a publish that failed without an answer becomes. */
export function requestFailure(error: unknown, subject: string, config: NatsConfig): PublishOutcome {
  if (error instanceof RequestError && error.isNoResponders()) return { kind: 'no_responders' };
  if (error instanceof TimeoutError)
    return {
      kind: 'unknown',
      detail: `JetStream did not acknowledge within ${config.ackTimeoutMs} ms; it may be stored, and the retry reuses Nats-Msg-Id`,
    };
  if (error instanceof PermissionViolationError)
    return {
      kind: 'auth_failed',
      detail: `NATS does not permit publishing to ${subject}: ${error.message}`,
    };
  // Thrown before anything was written.
  if (error instanceof ClosedConnectionError || error instanceof DrainingConnectionError)
    return { kind: 'retry', detail: `the NATS connection closed before publishing (${error.message})` };
  if (error instanceof InvalidArgumentError || error instanceof InvalidSubjectError)
    return { kind: 'rejected', detail: `NATS cannot take this event on ${subject}: ${error.message}` };
  // Anything else happened after the request may have been written.
  return { kind: 'unknown', detail: `publishing to ${subject} failed: ${(error as Error).message}` };
}

/** What JetStream's answer to a publish becomes (see `createNatsConnector`). */
export function pubAckResult(reply: Msg, subject: string, config: NatsConfig): DeliveryResult {
  let parsed: z.output<typeof pubAckSchema>;
  try {
    parsed = pubAckSchema.parse(reply.json());
  } catch {
    return {
      kind: 'rejected',
      detail: `something other than JetStream answered on ${subject} (${reply.string().slice(0, 200)}); check that stream "${config.stream}" takes this subject`,
    };
  }
  if ('error' in parsed) {
    const { code, err_code: errCode, description } = parsed.error;
    if (errCode === 10060)
      return {
        kind: 'misconfigured',
        detail: `${subject} is stored by stream "${parsed.stream ?? '?'}", not by "${config.stream}" (${description}); point the destination's "stream" at the right one`,
      };
    if (code >= 500) return { kind: 'retry', detail: `JetStream could not store it now: ${description}` };
    return {
      kind: 'rejected',
      detail: `JetStream refused it: ${description} (code ${code}/${errCode ?? '-'})`,
    };
  }
  return parsed.duplicate === true ? { kind: 'already_applied' } : { kind: 'delivered' };
}

/** Nobody answered a publish: find out, once per batch, whether the stream is missing or misconfigured. */
export async function diagnoseNoResponders(
  nc: NatsConnection,
  subject: string,
  config: NatsConfig,
): Promise<DeliveryResult> {
  const { stream } = config;
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: config.ackTimeoutMs });
    const info = await jsm.streams.info(stream);
    const subjects = info.config.subjects ?? [];
    if (!subjects.some((filter) => subjectMatches(filter, subject)))
      return {
        kind: 'misconfigured',
        detail:
          `NATS stream "${stream}" does not take ${subject} (its subjects: ${subjects.join(', ') || 'none'}). ` +
          `Add "${config.subject}.>" to it (nats stream edit ${stream} --subjects ...), then resume the destination.`,
      };
    return { kind: 'retry', detail: `nobody answered on ${subject} although stream "${stream}" takes it` };
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === (JetStreamApiCodes.StreamNotFound as number))
      return {
        kind: 'misconfigured',
        detail:
          `NATS stream "${stream}" does not exist, so nothing was stored. Create it once on the central NATS ` +
          `system (src-main/connectors/nats/README.md): ${streamAddCommand(config)} — then resume the destination.`,
      };
    if (error instanceof Error && error.name === 'JetStreamNotEnabled')
      return {
        kind: 'misconfigured',
        detail: `JetStream is not enabled for this account on NATS (${config.servers.join(', ')}); enable it (nats-server -js, or the account's JetStream limits), create stream "${stream}", then resume the destination.`,
      };
    return {
      kind: 'retry',
      detail: `nobody answered on ${subject}, and looking up stream "${stream}" failed: ${(error as Error).message}`,
    };
  }
}

/** What a connection that could not be made becomes: nothing was published. */
export function connectFailure(error: unknown, config: NatsConfig): DeliveryResult {
  if (error instanceof AuthorizationError || error instanceof UserAuthenticationExpiredError)
    return { kind: 'auth_failed', detail: `NATS refused the credentials: ${error.message}` };
  return {
    kind: 'retry',
    detail: `cannot reach NATS (${config.servers.join(', ')}): ${(error as Error).message}${tlsHint(error, config)}; nothing was published`,
  };
}

/**
 * What to check when a connection failed over TLS: a certificate the client does not trust wants `tls.ca`; a
 * server that drops the connection at once may be asking for a client certificate. '' when neither applies.
 */
export function tlsHint(error: unknown, config: Pick<NatsConfig, 'servers' | 'tls'>): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/certificate|self[- ]signed|CERT_|unable to verify/i.test(message))
    return config.tls?.ca === undefined
      ? " (the server's certificate is not trusted: set tls.ca to the PEM of the CA that signed it)"
      : " (the server's certificate was not signed by the CA in tls.ca, or does not name this server)";
  const isTls = config.tls !== undefined || config.servers.some((s) => s.startsWith('tls://'));
  if (isTls && config.tls?.cert === undefined && /timeout|closed|reset|ECONNRESET/i.test(message))
    return ' (if the server verifies client certificates, set tls.cert and tls.key)';
  return '';
}

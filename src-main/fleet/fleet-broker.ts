import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import {
  connect,
  credsAuthenticator,
  nanos,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { Logger } from '../platform/logger.js';
import type { ResolvedFleetConfig } from './fleet-config-loader.js';

/** The fleet service's connection: every server of the cluster, reconnecting forever, authenticated as set. */
export async function connectFleetBroker(config: ResolvedFleetConfig, name: string): Promise<NatsConnection> {
  const { nats } = config;
  const options: NodeConnectionOptions = {
    servers: nats.servers,
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    pingInterval: 10_000,
    maxPingOut: 3,
    ...(nats.user !== undefined ? { user: nats.user, pass: nats.password } : {}),
    ...(nats.token !== undefined ? { token: nats.token } : {}),
    ...(nats.credentials !== undefined
      ? { authenticator: credsAuthenticator(new TextEncoder().encode(nats.credentials)) }
      : {}),
    ...(nats.tls !== undefined ? { tls: { ...nats.tls } } : {}),
  };
  return connect(options);
}

/** The events stream as `src-main/connectors/nats/README.md` documents it (90 days, 2 minute window). */
export function eventsStreamConfig(config: ResolvedFleetConfig): Partial<StreamConfig> & { name: string } {
  return {
    name: config.stream,
    subjects: [`${config.subject}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(90 * 86_400_000),
    duplicate_window: nanos(120_000),
    num_replicas: config.replicas,
  };
}

/**
 * The status bucket as a JetStream key-value bucket's stream (what `nats kv add` makes): one subject per
 * store under `$KV.<bucket>.`, the last `historyPerStore` reports of each kept (the history), read by subject.
 */
export function statusBucketConfig(config: ResolvedFleetConfig): Partial<StreamConfig> & { name: string } {
  return {
    name: `KV_${config.bucket}`,
    subjects: [`$KV.${config.bucket}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_msgs_per_subject: config.historyPerStore,
    allow_rollup_hdrs: true,
    deny_delete: true,
    deny_purge: false,
    allow_direct: true,
    num_replicas: config.replicas,
  };
}

/**
 * Creates the events stream and the status bucket when they are missing; existing ones are used as they are
 * (an operator may have tuned them). Two instances creating them at once both succeed.
 */
export async function ensureFleetStreams(
  nc: NatsConnection,
  config: ResolvedFleetConfig,
  logger: Logger,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const stream of [eventsStreamConfig(config), statusBucketConfig(config)]) {
    try {
      await jsm.streams.info(stream.name);
      continue;
    } catch (error) {
      if (!(
        error instanceof JetStreamApiError && error.code === (JetStreamApiCodes.StreamNotFound as number)
      ))
        throw error;
    }
    await jsm.streams.add(stream);
    logger.info({ stream: stream.name, replicas: stream.num_replicas }, 'created the stream');
  }
}

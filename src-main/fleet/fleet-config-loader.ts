import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ResolvedDestination, SecretRef } from '../../shared/config.js';
import { fleetConfigSchema, type FleetConfig } from '../../shared/fleet-config.js';
import { describeIssues, secretReader } from '../agent/config-loader.js';
import { ConfigError } from '../platform/errors.js';

/** The fleet service's config with every secret read. */
export type ResolvedFleetConfig = Omit<FleetConfig, 'nats' | 'postgres' | 'operators' | 'relay'> & {
  relay?: { destination: Extract<ResolvedDestination, { type: 'webhook' }>; requestsPerSecond: number };
  nats: {
    servers: string[];
    user?: string;
    password?: string;
    token?: string;
    credentials?: string;
    tls?: { ca?: string; cert?: string; key?: string };
  };
  postgres: { connectionString: string; password?: string; poolSize: number };
  operators: { name: string; token: string; role: FleetConfig['operators'][number]['role'] }[];
};

/** Reads and validates `backroom fleet serve`'s config file; a ConfigError names every problem by its path. */
export function loadFleetConfig(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedFleetConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Cannot read fleet config file ${file}: ${(error as Error).message}`);
  }
  return parseFleetConfig(json, dirname(resolve(file)), env, file);
}

/** Validates a fleet config value and reads its secrets (`{ env }`, `{ file }` relative to `baseDir`). */
export function parseFleetConfig(
  json: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
  label = 'fleet config',
): ResolvedFleetConfig {
  const parsed = fleetConfigSchema.safeParse(json);
  if (!parsed.success) {
    const lines = describeIssues(parsed.error.issues);
    throw new ConfigError(`Invalid ${label}:\n  ${lines.join('\n  ')}`, { problems: lines });
  }
  const { relay, ...config } = parsed.data;
  const problems: string[] = [];
  const secret = secretReader(baseDir, env, problems);
  const optional = (ref: SecretRef | undefined, path: string) =>
    ref === undefined ? {} : { [path.split('.').at(-1)!]: secret(ref, path) };
  const { nats, postgres } = config;
  const resolved: ResolvedFleetConfig = {
    ...config,
    nats: {
      servers: nats.servers,
      ...(nats.user !== undefined ? { user: nats.user } : {}),
      ...optional(nats.password, 'nats.password'),
      ...optional(nats.token, 'nats.token'),
      ...optional(nats.credentials, 'nats.credentials'),
      ...(nats.tls === undefined
        ? {}
        : {
            tls: {
              ...optional(nats.tls.ca, 'nats.tls.ca'),
              ...optional(nats.tls.cert, 'nats.tls.cert'),
              ...optional(nats.tls.key, 'nats.tls.key'),
            },
          }),
    },
    postgres: {
      connectionString: postgres.connectionString,
      poolSize: postgres.poolSize,
      ...optional(postgres.password, 'postgres.password'),
    },
    operators: config.operators.map((o, i) => ({ ...o, token: secret(o.token, `operators.${i}.token`) })),
  };
  if (relay !== undefined && relay.destination.type === 'webhook')
    resolved.relay = {
      destination: {
        ...relay.destination,
        secret: secret(relay.destination.secret, 'relay.destination.secret'),
      },
      requestsPerSecond: relay.requestsPerSecond,
    };
  if (problems.length > 0)
    throw new ConfigError(`Invalid ${label}:\n  ${problems.join('\n  ')}`, { problems });
  return resolved;
}

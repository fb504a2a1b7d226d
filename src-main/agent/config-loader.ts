import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import {
  configSchema,
  DESTINATION_SECRET_KEYS,
  type Config,
  type ResolvedConfig,
  type SecretRef,
} from '../../shared/config.js';
import { ConfigError } from '../platform/errors.js';

/** Renders zod issues as `path: message` lines, the path in dotted form. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${path}: ${issue.message}`;
  });
}

/**
 * Reads, validates and resolves a config file: unknown keys are errors, every error names its path, relative
 * paths are taken from the config file's folder, and secrets given as `{ "env" }` or `{ "file" }` are read.
 * Throws a ConfigError that lists every problem.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read config file ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(json, dirname(resolve(file)), env, file);
}

/** Validates and resolves a config value; `baseDir` anchors relative paths. */
export function parseConfig(
  json: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
  label = 'config',
): ResolvedConfig {
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const lines = describeIssues(parsed.error.issues);
    throw new ConfigError(`Invalid ${label}:\n  ${lines.join('\n  ')}`, { problems: lines });
  }
  const config = parsed.data;
  const problems: string[] = [];
  const secret = secretReader(baseDir, env, problems);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const resolved: ResolvedConfig = {
    ...config,
    dataDir: at(config.dataDir),
    catalog: config.catalog && { path: at(config.catalog.path) },
    sources: config.sources.map((s, i) => ({ ...s, token: secret(s.token, `sources.${i}.token`) })),
    operators: config.operators.map((o, i) => ({ ...o, token: secret(o.token, `operators.${i}.token`) })),
    dropFolders: config.dropFolders.map((f) => ({ ...f, path: at(f.path) })),
    destinations: config.destinations.map((d, i) =>
      resolveDestination(d, (ref, key) => secret(ref, `destinations.${i}.${key}`)),
    ),
  };
  // A token names its source: two sources sharing one would file one till's sales under the other.
  const firstWithToken = new Map<string, number>();
  resolved.sources.forEach((source, i) => {
    const first = firstWithToken.get(source.token);
    if (first !== undefined && source.token !== '') {
      problems.push(`sources.${i}.token: is the same as sources.${first}.token; each source needs its own`);
    } else {
      firstWithToken.set(source.token, i);
    }
  });
  if (problems.length > 0)
    throw new ConfigError(`Invalid ${label}:\n  ${problems.join('\n  ')}`, { problems });
  return resolved;
}

function resolveDestination(
  d: Config['destinations'][number],
  secret: (ref: SecretRef, key: string) => string,
): ResolvedConfig['destinations'][number] {
  const copy: Record<string, unknown> = { ...d };
  for (const key of DESTINATION_SECRET_KEYS) {
    const ref = copy[key] as SecretRef | undefined;
    if (ref !== undefined) copy[key] = secret(ref, key);
  }
  // NATS's TLS material: PEM text, usually read from files.
  if ('tls' in d && d.tls !== undefined) {
    const tls: Record<string, unknown> = { ...d.tls };
    for (const key of ['ca', 'cert', 'key'] as const) {
      const ref = d.tls[key];
      if (ref !== undefined) tls[key] = secret(ref, `tls.${key}`);
    }
    copy['tls'] = tls;
  }
  // Every secret key of every destination type was replaced above; the schema guarantees the rest.
  return copy as ResolvedConfig['destinations'][number];
}

/**
 * Reads a config's secrets: a `SecretRef` is the value itself, `{ env }` an environment variable, or `{ file }` a
 * file relative to `baseDir` (its last line break dropped). What cannot be read is added to `problems` under its
 * path (and read as ''), so one error can name every secret that is missing.
 */
export function secretReader(
  baseDir: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
): (ref: SecretRef, path: string) => string {
  return (ref, path) => {
    if (typeof ref === 'string') return ref;
    if ('env' in ref) {
      const value = env[ref.env];
      if (value === undefined || value === '')
        problems.push(`${path}: environment variable ${ref.env} is not set`);
      return value ?? '';
    }
    const secretPath = resolve(baseDir, ref.file);
    try {
      const value = readFileSync(secretPath, 'utf8').replace(/\r?\n$/, '');
      if (value === '') problems.push(`${path}: secret file ${secretPath} is empty`);
      return value;
    } catch (error) {
      problems.push(
        `${path}: cannot read secret file ${secretPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
      return '';
    }
  };
}

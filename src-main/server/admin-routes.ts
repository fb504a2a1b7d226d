import type { FastifyReply, FastifyRequest } from 'fastify';
import { DESTINATION_MODE, DESTINATION_SECRET_KEYS, type ResolvedConfig } from '../../shared/config.js';
import type {
  ChannelSettings,
  DestinationSettings,
  DestinationTestResult,
  MappingView,
  ReconcileFix,
  ReconcileReport,
  SettingsView,
} from '../../shared/rpc.js';
import { AgentError, apiReasonOf } from '../platform/errors.js';
import { VERSION } from '../platform/version.js';
import type { SourceTokenRepo } from '../capture/source-token-repo.js';
import {
  ConnectorError,
  probeFailure,
  type ConnectorBundle,
  type ProbeResult,
} from '../connectors/connector-kit.js';
import type { IdMappingRepo, MappingKind } from '../mappings/id-mapping-repo.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { OrderCheckpointsTable } from '../db/schema.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { ChannelBuffer, ChannelBuffers } from '../ledger/channel-buffers.js';
import type { ChannelCondition } from '../ledger/channel-guard.js';
import type { Dispatcher } from '../outbox/dispatcher.js';
import { sendError } from './http-server.js';
import type { HandleRpc } from './ui-routes.js';

/**
 * What the reconciliation routes need of `src-main/reconcile/reconciler.ts` (the agent's `reconciler`): run a
 * comparison, apply a fix (which it audits), and the last report kept in memory.
 */
export type ReconcilerPort = Readonly<{
  run: (
    destinationId: string,
    scope: Readonly<{ sku?: string; location?: string }>,
  ) => Promise<ReconcileReport>;
  fix: (
    input: Readonly<{
      destinationId: string;
      sku: string;
      location: string;
      action: ReconcileFix;
      reason: string;
      operator: string;
    }>,
  ) => Promise<{ action: ReconcileFix; detail: string }>;
  last: (destinationId: string) => ReconcileReport | null;
}>;

export type AdminRouteDeps = Readonly<{
  db: AgentDatabase;
  config: ResolvedConfig;
  dispatchers: readonly Dispatcher[];
  mappings: IdMappingRepo;
  audit: AuditLog;
  /** The oversell guard's current condition per guarded channel. */
  channelConditions: () => readonly ChannelCondition[];
  /** Each channel's buffer, and setting it. */
  channelBuffers: ChannelBuffers;
  /** A destination's connector bundle (what it can read back), if it has a connector. */
  connectorOf: (destinationId: string) => ConnectorBundle | undefined;
  /** The reconciler, or undefined while this build has none (its routes then answer 503). */
  reconciler: () => ReconcilerPort | undefined;
  /** `http://host:port` the agent listens on ('' before it listens). */
  address: () => string;
  /** POS source tokens created in the UI. */
  sourceTokens: SourceTokenRepo;
}>;

/** What a masked secret shows as. */
export const MASK = '••••';
/** Keys whose values are secrets whatever the destination type (config's list plus NATS's TLS key). */
const SECRET_KEYS: ReadonlySet<string> = new Set<string>([...DESTINATION_SECRET_KEYS, 'key']);
const SECRET_PATTERN = /secret|password|token|credential|apikey|api_key|private/i;
/** Mappings listed at most per request; the page filters within them. */
const MAPPING_LIST_LIMIT = 5000;
/** Longest a connection test may take before it is answered as unreachable (a person waits for it). */
export const PROBE_TIMEOUT_MS = 15_000;

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

function operatorOf(req: FastifyRequest): string {
  return req.principal?.kind === 'operator' ? req.principal.name : '';
}

function fieldError(reply: FastifyReply, field: string, message: string) {
  return sendError(reply, 'bad_shape', `${field}: ${message}`, { errors: [{ path: field, message }] });
}

function toView(m: Readonly<MappingView>): MappingView {
  return {
    destinationId: m.destinationId,
    kind: m.kind,
    localId: m.localId,
    remoteId: m.remoteId,
    origin: m.origin,
    updatedAt: m.updatedAt,
  };
}

/**
 * The settings, mapping and reconciliation routes of the UI (issue 5). Every write is recorded in the audit log
 * with the operator's name, what was there before, what is there after, and the reason given. A bad input is
 * answered 400 naming the field, and nothing is written.
 */
export function registerAdminRoutes(handle: HandleRpc, deps: AdminRouteDeps): void {
  const { config, mappings, audit } = deps;
  const destinationIds = new Set(config.destinations.map((d) => d.id));
  const tightenOf = (channel: string) => config.channels.find((c) => c.id === channel)?.tighten ?? null;
  const unknownDestination = (reply: FastifyReply, id: string) =>
    fieldError(reply, 'destination', `names no configured destination ("${id}")`);
  const mappingOf = (destinationId: string, kind: MappingKind, localId: string): MappingView | null => {
    const found = mappings.list({ destinationId, kind, localId, limit: 1 })[0];
    return found === undefined ? null : toView(found);
  };

  // Mappings.
  handle('mappings.list', ({ destination, kind, local }) => ({
    mappings: mappings
      .list({
        ...(destination !== undefined ? { destinationId: destination } : {}),
        ...(kind !== undefined ? { kind } : {}),
        ...(local !== undefined ? { localId: local } : {}),
        limit: MAPPING_LIST_LIMIT,
      })
      .map(toView),
  }));

  handle('mappings.set', (input, req, reply) => {
    if (!destinationIds.has(input.destination)) return unknownDestination(reply, input.destination);
    const operator = operatorOf(req);
    const before = mappingOf(input.destination, input.kind, input.local);
    // The same mapping again changes nothing (and keeps who made it).
    if (before?.remoteId === input.remote) return { mapping: before };
    // Setting it releases the destination's held items and resolves the unmapped exception, in one transaction.
    mappings.set({
      destinationId: input.destination,
      kind: input.kind,
      localId: input.local,
      remoteId: input.remote,
      origin: operator,
    });
    const after = mappingOf(input.destination, input.kind, input.local);
    audit.record({
      operator,
      action: 'mappings.set',
      subject: `mapping:${input.destination}:${input.kind}:${input.local}`,
      reason: input.reason === undefined || input.reason === '' ? null : input.reason,
      before: before === null ? null : { remote: before.remoteId, origin: before.origin },
      after: { remote: input.remote },
    });
    // Written just above, in this same synchronous handler: it is there.
    return { mapping: after! };
  });

  handle('mappings.remove', (input, req, reply) => {
    if (!destinationIds.has(input.destination)) return unknownDestination(reply, input.destination);
    const before = mappingOf(input.destination, input.kind, input.local);
    if (before === null) return { removed: false };
    const removed = mappings.remove(input.destination, input.kind, input.local);
    audit.record({
      operator: operatorOf(req),
      action: 'mappings.remove',
      subject: `mapping:${input.destination}:${input.kind}:${input.local}`,
      reason: input.reason,
      before: { remote: before.remoteId, origin: before.origin },
      after: null,
    });
    return { removed };
  });

  handle('mappings.import', ({ csv }, req) => {
    const report = mappings.importCsv(csv);
    // One entry per import, not per row: an import may hold thousands of rows; the file's rows are its record.
    if (report.imported > 0 || report.errors.length > 0)
      audit.record({
        operator: operatorOf(req),
        action: 'mappings.import',
        subject: 'mappings',
        reason: null,
        before: null,
        after: { imported: report.imported, unchanged: report.unchanged, errors: report.errors.length },
      });
    return { imported: report.imported, unchanged: report.unchanged, errors: [...report.errors] };
  });

  // Reconciliation.
  const reconcilerOr = (reply: FastifyReply) => {
    const reconciler = deps.reconciler();
    if (reconciler === undefined)
      sendError(reply, 'unavailable', 'Reconciliation is not available in this build of the agent.');
    return reconciler;
  };
  const checkReconcilable = (reply: FastifyReply, destination: string): boolean => {
    if (!destinationIds.has(destination)) {
      unknownDestination(reply, destination);
      return false;
    }
    if (deps.connectorOf(destination)?.levels === undefined) {
      fieldError(
        reply,
        'destination',
        `"${destination}" cannot read its levels back, so it cannot be reconciled`,
      );
      return false;
    }
    return true;
  };

  handle('reconcile.run', async ({ destination, sku, location }, req, reply) => {
    if (!checkReconcilable(reply, destination)) return reply;
    const reconciler = reconcilerOr(reply);
    if (reconciler === undefined) return reply;
    try {
      const report = await reconciler.run(destination, {
        ...(sku !== undefined ? { sku } : {}),
        ...(location !== undefined ? { location } : {}),
      });
      audit.record({
        operator: operatorOf(req),
        action: 'reconcile.run',
        subject: `destination:${destination}`,
        reason: null,
        before: null,
        after: {
          ...report.summary,
          ...(sku !== undefined ? { sku } : {}),
          ...(location !== undefined ? { location } : {}),
        },
      });
      return report;
    } catch (error) {
      return sendFailure(reply, error, `Reading levels from ${destination} failed`);
    }
  });

  handle('reconcile.fix', async (input, req, reply) => {
    if (!checkReconcilable(reply, input.destination)) return reply;
    const reconciler = reconcilerOr(reply);
    if (reconciler === undefined) return reply;
    try {
      // The reconciler records the fix in the audit log itself (operator, reason, before and after).
      const result = await reconciler.fix({
        destinationId: input.destination,
        sku: input.sku,
        location: input.location,
        action: input.action,
        reason: input.reason,
        operator: operatorOf(req),
      });
      return result;
    } catch (error) {
      return sendFailure(reply, error, `The fix for ${input.sku} at ${input.location} failed`);
    }
  });

  handle('reconcile.last', ({ destination }, _req, reply) => {
    if (!destinationIds.has(destination)) return unknownDestination(reply, destination);
    return { report: deps.reconciler()?.last(destination) ?? null };
  });

  // Connection tests: read-only calls, audited with their result (who tested what, and what it said).
  handle('destinations.test', async ({ destination }, req, reply) => {
    const configured = config.destinations.find((d) => d.id === destination);
    if (configured === undefined)
      return sendError(reply, 'not_found', `No destination is named "${destination}" in the configuration.`);
    const probe = deps.connectorOf(destination)?.probe;
    if (probe === undefined)
      return fieldError(
        reply,
        'destination',
        `"${destination}" (${configured.type}) has no connection test; its delivery results show whether it works`,
      );
    const started = performance.now();
    const found = await runProbe(probe, PROBE_TIMEOUT_MS, (error) =>
      req.log.error({ err: error, destination }, 'the connection test failed unexpectedly'),
    );
    const result: DestinationTestResult = { ...found, ms: Math.round(performance.now() - started) };
    audit.record({
      operator: operatorOf(req),
      action: 'destination.test',
      subject: `destination:${destination}`,
      reason: null,
      before: null,
      after: result,
    });
    return result;
  });

  // POS source tokens: created here (shown once, only a hash kept), revoked here; the config's stay as they are.
  handle('sources.list', () => ({
    configured: config.sources.map((src) => ({ id: src.id })),
    tokens: deps.sourceTokens.list(),
  }));

  handle('sources.createToken', ({ source, label }, req) => {
    const operator = operatorOf(req);
    const { token, entry } = deps.sourceTokens.create({ sourceId: source, label, operator });
    audit.record({
      operator,
      action: 'sources.token_create',
      subject: `source:${source}`,
      reason: null,
      before: null,
      // The token never goes into the log: its id and last four characters tell it apart.
      after: { tokenId: entry.id, label, hint: entry.hint },
    });
    return { token, entry };
  });

  handle('sources.revokeToken', ({ id, reason }, req, reply) => {
    const before = deps.sourceTokens.get(id);
    if (before === null) return fieldError(reply, 'id', `names no source token (${id})`);
    if (before.revokedAt !== null) return { entry: before };
    const operator = operatorOf(req);
    const entry = deps.sourceTokens.revoke(id, operator)!;
    audit.record({
      operator,
      action: 'sources.token_revoke',
      subject: `source:${before.sourceId}`,
      reason,
      before: { tokenId: id, label: before.label, hint: before.hint, revoked: false },
      after: { tokenId: id, revoked: true },
    });
    return { entry };
  });

  // Channels: a buffer staff set here applies at once, over the config's, until set back.
  handle('channels.setBuffer', ({ channel, buffer, reason }, req, reply) => {
    if (!deps.channelBuffers.has(channel))
      return fieldError(reply, 'channel', `names no channel ("${channel}")`);
    const { after } = deps.channelBuffers.set(channel, buffer, { operator: operatorOf(req), reason });
    const condition = deps.channelConditions().find((c) => c.channel === channel);
    return { channel: channelView(after, tightenOf(channel), condition) };
  });

  // Settings: what the agent runs with, secrets masked, and how each part stands now.
  const checkpoint = deps.db.sqlite.prepare<[string], OrderCheckpointsTable>(
    'SELECT * FROM order_checkpoints WHERE destination_id = ?',
  );
  handle('settings.get', () => {
    const states = new Map(deps.dispatchers.map((d) => [d.destinationId, d.state]));
    const conditions = new Map(deps.channelConditions().map((c) => [c.channel, c]));
    const destinations = config.destinations.map((d): DestinationSettings => {
      const bundle = deps.connectorOf(d.id);
      const { id, type, ...rest } = d;
      const pullsOrders = 'orders' in d && d.orders !== undefined && bundle?.orders !== undefined;
      const cp = pullsOrders ? checkpoint.get(id) : undefined;
      return {
        id,
        type,
        mode: DESTINATION_MODE[type],
        state: states.get(id) ?? 'no_connector',
        settings: maskSecrets(rest) as Record<string, unknown>,
        canReconcile: bundle?.levels !== undefined,
        canTest: bundle?.probe !== undefined,
        pullsOrders,
        orders: pullsOrders
          ? {
              lastPullAt: cp?.last_pull_at ?? null,
              lastError: cp?.last_error ?? null,
              ordersSeen: cp?.orders_seen ?? 0,
              updatedAfter: cp?.updated_after ?? null,
            }
          : null,
      };
    });
    return {
      agentId: config.agentId,
      version: VERSION,
      dataDir: config.dataDir,
      listen: deps.address() || `http://${config.listen.host}:${config.listen.port}`,
      locations: config.locations.map((l) => ({ id: l.id, name: l.name })),
      channels: deps.channelBuffers
        .list()
        .map((c) => channelView(c, tightenOf(c.channel), conditions.get(c.channel))),
      destinations,
      delivery: { ...config.delivery },
      retention: { ...config.retention },
      stock: {
        safetyStock: config.stock.safetyStock,
        safetyStockBySku: { ...config.stock.safetyStockBySku },
      },
      reconcile: { everyMinutes: config.reconcile.everyMinutes },
    } satisfies SettingsView;
  });
}

/**
 * Runs a connection test within `timeoutMs`: past it the test is aborted and answered as unreachable. A probe
 * that throws something unclassified (a bug) is reported through `onBug` and answered as a failure, never left
 * as an unhandled rejection after the timeout answered.
 *
 * @example const found = await runProbe(bundle.probe, PROBE_TIMEOUT_MS, (error) => log.error({ err: error }));
 */
export async function runProbe(
  probe: NonNullable<ConnectorBundle['probe']>,
  timeoutMs: number,
  onBug: (error: unknown) => void,
): Promise<ProbeResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({
        ok: false,
        reason: 'unreachable',
        detail: `no answer within ${timeoutMs / 1000} s; the destination is down or too slow to work with`,
      });
    }, timeoutMs);
  });
  const tested = probe(controller.signal).catch((error: unknown): ProbeResult => {
    try {
      return probeFailure(error);
    } catch {
      onBug(error);
      return {
        ok: false,
        reason: 'invalid_response',
        detail: `the test failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  });
  try {
    return await Promise.race([tested, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** A channel as the settings page shows it: its buffer and where it comes from, and the oversell guard's view. */
function channelView(
  c: ChannelBuffer,
  tighten: ChannelSettings['tighten'],
  condition: ChannelCondition | undefined,
): ChannelSettings {
  return {
    id: c.channel,
    buffer: c.buffer,
    configuredBuffer: c.configured,
    isDeclared: c.isDeclared,
    override: c.override,
    destinations: [...c.destinations],
    tighten,
    isDegraded: condition?.isDegraded ?? false,
    degradedReason:
      condition?.reason === 'unreachable'
        ? 'its deliveries or order pulls are failing'
        : condition?.reason === 'queue_old'
          ? 'its oldest unpublished level waits too long'
          : null,
  };
}

/** A failure of a remote read or a fix, as the API's error shape. */
function sendFailure(reply: FastifyReply, error: unknown, what: string) {
  if (error instanceof ConnectorError) {
    const hint =
      error.reason === 'auth_failed'
        ? 'the destination refused the credentials'
        : error.reason === 'rate_limited'
          ? 'the destination asked to slow down; try again in a minute'
          : error.reason === 'unreachable'
            ? 'the destination cannot be reached'
            : 'the destination answered something unexpected';
    return sendError(reply, 'unavailable', `${what}: ${hint} (${error.message}). Nothing was changed.`);
  }
  if (error instanceof AgentError) return sendError(reply, apiReasonOf(error), error.message);
  throw error;
}

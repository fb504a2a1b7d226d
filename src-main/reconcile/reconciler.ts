import { DESTINATION_MODE, type ResolvedConfig, type ResolvedDestination } from '../../shared/config.js';
import type { DriftCause, ReconcileFix, ReconcileReport, ReconcileRow } from '../../shared/rpc-views.js';
import { AgentError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { CaptureService } from '../capture/capture-service.js';
import type { ConnectorBundle, LevelReader } from '../connectors/port/connector-bundle.js';
import type { IdMappings } from '../connectors/port/connector-context.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { StockView } from '../ledger/stock-view.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';

export type ReconcilerDeps = Readonly<{
  db: AgentDatabase;
  config: ResolvedConfig;
  stock: StockView;
  outbox: OutboxRepo;
  capture: CaptureService;
  audit: AuditLog;
  exceptions: ExceptionsRepo;
  logger: Logger;
  connectorOf: (destinationId: string) => ConnectorBundle | undefined;
  mappingsOf: (destinationId: string) => IdMappings;
  /** Wakes a destination's dispatcher (after a republish). */
  wake: (destinationId: string) => void;
}>;

/** Items read from the remote system per request. */
const READ_CHUNK = 50;
/** Most items one run compares. */
const MAX_ITEMS = 5000;
/** The capture source of adjustments recorded by reconciliation. */
export const RECONCILE_SOURCE = 'backroom:reconcile';

type Ignored = Record<string, { operator: string; reason: string; at: number; drift: number | null }>;

/**
 * Reconciliation (see README.md beside this file): reads a destination's levels back, compares each with what
 * Backroom's ledger says it should be, and explains the difference.
 *
 * - Marketplaces (`available`): expected is the available-to-sell Backroom publishes to the channel now; a
 *   level update still queued means the difference settles by itself (`pending_delivery`).
 * - ERPs (`on_hand`): expected is local on hand; `expectedNow` takes off the movements still queued for the
 *   ERP (pending, held, rejected or dead, and, for a `daily_statement` ERP, the sales and returns no posted
 *   statement carries yet), so a queue explains its share of the difference.
 *
 * Fixes: `republish` marks the level to be sent again; `accept_remote` records an adjustment event (audited,
 * with the reason) that makes the local level match the remote one, sent to every other ledger destination but
 * never back to the one it came from; `ignore` notes who looked and why, until the drift changes.
 */
export class Reconciler {
  readonly #d: ReconcilerDeps;
  readonly #log: Logger;
  readonly #last = new Map<string, ReconcileReport>();
  #timer: NodeJS.Timeout | null = null;
  #isRunning = false;

  /** Run for every compared item: prepared once. */
  readonly #queries;

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
    this.#queries = {
      held: deps.db.sqlite.prepare<[string, string, string], { n: number }>(
        `SELECT COUNT(*) AS n FROM outbox o JOIN movements m ON m.event_seq = o.event_seq
         WHERE o.destination_id = ? AND o.state = 'held' AND m.sku = ? AND m.location = ?`,
      ),
      // With a daily-statement ERP, the sales and returns of days whose statement is not posted yet are queued too.
      undelivered: deps.db.sqlite.prepare<
        [string, string, string, string, string, string],
        { d: number | null }
      >(
        `SELECT SUM(d) AS d FROM (
           SELECT m.delta AS d FROM outbox o JOIN movements m ON m.event_seq = o.event_seq
           WHERE o.destination_id = ? AND o.state NOT IN ('delivered', 'discarded') AND m.sku = ? AND m.location = ?
           UNION ALL
           SELECT m.delta AS d FROM statement_events se
           JOIN movements m ON m.event_seq = se.event_seq AND m.location = se.location
           LEFT JOIN statements s ON s.id = se.statement_id
           WHERE se.destination_id = ? AND (s.id IS NULL OR s.state <> 'posted') AND m.sku = ? AND m.location = ?)`,
      ),
      levelQueued: deps.db.sqlite.prepare<[string, string, string], { n: number; held: number }>(
        `SELECT COUNT(*) AS n, COUNT(held_at) AS held FROM level_dirty
         WHERE destination_id = ? AND sku = ? AND location = ? AND version > sent_version`,
      ),
    };
    this.#log = deps.logger.child({ module: 'reconciler' });
  }

  /** Destinations whose connector reads levels back. */
  get destinations(): string[] {
    return this.#d.config.destinations.filter((d) => this.#reader(d.id) !== undefined).map((d) => d.id);
  }

  /** The newest report of a destination (a run by hand or by the schedule), or null. */
  last(destinationId: string): ReconcileReport | null {
    return this.#last.get(destinationId) ?? null;
  }

  /**
   * Runs every destination that can be reconciled every `everyMinutes` (0: never). A fraction of a minute is
   * allowed (the test harness's `reconcileEveryMs`); a second call replaces the first schedule.
   */
  startSchedule(everyMinutes: number): void {
    this.stop();
    if (everyMinutes <= 0 || this.destinations.length === 0) return;
    this.#timer = setInterval(() => {
      this.runScheduled().catch((error: unknown) =>
        this.#log.warn({ err: error }, 'scheduled reconciliation failed'),
      );
    }, everyMinutes * 60_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * One scheduled pass over every destination that can be reconciled. A destination with drift that the
   * queue does not explain gets one open `reconcile_drift` exception (resolved by a later clean pass).
   */
  async runScheduled(): Promise<void> {
    if (this.#isRunning) return;
    this.#isRunning = true;
    try {
      for (const id of this.destinations) {
        let report: ReconcileReport;
        try {
          report = await this.run(id);
        } catch (error) {
          this.#log.warn({ err: error, destination: id }, 'reconciliation could not read levels');
          continue;
        }
        const drift = EXCEPTION_CATALOG.reconcile_drift;
        const key = drift.key(id);
        const drifting = report.rows.filter((r) => r.ignored === null && isDrift(r.cause));
        if (drifting.length === 0) this.#d.exceptions.resolveByKey(key, drift.resolvedAs());
        else
          this.#d.exceptions.raise({
            kind: 'reconcile_drift',
            dedupeKey: key,
            message: drift.message({ destinationId: id, count: drifting.length, example: drifting[0]! }),
            details: {
              items: drifting
                .slice(0, 20)
                .map((r) => ({ sku: r.sku, location: r.location, drift: r.drift, cause: r.cause })),
            },
            destinationId: id,
          });
      }
    } finally {
      this.#isRunning = false;
    }
  }

  /** Reads the destination's levels of the local items (optionally one SKU and/or location) and compares. */
  async run(
    destinationId: string,
    filter: Readonly<{ sku?: string; location?: string }> = {},
    signal?: AbortSignal,
  ): Promise<ReconcileReport> {
    const destination = this.#destination(destinationId);
    const reader = this.#reader(destinationId);
    if (reader === undefined)
      throw new AgentError(
        'not_supported',
        `${destinationId} (${destination.type}) cannot read its levels back, so it cannot be reconciled`,
      );
    const items = this.#items(destination, filter);
    const remote = new Map<string, number | null>();
    for (let i = 0; i < items.length; i += READ_CHUNK) {
      const chunk = items.slice(i, i + READ_CHUNK);
      const levels = await reader.readLevels(chunk, signal ?? AbortSignal.timeout(60_000));
      for (const l of levels) remote.set(itemKey(l.sku, l.location), l.quantity);
    }
    const ignored = this.#ignored(destinationId);
    const mappings = this.#d.mappingsOf(destinationId);
    const rows = items.map((item) => {
      const row = this.#compare(
        destination,
        reader.measures,
        item,
        remote.get(itemKey(item.sku, item.location)) ?? null,
        mappings,
      );
      const note = ignored[itemKey(item.sku, item.location)];
      return {
        ...row,
        ignored:
          note && note.drift === row.drift
            ? { operator: note.operator, reason: note.reason, at: note.at }
            : null,
      };
    });
    const report: ReconcileReport = {
      destinationId,
      measures: reader.measures,
      at: Date.now(),
      rows,
      summary: {
        items: rows.length,
        inSync: rows.filter((r) => r.cause === 'in_sync').length,
        drifting: rows.filter((r) => isDrift(r.cause)).length,
        pending: rows.filter((r) => r.cause === 'pending_delivery').length,
        unknown: rows.filter((r) => r.cause === 'not_mapped' || r.cause === 'missing_remote').length,
      },
    };
    this.#last.set(destinationId, report);
    return report;
  }

  /** Acts on one item's drift; audited with the operator and reason. */
  async fix(
    input: Readonly<{
      destinationId: string;
      sku: string;
      location: string;
      action: ReconcileFix;
      reason: string;
      operator: string;
    }>,
  ): Promise<{ action: ReconcileFix; detail: string }> {
    const destination = this.#destination(input.destinationId);
    const mode = DESTINATION_MODE[destination.type];
    const subject = `reconcile:${input.destinationId}:${input.sku}:${input.location}`;
    let detail: string;
    let before: unknown = null;
    let after: unknown = null;
    switch (input.action) {
      case 'republish': {
        if (mode !== 'level')
          throw new AgentError(
            'invalid_request',
            `${input.destinationId} receives movements, not levels: there is no level to push; adopt the remote level or ignore it`,
          );
        this.#d.outbox.markDirty(input.destinationId, input.sku, input.location, Date.now());
        this.#d.wake(input.destinationId);
        detail = `the level of ${input.sku} at ${input.location} is sent to ${input.destinationId} again`;
        break;
      }
      case 'accept_remote': {
        const [row] = (await this.run(input.destinationId, { sku: input.sku, location: input.location }))
          .rows;
        if (!row || row.remote === null)
          throw new AgentError(
            'invalid_request',
            `${input.destinationId} has no level of ${input.sku} at ${input.location} to adopt`,
          );
        const delta = this.#adoptionDelta(destination, row);
        before = { expected: row.expected, expectedNow: row.expectedNow, remote: row.remote };
        if (delta === 0) {
          detail = `nothing to adopt: ${input.sku} at ${input.location} already matches ${input.destinationId}`;
          break;
        }
        const id = `${input.destinationId}:${input.sku}:${input.location}:${Date.now()}`;
        const [result] = await this.#d.capture.capture(RECONCILE_SOURCE, [
          {
            id: id.slice(0, 128),
            type: 'adjustment',
            location: input.location,
            occurredAt: new Date().toISOString(),
            reference: `Reconciliation with ${input.destinationId}`,
            lines: [{ sku: input.sku, qty: delta }],
            meta: {
              adoptedFrom: input.destinationId,
              operator: input.operator,
              reason: input.reason,
              remote: row.remote,
            },
          },
        ]);
        if (result?.status !== 'accepted')
          throw new AgentError(
            'invalid_request',
            `the adjustment was not recorded: ${JSON.stringify(result)}`,
          );
        after = { adjustment: delta, eventSeq: result.seq };
        detail = `recorded an adjustment of ${delta > 0 ? '+' : ''}${delta} for ${input.sku} at ${input.location}, adopting ${input.destinationId}'s level`;
        break;
      }
      case 'ignore': {
        const [row] = (await this.run(input.destinationId, { sku: input.sku, location: input.location }))
          .rows;
        const ignored = this.#ignored(input.destinationId);
        ignored[itemKey(input.sku, input.location)] = {
          operator: input.operator,
          reason: input.reason,
          at: Date.now(),
          drift: row?.drift ?? null,
        };
        this.#saveIgnored(input.destinationId, ignored);
        after = { drift: row?.drift ?? null };
        detail = `the drift of ${input.sku} at ${input.location} is marked as looked at`;
        break;
      }
    }
    this.#d.audit.record({
      operator: input.operator,
      action: `reconcile.${input.action}`,
      subject,
      reason: input.reason,
      before,
      after,
    });
    return { action: input.action, detail };
  }

  /**
   * The on-hand change that makes the local level match the remote one. For a marketplace the remote level
   * is an available-to-sell, so on hand moves by what it takes for Backroom's (unclamped) available to equal it.
   */
  #adoptionDelta(destination: ResolvedDestination, row: ReconcileRow): number {
    if (row.remote === null) return 0;
    if (DESTINATION_MODE[destination.type] === 'ledger') return row.remote - row.expectedNow;
    const level = this.#d.stock.levels({ sku: row.sku, location: row.location })[0];
    const channel = ('channel' in destination ? destination.channel : undefined) ?? destination.id;
    const buffer = level?.channels.find((c) => c.channel === channel)?.buffer ?? 0;
    const safety = this.#d.stock.safetyStock(row.sku);
    const unclamped = (level?.onHand ?? 0) - (level?.reserved ?? 0) - safety - buffer;
    return row.remote - unclamped;
  }

  #compare(
    destination: ResolvedDestination,
    measures: LevelReader['measures'],
    item: Readonly<{ sku: string; location: string; onHand: number }>,
    remote: number | null,
    mappings: IdMappings,
  ): Omit<ReconcileRow, 'ignored'> {
    const { sku, location } = item;
    const isLevel = DESTINATION_MODE[destination.type] === 'level';
    const channel = ('channel' in destination ? destination.channel : undefined) ?? destination.id;
    const expected = measures === 'available' ? this.#d.stock.available(sku, location, channel) : item.onHand;
    const queued = isLevel ? 0 : this.#undeliveredDelta(destination.id, sku, location);
    const queuedLevel = isLevel ? this.#levelQueued(destination.id, sku, location) : 'none';
    const isLevelQueued = queuedLevel !== 'none';
    const expectedNow = expected - queued;
    const base = { sku, location, expected, expectedNow, remote };
    if (remote === null) {
      // A level not sent yet (its SKU or location is discovered by that send) is not missing: it settles by
      // itself. What waits for a mapping (the SKU's or the location's) is not mapped. Only then is it missing.
      if (queuedLevel === 'queued')
        return {
          ...base,
          drift: null,
          cause: 'pending_delivery',
          explanation: `${destination.id} has no level of ${sku} at ${location} yet; an update of it is queued and settles once sent.`,
          fixes: ['republish', 'ignore'],
        };
      const isHeld = isLevel ? queuedLevel === 'held' : this.#isHeld(destination.id, sku, location);
      const isMapped = !isHeld && mappings.item(sku) !== null;
      return {
        ...base,
        drift: null,
        cause: isMapped ? 'missing_remote' : 'not_mapped',
        explanation: isMapped
          ? `${destination.id} has no level of ${sku} at ${location}: the item may have been deleted there.`
          : `${mappings.item(sku) === null ? sku : `Location ${location}`} has no mapping for ${destination.id}: map it, then its level is sent.`,
        fixes: isLevel ? ['republish', 'ignore'] : ['ignore'],
      };
    }
    const drift = remote - expectedNow;
    const fixes: ReconcileFix[] = isLevel
      ? ['republish', 'accept_remote', 'ignore']
      : ['accept_remote', 'ignore'];
    if (drift === 0 && !isLevelQueued)
      return {
        ...base,
        drift,
        cause: 'in_sync',
        explanation:
          queued === 0 ? 'Matches.' : `Matches, with ${Math.abs(queued)} still queued for ${destination.id}.`,
        fixes: [],
      };
    if (isLevelQueued)
      return {
        ...base,
        drift,
        cause: 'pending_delivery',
        explanation: `An update of this level is still queued for ${destination.id}; it settles once sent.`,
        fixes,
      };
    let cause: DriftCause = drift < 0 ? 'remote_lower' : 'remote_higher';
    let explanation =
      drift < 0
        ? isLevel
          ? `${destination.id} shows ${-drift} fewer than Backroom publishes: likely an order taken there that is not pulled yet, or a change made in ${destination.id}.`
          : `${destination.id} holds ${-drift} fewer than Backroom's ledger: likely a movement posted directly in ${destination.id}.`
        : isLevel
          ? `${destination.id} shows ${drift} more than Backroom publishes: likely a level edited by hand in ${destination.id}. Push the local level unless the remote one is right.`
          : `${destination.id} holds ${drift} more than Backroom's ledger: likely a receipt or count posted directly in ${destination.id}.`;
    if (measures === 'available' && remote === 0 && expected === 0) {
      cause = 'in_sync';
      explanation = 'Matches.';
    }
    return { ...base, drift, cause, explanation, fixes: cause === 'in_sync' ? [] : fixes };
  }

  /** Sum of on-hand moves at (sku, location) in events not yet delivered to a ledger destination. */
  #undeliveredDelta(destinationId: string, sku: string, location: string): number {
    return this.#queries.undelivered.get(destinationId, sku, location, destinationId, sku, location)?.d ?? 0;
  }

  /** Whether movements of (sku, location) wait for a mapping before they go to a ledger destination. */
  #isHeld(destinationId: string, sku: string, location: string): boolean {
    return (this.#queries.held.get(destinationId, sku, location)?.n ?? 0) > 0;
  }

  /**
   * Whether a level update of (sku, location) is still to be sent to a level destination: `queued` for the
   * dispatcher, `held` until a mapping arrives, or `none`.
   */
  #levelQueued(destinationId: string, sku: string, location: string): 'queued' | 'held' | 'none' {
    const row = this.#queries.levelQueued.get(destinationId, sku, location);
    if ((row?.n ?? 0) === 0) return 'none';
    return (row?.held ?? 0) > 0 ? 'held' : 'queued';
  }

  /** The local items the destination covers: its locations (all when it names none). */
  #items(destination: ResolvedDestination, filter: Readonly<{ sku?: string; location?: string }>) {
    const locations = destination.locations ?? this.#d.config.locations.map((l) => l.id);
    return this.#d.stock
      .levels({ ...filter, limit: MAX_ITEMS })
      .filter((l) => locations.includes(l.location))
      .map((l) => ({ sku: l.sku, location: l.location, onHand: l.onHand }));
  }

  #destination(destinationId: string): ResolvedDestination {
    const destination = this.#d.config.destinations.find((d) => d.id === destinationId);
    if (!destination) throw new AgentError('not_found', `no destination "${destinationId}" is configured`);
    return destination;
  }

  #reader(destinationId: string): LevelReader | undefined {
    return this.#d.connectorOf(destinationId)?.levels;
  }

  #ignored(destinationId: string): Ignored {
    const row = this.#d.db.sqlite
      .prepare<[string], { value: string }>(
        `SELECT value FROM connector_state WHERE destination_id = ? AND key = 'reconcile:ignored'`,
      )
      .get(destinationId);
    return row ? (JSON.parse(row.value) as Ignored) : {};
  }

  #saveIgnored(destinationId: string, ignored: Ignored): void {
    this.#d.db.sqlite
      .prepare(
        `INSERT INTO connector_state (destination_id, key, value, updated_at) VALUES (?, 'reconcile:ignored', ?, ?)
         ON CONFLICT (destination_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(destinationId, JSON.stringify(ignored), Date.now());
  }
}

function itemKey(sku: string, location: string): string {
  return `${sku}\u0000${location}`;
}

/** Causes that mean the remote system disagrees and no queue explains it. */
function isDrift(cause: DriftCause): boolean {
  return cause === 'remote_lower' || cause === 'remote_higher' || cause === 'missing_remote';
}

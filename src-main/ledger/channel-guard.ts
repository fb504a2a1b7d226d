import type { ResolvedConfig } from '../../shared/config.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { Logger } from '../platform/logger.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import { channelsOf } from './channel-buffers.js';

/** How a degraded channel's published quantity tightens (a channel's `tighten` config). */
export type TightenRule = Readonly<{ afterMinutes: number; holdBackPercent: number; holdBackUnits: number }>;

/** Why a channel is degraded, for status and the UI. */
export type ChannelCondition = Readonly<{
  channel: string;
  isDegraded: boolean;
  /**
   * `unreachable`: publishing to one of the channel's destinations keeps failing; `orders_unread`: the orders of
   * a destination selling the same stock (this channel's or another's) cannot be read, so sales there are not
   * reserved here; `queue_old`: an unpublished level is old.
   */
  reason: 'unreachable' | 'orders_unread' | 'queue_old' | null;
  /** The destination behind `unreachable` or `orders_unread`, else null. */
  destinationId: string | null;
  since: number | null;
}>;

/** What a destination's health is reported for: its level publishes, or its order pulls. */
export type GuardedActivity = 'publish' | 'pull';

/**
 * Applies a tightening rule to an available-to-sell that already has on hand − reserved − safety stock −
 * buffer taken off: the result is never more than `available` and never below 0. Pure (property-tested).
 *
 * @example tighten(10, { afterMinutes: 15, holdBackPercent: 50, holdBackUnits: 2 }) // 4
 */
export function tighten(available: number, rule: TightenRule): number {
  const afterUnits = Math.max(0, available - rule.holdBackUnits);
  return Math.max(0, Math.min(available, Math.floor((afterUnits * (100 - rule.holdBackPercent)) / 100)));
}

/**
 * The oversell guard. It keeps two kinds of health per level destination, each failing since its first failure
 * after a success: its publishes (the dispatcher's results) and its order pulls (the order puller's). A guarded
 * channel is degraded, and `publishable` tightens what it is sent, while for longer than its `afterMinutes`:
 * - publishing to one of its own destinations fails (`unreachable`): it may sell what it no longer has;
 * - the orders of any destination that sells the same stock cannot be read (`orders_unread`): sales made there
 *   are not reserved here, so every channel selling those locations' stock may oversell, not only that one.
 *   Publish health never masks pull health: a marketplace that takes our levels but whose orders cannot be read
 *   is the main way to oversell;
 * - or its oldest unpublished level waits (`queue_old`).
 * When the condition changes, every level of the channel's destinations is marked to be published again, so
 * tightening and its restore both reach the marketplace.
 */
export class ChannelGuard {
  readonly #db: AgentDatabase;
  readonly #outbox: OutboxRepo;
  readonly #log: Logger;
  readonly #rules = new Map<string, TightenRule>();
  /** Level destinations of each channel. */
  readonly #destinations = new Map<string, string[]>();
  /** The locations whose stock each destination sells (null: every location). */
  readonly #scope = new Map<string, ReadonlySet<string> | null>();
  /** Per activity, destination → when it started failing (absent while it works). */
  readonly #failingSince: Readonly<Record<GuardedActivity, Map<string, number>>> = {
    publish: new Map(),
    pull: new Map(),
  };
  readonly #conditions = new Map<string, ChannelCondition>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  readonly #onRepublish: (destinationIds: readonly string[]) => void;

  constructor(
    db: AgentDatabase,
    outbox: OutboxRepo,
    config: Pick<ResolvedConfig, 'channels' | 'destinations'>,
    logger: Logger,
    options: Readonly<{ now?: () => number; onRepublish?: (destinationIds: readonly string[]) => void }> = {},
  ) {
    this.#db = db;
    this.#outbox = outbox;
    this.#onRepublish = options.onRepublish ?? (() => {});
    this.#log = logger.child({ module: 'channel-guard' });
    this.#now = options.now ?? Date.now;
    for (const c of config.channels) if (c.tighten) this.#rules.set(c.id, c.tighten);
    for (const c of channelsOf(config)) this.#destinations.set(c.id, c.destinations);
    for (const d of config.destinations) this.#scope.set(d.id, scopeOf(d));
    for (const channel of this.#rules.keys()) this.#conditions.set(channel, SYNCED(channel));
  }

  /** Looks at every guarded channel now and every `everyMs`. */
  start(everyMs = 5000): void {
    this.evaluate();
    this.#timer = setInterval(() => this.evaluate(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /**
   * A publish to (`publish`) or an order pull from (`pull`) `destinationId` worked (true) or failed transiently
   * (false). The two are kept apart: a publish that works says nothing of whether orders can be read.
   */
  report(destinationId: string, activity: GuardedActivity, isOk: boolean): void {
    const failing = this.#failingSince[activity];
    if (isOk) failing.delete(destinationId);
    else if (!failing.has(destinationId)) failing.set(destinationId, this.#now());
  }

  /** What may be published to `channel` given its available-to-sell: tightened while it is degraded. */
  publishable(channel: string, available: number): number {
    const rule = this.#rules.get(channel);
    return rule && this.#conditions.get(channel)?.isDegraded ? tighten(available, rule) : available;
  }

  /** Each guarded channel's condition, as of the last evaluation. */
  conditions(): ChannelCondition[] {
    return [...this.#conditions.values()];
  }

  /** Re-judges every guarded channel; a change marks the channel's levels to be published again. */
  evaluate(): void {
    const now = this.#now();
    for (const [channel, rule] of this.#rules) {
      const limit = now - rule.afterMinutes * 60_000;
      const destinations = this.#destinations.get(channel) ?? [];
      const next = this.#judge(channel, destinations, limit);
      const before = this.#conditions.get(channel);
      this.#conditions.set(channel, next);
      if (before?.isDegraded !== next.isDegraded) {
        this.#log.warn(
          { channel, reason: next.reason, destination: next.destinationId },
          next.isDegraded
            ? 'channel degraded: tightening what it is sent'
            : 'channel synced: restoring its levels',
        );
        this.#republish(destinations, now);
      }
    }
  }

  /** The condition of `channel` now: the first of unreachable, orders unread and queue old that lasts past `limit`. */
  #judge(channel: string, destinations: readonly string[], limit: number): ChannelCondition {
    const unreachable = earliest(
      destinations.map((d) => [d, this.#failingSince.publish.get(d)] as const),
      limit,
    );
    if (unreachable !== null) return { channel, isDegraded: true, reason: 'unreachable', ...unreachable };
    const sells = destinations.map((d) => this.#scope.get(d) ?? null);
    const unread = earliest(
      [...this.#failingSince.pull].filter(([d]) =>
        sells.some((s) => overlaps(s, this.#scope.get(d) ?? null)),
      ),
      limit,
    );
    if (unread !== null) return { channel, isDegraded: true, reason: 'orders_unread', ...unread };
    const oldest = this.#oldestUnpublished(destinations);
    if (oldest !== null && oldest <= limit)
      return { channel, isDegraded: true, reason: 'queue_old', destinationId: null, since: oldest };
    return SYNCED(channel);
  }

  #oldestUnpublished(destinations: readonly string[]): number | null {
    let oldest: number | null = null;
    const q = this.#db.sqlite.prepare<[string], { t: number | null }>(
      `SELECT MIN(marked_at) AS t FROM level_dirty WHERE destination_id = ? AND version > sent_version AND held_at IS NULL`,
    );
    for (const d of destinations) {
      const t = q.get(d)?.t ?? null;
      if (t !== null && (oldest === null || t < oldest)) oldest = t;
    }
    return oldest;
  }

  /** Marks every level of the destinations dirty, so the current rule is published (coalesced, rate-limited). */
  #republish(destinations: readonly string[], now: number): void {
    this.#db.transaction(() => {
      for (const d of destinations) this.#outbox.republishAll(d, now);
    });
    this.#onRepublish(destinations);
  }
}

/** A channel with nothing wrong. */
const SYNCED = (channel: string): ChannelCondition => ({
  channel,
  isDegraded: false,
  reason: null,
  destinationId: null,
  since: null,
});

/** The locations whose stock a destination sells: its `locations` filter and where its orders are fulfilled. */
function scopeOf(destination: ResolvedConfig['destinations'][number]): ReadonlySet<string> | null {
  if (!('locations' in destination) || destination.locations === undefined) return null;
  const orders = 'orders' in destination ? destination.orders : undefined;
  return new Set([...destination.locations, ...(orders === undefined ? [] : [orders.location])]);
}

/** Whether two stock scopes share a location (null is every location). */
function overlaps(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): boolean {
  if (a === null || b === null) return true;
  for (const location of a) if (b.has(location)) return true;
  return false;
}

/** The destination failing the longest, if it has been failing since `limit` or before. */
function earliest(
  failing: Iterable<readonly [string, number | undefined]>,
  limit: number,
): { destinationId: string; since: number } | null {
  let found: { destinationId: string; since: number } | null = null;
  for (const [destinationId, since] of failing)
    if (since !== undefined && since <= limit && (found === null || since < found.since))
      found = { destinationId, since };
  return found;
}

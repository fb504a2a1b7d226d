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
  /** `unreachable` (deliveries or order pulls failing) or `queue_old` (an unpublished level is old). */
  reason: 'unreachable' | 'queue_old' | null;
  since: number | null;
}>;

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
 * The oversell guard. It watches each channel's level destinations: a destination whose deliveries or order
 * pulls keep failing has been unreachable since its first failure after a success; a destination whose oldest
 * unpublished level waits past `afterMinutes` is behind. While either lasts longer than the channel's
 * `afterMinutes`, the channel is degraded and `publishable` tightens what it is sent. When the condition
 * changes, every level of the channel's destinations is marked to be published again, so tightening and its
 * restore both reach the marketplace.
 */
export class ChannelGuard {
  readonly #db: AgentDatabase;
  readonly #outbox: OutboxRepo;
  readonly #log: Logger;
  readonly #rules = new Map<string, TightenRule>();
  /** Level destinations of each channel. */
  readonly #destinations = new Map<string, string[]>();
  /** Destination → when it started failing (null while it works). */
  readonly #failingSince = new Map<string, number>();
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
    for (const channel of this.#rules.keys())
      this.#conditions.set(channel, { channel, isDegraded: false, reason: null, since: null });
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

  /** A delivery to or an order pull from `destinationId` worked (true) or failed transiently (false). */
  report(destinationId: string, isOk: boolean): void {
    if (isOk) this.#failingSince.delete(destinationId);
    else if (!this.#failingSince.has(destinationId)) this.#failingSince.set(destinationId, this.#now());
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
      const failing = destinations
        .map((d) => this.#failingSince.get(d))
        .filter((t): t is number => t !== undefined && t <= limit);
      const oldest = this.#oldestUnpublished(destinations);
      const next: ChannelCondition =
        failing.length > 0
          ? { channel, isDegraded: true, reason: 'unreachable', since: Math.min(...failing) }
          : oldest !== null && oldest <= limit
            ? { channel, isDegraded: true, reason: 'queue_old', since: oldest }
            : { channel, isDegraded: false, reason: null, since: null };
      const before = this.#conditions.get(channel);
      this.#conditions.set(channel, next);
      if (before?.isDegraded !== next.isDegraded) {
        this.#log.warn(
          { channel, reason: next.reason },
          next.isDegraded
            ? 'channel degraded: tightening what it is sent'
            : 'channel synced: restoring its levels',
        );
        this.#republish(destinations, now);
      }
    }
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

import type { ChannelBufferView } from '../../shared/agent-api.js';
import { DESTINATION_MODE, type ResolvedConfig } from '../../shared/config.js';
import { MAX_CHANNEL_BUFFER } from '../../shared/rpc.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';

/** A buffer set in the UI over the config's value. */
/** One sales channel and the buffer it is published with (as `backroom channels list` shows it). */
export type ChannelBuffer = ChannelBufferView;
export type BufferOverride = NonNullable<ChannelBuffer['override']>;

/**
 * The channels of a config with their configured buffers: those it declares, in their order, then one per level
 * destination that names no declared channel (buffer 0), each with the level destinations publishing to it.
 */
export function channelsOf(
  config: Pick<ResolvedConfig, 'channels' | 'destinations'>,
): { id: string; buffer: number; isDeclared: boolean; destinations: string[] }[] {
  const channels = new Map<
    string,
    { id: string; buffer: number; isDeclared: boolean; destinations: string[] }
  >();
  for (const c of config.channels)
    channels.set(c.id, { id: c.id, buffer: c.buffer, isDeclared: true, destinations: [] });
  for (const d of config.destinations) {
    if (DESTINATION_MODE[d.type] !== 'level') continue;
    const id = ('channel' in d ? d.channel : undefined) ?? d.id;
    const channel = channels.get(id) ?? { id, buffer: 0, isDeclared: false, destinations: [] };
    channel.destinations.push(d.id);
    channels.set(id, channel);
  }
  return [...channels.values()];
}

type Row = { channel: string; buffer: number; set_by: string; set_at: number; reason: string };

/**
 * Every channel's buffer: available-to-sell = on hand − reserved − safety stock − buffer. The config file sets
 * each channel's buffer; staff may set another in the UI, kept in `channel_buffers` and audited, until they set
 * it back. Channels are the config's plus one per level destination that names no declared channel.
 *
 * A change takes effect at once: the channel's destinations get every level they publish marked to be sent
 * again (coalesced and rate-limited like any level), so the marketplace sells the new quantity.
 */
export class ChannelBuffers {
  readonly #db: AgentDatabase;
  readonly #audit: AuditLog;
  readonly #outbox: OutboxRepo;
  readonly #onRepublish: (destinationIds: readonly string[]) => void;
  readonly #channels = new Map<string, { configured: number; isDeclared: boolean; destinations: string[] }>();
  readonly #overrides = new Map<string, BufferOverride>();

  constructor(
    db: AgentDatabase,
    outbox: OutboxRepo,
    config: Pick<ResolvedConfig, 'channels' | 'destinations'>,
    audit: AuditLog,
    options: Readonly<{ onRepublish?: (destinationIds: readonly string[]) => void }> = {},
  ) {
    this.#db = db;
    this.#audit = audit;
    this.#outbox = outbox;
    this.#onRepublish = options.onRepublish ?? (() => {});
    for (const c of channelsOf(config))
      this.#channels.set(c.id, {
        configured: c.buffer,
        isDeclared: c.isDeclared,
        destinations: c.destinations,
      });
    const rows = db.sqlite.prepare<[], Row>('SELECT * FROM channel_buffers').all();
    for (const r of rows) {
      // A channel since removed from the config keeps its row (it may come back) but plays no part.
      this.#overrides.set(r.channel, {
        buffer: r.buffer,
        setBy: r.set_by,
        setAt: r.set_at,
        reason: r.reason,
      });
    }
  }

  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  /** The buffer in effect for `channel`; 0 for a channel nobody knows. On the send path: a map lookup. */
  bufferOf(channel: string): number {
    const channelConfig = this.#channels.get(channel);
    if (channelConfig === undefined) return 0;
    return this.#overrides.get(channel)?.buffer ?? channelConfig.configured;
  }

  get(channel: string): ChannelBuffer | undefined {
    const c = this.#channels.get(channel);
    if (c === undefined) return undefined;
    const override = this.#overrides.get(channel) ?? null;
    return {
      channel,
      buffer: override?.buffer ?? c.configured,
      configured: c.configured,
      isDeclared: c.isDeclared,
      override,
      destinations: [...c.destinations],
    };
  }

  /** Every channel, the config's first in their order, then those implied by destinations. */
  list(): ChannelBuffer[] {
    return [...this.#channels.keys()].map((id) => this.get(id)!);
  }

  /**
   * Sets `channel`'s buffer to `buffer`, or back to the config's value with `null`, as `operator` for `reason`.
   * The change, its audit entry and the republish marks are one transaction. Setting what is already in effect
   * changes nothing and records nothing. Throws a RangeError naming the problem for an unknown channel or a
   * buffer out of range (the API validates both before; this guards every other caller).
   */
  set(
    channel: string,
    buffer: number | null,
    by: Readonly<{ operator: string; reason: string }>,
    now = Date.now(),
  ): { before: ChannelBuffer; after: ChannelBuffer; isChanged: boolean } {
    const before = this.get(channel);
    if (before === undefined) throw new RangeError(`channel "${channel}" is not configured`);
    if (buffer !== null && (!Number.isInteger(buffer) || buffer < 0 || buffer > MAX_CHANNEL_BUFFER))
      throw new RangeError(`buffer must be a whole number from 0 to ${MAX_CHANNEL_BUFFER}, not ${buffer}`);
    const isSame =
      buffer === null ? before.override === null : before.override !== null && before.buffer === buffer;
    if (isSame) return { before, after: before, isChanged: false };
    this.#db.transaction(() => {
      if (buffer === null) {
        this.#db.sqlite.prepare('DELETE FROM channel_buffers WHERE channel = ?').run(channel);
      } else {
        this.#db.sqlite
          .prepare(
            `INSERT INTO channel_buffers (channel, buffer, set_by, set_at, reason) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (channel) DO UPDATE SET buffer = excluded.buffer, set_by = excluded.set_by,
               set_at = excluded.set_at, reason = excluded.reason`,
          )
          .run(channel, buffer, by.operator, now, by.reason);
      }
      this.#audit.record(
        {
          operator: by.operator,
          action: buffer === null ? 'channels.buffer_reset' : 'channels.buffer_set',
          subject: `channel:${channel}`,
          reason: by.reason,
          before: { buffer: before.buffer, from: before.override === null ? 'config' : 'settings' },
          after: { buffer: buffer ?? before.configured, from: buffer === null ? 'config' : 'settings' },
        },
        now,
      );
      for (const d of before.destinations) this.#outbox.republishAll(d, now);
    });
    // Only once committed does the agent publish with it.
    if (buffer === null) this.#overrides.delete(channel);
    else this.#overrides.set(channel, { buffer, setBy: by.operator, setAt: now, reason: by.reason });
    this.#onRepublish(before.destinations);
    return { before, after: this.get(channel)!, isChanged: true };
  }
}

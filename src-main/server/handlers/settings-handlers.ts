import { DESTINATION_MODE, type ResolvedConfig } from '../../../shared/config.js';
import type { ChannelSettings, DestinationSettings, SettingsView } from '../../../shared/rpc-views.js';
import { orderCheckpointOf } from '../../capture/order-checkpoint-views.js';
import type { ConnectorBundle } from '../../connectors/port/connector-bundle.js';
import type { AgentDatabase } from '../../db/agent-database.js';
import type { ChannelBuffer, ChannelBuffers } from '../../ledger/channel-buffers.js';
import type { LocationRegistry } from '../../ledger/location-registry.js';
import type { ChannelCondition } from '../../ledger/channel-guard.js';
import type { Dispatcher } from '../../outbox/dispatcher.js';
import { VERSION } from '../../platform/version.js';
import { fieldFailure } from '../api-failure.js';
import { maskSecrets } from '../mask-secrets.js';
import type { HandlerTable } from '../rpc-router.js';

export type SettingsHandlerDeps = Readonly<{
  db: AgentDatabase;
  config: ResolvedConfig;
  dispatchers: readonly Dispatcher[];
  /** The oversell guard's current condition per guarded channel. */
  channelConditions: () => readonly ChannelCondition[];
  /** Each channel's buffer, and setting it. */
  channelBuffers: ChannelBuffers;
  /** A destination's connector bundle (what it can read back, test or pull), if it has a connector. */
  connectorOf: (destinationId: string) => ConnectorBundle | undefined;
  /** `http://host:port` the agent listens on ('' before it listens). */
  address: () => string;
  /** The known locations: the config file's and those added in the workbench. */
  locationRegistry: LocationRegistry;
}>;

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
    degradedReason: degradedReason(condition),
  };
}

/** Why a channel is tightened, in words for the settings page. */
function degradedReason(condition: ChannelCondition | undefined): string | null {
  switch (condition?.reason ?? null) {
    case 'unreachable':
      return `publishing to ${condition?.destinationId ?? 'one of its destinations'} keeps failing`;
    case 'orders_unread':
      return `the orders of ${condition?.destinationId ?? 'a destination'} cannot be read, and it sells the same stock`;
    case 'queue_old':
      return 'its oldest unpublished level waits too long';
    case null:
      return null;
  }
}

/**
 * Settings: what the agent runs with, secrets masked, and how each part stands now; and the one setting staff
 * change here, a channel's buffer, which applies at once over the config's until set back (audited).
 */
export function settingsHandlers(
  deps: SettingsHandlerDeps,
): Pick<HandlerTable, 'settings.get' | 'channels.setBuffer'> {
  const { config } = deps;
  const tightenOf = (channel: string) => config.channels.find((c) => c.id === channel)?.tighten ?? null;
  return {
    'channels.setBuffer': ({ channel, buffer, reason }, { operator }) => {
      if (!deps.channelBuffers.has(channel)) throw fieldFailure('channel', `names no channel ("${channel}")`);
      const { after } = deps.channelBuffers.set(channel, buffer, { operator, reason });
      const condition = deps.channelConditions().find((c) => c.channel === channel);
      return { channel: channelView(after, tightenOf(channel), condition) };
    },

    'settings.get': () => {
      const states = new Map(deps.dispatchers.map((d) => [d.destinationId, d.state]));
      const conditions = new Map(deps.channelConditions().map((c) => [c.channel, c]));
      const destinations = config.destinations.map((d): DestinationSettings => {
        const bundle = deps.connectorOf(d.id);
        const { id, type, ...rest } = d;
        const pullsOrders = 'orders' in d && d.orders !== undefined && bundle?.orders !== undefined;
        const cp = pullsOrders ? orderCheckpointOf(deps.db, id) : undefined;
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
        locations: deps.locationRegistry
          .list()
          .map((l) => ({ id: l.id, name: l.name, added: l.added === null ? null : { ...l.added } })),
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
    },
  };
}

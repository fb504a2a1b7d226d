import { z } from 'zod';

/**
 * The status an agent reports to head office (the fleet's status bucket, one key per store). Versioned: a
 * reader of version N reads every message of version N or older, and a message of a newer version as far as it
 * knows it (unknown fields are tolerated, and counted by whoever reads them, so a fleet upgraded store by store
 * keeps reporting).
 */
export const FLEET_STATUS_VERSION = 1;

/** A destination's delivery state as reported; `stopped` when the agent stopped cleanly. */
export const FLEET_DESTINATION_STATES = [
  'closed',
  'half_open',
  'open',
  'paused',
  'no_connector',
  'stopped',
] as const;
export type FleetDestinationState = (typeof FLEET_DESTINATION_STATES)[number];

/** How bad each state is, for "worst destination state": higher is worse. */
export const DESTINATION_STATE_SEVERITY: Readonly<Record<FleetDestinationState, number>> = {
  closed: 0,
  no_connector: 1,
  half_open: 2,
  open: 3,
  stopped: 4,
  paused: 5,
};

const isoTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });
const count = z.number().int().min(0);

const destinationSchema = z.looseObject({
  id: z.string().min(1).max(64),
  type: z.string().min(1).max(32),
  /** Any string: a newer agent may know states this reader does not (shown as they are, ranked as `open`). */
  state: z.string().min(1).max(32),
  queueDepth: count,
  oldestPendingAgeSeconds: count.nullable(),
  lastDeliveryAt: isoTime.nullable(),
  lastError: z.string().max(2000).nullable(),
});

/** One status message (JSON). Loose: unknown keys pass through and are reported by `unknownFieldsOf`. */
export const fleetStatusSchema = z.looseObject({
  /** The message's version (FLEET_STATUS_VERSION of the agent that sent it). */
  v: z.number().int().min(1),
  agentId: z.string().min(1).max(64),
  /** The store's name for people (its first location's name), or the agent id. */
  name: z.string().min(1).max(200),
  version: z.string().min(1).max(64),
  /** The agent database's schema version. */
  schemaVersion: count,
  /** When the agent made this report (its clock). */
  reportedAt: isoTime,
  uptimeSeconds: count,
  /** False in the last report of an agent that stopped cleanly. */
  running: z.boolean(),
  destinations: z.array(destinationSchema).max(100),
  openExceptions: z.array(z.looseObject({ kind: z.string().min(1).max(64), count: count })).max(100),
  /** Events captured per minute, over the last minute. */
  capturePerMinute: count,
  lastEventSeq: count,
  /** The newest link of the event hash chain, or null before the first event. */
  chainHead: z.string().max(128).nullable(),
  /** Free bytes on the file system of the data folder, or null where it cannot be read. */
  diskFreeBytes: count.nullable(),
});
export type FleetStatus = z.output<typeof fleetStatusSchema>;
export type FleetDestinationStatus = FleetStatus['destinations'][number];

const KNOWN_TOP = new Set(Object.keys(fleetStatusSchema.shape));
const KNOWN_DESTINATION = new Set(Object.keys(destinationSchema.shape));

/** The dotted paths of fields this reader does not know (e.g. `destinations.0.lag`), from a parsed status. */
export function unknownFieldsOf(status: FleetStatus): string[] {
  const unknown = Object.keys(status).filter((k) => !KNOWN_TOP.has(k));
  status.destinations.forEach((d, i) => {
    for (const key of Object.keys(d))
      if (!KNOWN_DESTINATION.has(key)) unknown.push(`destinations.${i}.${key}`);
  });
  status.openExceptions.forEach((e, i) => {
    for (const key of Object.keys(e))
      if (key !== 'kind' && key !== 'count') unknown.push(`openExceptions.${i}.${key}`);
  });
  return unknown;
}

/** The worst state among a status's destinations (an unknown state ranks as `open`), or null without any. */
export function worstDestinationState(destinations: readonly { state: string }[]): string | null {
  let worst: string | null = null;
  let rank = -1;
  for (const { state } of destinations) {
    const r =
      (DESTINATION_STATE_SEVERITY as Record<string, number | undefined>)[state] ??
      DESTINATION_STATE_SEVERITY.open;
    if (r > rank) {
      rank = r;
      worst = state;
    }
  }
  return worst;
}

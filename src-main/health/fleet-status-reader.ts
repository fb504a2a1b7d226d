import { statfsSync } from 'node:fs';
import type { DestinationStatus } from '../../shared/api.js';
import type { ResolvedConfig } from '../../shared/config.js';
import { FLEET_STATUS_VERSION, type FleetStatus } from '../../shared/fleet-status.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import { lastErrors } from '../outbox/outbox-views.js';
import { VERSION } from '../platform/version.js';
import { readStatus } from './status.js';

/** What the fleet report reads beyond the database: the running dispatchers and the agent's own counters. */
export type FleetStatusSources = Readonly<{
  outbox: OutboxRepo;
  exceptions: ExceptionsRepo;
  /** Each running dispatcher's state. */
  states: () => ReadonlyMap<string, DestinationStatus['state']>;
  startedAt: number;
}>;

/**
 * Reads the agent's status for head office (`shared/fleet-status.ts`): the same figures as `backroom status`
 * plus each destination's last error, the capture rate, the chain head and the disk's free space. A handful of
 * indexed reads (the same as a `/metrics` scrape), so it may run every few seconds without slowing capture.
 */
export class FleetStatusReader {
  readonly #db: AgentDatabase;
  readonly #config: ResolvedConfig;
  readonly #sources: FleetStatusSources;
  /** (time, seq) samples over the last minute, for the capture rate. */
  readonly #seqSamples: { at: number; seq: number }[] = [];
  readonly #schemaVersion: number;

  constructor(db: AgentDatabase, config: ResolvedConfig, sources: FleetStatusSources) {
    this.#db = db;
    this.#config = config;
    this.#sources = sources;
    this.#schemaVersion =
      (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  }

  /** The status now; `isRunning` false for the last report of a clean stop. */
  read(now: number, isRunning = true): FleetStatus {
    const status = readStatus(
      this.#db,
      this.#config,
      isRunning,
      { outbox: this.#sources.outbox, exceptions: this.#sources.exceptions },
      isRunning ? this.#sources.states() : new Map(),
    );
    const errors = lastErrors(this.#db);
    const head = this.#db.prepare('SELECT seq, hash FROM chain_head WHERE id = 1').get() as
      { seq: number; hash: string } | undefined;
    return {
      v: FLEET_STATUS_VERSION,
      agentId: this.#config.agentId,
      name: this.#config.locations[0]?.name ?? this.#config.agentId,
      version: VERSION,
      schemaVersion: this.#schemaVersion,
      reportedAt: new Date(now).toISOString(),
      uptimeSeconds: Math.max(0, Math.round((now - this.#sources.startedAt) / 1000)),
      running: isRunning,
      destinations: status.destinations.map((d) => ({
        id: d.id,
        type: d.type,
        state: d.state,
        queueDepth: d.pending,
        oldestPendingAgeSeconds:
          d.oldestPendingAgeSeconds === null ? null : Math.max(0, d.oldestPendingAgeSeconds),
        lastDeliveryAt: d.lastDeliveryAt,
        lastError: errors.get(d.id)?.slice(0, 2000) ?? null,
      })),
      openExceptions: status.openExceptions,
      capturePerMinute: this.#capturePerMinute(now, status.lastSeq),
      lastEventSeq: status.lastSeq,
      chainHead: head?.hash ?? null,
      diskFreeBytes: diskFree(this.#config.dataDir),
    };
  }

  #capturePerMinute(now: number, seq: number): number {
    const samples = this.#seqSamples;
    samples.push({ at: now, seq });
    while (samples.length > 2 && now - samples[0]!.at > 60_000) samples.shift();
    const first = samples[0]!;
    if (now - first.at < 500) return 0;
    return Math.max(0, Math.round(((seq - first.seq) * 60_000) / (now - first.at)));
  }
}

/** Free bytes for an unprivileged writer on the file system of `folder`, or null where it cannot be read. */
function diskFree(folder: string): number | null {
  try {
    const s = statfsSync(folder);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FleetStatus } from '../../shared/fleet-status.js';
import { connectionOptions, type NatsConfig } from '../connectors/nats/nats-link.js';
import type { Logger } from '../platform/logger.js';

/** The subject of a store's status in the bucket: `$KV.<bucket>.<agentId>` (the agent id is a valid KV key). */
export function statusSubject(bucket: string, agentId: string): string {
  return `$KV.${bucket}.${agentId}`;
}

export type FleetReporterOptions = Readonly<{
  /** The `nats` destination whose servers, credentials and TLS the reports use. */
  broker: NatsConfig;
  agentId: string;
  bucket: string;
  /** Between two reports; also the least time between two connection attempts while the broker is down. */
  reportMs: number;
  /** The status now (`FleetStatusReader.read`); `isRunning` false for the last report of a clean stop. */
  read: (now: number, isRunning: boolean) => FleetStatus;
  /** A cheap summary of what counts as a state change (the destinations' states): a change is reported at once. */
  fingerprint: () => string;
  logger: Logger;
}>;

/** How often the fingerprint is compared (a state change is reported within this). */
const CHECK_MS = 1000;
/** The final report of a clean stop waits at most this long. */
const STOP_REPORT_MS = 2000;

/**
 * Publishes the agent's status to head office: every `reportMs`, and within a second of a destination changing
 * state, to the fleet's key-value bucket (one key per store, its stream keeping each store's history).
 *
 * It never blocks capture or delivery: it has its own connection, one report at a time (a slow broker delays
 * the next report, nothing else), and the status is a handful of indexed reads. A broker outage costs at most
 * one connection attempt per `reportMs` (the client does not reconnect by itself): the attempts are bounded by
 * the outage's length over the interval, plus one.
 */
export class FleetReporter {
  readonly #o: FleetReporterOptions;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #connection: NatsConnection | null = null;
  #inFlight: Promise<void> | null = null;
  #nextReportAt = 0;
  #nextConnectAt = 0;
  #lastFingerprint = '';
  #lastFailure = '';
  #isStopped = false;
  readonly #stats = { published: 0, failed: 0, connectAttempts: 0 };

  constructor(options: FleetReporterOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'fleet-reporter' });
  }

  /** Reports published, failed, and connection attempts made since the start. */
  get stats(): Readonly<{ published: number; failed: number; connectAttempts: number }> {
    return { ...this.#stats };
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), Math.min(CHECK_MS, this.#o.reportMs));
    this.#timer.unref();
    this.#tick();
  }

  /** Stops reporting; with a live connection, sends a last report (`running: false`) within a bound. */
  async stop(): Promise<void> {
    if (this.#isStopped) return;
    this.#isStopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#inFlight;
    const nc = this.#connection;
    if (nc === null || nc.isClosed()) return;
    try {
      await this.#publish(nc, this.#o.read(Date.now(), false), STOP_REPORT_MS);
    } catch (error) {
      this.#log.warn({ err: error }, 'the last fleet report (stopped) was not sent');
    }
    await nc.close().catch(() => undefined);
    this.#connection = null;
  }

  #tick(): void {
    if (this.#isStopped || this.#inFlight !== null) return;
    const now = Date.now();
    const fingerprint = this.#o.fingerprint();
    if (now < this.#nextReportAt && fingerprint === this.#lastFingerprint) return;
    this.#lastFingerprint = fingerprint;
    this.#nextReportAt = now + this.#o.reportMs;
    this.#inFlight = this.#report(now).finally(() => {
      this.#inFlight = null;
    });
  }

  /** One report; never throws (a failure is logged once per kind of failure, and counted). */
  async #report(now: number): Promise<void> {
    try {
      const nc = await this.#connect(now);
      if (nc === null) return;
      await this.#publish(nc, this.#o.read(now, true), this.#o.broker.ackTimeoutMs);
      this.#stats.published += 1;
      if (this.#lastFailure !== '') this.#log.info('fleet reports are published again');
      this.#lastFailure = '';
    } catch (error) {
      this.#stats.failed += 1;
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.#lastFailure)
        this.#log.warn({ err: error, bucket: this.#o.bucket }, 'a fleet report was not published');
      this.#lastFailure = message;
    }
  }

  /** The live connection, or a new one if an attempt is due now; null when none is allowed yet. */
  async #connect(now: number): Promise<NatsConnection | null> {
    if (this.#connection !== null && !this.#connection.isClosed()) return this.#connection;
    this.#connection = null;
    if (now < this.#nextConnectAt) return null;
    this.#nextConnectAt = now + this.#o.reportMs;
    this.#stats.connectAttempts += 1;
    const nc = await connect({
      ...connectionOptions(this.#o.broker, this.#o.agentId),
      name: `backroom ${this.#o.agentId} (fleet reports)`,
      // One attempt per server in the list, no reconnect loop: the next report makes the next attempt.
      reconnect: false,
      maxReconnectAttempts: 0,
    });
    if (this.#isStopped) {
      await nc.close();
      return null;
    }
    this.#connection = nc;
    return nc;
  }

  async #publish(nc: NatsConnection, status: FleetStatus, timeout: number): Promise<void> {
    await jetstream(nc).publish(statusSubject(this.#o.bucket, this.#o.agentId), JSON.stringify(status), {
      expect: { streamName: `KV_${this.#o.bucket}` },
      timeout,
      retries: 0,
    });
  }
}

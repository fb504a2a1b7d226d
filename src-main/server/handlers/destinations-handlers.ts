import { DESTINATION_MODE, type ResolvedConfig } from '../../../shared/config.js';
import type { DestinationTestResult } from '../../../shared/rpc-views.js';
import { probeFailure } from '../../connectors/port/call-failure.js';
import type { ConnectorBundle, ProbeResult } from '../../connectors/port/connector-bundle.js';
import type { AuditLog } from '../../exceptions/audit-log.js';
import { ApiFailure, fieldFailure } from '../api-failure.js';
import type { HandlerTable } from '../rpc-router.js';

/** Longest a connection test may take before it is answered as unreachable (a person waits for it). */
export const PROBE_TIMEOUT_MS = 15_000;

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

/** Connection tests: read-only calls, audited with their result (who tested what, and what it said). */
export function destinationsHandlers(
  deps: Readonly<{
    config: Pick<ResolvedConfig, 'destinations' | 'reconcile'>;
    audit: AuditLog;
    connectorOf: (destinationId: string) => ConnectorBundle | undefined;
  }>,
): Pick<HandlerTable, 'destinations.list' | 'destinations.test'> {
  return {
    'destinations.list': () => ({
      destinations: deps.config.destinations.map((d) => ({
        id: d.id,
        type: d.type,
        mode: DESTINATION_MODE[d.type],
        canReconcile: deps.connectorOf(d.id)?.levels !== undefined,
        canReconcileShipments:
          'orders' in d &&
          d.orders !== undefined &&
          deps.connectorOf(d.id)?.fulfilments?.readFulfilled !== undefined,
      })),
      reconcile: { everyMinutes: deps.config.reconcile.everyMinutes },
    }),

    'destinations.test': async ({ destination }, { operator, request }) => {
      const configured = deps.config.destinations.find((d) => d.id === destination);
      if (configured === undefined)
        throw new ApiFailure('not_found', `No destination is named "${destination}" in the configuration.`);
      const probe = deps.connectorOf(destination)?.probe;
      if (probe === undefined)
        throw fieldFailure(
          'destination',
          `"${destination}" (${configured.type}) has no connection test; its delivery results show whether it works`,
        );
      const started = performance.now();
      const found = await runProbe(probe, PROBE_TIMEOUT_MS, (error) =>
        request.log.error({ err: error, destination }, 'the connection test failed unexpectedly'),
      );
      const result: DestinationTestResult = { ...found, ms: Math.round(performance.now() - started) };
      deps.audit.record({
        operator,
        action: 'destination.test',
        subject: `destination:${destination}`,
        reason: null,
        before: null,
        after: result,
      });
      return result;
    },
  };
}

import type { ResolvedConfig } from '../../../shared/config.js';
import type { ConnectorBundle } from '../../connectors/port/connector-bundle.js';
import { ConnectorError } from '../../connectors/port/connector-error.js';
import type { AuditLog } from '../../exceptions/audit-log.js';
import type { Reconciler } from '../../reconcile/reconciler.js';
import type { ShipmentReconciler } from '../../reconcile/shipment-reconciler.js';
import { AgentError, apiReasonOf } from '../../platform/errors.js';
import { ApiFailure, fieldFailure, unknownDestination } from '../api-failure.js';
import type { HandlerTable } from '../rpc-router.js';

/** What the reconciliation routes use of the agent's reconciler: run a comparison, apply a fix (which it audits), and the last report kept in memory. */
export type ReconcilerPort = Pick<Reconciler, 'run' | 'fix' | 'last'>;

/** What the shipment status routes use: whether a destination can, a comparison, a fix (which it audits). */
export type ShipmentReconcilerPort = Pick<ShipmentReconciler, 'canReconcile' | 'run' | 'fix'>;

export type ReconcileHandlerDeps = Readonly<{
  config: Pick<ResolvedConfig, 'destinations'>;
  audit: AuditLog;
  /** A destination's connector bundle (what it can read back), if it has a connector. */
  connectorOf: (destinationId: string) => ConnectorBundle | undefined;
  /** The reconciler, or undefined while this build has none (its routes then answer 503). */
  reconciler: () => ReconcilerPort | undefined;
  /** The shipment status reconciler, or undefined while this build has none (its routes then answer 503). */
  shipmentReconciler: () => ShipmentReconcilerPort | undefined;
}>;

/**
 * A failure of a remote read or a fix, as the API's error: a connector's in business words (503), an agent
 * error with its own reason; anything else is a bug and goes on as it is.
 */
function failureOf(error: unknown, what: string): ApiFailure {
  if (error instanceof ConnectorError) {
    const hint =
      error.reason === 'auth_failed'
        ? 'the destination refused the credentials'
        : error.reason === 'rate_limited'
          ? 'the destination asked to slow down; try again in a minute'
          : error.reason === 'unreachable'
            ? 'the destination cannot be reached'
            : 'the destination answered something unexpected';
    return new ApiFailure('unavailable', `${what}: ${hint} (${error.message}). Nothing was changed.`);
  }
  if (error instanceof AgentError) return new ApiFailure(apiReasonOf(error), error.message);
  throw error;
}

/** Reconciliation: compare a destination's levels with the ledger, fix a drift, show the last comparison. */
export function reconcileHandlers(
  deps: ReconcileHandlerDeps,
): Pick<
  HandlerTable,
  'reconcile.run' | 'reconcile.fix' | 'reconcile.last' | 'reconcile.shipments' | 'reconcile.fixShipment'
> {
  const destinationIds = new Set(deps.config.destinations.map((d) => d.id));
  /** The reconciler, once the destination is known to be one that can be reconciled. */
  const reconcilerFor = (destination: string): ReconcilerPort => {
    if (!destinationIds.has(destination)) throw unknownDestination(destination);
    if (deps.connectorOf(destination)?.levels === undefined)
      throw fieldFailure(
        'destination',
        `"${destination}" cannot read its levels back, so it cannot be reconciled`,
      );
    const reconciler = deps.reconciler();
    if (reconciler === undefined)
      throw new ApiFailure('unavailable', 'Reconciliation is not available in this build of the agent.');
    return reconciler;
  };

  /** The shipment status reconciler, once the destination is known to be one whose orders it can read. */
  const shipmentsFor = (destination: string): ShipmentReconcilerPort => {
    if (!destinationIds.has(destination)) throw unknownDestination(destination);
    const reconciler = deps.shipmentReconciler();
    if (reconciler === undefined)
      throw new ApiFailure('unavailable', 'Reconciliation is not available in this build of the agent.');
    if (!reconciler.canReconcile(destination))
      throw fieldFailure(
        'destination',
        `"${destination}" cannot read its orders' fulfilments back, so their shipment status cannot be reconciled`,
      );
    return reconciler;
  };

  return {
    'reconcile.shipments': async ({ destination }, { operator }) => {
      const reconciler = shipmentsFor(destination);
      try {
        const report = await reconciler.run(destination);
        deps.audit.record({
          operator,
          action: 'reconcile.shipments',
          subject: `destination:${destination}`,
          reason: null,
          before: null,
          after: report.summary,
        });
        return report;
      } catch (error) {
        throw failureOf(error, `Reading orders from ${destination} failed`);
      }
    },

    'reconcile.fixShipment': async (input, { operator }) => {
      const reconciler = shipmentsFor(input.destination);
      try {
        return await reconciler.fix({
          destinationId: input.destination,
          orderId: input.orderId,
          action: input.action,
          reason: input.reason,
          operator,
        });
      } catch (error) {
        throw failureOf(error, `The fix for order ${input.orderId} failed`);
      }
    },

    'reconcile.run': async ({ destination, sku, location }, { operator }) => {
      const reconciler = reconcilerFor(destination);
      try {
        const report = await reconciler.run(destination, {
          ...(sku !== undefined ? { sku } : {}),
          ...(location !== undefined ? { location } : {}),
        });
        deps.audit.record({
          operator,
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
        throw failureOf(error, `Reading levels from ${destination} failed`);
      }
    },

    'reconcile.fix': async (input, { operator }) => {
      const reconciler = reconcilerFor(input.destination);
      try {
        // The reconciler records the fix in the audit log itself (operator, reason, before and after).
        return await reconciler.fix({
          destinationId: input.destination,
          sku: input.sku,
          location: input.location,
          action: input.action,
          reason: input.reason,
          operator,
        });
      } catch (error) {
        throw failureOf(error, `The fix for ${input.sku} at ${input.location} failed`);
      }
    },

    'reconcile.last': ({ destination }) => {
      if (!destinationIds.has(destination)) throw unknownDestination(destination);
      return { report: deps.reconciler()?.last(destination) ?? null };
    },
  };
}

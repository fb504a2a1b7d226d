import type { StatusResponse } from '../../shared/api.js';

export type DestinationStatus = StatusResponse['destinations'][number];

/** A webhook destination's status line: `pending` items, the oldest `oldestAgeSeconds` old when any. */
export function destinationStatus(
  id: string,
  pending: number,
  state: DestinationStatus['state'] = 'closed',
  oldestAgeSeconds = 600,
): DestinationStatus {
  return {
    id,
    type: 'webhook',
    mode: 'ledger',
    state,
    lastDeliveryAt: null,
    pending,
    oldestPendingAgeSeconds: pending > 0 ? oldestAgeSeconds : null,
  };
}

/** What `backroom status` answers for agent store-042 with these destinations and open exceptions. */
export function agentStatus(
  destinations: DestinationStatus[],
  openExceptions: StatusResponse['openExceptions'] = [],
  isRunning = true,
): StatusResponse {
  return {
    agentId: 'store-042',
    version: '0.1.0',
    running: isRunning,
    lastSeq: 9,
    events: 9,
    destinations,
    openExceptions,
  };
}

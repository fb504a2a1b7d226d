import { EVENT_PAYLOAD_VERSION, type PosEvent } from '../../shared/events.js';
import { AgentError } from '../platform/errors.js';

/**
 * Reads an event payload queued with `version`. Every version this Backroom ever wrote has a reader here, so an
 * outbox item queued before an upgrade is still delivered after it; a version from a newer Backroom (after a
 * downgrade) is refused with a reason staff can act on.
 */
export function readEventPayload(version: number, body: string): PosEvent {
  switch (version) {
    case 1:
      return JSON.parse(body) as PosEvent;
    default:
      throw new AgentError(
        'payload_version_unknown',
        `this item was queued by a newer Backroom (payload version ${version}; this one reads up to ${EVENT_PAYLOAD_VERSION}). Run the newer version to deliver it.`,
        { version },
      );
  }
}

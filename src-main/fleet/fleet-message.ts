import { z } from 'zod';
import { fleetStatusSchema, unknownFieldsOf, type FleetStatus } from '../../shared/fleet-status.js';

/**
 * An event as the `nats` destination publishes it (`FleetMessage` in connectors/nats/nats-connector.ts), as far
 * as head office needs it. Loose: other keys (meta, prices, keys of newer agents) are kept in the stored body.
 */
export const fleetEventSchema = z.looseObject({
  id: z.string().min(1).max(128),
  type: z.string().min(1).max(32),
  location: z.string().min(1).max(64),
  occurredAt: z.iso.datetime({ offset: true }),
  lines: z
    .array(
      z.looseObject({
        sku: z.string().min(1).max(255),
        qty: z.number().int().min(-1_000_000).max(1_000_000),
      }),
    )
    .min(1)
    .max(1000),
  agentId: z.string().min(1).max(64),
  source: z.string().min(1).max(64),
  seq: z.number().int().min(1),
  idempotencyKey: z.string().min(1).max(512),
});
export type FleetEvent = z.output<typeof fleetEventSchema>;

/** Why a message was refused: each is counted (`backroom_fleet_rejected_total{reason}`) and kept in fleet_rejected. */
export type RejectReason = 'unparsable' | 'invalid' | 'store_mismatch' | 'id_mismatch';

export type Checked<T> =
  Readonly<{ ok: true; value: T }> | Readonly<{ ok: false; reason: RejectReason; detail: string }>;

/** The zod issues as `path: message`, joined. */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('; ');
}

/**
 * Checks an event message against its subject (`<prefix>.<agentId>.<location>`, each token encoded as the
 * destination does) and its `Nats-Msg-Id`: a store may publish only under its own id (its credentials allow
 * only its own subjects), so a body naming another store, or another location, is refused, not stored.
 */
export function checkEvent(
  text: string,
  subject: string,
  prefix: string,
  msgId: string | null,
): Checked<FleetEvent> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'unparsable', detail: `not JSON: ${(error as Error).message}` };
  }
  const parsed = fleetEventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'invalid', detail: describeZodIssues(parsed.error) };
  const event = parsed.data;
  const tokens = subject.slice(prefix.length + 1).split('.');
  const [store, location] = tokens.map((t) => safeDecode(t));
  if (!subject.startsWith(`${prefix}.`) || tokens.length !== 2 || store !== event.agentId)
    return {
      ok: false,
      reason: 'store_mismatch',
      detail: `agentId "${event.agentId}" does not match the subject ${subject} it was published on`,
    };
  if (location !== event.location)
    return {
      ok: false,
      reason: 'store_mismatch',
      detail: `location "${event.location}" does not match the subject ${subject} it was published on`,
    };
  if (msgId !== null && msgId !== event.idempotencyKey)
    return {
      ok: false,
      reason: 'id_mismatch',
      detail: `Nats-Msg-Id "${msgId}" is not the body's idempotencyKey "${event.idempotencyKey}"`,
    };
  return { ok: true, value: event };
}

function safeDecode(token: string): string | null {
  try {
    return decodeURIComponent(token);
  } catch {
    return null;
  }
}

/**
 * Checks a status from the bucket under `key` (the store's id): it must parse, and name the store whose key it
 * was written under. A status of a newer version is read as far as this version knows it; the fields it does
 * not know are returned (counted and logged by the caller), and the status is stored.
 */
export function checkStatus(
  text: string,
  key: string,
): Checked<{ status: FleetStatus; unknownFields: string[] }> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'unparsable', detail: `not JSON: ${(error as Error).message}` };
  }
  const parsed = fleetStatusSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'invalid', detail: describeZodIssues(parsed.error) };
  if (parsed.data.agentId !== key)
    return {
      ok: false,
      reason: 'store_mismatch',
      detail: `agentId "${parsed.data.agentId}" does not match the key "${key}" it was written under`,
    };
  return { ok: true, value: { status: parsed.data, unknownFields: unknownFieldsOf(parsed.data) } };
}

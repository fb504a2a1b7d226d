import { z } from 'zod';
import { isHttpUrl } from './events.js';

/** What stands for the parcel's number in a carrier's `trackingUrl`. */
export const TRACKING_NUMBER_PLACEHOLDER = '{trackingNumber}';

/** One carrier the warehouse ships with, as the config file names it. */
export const carrierConfigSchema = z.strictObject({
  /** What staff choose or scan, and what a `ship` event's `carrier` says (1 to 64 characters). */
  id: z.string().min(1).max(64),
  name: z.string().min(1).max(100),
  /** The tracking page of a parcel, with `{trackingNumber}` where its number goes. */
  trackingUrl: z
    .string()
    .refine(
      (v) =>
        v.includes(TRACKING_NUMBER_PLACEHOLDER) && isHttpUrl(v.replace(TRACKING_NUMBER_PLACEHOLDER, 'X')),
      `must be an http or https URL containing ${TRACKING_NUMBER_PLACEHOLDER}`,
    )
    .optional(),
});
export type CarrierConfig = z.output<typeof carrierConfigSchema>;

/** The carriers offered when the config lists none: common parcel carriers, without tracking pages. */
export const DEFAULT_CARRIERS: readonly CarrierConfig[] = [
  { id: 'UPS', name: 'UPS' },
  { id: 'DHL', name: 'DHL' },
  { id: 'FedEx', name: 'FedEx' },
  { id: 'USPS', name: 'USPS' },
  { id: 'DPD', name: 'DPD' },
  { id: 'GLS', name: 'GLS' },
];

/**
 * The carrier a code names (its id or its name, in any case, as typed or scanned from a label), or undefined.
 *
 * @example carrierOf(DEFAULT_CARRIERS, 'ups')?.id // 'UPS'
 */
export function carrierOf(carriers: readonly CarrierConfig[], code: string): CarrierConfig | undefined {
  const wanted = code.trim().toLowerCase();
  return carriers.find((c) => c.id.toLowerCase() === wanted || c.name.toLowerCase() === wanted);
}

/** The tracking page of a parcel, when its carrier has one. */
export function trackingUrlOf(carrier: CarrierConfig, trackingNumber: string): string | undefined {
  return carrier.trackingUrl?.replace(TRACKING_NUMBER_PLACEHOLDER, encodeURIComponent(trackingNumber));
}

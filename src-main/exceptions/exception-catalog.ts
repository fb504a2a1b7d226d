import type { EXCEPTION_KIND_FACTS, ExceptionKind } from '../../shared/exception-kinds.js';
import type { IdMappingsTable } from '../db/schema.js';

/**
 * A dedupe key: the kind, a colon, then what makes two occurrences the same exception. While one with the key is
 * open, raising it again counts up on that row. The strings are stored: an existing database keeps deduplicating
 * only while each key function returns exactly what it did, so change none of them.
 */
export type DedupeKey<K extends ExceptionKind = ExceptionKind> = `${K}:${string}`;

type KeyOf<K extends ExceptionKind> = (...args: never[]) => DedupeKey<K>;

/**
 * One kind's entry: `key` builds its dedupe key from typed parts, `message` its wording (the problem in business
 * words, then what to do); `resolution` says how it ends, and `automatically` what closes it with nobody acting
 * (and in which code), which must be set exactly when `shared/` tells the UI the kind resolves by itself.
 */
type CatalogEntry<K extends ExceptionKind> = Readonly<{
  key: KeyOf<K>;
  /** Level-mode delivery names the destination's (sku, location) rather than an outbox item. */
  levelKey?: KeyOf<K>;
  message: (...args: never[]) => string;
  resolution: string;
  /**
   * Raising it again while it is open replaces its message and details (a condition whose size changes); by
   * default the first occurrence's wording is kept and only the count goes up.
   */
  isRestated?: true;
  automatically: (typeof EXCEPTION_KIND_FACTS)[K]['resolvesItself'] extends true ? string : null;
  [more: string]: unknown;
}>;

type Delivery = Readonly<{ what: string; destinationId: string; detail: string }>;

const unmappedMessage = (
  subject: string,
  a: Readonly<{ destinationId: string; localId: string; what?: string | undefined; detail: string }>,
) =>
  `${a.destinationId} has no ${subject === 'SKU' ? 'item' : 'location'} mapped to ${subject} ${a.localId}${a.what ? ` (${a.what} waits for it)` : ''}: ${a.detail}. Map it (Mappings, or a mapping CSV); what waits for it is then sent by itself.`;

const mappedTo = (m: Readonly<{ remoteId: string; origin: string }>) =>
  `mapped to ${m.remoteId} (${m.origin})`;

/**
 * Every exception kind the agent raises, with its key, its wording and how it is resolved. Raising and resolving
 * code takes keys and words from here, so the two ends of a kind cannot drift apart.
 *
 * @example
 * exceptions.raise({
 *   kind: 'unknown_sku',
 *   dedupeKey: EXCEPTION_CATALOG.unknown_sku.key(sku),
 *   message: EXCEPTION_CATALOG.unknown_sku.message({ what, sku, location }),
 *   details: {},
 * });
 */
export const EXCEPTION_CATALOG = {
  unknown_sku: {
    key: (sku: string) => `unknown_sku:${sku}`,
    message: (a: Readonly<{ what: string; sku: string; location: string }>) =>
      `${a.what} at ${a.location} has SKU "${a.sku}", which is not in the item catalog. It was recorded; add the item or correct the SKU so it can be sent on.`,
    resolution:
      'StoreFixes (the workbench): add the item (items.add) or correct the SKU with new events (exceptions.correct); or close it with a reason',
    automatically: null,
  },
  unknown_location: {
    key: (location: string) => `unknown_location:${location}`,
    message: (a: Readonly<{ what: string; location: string }>) =>
      `${a.what} names location "${a.location}", which is not configured. It was recorded; add the location (in the workbench or the config) or move its stock to the right location, and correct the POS setup.`,
    resolution:
      'StoreFixes (the workbench): add the location (settings.addLocation) or move its stock to the right one (exceptions.correct); or close it with a reason',
    automatically: null,
  },
  negative_stock: {
    key: (sku: string, location: string) => `negative_stock:${sku}:${location}`,
    message: (a: Readonly<{ what: string; sku: string; location: string; after: number }>) =>
      `Stock of ${a.sku} at ${a.location} fell to ${a.after} after ${a.what}. Count the item or post the missing receipt.`,
    resolvedAs: (a: Readonly<{ what: string; after: number }>) => `stock back to ${a.after} after ${a.what}`,
    resolution: 'a count or the missing receipt, captured like any event',
    automatically: 'CaptureWriter, when a movement brings the level back to 0 or above',
  },
  bad_import_row: {
    key: (contentHash: string, line: number, field: string) =>
      `bad_import_row:${contentHash}:${line}:${field}`,
    message: (a: Readonly<{ file: string; line: number; field: string; problem: string }>) =>
      `Line ${a.line} of ${a.file} was not captured: ${a.field} ${a.problem}. Fix the row in the workbench, or in the file and drop it in again (rows already captured are not taken twice).`,
    resolution:
      'StoreFixes (the workbench): fix the row (imports.fixRow) or close it with a reason; or fix the file and drop it in again',
    automatically: null,
  },
  bad_import_file: {
    key: (contentHash: string) => `bad_import_file:${contentHash}`,
    message: (a: Readonly<{ file: string; source: string; error: string }>) =>
      `The file ${a.file} from ${a.source} could not be imported: ${a.error}. Nothing of it was captured; fix the file and import it again in the workbench, or drop it in again.`,
    resolution:
      'StoreFixes (the workbench): re-import the fixed file (imports.reimport) or close it with a reason; a fixed file dropped in again is imported but leaves this one open',
    automatically: null,
  },
  delivery_rejected: {
    key: (outboxId: number) => `delivery_rejected:${outboxId}`,
    levelKey: (destinationId: string, sku: string, location: string) =>
      `delivery_rejected:${destinationId}:${sku}:${location}`,
    message: (a: Delivery) =>
      `${a.what} was not accepted by ${a.destinationId}: ${a.detail}. Fix the cause and retry it, or discard it with a reason.`,
    /** An item whose payload this Backroom cannot read (queued by a newer version). */
    unreadableMessage: (
      a: Readonly<{ seq: number; location: string; destinationId: string; error: string }>,
    ) => `Event ${a.seq} at ${a.location} was not sent to ${a.destinationId}: ${a.error}`,
    levelMessage: (
      a: Readonly<{ destinationId: string; sku: string; location: string; quantity: number; detail: string }>,
    ) =>
      `${a.destinationId} refused the stock level of ${a.sku} at ${a.location} (${a.quantity}): ${a.detail}`,
    resolution:
      'OutboxOperations via ExceptionsRepo.closeOfOutboxItem: retry or replay as new resolves it, discard closes it as discarded',
    automatically: null,
  },
  delivery_dead_letter: {
    key: (outboxId: number) => `delivery_dead_letter:${outboxId}`,
    message: (a: Delivery & Readonly<{ attempts: number }>) =>
      `${a.what} could not be delivered to ${a.destinationId} after ${a.attempts} attempts (last: ${a.detail}). Retry it once ${a.destinationId} works again, or discard it with a reason.`,
    resolution:
      'OutboxOperations via ExceptionsRepo.closeOfOutboxItem: retry or replay as new resolves it, discard closes it as discarded',
    automatically: null,
  },
  destination_auth_failed: {
    key: (destinationId: string) => `destination_auth_failed:${destinationId}`,
    message: (a: Readonly<{ destinationId: string; detail: string }>) =>
      `${a.destinationId} refused Backroom's credentials (${a.detail}). Delivery to it is paused; fix the credentials and resume it.`,
    resolution:
      'Dispatcher.resume, once the credentials are fixed (a new one is raised if they are still refused)',
    automatically: null,
  },
  destination_misconfigured: {
    key: (destinationId: string) => `destination_misconfigured:${destinationId}`,
    message: (a: Readonly<{ destinationId: string; detail: string }>) =>
      `${a.destinationId} cannot take anything as it is set up: ${a.detail}. Delivery to it is paused and nothing is lost; fix it and resume it.`,
    resolution: 'Dispatcher.resume, once the setup is fixed',
    automatically: null,
  },
  unmapped_sku: {
    key: (destinationId: string, sku: string) => `unmapped_sku:${destinationId}:${sku}`,
    message: (a: Parameters<typeof unmappedMessage>[1]) => unmappedMessage('SKU', a),
    resolvedAs: mappedTo,
    resolution: 'IdMappingRepo: setting the mapping (by hand, CSV or discovery) releases what it held',
    automatically: null,
  },
  unmapped_location: {
    key: (destinationId: string, location: string) => `unmapped_location:${destinationId}:${location}`,
    message: (a: Parameters<typeof unmappedMessage>[1]) => unmappedMessage('location', a),
    resolvedAs: mappedTo,
    resolution: 'IdMappingRepo: setting the mapping (by hand, CSV or discovery) releases what it held',
    automatically: null,
  },
  order_pull_failed: {
    key: (destinationId: string) => `order_pull_failed:${destinationId}`,
    message: (a: Readonly<{ destinationId: string; error: string; isAuth: boolean }>) =>
      a.isAuth
        ? `${a.destinationId} refused Backroom's credentials when reading orders (${a.error}). Its new orders are not reserved here until the credentials are fixed.`
        : `Orders could not be read from ${a.destinationId} (${a.error}). Backroom keeps trying; until then its new orders are not reserved here.`,
    resolvedAs: () => 'orders pulled again',
    resolution: 'fix the credentials or wait for the marketplace',
    automatically: 'OrderPuller, after the next good pull',
  },
  order_unmapped_item: {
    key: (destinationId: string, remoteItem: string) => `order_unmapped_item:${destinationId}:${remoteItem}`,
    message: (a: Readonly<{ destinationId: string; order: string; remoteItem: string }>) =>
      `An order from ${a.destinationId} (${a.order}) has an item (${a.remoteItem}) that is mapped to no SKU here, so it was not reserved. Map the item; the order is then read again and reserved.`,
    resolvedAs: (a: Readonly<{ order: string }>) => `item mapped; order ${a.order} read again`,
    resolution:
      'map the item (mappings.set or a mapping CSV): MappingChanges has OrderPuller.rereadMapped read the order again',
    automatically: 'OrderPuller, when the order read again no longer has the item unmapped',
  },
  order_rejected: {
    /**
     * Raised under `order_pull_failed` before the kind existed; the key is unchanged, so such a row still open
     * keeps counting up (under its old kind) until someone closes it.
     */
    key: (destinationId: string, orderId: string) => `order_rejected:${destinationId}:${orderId}`,
    message: (a: Readonly<{ destinationId: string; order: string; why: string }>) =>
      `Order ${a.order} from ${a.destinationId} could not be reserved: ${a.why}.`,
    resolution:
      'by hand: the order as the marketplace sent it fails validation here; fix it there or by hand',
    automatically: null,
  },
  fulfilment_rejected: {
    key: (destinationId: string, orderId: string, seq: number) =>
      `fulfilment_rejected:${destinationId}:${orderId}:${seq}`,
    message: (
      a: Readonly<{
        destinationId: string;
        order: string;
        why: 'cancelled' | 'already_fulfilled' | 'other';
        detail: string;
      }>,
    ) => {
      const base = `The shipment of order ${a.order} was not recorded at ${a.destinationId}`;
      switch (a.why) {
        case 'cancelled':
          return `${base}: the order was cancelled there meanwhile (${a.detail}). If the parcel can still be stopped, stop it and return the goods to stock; otherwise contact the customer. Close this once done.`;
        case 'already_fulfilled':
          return `${base}: its lines are fulfilled there already (${a.detail}). Check the order there: if it shows the right tracking, close this; if not, correct the tracking number there.`;
        case 'other':
          return `${base}: ${a.detail}. Correct the order there (or fulfil it there by hand with the tracking number), then close this.`;
      }
    },
    resolution:
      'by hand at the marketplace: stop the parcel for a cancelled order, or record the fulfilment there; then close',
    automatically: null,
  },
  order_cancelled_shipped: {
    key: (destinationId: string, orderId: string) => `order_cancelled_shipped:${destinationId}:${orderId}`,
    message: (a: Readonly<{ destinationId: string; order: string; location: string; shipped: string }>) =>
      `Order ${a.order} was cancelled on ${a.destinationId} after ${a.shipped} shipped from ${a.location}. If the parcel comes back, receive it as a return of the order on the Fulfil page (resellable goes back on hand, damaged is written off); if it does not, settle it with the customer and close this.`,
    resolvedAs: (a: Readonly<{ order: string }>) => `a return of order ${a.order} was received`,
    resolution: 'a return of the order received at the workbench (fulfil.return), or by hand: close',
    automatically: 'Fulfilment.receiveReturn, when a return of the order is captured',
  },
  order_return_expected: {
    isRestated: true,
    key: (destinationId: string, orderId: string) => `order_return_expected:${destinationId}:${orderId}`,
    message: (a: Readonly<{ destinationId: string; order: string; location: string; coming: string }>) =>
      `A return of order ${a.order} was recorded on ${a.destinationId} (a return or a refund that restocks): ${a.coming} should come back to ${a.location}. When the parcel arrives, receive it as a return of the order on the Fulfil page with its condition (resellable goes back on hand, damaged is written off); if nothing comes back, settle it with the customer or the marketplace and close this.`,
    resolvedAs: (a: Readonly<{ order: string }>) => `a return of order ${a.order} was received`,
    resolution: 'the goods received at the workbench (fulfil.return), or by hand: close (nothing came back)',
    automatically:
      'Fulfilment.receiveReturn, when a return of the order is captured; the order puller, when what came back covers it',
  },
  reconcile_drift: {
    key: (destinationId: string) => `reconcile_drift:${destinationId}`,
    message: (
      a: Readonly<{
        destinationId: string;
        count: number;
        example: Readonly<{ sku: string; location: string; explanation: string }>;
      }>,
    ) =>
      `${a.count} level${a.count === 1 ? '' : 's'} at ${a.destinationId} ${a.count === 1 ? 'differs' : 'differ'} from Backroom's ledger (for example ${a.example.sku} at ${a.example.location}: ${a.example.explanation}). Open Reconciliation to push the local level, adopt the remote one, or ignore it.`,
    resolvedAs: () => 'levels match again',
    /**
     * Each pass raises it again with what it found now (how many levels, which ones): the open row takes the
     * newest message and details rather than keeping the first pass's count.
     */
    isRestated: true,
    resolution: 'the reconciliation page: push the local level, adopt the remote one, or ignore it',
    automatically: 'Reconciler.runScheduled, when a scheduled pass finds no unexplained drift',
  },
  shipment_drift: {
    key: (destinationId: string) => `shipment_drift:${destinationId}`,
    message: (
      a: Readonly<{
        destinationId: string;
        count: number;
        example: Readonly<{ order: string; explanation: string }>;
      }>,
    ) =>
      `${a.count} order${a.count === 1 ? '' : 's'} of ${a.destinationId} ${a.count === 1 ? 'differs' : 'differ'} in shipment status from what was shipped here (for example order ${a.example.order}: ${a.example.explanation.replace(/\.$/, '')}). Open Reconciliation, Shipment status, to resend the fulfilment or adopt ${a.destinationId}'s state.`,
    resolvedAs: () => 'every order is in step again',
    /** Each pass raises it again with what it found now (how many orders, which ones). */
    isRestated: true,
    resolution:
      'the reconciliation page, Shipment status: resend the fulfilment or adopt the marketplace’s state',
    automatically: 'ShipmentReconciler.runScheduled, when a scheduled pass finds every order in step',
  },
  catalog_pull_failed: {
    key: (sourceId: string) => `catalog_pull_failed:${sourceId}`,
    message: (a: Readonly<{ sourceId: string; error: string }>) =>
      `The item master could not be read from ${a.sourceId} (${a.error}). Backroom keeps trying from where it stopped; until then the tills get the items as they were.`,
    resolvedAs: () => 'item master read again',
    resolution: 'fix the ERP connection or credentials, or wait for the ERP',
    automatically: 'CatalogPuller, after the next page it stores',
  },
  catalog_item_refused: {
    key: (sourceId: string, sku: string) => `catalog_item_refused:${sourceId}:${sku}`,
    message: (a: Readonly<{ sourceId: string; sku: string; field: string; why: string }>) =>
      `${a.sourceId} sent item ${a.sku} with a bad ${a.field}: ${a.why}. Nothing of that change was stored (the item stays as it was here); fix the item in ${a.sourceId}, and its next change is read again.`,
    resolvedAs: () => 'item read again and stored',
    isRestated: true,
    resolution: 'fix the item at its source; or close it with a reason',
    automatically: 'CatalogPuller, when a later pull stores the item',
  },
  price_below_floor: {
    key: (destinationId: string, sku: string) => `price_below_floor:${destinationId}:${sku}`,
    message: (
      a: Readonly<{
        destinationId: string;
        sku: string;
        amount: string;
        currency: string;
        lastSent: string;
        floorPercent: number;
      }>,
    ) =>
      `The new price of ${a.sku} (${a.amount} ${a.currency}) is more than ${a.floorPercent}% under the price ${a.destinationId} has now (${a.lastSent} ${a.currency}), so it was not sent: a misplaced decimal point must not reach the shop. If the price is right, confirm and send it; if not, keep the old price and correct it in the item master.`,
    resolvedAs: (a: Readonly<{ how: 'confirmed' | 'kept' | 'changed' }>) =>
      a.how === 'confirmed'
        ? 'price confirmed and sent'
        : a.how === 'kept'
          ? 'old price kept'
          : 'price changed again',
    resolution:
      'the Prices page: confirm and send (prices.confirm) or keep the old price (prices.keep); a new price change judges it again',
    automatically: 'PriceMarks.markChanged, when the item price changes again before anyone acted',
  },
  statement_refused: {
    /** `what`: `line:<sku>|<unit price>|<currency>` for a line, `statement` for the whole statement. */
    key: (destinationId: string, reference: string, what: string) =>
      `statement_refused:${destinationId}:${reference}:${what}`,
    message: (
      a: Readonly<{
        destinationId: string;
        location: string;
        day: string;
        reference: string;
        line: Readonly<{ sku: string; qty: number; unitPrice: string; currency: string }> | null;
        why: string;
      }>,
    ) =>
      a.line === null
        ? `The day statement of ${a.location} for ${a.day} (${a.reference}) was not posted to ${a.destinationId}: ${a.why}. The day's sales stay recorded here; fix it, then press "Post again" on the Day close page.`
        : `${a.line.qty} × ${a.line.sku} at ${a.line.unitPrice === '' ? 'no price' : `${a.line.unitPrice}${a.line.currency === '' ? '' : ` ${a.line.currency}`}`} of ${a.location} on ${a.day} was left off the day statement ${a.reference} at ${a.destinationId}: ${a.why}. The rest of the statement was posted and the sales stay recorded here; fix it, then press "Post refused lines again" on the Day close page (a supplementary statement), or book it in the ERP by hand and close this.`,
    resolvedAs: (a: Readonly<{ reference: string }>) => `sent again in ${a.reference}`,
    resolution:
      'the Day close page: fix the cause in the ERP and post the statement (or its refused lines) again; or book it by hand and close it',
    automatically:
      'StatementSender, when the statement, or the supplementary statement its refused lines went into, is posted',
  },
} as const satisfies { [K in ExceptionKind]: CatalogEntry<K> };

/** The exception raised while an item or location has no mapping for a destination: its kind and dedupe key. */
export function unmappedException(
  destinationId: string,
  mapping: IdMappingsTable['kind'],
  localId: string,
):
  | Readonly<{ kind: 'unmapped_sku'; dedupeKey: DedupeKey<'unmapped_sku'> }>
  | Readonly<{ kind: 'unmapped_location'; dedupeKey: DedupeKey<'unmapped_location'> }> {
  return mapping === 'item'
    ? { kind: 'unmapped_sku', dedupeKey: EXCEPTION_CATALOG.unmapped_sku.key(destinationId, localId) }
    : {
        kind: 'unmapped_location',
        dedupeKey: EXCEPTION_CATALOG.unmapped_location.key(destinationId, localId),
      };
}

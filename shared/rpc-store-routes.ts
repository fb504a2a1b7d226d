import { z } from 'zod';
import { fulfilOrdersInputSchema, fulfilReturnInputSchema, fulfilShipInputSchema } from './fulfilment.js';
import { out, reason, type RpcRoute } from './rpc-route.js';
import type {
  CountSessionView,
  EntryResult,
  ExpectedTransferView,
  FulfilOrdersView,
  ItemLookupView,
  ShipResult,
  StockItemView,
  StockListView,
} from './rpc-views.js';
import {
  adjustInputSchema,
  countRecordInputSchema,
  countStartInputSchema,
  itemLookupInputSchema,
  receiveInputSchema,
  stockListInputSchema,
  transferInInputSchema,
  transferOutInputSchema,
} from './stock-entry.js';

/**
 * The store floor's routes (part of `RPC`): stock and items, entry at the workbench (receive, adjust, transfers),
 * count sessions, and fulfilment (open orders, ship, returns).
 */
export const STORE_ROUTES = {
  'stock.item': {
    method: 'GET',
    path: '/api/v1/stock/item',
    input: z.strictObject({ q: z.string().trim().min(1, 'Enter a SKU or barcode').max(255) }),
    output: out<StockItemView>(),
  },
  'stock.list': {
    method: 'GET',
    path: '/api/v1/stock/list',
    input: stockListInputSchema,
    output: out<StockListView>(),
  },
  'items.lookup': {
    method: 'GET',
    path: '/api/v1/items/lookup',
    input: itemLookupInputSchema,
    output: out<ItemLookupView>(),
  },
  'items.add': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/items',
    input: z.strictObject({
      sku: z.string().trim().min(1, 'Enter the SKU').max(255),
      name: z.string().trim().min(1, 'Enter the item name').max(255),
      barcode: z.string().trim().max(64).optional(),
      reason: reason.optional(),
    }),
    /** `resolved`: the `unknown_sku` exceptions the new item closed. */
    output: out<{ sku: string; resolved: number }>(),
  },
  'entry.receive': {
    method: 'POST',
    path: '/api/v1/entry/receive',
    input: receiveInputSchema,
    output: out<EntryResult>(),
  },
  'entry.adjust': {
    method: 'POST',
    path: '/api/v1/entry/adjust',
    input: adjustInputSchema,
    output: out<EntryResult>(),
  },
  'entry.transferOut': {
    method: 'POST',
    path: '/api/v1/entry/transfer-out',
    input: transferOutInputSchema,
    output: out<EntryResult>(),
  },
  'entry.transferIn': {
    method: 'POST',
    path: '/api/v1/entry/transfer-in',
    input: transferInInputSchema,
    output: out<EntryResult & { differences: { sku: string; sent: number; received: number }[] }>(),
  },
  'entry.expectedTransfers': {
    method: 'GET',
    path: '/api/v1/entry/expected-transfers',
    input: z.strictObject({ location: z.string().min(1).max(64) }),
    output: out<{ transfers: ExpectedTransferView[] }>(),
  },
  'fulfil.orders': {
    method: 'GET',
    path: '/api/v1/fulfil/orders',
    input: fulfilOrdersInputSchema,
    output: out<FulfilOrdersView>(),
  },
  'fulfil.ship': {
    method: 'POST',
    path: '/api/v1/fulfil/ship',
    input: fulfilShipInputSchema,
    output: out<ShipResult>(),
  },
  'fulfil.return': {
    method: 'POST',
    path: '/api/v1/fulfil/return',
    input: fulfilReturnInputSchema,
    output: out<EntryResult & { order: string; condition: 'resellable' | 'damaged' }>(),
  },
  'counts.start': {
    method: 'POST',
    path: '/api/v1/counts',
    input: countStartInputSchema,
    output: out<CountSessionView>(),
  },
  'counts.list': {
    method: 'GET',
    path: '/api/v1/counts',
    input: z.strictObject({ status: z.enum(['open', 'posted', 'cancelled']).optional() }),
    output: out<{ sessions: Omit<CountSessionView, 'lines'>[] }>(),
  },
  'counts.get': {
    method: 'GET',
    path: '/api/v1/counts/:id',
    input: z.strictObject({ id: z.coerce.number().int().positive() }),
    output: out<CountSessionView>(),
  },
  'counts.record': {
    method: 'POST',
    path: '/api/v1/counts/record',
    input: countRecordInputSchema,
    output: out<CountSessionView>(),
  },
  'counts.post': {
    method: 'POST',
    path: '/api/v1/counts/post',
    input: z.strictObject({ session: z.number().int().positive() }),
    output: out<CountSessionView & { result: EntryResult }>(),
  },
  'counts.cancel': {
    method: 'POST',
    path: '/api/v1/counts/cancel',
    input: z.strictObject({ session: z.number().int().positive(), reason: reason.min(1, 'Say why') }),
    output: out<CountSessionView>(),
  },
} as const satisfies Record<string, RpcRoute>;

import { z } from 'zod';
import { out, reason, type RpcRoute } from './rpc-route.js';
import {
  PRICE_DRIFT_FIXES,
  type ChannelPriceView,
  type DayCloseView,
  type MoneyReconcileView,
  type PriceDriftFix,
  type PriceDriftReport,
  type PricesView,
} from './rpc-views.js';

/**
 * Money and prices (part of `RPC`): prices per channel and the ones held under their floor, price drift, and the
 * business days of `daily_statement` ERPs (Day close, the money reconciliation).
 */
export const COMMERCE_ROUTES = {
  'prices.item': {
    method: 'GET',
    path: '/api/v1/prices/item',
    input: z.strictObject({ sku: z.string().trim().min(1, 'Enter a SKU').max(255) }),
    output: out<ChannelPriceView[]>(),
  },
  'prices.list': {
    method: 'GET',
    path: '/api/v1/prices',
    input: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(200) }),
    output: out<PricesView>(),
  },
  'prices.confirm': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/prices/confirm',
    input: z.strictObject({
      destination: z.string().min(1).max(64),
      sku: z.string().min(1).max(255),
      reason: reason.optional(),
    }),
    /** `amount`: the held price now released to be sent. */
    output: out<{ amount: string }>(),
  },
  'prices.keep': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/prices/keep',
    input: z.strictObject({
      destination: z.string().min(1).max(64),
      sku: z.string().min(1).max(255),
      reason: reason.min(1, 'Say why'),
    }),
    /** `amount`: the held price that will not be sent. */
    output: out<{ amount: string }>(),
  },
  'reconcile.prices': {
    method: 'POST',
    path: '/api/v1/reconcile/prices',
    input: z.strictObject({
      destination: z.string().min(1).max(64),
      sku: z.string().min(1).max(255).optional(),
    }),
    output: out<PriceDriftReport>(),
  },
  'reconcile.priceFix': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/reconcile/prices/fix',
    input: z.strictObject({
      destination: z.string().min(1).max(64),
      sku: z.string().min(1).max(255),
      action: z.enum(PRICE_DRIFT_FIXES),
      reason: reason.min(1, 'Say why'),
    }),
    output: out<{ action: PriceDriftFix; detail: string }>(),
  },
  'days.list': {
    method: 'GET',
    role: 'manager',
    path: '/api/v1/days',
    input: z.strictObject({}),
    output: out<DayCloseView>(),
  },
  'days.close': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/days/close',
    input: z.strictObject({
      location: z.string({ error: 'Choose a location' }).trim().min(1, 'Choose a location').max(64),
      day: z.string({ error: 'Choose a day' }).regex(/^\d{4}-\d{2}-\d{2}$/, 'A day looks like 2026-12-05'),
    }),
    output: out<DayCloseView>(),
  },
  'days.postAgain': {
    method: 'POST',
    role: 'manager',
    path: '/api/v1/days/post-again',
    input: z.strictObject({ statement: z.number().int().positive() }),
    output: out<{ reference: string }>(),
  },
  'days.money': {
    method: 'GET',
    role: 'manager',
    path: '/api/v1/days/money',
    input: z.strictObject({}),
    output: out<MoneyReconcileView>(),
  },
} as const satisfies Record<string, RpcRoute>;

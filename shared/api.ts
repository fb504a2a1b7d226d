import type { FieldError } from './events.js';

/** The error body every endpoint answers with: a stable machine `reason` and a sentence for people. */
export type ApiError = {
  type: 'error';
  reason: ApiErrorReason;
  message: string;
  errors?: FieldError[];
};

export type ApiErrorReason =
  | 'bad_json'
  | 'bad_shape'
  | 'too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'unavailable'
  | 'internal';

/** Per-event answer of `POST /api/v1/events`, in request order. */
export type IngestResult =
  | { id: string; status: 'accepted'; seq: number }
  | { id: string; status: 'duplicate'; seq: number }
  | { id: string | null; status: 'rejected'; errors: FieldError[] };

export type IngestResponse = { results: IngestResult[] };

export type HealthResponse = { status: 'ok'; agentId: string; version: string };

/** One channel's view of an item at a location. */
export type ChannelAvailability = { channel: string; buffer: number; available: number };

export type StockLevel = {
  sku: string;
  location: string;
  onHand: number;
  reserved: number;
  safetyStock: number;
  /** What the store itself can sell: on hand − reserved, never below 0. */
  available: number;
  channels: ChannelAvailability[];
  updatedSeq: number;
};

export type StockResponse = { levels: StockLevel[] };

export type DestinationStatus = {
  id: string;
  type: string;
  mode: 'ledger' | 'level';
  /** closed: flowing; half_open: probing after failures; open: backing off; paused: credentials refused. */
  state: 'closed' | 'half_open' | 'open' | 'paused' | 'no_connector' | 'stopped';
  /** ISO time of the last delivery, or null. */
  lastDeliveryAt: string | null;
  pending: number;
  oldestPendingAgeSeconds: number | null;
};

export type StatusResponse = {
  agentId: string;
  version: string;
  running: boolean;
  lastSeq: number;
  events: number;
  destinations: DestinationStatus[];
  openExceptions: { kind: string; count: number }[];
};

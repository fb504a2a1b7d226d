import type { IngestResult } from '../../shared/api.js';
import { canonicalEventBody, parseEvent } from '../../shared/events.js';
import type { CaptureItem } from './capture-writer.js';
import type { GroupCommitter } from './group-commit.js';
import { sha256 } from './hash-chain.js';

/** Validates and canonicalizes one raw event; the CPU work done before the write transaction. */
export function prepareEvent(raw: unknown): CaptureItem {
  const parsed = parseEvent(raw);
  if (!parsed.ok) return { rejected: { id: parsed.id ?? null, status: 'rejected', errors: parsed.errors } };
  const body = canonicalEventBody(parsed.event);
  return { event: parsed.event, body, contentHash: sha256(body) };
}

/**
 * `capture(events)`: the one way data enters Backroom. Every input (HTTP ingest, drop folder, import, UI entry,
 * marketplace orders) calls this. Each event is judged on its own; valid ones are stored durably (fsynced)
 * before the returned promise resolves; invalid ones are answered and nothing of them is stored.
 */
export class CaptureService {
  readonly #committer: GroupCommitter;

  constructor(committer: GroupCommitter) {
    this.#committer = committer;
  }

  /** Captures `rawEvents` from `source`, answering each in order. */
  capture(source: string, rawEvents: readonly unknown[]): Promise<IngestResult[]> {
    return this.#committer.submit(source, rawEvents.map(prepareEvent));
  }
}

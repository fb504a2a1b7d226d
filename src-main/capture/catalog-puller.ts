import type { AgentDatabase } from '../db/agent-database.js';
import type { Logger } from '../platform/logger.js';
import type { CatalogCheckpoint, CatalogSource } from '../connectors/port/connector-bundle.js';
import { ConnectorError } from '../connectors/port/connector-error.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { Catalog } from '../ledger/catalog.js';
import { PollingJob } from '../platform/polling-job.js';

export type CatalogPullerOptions = Readonly<{
  /** The destination the catalog is pulled from; also the source recorded on what it stores. */
  sourceId: string;
  source: CatalogSource;
  db: AgentDatabase;
  catalog: Catalog;
  exceptions: ExceptionsRepo;
  logger: Logger;
  pollSeconds: number;
  /** Most pages read in one pull; the rest waits for the next (the checkpoint only moves over what was stored). */
  maxPages?: number;
  /** Told after each stored page (the UI's live view, tests). */
  onPage?: (report: CatalogPullReport) => void;
}>;

/** What one pull did. */
export type CatalogPullReport = {
  pages: number;
  read: number;
  stored: number;
  unchanged: number;
  refused: number;
  skipped: number;
  isDone: boolean;
};

type CheckpointRow = {
  since: string | null;
  pull_mark: string | null;
  phase: number;
  after_id: number;
};

/**
 * Pulls the item master from an ERP into the catalog, page by page, on a timer and on demand. Each page and the
 * checkpoint after it are stored in one transaction, so the checkpoint never moves past what is stored: a pull
 * cut short (a crash, a SIGKILL, the ERP going away) goes on from the last page stored, and what it reads again
 * changes nothing (the catalog stores an item only when something about it differs).
 *
 * Until a first pull is done the SKU check stays off (every SKU counts as known), so the minutes of a first
 * pull raise no `unknown_sku` for real items.
 *
 * A product the catalog refuses (a bad price, an unknown currency, a barcode another item has) raises one
 * `catalog_item_refused` naming the item and field and is not stored; the rest of the page is. It resolves itself
 * when a later pull stores that item. A failed pull raises `catalog_pull_failed`, resolved by the next stored page.
 */
export class CatalogPuller {
  readonly #o: CatalogPullerOptions;
  readonly #log: Logger;
  readonly #job: PollingJob<CatalogPullReport>;

  constructor(options: CatalogPullerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'catalog-puller', source: options.sourceId });
    this.#job = new PollingJob(() => this.#pull(), {
      everyMs: options.pollSeconds * 1000,
      onError: (error) => this.#log.warn({ err: error }, 'catalog pull failed'),
    });
  }

  /** Whether any catalog source has ever finished a pull (then the catalog holds a whole item master). */
  static hasFinishedPull(db: AgentDatabase): boolean {
    return (
      db.sqlite.prepare('SELECT 1 FROM catalog_checkpoints WHERE since IS NOT NULL LIMIT 1').get() !==
      undefined
    );
  }

  get sourceId(): string {
    return this.#o.sourceId;
  }

  /** Pulls now and then every `pollSeconds`. */
  start(): void {
    this.#job.start();
  }

  stop(): Promise<void> {
    return this.#job.stop();
  }

  /** Pulls once (joining a pull already running). Throws the error of a failed pull. */
  pullNow(): Promise<CatalogPullReport> {
    return this.#job.runNow();
  }

  /** Where the pull stands (the UI, tests). */
  checkpoint(): CatalogCheckpoint & Readonly<{ lastPullAt: number | null; lastError: string | null }> {
    const row = this.#o.db.sqlite
      .prepare<[string], CheckpointRow & { last_pull_at: number | null; last_error: string | null }>(
        'SELECT * FROM catalog_checkpoints WHERE source_id = ?',
      )
      .get(this.#o.sourceId);
    return {
      since: row?.since ?? null,
      mark: row?.pull_mark ?? null,
      phase: row?.phase ?? 0,
      afterId: row?.after_id ?? 0,
      lastPullAt: row?.last_pull_at ?? null,
      lastError: row?.last_error ?? null,
    };
  }

  async #pull(): Promise<CatalogPullReport> {
    const { sourceId, db, catalog, exceptions } = this.#o;
    const report: CatalogPullReport = {
      pages: 0,
      read: 0,
      stored: 0,
      unchanged: 0,
      refused: 0,
      skipped: 0,
      isDone: false,
    };
    const maxPages = this.#o.maxPages ?? 1000;
    while (!report.isDone && report.pages < maxPages && !this.#job.signal.aborted) {
      const at = this.checkpoint();
      let page;
      try {
        const signal = AbortSignal.any([this.#job.signal, AbortSignal.timeout(120_000)]);
        page = await this.#o.source.pullCatalog(at, signal);
      } catch (error) {
        this.#recordFailure(error);
        throw error;
      }
      db.transaction(() => {
        const result = catalog.apply(page.items, sourceId);
        const refusedSkus = new Set(result.refused.map((r) => r.sku));
        for (const refusal of result.refused)
          exceptions.raise({
            kind: 'catalog_item_refused',
            dedupeKey: EXCEPTION_CATALOG.catalog_item_refused.key(sourceId, refusal.sku),
            message: EXCEPTION_CATALOG.catalog_item_refused.message({
              sourceId,
              sku: refusal.sku,
              field: refusal.field,
              why: refusal.message,
            }),
            details: { field: refusal.field, error: refusal.message },
            sku: refusal.sku,
            destinationId: sourceId,
          });
        for (const item of page.items)
          if (!refusedSkus.has(item.sku))
            exceptions.resolveByKey(
              EXCEPTION_CATALOG.catalog_item_refused.key(sourceId, item.sku),
              EXCEPTION_CATALOG.catalog_item_refused.resolvedAs(),
            );
        db.sqlite
          .prepare(
            `INSERT INTO catalog_checkpoints (source_id, since, pull_mark, phase, after_id, last_pull_at, last_error, items_seen)
             VALUES (@sourceId, @since, @mark, @phase, @afterId, @now, NULL, @seen)
             ON CONFLICT (source_id) DO UPDATE SET since = excluded.since, pull_mark = excluded.pull_mark,
               phase = excluded.phase, after_id = excluded.after_id, last_pull_at = excluded.last_pull_at,
               last_error = NULL, items_seen = items_seen + excluded.items_seen`,
          )
          .run({ sourceId, ...page.next, now: Date.now(), seen: page.items.length });
        const failed = EXCEPTION_CATALOG.catalog_pull_failed;
        exceptions.resolveByKey(failed.key(sourceId), failed.resolvedAs());
        report.pages += 1;
        report.read += page.items.length;
        report.stored += result.stored;
        report.unchanged += result.unchanged;
        report.refused += result.refused.length;
        report.skipped += page.skipped;
        report.isDone = page.isLast;
      });
      // The whole catalog is here: from now on a sale of a SKU it lacks raises unknown_sku.
      if (report.isDone) catalog.enable();
      this.#o.onPage?.({ ...report });
    }
    if (report.stored + report.refused > 0) this.#log.info(report, 'item master pulled');
    return report;
  }

  #recordFailure(error: unknown): void {
    const { sourceId } = this.#o;
    const message = error instanceof Error ? error.message : String(error);
    this.#o.db.sqlite
      .prepare(
        `INSERT INTO catalog_checkpoints (source_id, last_error) VALUES (?, ?)
         ON CONFLICT (source_id) DO UPDATE SET last_error = excluded.last_error`,
      )
      .run(sourceId, message);
    if (this.#job.signal.aborted) return;
    this.#o.exceptions.raise({
      kind: 'catalog_pull_failed',
      dedupeKey: EXCEPTION_CATALOG.catalog_pull_failed.key(sourceId),
      message: EXCEPTION_CATALOG.catalog_pull_failed.message({ sourceId, error: message }),
      details: { error: message, reason: error instanceof ConnectorError ? error.reason : 'unexpected' },
      destinationId: sourceId,
    });
  }
}

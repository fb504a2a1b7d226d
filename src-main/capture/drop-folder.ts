import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../platform/logger.js';
import { importFile, type ImportDeps, type ImportReport } from './import-file.js';

export type DropFolderOptions = Readonly<{
  path: string;
  source: string;
  /** A file must be unchanged this long before it is read. */
  stableMs: number;
  logger: Logger;
  onImported?: (report: ImportReport) => void;
}>;

const IGNORED = /(^|[/\\])(\.|~)|\.(tmp|part|partial|crdownload|swp)$/i;

/**
 * Watches a folder that a legacy POS writes exports into. Each file is read once it has stopped changing for
 * `stableMs` (so a file still being written is not read), captured through `importFile`, then moved to
 * `processed/` or `failed/` beside a `<name>.report.json`. Hidden and temporary files (`.tmp`, `.part`, `~`) are
 * left alone, which lets a POS write under a temporary name and rename when done. Files are handled one at a
 * time, in the order they appear.
 */
export class DropFolder {
  readonly #options: DropFolderOptions;
  readonly #deps: ImportDeps;
  #watcher: FSWatcher | null = null;
  #chain: Promise<void> = Promise.resolve();
  readonly #pending = new Set<string>();

  constructor(deps: ImportDeps, options: DropFolderOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  async start(): Promise<void> {
    const { path, stableMs } = this.#options;
    await mkdir(join(path, 'processed'), { recursive: true });
    await mkdir(join(path, 'failed'), { recursive: true });
    const watcher = watch(path, {
      depth: 0,
      ignoreInitial: false,
      ignored: (p: string) => p !== path && (IGNORED.test(basename(p)) || /[/\\](processed|failed)$/.test(p)),
      awaitWriteFinish: { stabilityThreshold: stableMs, pollInterval: Math.min(100, stableMs) },
    });
    watcher.on('add', (file) => this.#enqueue(file));
    watcher.on('change', (file) => this.#enqueue(file));
    watcher.on('error', (error) =>
      this.#options.logger.error({ err: error, path }, 'drop folder watch failed'),
    );
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    this.#watcher = watcher;
  }

  /** Stops watching and waits for the file being imported, if any. */
  async stop(): Promise<void> {
    await this.#watcher?.close();
    this.#watcher = null;
    await this.#chain;
  }

  /** Resolves when every file seen so far has been handled. */
  whenIdle(): Promise<void> {
    return this.#chain;
  }

  #enqueue(file: string): void {
    if (this.#pending.has(file)) return;
    this.#pending.add(file);
    this.#chain = this.#chain.then(async () => {
      this.#pending.delete(file);
      try {
        await this.#handle(file);
      } catch (error) {
        this.#options.logger.error(
          { err: error, file },
          'drop folder import failed; the file stays for the next try',
        );
      }
    });
  }

  async #handle(file: string): Promise<void> {
    const exists = await stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!exists) return;
    const report = await importFile(this.#deps, this.#options.source, file);
    const target = report.outcome === 'failed' ? 'failed' : 'processed';
    const destination = await freeName(join(this.#options.path, target), basename(file));
    await rename(file, destination);
    await writeFile(`${destination}.report.json`, `${JSON.stringify(report, null, 2)}\n`);
    this.#options.logger.info(
      {
        file: basename(file),
        outcome: report.outcome,
        accepted: report.accepted,
        problems: report.problems.length,
      },
      'drop folder file imported',
    );
    this.#options.onImported?.(report);
  }
}

/** `dir/name`, or `dir/name (2)`-style if taken, so a processed file never overwrites an earlier one. */
async function freeName(dir: string, name: string): Promise<string> {
  for (let n = 1; ; n += 1) {
    const candidate = n === 1 ? join(dir, name) : join(dir, name.replace(/(\.[^.]*)?$/, ` (${n})$1`));
    const isTaken = await stat(candidate).then(
      () => true,
      () => false,
    );
    if (!isTaken) return candidate;
  }
}

import type { ImportFileReport } from '../../shared/agent-api.js';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AgentDatabase } from '../db/agent-database.js';
import { EXCEPTION_CATALOG } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { CaptureService } from './capture-service.js';
import {
  eventOfCsvRow,
  parseExport,
  problemsFor,
  type FileEvent,
  type ParsedExport,
  type RowProblem,
} from './export-file.js';
import { sha256 } from './hash-chain.js';

/** What importing a file did (the answer of `backroom import`, whether the running agent or the CLI did it). */
export type ImportReport = ImportFileReport;

export type ImportDeps = Readonly<{ db: AgentDatabase; capture: CaptureService; exceptions: ExceptionsRepo }>;

/** Requests of at most this many events, like the HTTP API. */
const CHUNK = 1000;

/**
 * Captures an export file once: a file whose content was imported before is not read again (by content hash);
 * good rows are captured, each bad row becomes an exception naming the file, line and field.
 * The caller decides where the file goes afterwards (the drop folder moves it).
 */
export async function importFile(deps: ImportDeps, source: string, path: string): Promise<ImportReport> {
  return importContent(deps, source, basename(path), await readFile(path));
}

/**
 * What a `bad_import_row` exception keeps of its row, so it can be fixed in the workbench (`imports.fixRow`):
 * the row as the file had it (`row`), the raw event assembled from the file that the row is part of (`event`)
 * and that event's file lines (`fileLines`).
 */
export type BadRowDetails = Readonly<{
  file: string;
  contentHash: string;
  line: number;
  field: string;
  error: string;
  row: unknown;
  event: Record<string, unknown> | null;
  fileLines: number[];
}>;

function badRowDetails(
  parsed: ParsedExport,
  events: readonly FileEvent[],
  isCsv: boolean,
  a: Readonly<{ file: string; contentHash: string; problem: RowProblem }>,
): BadRowDetails {
  const { line, field, message } = a.problem;
  const row = parsed.isOk ? (parsed.rows.get(line) ?? null) : null;
  const owner = events.find((e) => e.lines.includes(line));
  let event: Record<string, unknown> | null = null;
  let fileLines = [line];
  if (owner !== undefined) {
    event = Object.fromEntries(Object.entries(owner.raw).filter(([key]) => key !== '__invalid'));
    fileLines = [...owner.lines];
  } else if (isCsv && row !== null && typeof row === 'object') {
    event = eventOfCsvRow(row as Record<string, string>);
  } else if (row !== null && typeof row === 'object' && !Array.isArray(row)) {
    event = row as Record<string, unknown>;
  }
  return { file: a.file, contentHash: a.contentHash, line, field, error: message, row, event, fileLines };
}

/**
 * Imports a file's content under its name (the drop folder and the CLI read it from disk; the workbench sends
 * it, `imports.reimport`): once per content, good rows captured, each bad row an exception.
 */
export async function importContent(
  deps: ImportDeps,
  source: string,
  file: string,
  bytes: Buffer,
): Promise<ImportReport> {
  const contentHash = sha256(bytes.toString('latin1'));
  const { db, capture, exceptions } = deps;
  const previous = db.first(
    db.query.selectFrom('imported_files').selectAll().where('content_hash', '=', contentHash),
  );
  if (previous) {
    return {
      file,
      contentHash,
      outcome: 'already_imported',
      accepted: 0,
      duplicate: 0,
      problems: [],
      error: `the same content was imported on ${new Date(previous.imported_at).toISOString()} as ${previous.file_name}`,
      importedAt: new Date().toISOString(),
    };
  }

  const parsed = parseExport(file, bytes.toString('utf8'));
  let accepted = 0;
  let duplicate = 0;
  const problems: RowProblem[] = parsed.isOk ? [...parsed.problems] : [];
  const isCsv = /\.(csv|txt)$/i.test(file);
  // The file's events, so a bad row's exception keeps the event it is part of.
  const allEvents: FileEvent[] = [];
  if (parsed.isOk) {
    allEvents.push(...parsed.events);
    for (let i = 0; i < parsed.events.length; i += CHUNK) {
      const chunk = parsed.events.slice(i, i + CHUNK);
      const results = await capture.capture(
        source,
        chunk.map((e) => e.raw),
      );
      results.forEach((result, j) => {
        if (result.status === 'accepted') accepted += 1;
        else if (result.status === 'duplicate') duplicate += 1;
        else problems.push(...problemsFor(chunk[j]!, result.errors, isCsv));
      });
    }
    problems.sort((a, b) => a.line - b.line);
  }
  const error = parsed.isOk ? null : parsed.error;
  const outcome =
    !parsed.isOk || (accepted + duplicate === 0 && problems.length > 0) ? 'failed' : 'processed';
  const now = Date.now();
  db.transaction(() => {
    if (error !== null) {
      exceptions.raise({
        kind: 'bad_import_file',
        dedupeKey: EXCEPTION_CATALOG.bad_import_file.key(contentHash),
        message: EXCEPTION_CATALOG.bad_import_file.message({ file, source, error }),
        details: { file, contentHash, error },
        source,
      });
    }
    for (const p of problems) {
      exceptions.raise({
        kind: 'bad_import_row',
        dedupeKey: EXCEPTION_CATALOG.bad_import_row.key(contentHash, p.line, p.field),
        message: EXCEPTION_CATALOG.bad_import_row.message({
          file,
          line: p.line,
          field: p.field,
          problem: p.message,
        }),
        details: badRowDetails(parsed, allEvents, isCsv, { file, contentHash, problem: p }),
        source,
      });
    }
    db.run(
      db.query.insertInto('imported_files').values({
        content_hash: contentHash,
        file_name: file,
        imported_at: now,
        outcome,
        events_accepted: accepted,
        events_duplicate: duplicate,
        rows_rejected: problems.length,
      }),
    );
  });
  return {
    file,
    contentHash,
    outcome,
    accepted,
    duplicate,
    problems,
    error,
    importedAt: new Date(now).toISOString(),
  };
}

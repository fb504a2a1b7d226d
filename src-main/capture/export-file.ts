import type { ImportRowProblem } from '../../shared/agent-api.js';
import { readCsv, type CsvRow } from '../platform/csv.js';
import type { FieldError } from '../../shared/events.js';

/** A problem with one row (CSV line, JSON Lines line, or event of a JSON list) of an export file. */
export type RowProblem = ImportRowProblem;

/** An event assembled from a file, with the file lines it came from (its rows, in order). */
export type FileEvent = { raw: Record<string, unknown>; lines: number[] };

/**
 * A file read: its events, its rows' problems, and each row as the file had it by line (`rows`: for CSV the
 * record column → value, for JSON and JSON Lines the value on that line, for a line of JSON Lines that is not
 * JSON its text), so a bad row can be shown and fixed as it was.
 */
export type ParsedExport =
  | { isOk: true; events: FileEvent[]; problems: RowProblem[]; rows: Map<number, unknown> }
  | { isOk: false; error: string };

/** Columns of the drop-folder CSV format; one row per event line (README, "CSV format"). */
export const CSV_COLUMNS = {
  required: ['event_id', 'type', 'location', 'occurred_at', 'sku', 'qty'],
  optional: ['unit_price', 'currency', 'reference'],
} as const;

const EVENT_FIELDS = [
  ['type', 'type'],
  ['location', 'location'],
  ['occurred_at', 'occurredAt'],
  ['reference', 'reference'],
] as const;

/**
 * Reads a legacy POS export: CSV (comma or semicolon separated, one row per line item, rows of one event sharing
 * its `event_id`), a JSON list of events or `{ "events": [...] }`, or JSON Lines (`.jsonl`, `.ndjson`).
 * Only the file's shape is checked here; events are validated by capture, like every other input.
 */
export function parseExport(fileName: string, text: string): ParsedExport {
  const name = fileName.toLowerCase();
  if (name.endsWith('.csv') || name.endsWith('.txt')) return parseCsv(text);
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return parseJsonLines(text);
  if (name.endsWith('.json')) return parseJson(text);
  return { isOk: false, error: `${fileName} is not a .csv, .json, .jsonl or .ndjson file` };
}

function parseCsv(text: string): ParsedExport {
  let records: CsvRow[];
  try {
    records = readCsv(text);
  } catch (error) {
    return { isOk: false, error: `the CSV cannot be read: ${(error as Error).message}` };
  }
  const header = Object.keys(records[0]?.record ?? {});
  const missing = records.length === 0 ? [] : CSV_COLUMNS.required.filter((c) => !header.includes(c));
  if (records.length === 0) return { isOk: false, error: 'the CSV has no rows' };
  if (missing.length > 0)
    return { isOk: false, error: `the CSV header lacks the column(s) ${missing.join(', ')}` };

  const problems: RowProblem[] = [];
  const byId = new Map<string, FileEvent>();
  const rows = new Map<number, unknown>();
  for (const { record, line } of records) {
    rows.set(line, record);
    const id = record.event_id ?? '';
    if (id === '') {
      problems.push({ line, field: 'event_id', message: 'is empty' });
      continue;
    }
    const item = csvLineOf(record);
    let event = byId.get(id);
    if (!event) {
      const raw: Record<string, unknown> = { id, lines: [] };
      for (const [column, key] of EVENT_FIELDS) if (record[column]) raw[key] = record[column];
      event = { raw, lines: [] };
      byId.set(id, event);
    } else {
      const first = event.lines[0]!;
      const clash = EVENT_FIELDS.find(([column, key]) => (record[column] || undefined) !== event!.raw[key]);
      if (clash) {
        problems.push({
          line,
          field: clash[0],
          message: `differs from line ${first} of the same event "${id}"; rows of one event must agree`,
        });
        event.raw.__invalid = true;
        continue;
      }
    }
    (event.raw.lines as unknown[]).push(item);
    event.lines.push(line);
  }
  const events: FileEvent[] = [];
  for (const event of byId.values()) {
    if (event.raw.__invalid) {
      for (const line of event.lines) {
        problems.push({
          line,
          field: 'event_id',
          message: 'not captured: another row of the same event is invalid',
        });
      }
    } else {
      events.push(event);
    }
  }
  return { isOk: true, events, problems, rows };
}

/** The event line of one CSV row (its `qty` a number when it reads as a whole number). */
function csvLineOf(record: Readonly<Record<string, string>>): Record<string, unknown> {
  const qtyText = record.qty ?? '';
  const item: Record<string, unknown> = {
    sku: record.sku ?? '',
    qty: /^[+-]?\d+$/.test(qtyText) ? Number(qtyText) : qtyText,
  };
  if (record.unit_price) item.unitPrice = record.unit_price;
  if (record.currency) item.currency = record.currency;
  return item;
}

/**
 * The raw event one CSV row alone makes (for a row that belongs to no event the file assembled, such as one
 * without an `event_id`), so it can be fixed in the workbench.
 */
export function eventOfCsvRow(record: Readonly<Record<string, string>>): Record<string, unknown> {
  const raw: Record<string, unknown> = { id: record.event_id ?? '', lines: [csvLineOf(record)] };
  for (const [column, key] of EVENT_FIELDS) if (record[column]) raw[key] = record[column];
  return raw;
}

function parseJson(text: string): ParsedExport {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (error) {
    return { isOk: false, error: `the file is not valid JSON: ${(error as Error).message}` };
  }
  const list: unknown[] | null = Array.isArray(value)
    ? value
    : typeof value === 'object' && value !== null && Array.isArray((value as { events?: unknown }).events)
      ? (value as { events: unknown[] }).events
      : typeof value === 'object' && value !== null
        ? [value]
        : null;
  if (list === null)
    return { isOk: false, error: 'the JSON must be an event, a list of events or { "events": [...] }' };
  return collect(list.map((raw, i) => ({ raw, line: i + 1 })));
}

function parseJsonLines(text: string): ParsedExport {
  const rows: { raw: unknown; line: number }[] = [];
  const problems: RowProblem[] = [];
  const texts = new Map<number, unknown>();
  text.split(/\r?\n/).forEach((lineText, i) => {
    if (lineText.trim() === '') return;
    try {
      rows.push({ raw: JSON.parse(lineText) as unknown, line: i + 1 });
    } catch (error) {
      texts.set(i + 1, lineText);
      problems.push({
        line: i + 1,
        field: '(line)',
        message: `is not valid JSON: ${(error as Error).message}`,
      });
    }
  });
  const collected = collect(rows);
  if (!collected.isOk) return collected;
  for (const [line, lineText] of texts) collected.rows.set(line, lineText);
  return { ...collected, problems: [...problems, ...collected.problems] };
}

function collect(rows: { raw: unknown; line: number }[]): ParsedExport {
  const events: FileEvent[] = [];
  const problems: RowProblem[] = [];
  const byLine = new Map<number, unknown>();
  for (const { raw, line } of rows) {
    byLine.set(line, raw);
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      events.push({ raw: raw as Record<string, unknown>, lines: [line] });
    } else {
      problems.push({ line, field: '(event)', message: 'is not an event object' });
    }
  }
  return { isOk: true, events, problems, rows: byLine };
}

const CSV_FIELD: Record<string, string> = {
  id: 'event_id',
  occurredAt: 'occurred_at',
  unitPrice: 'unit_price',
};

/**
 * Places capture's errors for a file event on the file's rows: `lines.2.qty` becomes the third row of the event
 * and, for CSV, the column `qty`; event-level fields land on the event's first row.
 */
export function problemsFor(event: FileEvent, errors: readonly FieldError[], isCsv: boolean): RowProblem[] {
  return errors.map((error) => {
    const parts = error.path.split('.');
    let line = event.lines[0] ?? 0;
    let field = error.path || '(event)';
    if (isCsv) {
      if (parts[0] === 'lines' && parts.length >= 3) {
        line = event.lines[Number(parts[1])] ?? line;
        field = parts.slice(2).join('.');
      }
      const top = field.split('.')[0]!;
      field = CSV_FIELD[top] ?? field;
    }
    return { line, field, message: error.message };
  });
}

import { parse } from 'csv-parse/sync';

export type CsvRow = { record: Record<string, string>; line: number };

/**
 * Parses CSV with a header row into records keyed by lower-cased, trimmed column names, each with the file line
 * it ends on. The delimiter is `;` when the header has more semicolons than commas (European POS exports), else
 * `,`. Throws csv-parse's error (with its line) on malformed input.
 */
export function readCsv(text: string): CsvRow[] {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  const rows = parse<Record<string, string>>(text, {
    bom: true,
    delimiter,
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    skip_empty_lines: true,
    trim: true,
    info: true,
  }) as unknown as { record: Record<string, string>; info: { lines: number } }[];
  return rows.map(({ record, info }) => ({ record, line: info.lines }));
}

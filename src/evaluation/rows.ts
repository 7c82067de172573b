import { TenasInputError } from '../errors.js';
import type { BackendName } from '../engine/backend.js';
import { INDICATORS, type IndicatorValues } from '../metrics/indicators.js';
import type { SearchSettings } from '../search/settings.js';
import type { ArchScore } from './arch-scorer.js';
import type { IndexedArch } from './selection.js';

/** The settings a score depends on; rows with different settings cannot be compared or merged. */
export interface ScoringKey {
  readonly dataset: string;
  readonly protocol: string;
  readonly seed: number;
  readonly batch: number;
  readonly repeats: number;
  readonly patches: number;
}

/** One scored architecture, as written to the CSV / JSONL output: each indicator's mean over repeats (`kappa`, `regions`, ...). */
export type CorrelationRow = ScoringKey &
  IndicatorValues & {
    /** Position in `enumerateNb201Archs()` (not the NAS-Bench-201 API index). */
    readonly archIndex: number;
    readonly arch: string;
    /** Informational: not compared when merging (backends may differ in the last bits). */
    readonly backend: string;
    readonly seconds: number;
  };

export function scoringKeyOfSettings(settings: SearchSettings): ScoringKey {
  return { dataset: settings.dataset, protocol: settings.protocol, seed: settings.seed, batch: settings.ntkBatch, repeats: settings.repeats, patches: settings.regionPatches };
}

/** The row of one scored architecture. */
export function correlationRow(key: ScoringKey, { archIndex, arch }: IndexedArch, score: ArchScore, backend: BackendName, seconds: number): CorrelationRow {
  return { ...key, archIndex, arch, ...score.values, backend, seconds };
}

export type RowFormat = 'csv' | 'jsonl';

const SETTING_COLUMNS = ['dataset', 'protocol', 'seed', 'batch', 'repeats', 'patches', 'backend', 'seconds'] as const;
const INDICATOR_COLUMNS = INDICATORS.map((indicator) => indicator.key);
const COLUMNS = ['arch_index', 'arch', ...INDICATOR_COLUMNS, ...SETTING_COLUMNS];

export const CSV_HEADER = `${COLUMNS.join(',')}\n`;

/** The format of an output file, from its extension. */
export function rowFormatOf(path: string): RowFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  throw new TenasInputError(`${path} has neither a .csv nor a .jsonl extension, so its row format is unknown; name it *.csv or *.jsonl`);
}

function columnValues(row: CorrelationRow): Record<string, string | number> {
  return {
    arch_index: row.archIndex,
    arch: row.arch,
    ...Object.fromEntries(INDICATOR_COLUMNS.map((key) => [key, row[key]])),
    dataset: row.dataset,
    protocol: row.protocol,
    seed: row.seed,
    batch: row.batch,
    repeats: row.repeats,
    patches: row.patches,
    backend: row.backend,
    seconds: Number(row.seconds.toFixed(3)),
  };
}

/** One complete line, newline included (numbers in their shortest round-trip form). */
export function formatRow(row: CorrelationRow, format: RowFormat): string {
  const values = columnValues(row);
  if (format === 'jsonl') return `${JSON.stringify(values)}\n`;
  return `${COLUMNS.map((column) => String(values[column])).join(',')}\n`;
}

/**
 * A row as strictly checked as a freshly scored one: a file that is resumed or merged is read back
 * as input, and a value no scoring could produce (κ < 1, a fractional region count) means the file
 * was edited or was not written by tenas.
 */
function rowFromColumns(get: (column: string) => unknown, where: string): CorrelationRow {
  const fail = (column: string, expected: string): never => {
    throw new TenasInputError(`${where}: column ${column} holds '${String(get(column))}', expected ${expected}`);
  };
  const text = (column: string): string => {
    const value = get(column);
    if (typeof value !== 'string' || value === '') throw new TenasInputError(`${where}: column ${column} is missing or empty`);
    return value;
  };
  const number = (column: string, integer: boolean, min: number): number => {
    const raw = get(column);
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) fail(column, integer ? 'an integer' : 'a finite number');
    if (value < min) fail(column, `${integer ? 'an integer' : 'a number'} of at least ${min}`);
    return value;
  };
  const repeats = number('repeats', true, 1);
  const indicatorValue = (indicator: (typeof INDICATORS)[number]): number => {
    const value = get(indicator.key) === 'Infinity' ? Infinity : number(indicator.key, false, -Infinity);
    const expected = indicator.invalidMean(value, repeats);
    return expected === undefined ? value : fail(indicator.key, expected);
  };
  const indicatorValues = Object.fromEntries(INDICATORS.map((indicator) => [indicator.key, indicatorValue(indicator)])) as IndicatorValues;
  const protocol = text('protocol');
  if (protocol !== 'reference' && protocol !== 'paper') fail('protocol', 'reference or paper');
  return {
    archIndex: number('arch_index', true, 0),
    arch: text('arch'),
    ...indicatorValues,
    dataset: text('dataset'),
    protocol,
    seed: number('seed', true, 0),
    batch: number('batch', true, 2),
    repeats,
    patches: number('patches', true, 2),
    backend: text('backend'),
    seconds: number('seconds', false, 0),
  };
}

export function parseRow(line: string, format: RowFormat, where: string): CorrelationRow {
  if (format === 'jsonl') {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new TenasInputError(`${where}: not a JSON object`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TenasInputError(`${where}: not a JSON object`);
    const record = value as Record<string, unknown>;
    return rowFromColumns((column) => record[column], where);
  }
  const fields = line.split(',');
  if (fields.length !== COLUMNS.length) throw new TenasInputError(`${where}: ${fields.length} columns, expected ${COLUMNS.length} (${COLUMNS.join(',')})`);
  return rowFromColumns((column) => fields[COLUMNS.indexOf(column)], where);
}

export interface ParsedRows {
  rows: CorrelationRow[];
  /** The 1-based line of each row, for messages. */
  lines: number[];
  /** Bytes of complete lines; anything after them is a line cut short (a crash while appending). */
  completeLength: number;
  /** Whether the text ends in an incomplete line, which was ignored. */
  truncatedTail: boolean;
  /** CSV only: whether the complete part already holds the header line. */
  hasHeader: boolean;
}

/**
 * Reads rows from an output file's text. A last line without its newline is ignored: rows are
 * appended whole, newline included, so such a line can only come from an interrupted write.
 */
export function parseRows(text: string, format: RowFormat, source: string): ParsedRows {
  const completeLength = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, completeLength).split('\n');
  lines.pop();
  let hasHeader = false;
  const rows: CorrelationRow[] = [];
  const rowLines: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    if (format === 'csv' && !hasHeader && rows.length === 0) {
      if (`${line}\n` !== CSV_HEADER) {
        throw new TenasInputError(`${source} line ${i + 1} is not the header of a tenas correlate CSV (${CSV_HEADER.trim()}), so the file was not written by tenas correlate`);
      }
      hasHeader = true;
      return;
    }
    rows.push(parseRow(line, format, `${source} line ${i + 1}`));
    rowLines.push(i + 1);
  });
  return { rows, lines: rowLines, completeLength, truncatedTail: completeLength < text.length, hasHeader };
}

export function scoringKeyOf(row: ScoringKey): ScoringKey {
  const { dataset, protocol, seed, batch, repeats, patches } = row;
  return { dataset, protocol, seed, batch, repeats, patches };
}

export function describeScoringKey(key: ScoringKey): string {
  return `dataset ${key.dataset}, ${key.protocol} protocol, seed ${key.seed}, batch ${key.batch}, ${key.repeats} repeat(s), ${key.patches} patches per LR batch`;
}

export function sameScoringKey(a: ScoringKey, b: ScoringKey): boolean {
  return a.dataset === b.dataset && a.protocol === b.protocol && a.seed === b.seed && a.batch === b.batch && a.repeats === b.repeats && a.patches === b.patches;
}

const describeScores = (row: CorrelationRow) => INDICATOR_COLUMNS.map((key) => `${key} ${row[key]}`).join(', ');

function sameScores(a: CorrelationRow, b: CorrelationRow): boolean {
  return a.arch === b.arch && INDICATOR_COLUMNS.every((key) => a[key] === b[key]) && sameScoringKey(a, b);
}

/** Rows tagged with the file (and line) they came from, for error messages. */
export interface SourcedRow {
  readonly row: CorrelationRow;
  readonly source: string;
}

/**
 * Joins rows by architecture: identical duplicates collapse to one, duplicates with different
 * scores are an error, and so are rows scored with different settings. Sorted by arch index.
 */
export function mergeRows(sourced: readonly SourcedRow[]): CorrelationRow[] {
  const byIndex = new Map<number, SourcedRow>();
  const first = sourced[0];
  for (const entry of sourced) {
    if (!sameScoringKey(entry.row, first.row)) {
      throw new TenasInputError(
        `the rows were scored with different settings: ${first.source} has ${describeScoringKey(first.row)} but ${entry.source} has ${describeScoringKey(entry.row)}`,
      );
    }
    const seen = byIndex.get(entry.row.archIndex);
    if (seen === undefined) {
      byIndex.set(entry.row.archIndex, entry);
    } else if (!sameScores(seen.row, entry.row)) {
      throw new TenasInputError(
        `conflicting rows for arch ${entry.row.archIndex} (${entry.row.arch}): ${seen.source} has ${describeScores(seen.row)} ` +
          `but ${entry.source} has ${describeScores(entry.row)}`,
      );
    }
  }
  return [...byIndex.values()].map((entry) => entry.row).sort((a, b) => a.archIndex - b.archIndex);
}

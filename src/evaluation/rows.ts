import { TenasInputError } from '../errors.js';
import type { Indicator } from '../metrics/indicator.js';
import { INDICATORS } from '../metrics/indicators.js';
import { ALL_INDICATORS } from '../metrics/registry.js';

/** The settings a score depends on; rows with different settings cannot be compared or merged. */
export interface ScoringKey {
  readonly dataset: string;
  readonly protocol: string;
  readonly seed: number;
  readonly batch: number;
  readonly repeats: number;
  readonly patches: number;
  /** NB201's evaluation network (`channels`, `cells`, `evalBatch`): only in rows with indicators measured on it. */
  readonly channels?: number;
  readonly cells?: number;
  readonly evalBatch?: number;
}

/**
 * One scored architecture, as written to the CSV / JSONL output: each indicator's mean over
 * repeats under its key (`kappa`, `regions`, `nwot`, ...). Which indicators a row holds is which
 * registry keys it has (`rowIndicators`).
 */
export type CorrelationRow = ScoringKey & {
  /** Position in `enumerateNb201Archs()` (not the NAS-Bench-201 API index). */
  readonly archIndex: number;
  readonly arch: string;
  /** Informational: not compared when merging (backends may differ in the last bits). */
  readonly backend: string;
  readonly seconds: number;
} & { readonly [indicatorKey: string]: number | string | undefined };

export type RowFormat = 'csv' | 'jsonl';

const SETTING_COLUMNS = ['dataset', 'protocol', 'seed', 'batch', 'repeats', 'patches', 'backend', 'seconds'] as const;
const EVAL_COLUMNS = ['channels', 'cells', 'eval_batch'] as const;

/** The registry indicators whose values a row holds, in registry order. */
export function rowIndicators(row: object): Indicator[] {
  return ALL_INDICATORS.filter((indicator) => typeof (row as Record<string, unknown>)[indicator.key] === 'number');
}

/** An indicator's value in a row. */
export function indicatorValue(row: CorrelationRow, indicator: Pick<Indicator, 'key'>): number {
  return row[indicator.key] as number;
}

function columnsOf(indicators: readonly Pick<Indicator, 'key'>[], evalNetwork: boolean): string[] {
  return ['arch_index', 'arch', ...indicators.map((indicator) => indicator.key), ...SETTING_COLUMNS, ...(evalNetwork ? EVAL_COLUMNS : [])];
}

/** The CSV header of rows with these indicators (and the evaluation network's settings when `evalNetwork`). */
export function csvHeader(indicators: readonly Pick<Indicator, 'key'>[], evalNetwork: boolean): string {
  return `${columnsOf(indicators, evalNetwork).join(',')}\n`;
}

/** The header of TE-NAS's rows (κ and R). */
export const CSV_HEADER = csvHeader(INDICATORS, false);

/** The header a file of these rows starts with. */
export function csvHeaderOf(row: CorrelationRow): string {
  return csvHeader(rowIndicators(row), row.channels !== undefined);
}

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
    // JSON has no ±Infinity (AZ-NAS's −∞), so non-finite values are written as text, as in CSV.
    ...Object.fromEntries(rowIndicators(row).map((indicator) => [indicator.key, finiteOrText(indicatorValue(row, indicator))])),
    dataset: row.dataset,
    protocol: row.protocol,
    seed: row.seed,
    batch: row.batch,
    repeats: row.repeats,
    patches: row.patches,
    backend: row.backend,
    seconds: Number(row.seconds.toFixed(3)),
    ...(row.channels !== undefined && { channels: row.channels, cells: row.cells!, eval_batch: row.evalBatch! }),
  };
}

const finiteOrText = (value: number): number | string => (Number.isFinite(value) ? value : String(value));

/** One complete line, newline included (numbers in their shortest round-trip form). */
export function formatRow(row: CorrelationRow, format: RowFormat): string {
  const values = columnValues(row);
  if (format === 'jsonl') return `${JSON.stringify(values)}\n`;
  return `${Object.values(values).map(String).join(',')}\n`;
}

/**
 * A row as strictly checked as a freshly scored one: a file that is resumed or merged is read back
 * as input, and a value no scoring could produce (κ < 1, a fractional region count) means the file
 * was edited or was not written by tenas.
 */
function rowFromColumns(get: (column: string) => unknown, indicators: readonly Indicator[], evalNetwork: boolean, where: string): CorrelationRow {
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
  const readIndicator = (indicator: Indicator): number => {
    const raw = get(indicator.key);
    const value = raw === 'Infinity' ? Infinity : raw === '-Infinity' ? -Infinity : number(indicator.key, false, -Infinity);
    const expected = indicator.invalidMean(value, repeats);
    return expected === undefined ? value : fail(indicator.key, expected);
  };
  const indicatorValues = Object.fromEntries(indicators.map((indicator) => [indicator.key, readIndicator(indicator)]));
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
    ...(evalNetwork && { channels: number('channels', true, 1), cells: number('cells', true, 1), evalBatch: number('eval_batch', true, 2) }),
  };
}

/** The indicators and evaluation-network columns of a CSV header line, or undefined when it is not a tenas correlate header. */
function parseCsvHeader(line: string): { indicators: Indicator[]; evalNetwork: boolean } | undefined {
  const columns = line.split(',');
  const indicators = ALL_INDICATORS.filter((indicator) => columns.includes(indicator.key));
  const evalNetwork = columns.includes(EVAL_COLUMNS[0]);
  return `${line}\n` === csvHeader(indicators, evalNetwork) && indicators.length > 0 ? { indicators, evalNetwork } : undefined;
}

/** One row; CSV lines need the columns their file's header names. */
export function parseRow(line: string, format: RowFormat, where: string, header: { indicators: Indicator[]; evalNetwork: boolean } = { indicators: [...INDICATORS], evalNetwork: false }): CorrelationRow {
  if (format === 'jsonl') {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new TenasInputError(`${where}: not a JSON object`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TenasInputError(`${where}: not a JSON object`);
    const record = value as Record<string, unknown>;
    const indicators = ALL_INDICATORS.filter((indicator) => indicator.key in record);
    if (indicators.length === 0) throw new TenasInputError(`${where}: no indicator values (${ALL_INDICATORS.map((indicator) => indicator.key).join(', ')})`);
    return rowFromColumns((column) => record[column], indicators, 'channels' in record, where);
  }
  const columns = columnsOf(header.indicators, header.evalNetwork);
  const fields = line.split(',');
  if (fields.length !== columns.length) throw new TenasInputError(`${where}: ${fields.length} columns, expected ${columns.length} (${columns.join(',')})`);
  return rowFromColumns((column) => fields[columns.indexOf(column)], header.indicators, header.evalNetwork, where);
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
  let header: ReturnType<typeof parseCsvHeader>;
  const rows: CorrelationRow[] = [];
  const rowLines: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    if (format === 'csv' && !header && rows.length === 0) {
      header = parseCsvHeader(line);
      if (!header) {
        throw new TenasInputError(
          `${source} line ${i + 1} is not the header of a tenas correlate CSV (arch_index,arch, the indicators' columns, ${SETTING_COLUMNS.join(',')}), so the file was not written by tenas correlate`,
        );
      }
      return;
    }
    rows.push(parseRow(line, format, `${source} line ${i + 1}`, header));
    rowLines.push(i + 1);
  });
  const hasHeader = header !== undefined;
  return { rows, lines: rowLines, completeLength, truncatedTail: completeLength < text.length, hasHeader };
}

export function scoringKeyOf(row: ScoringKey): ScoringKey {
  const { dataset, protocol, seed, batch, repeats, patches, channels, cells, evalBatch } = row;
  return { dataset, protocol, seed, batch, repeats, patches, ...(channels !== undefined && { channels, cells, evalBatch }) };
}

const indicatorKeysOf = (key: ScoringKey) => rowIndicators(key).map((indicator) => indicator.key);

/** The settings of rows or of a run, with its indicators (`indicators`: their keys, when `key` holds no values). */
export function describeScoringKey(key: ScoringKey, indicators: readonly string[] = indicatorKeysOf(key)): string {
  const evalNetwork = key.channels === undefined ? '' : `, eval net C ${key.channels} N ${key.cells} batch ${key.evalBatch}`;
  return `indicators ${indicators.join(',')}, dataset ${key.dataset}, ${key.protocol} protocol, seed ${key.seed}, batch ${key.batch}, ${key.repeats} repeat(s), ${key.patches} patches per LR batch${evalNetwork}`;
}

/** Same settings; `bIndicators` gives b's indicator keys when b is a run's settings rather than a row. */
export function sameScoringKey(a: ScoringKey, b: ScoringKey, bIndicators: readonly string[] = indicatorKeysOf(b)): boolean {
  return (
    a.dataset === b.dataset &&
    a.protocol === b.protocol &&
    a.seed === b.seed &&
    a.batch === b.batch &&
    a.repeats === b.repeats &&
    a.patches === b.patches &&
    a.channels === b.channels &&
    a.cells === b.cells &&
    a.evalBatch === b.evalBatch &&
    indicatorKeysOf(a).join(',') === bIndicators.join(',')
  );
}

const describeScores = (row: CorrelationRow) => rowIndicators(row).map((indicator) => `${indicator.key} ${indicatorValue(row, indicator)}`).join(', ');

function sameScores(a: CorrelationRow, b: CorrelationRow): boolean {
  return a.arch === b.arch && rowIndicators(a).every((indicator) => a[indicator.key] === b[indicator.key]) && sameScoringKey(a, b);
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

import { appendFileSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TenasInputError } from '../errors.js';
import type { Indicator } from '../metrics/indicator.js';
import { enumerateNb201Archs } from '../spaces/nb201/arch.js';
import { csvHeader, formatRow, parseRows, rowFormatOf, type CorrelationRow, type ParsedRows, type RowFormat, type SourcedRow } from './rows.js';

let archList: string[] | undefined;

function requireKnownArch(row: CorrelationRow, where: string): void {
  archList ??= enumerateNb201Archs();
  if (archList[row.archIndex] !== row.arch) {
    throw new TenasInputError(`${where}: arch_index ${row.archIndex} does not name ${row.arch} (this file was not written by tenas correlate for nb201)`);
  }
}

/** Runs `read`, adding to a user error what the file was for and what to do. */
function explained<T>(read: () => T, prefix: string, advice: string): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TenasInputError) throw new TenasInputError(`${prefix}${error.message}; ${advice}`);
    throw error;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR') throw new TenasInputError(`${path} is a folder, not a file`);
    throw new TenasInputError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** An output file being extended one row at a time. */
export interface RowAppender {
  readonly format: RowFormat;
  /** Rows already in the file (in file order). */
  readonly existing: SourcedRow[];
  readonly droppedTruncatedLine: boolean;
  append(row: CorrelationRow): void;
}

/**
 * Opens `path` for resuming: reads the rows already there, cuts off a last line left incomplete by
 * a crash (it is rescored), writes the CSV header of rows of `indicators` (and the evaluation
 * network's columns when `evalNetwork`) to a new file, and appends each new row with a single write
 * of the whole line, so a row is in the file completely or not at all.
 */
export function openRowFile(path: string, indicators: readonly Indicator[], evalNetwork: boolean): RowAppender {
  const format = rowFormatOf(path);
  const text = readText(path) ?? '';
  const sources = (parsed: ParsedRows) => parsed.lines.map((line) => `${path} line ${line}`);
  const parsed = explained(
    () => {
      const rows = parseRows(text, format, path);
      rows.rows.forEach((row, i) => requireKnownArch(row, sources(rows)[i]));
      return rows;
    },
    '--out: ',
    'tenas correlate appends to --out and resumes from it, so give another --out (or fix or delete that file)',
  );
  try {
    if (parsed.truncatedTail) truncateSync(path, Buffer.byteLength(text.slice(0, parsed.completeLength), 'utf8'));
    if (format === 'csv' && !parsed.hasHeader) appendFileSync(path, csvHeader(indicators, evalNetwork));
    else if (text === '') appendFileSync(path, '');
  } catch (error) {
    throw new TenasInputError(`cannot write ${path}: ${(error as Error).message}`);
  }
  return {
    format,
    existing: parsed.rows.map((row, i) => ({ row, source: sources(parsed)[i] })),
    droppedTruncatedLine: parsed.truncatedTail,
    append(row: CorrelationRow): void {
      appendFileSync(path, formatRow(row, format));
    },
  };
}

/** Rows of finished or unfinished output files (an incomplete last line is ignored; files are not changed). */
export function readRowFiles(paths: readonly string[]): SourcedRow[] {
  const sourced: SourcedRow[] = [];
  for (const path of paths) {
    explained(
      () => {
        const text = readText(path);
        if (text === undefined) throw new TenasInputError(`${path} does not exist`);
        const parsed = parseRows(text, rowFormatOf(path), path);
        parsed.rows.forEach((row, i) => {
          const source = `${path} line ${parsed.lines[i]}`;
          requireKnownArch(row, source);
          sourced.push({ row, source });
        });
      },
      `--merge: the input `,
      'pass only the .csv/.jsonl files written by tenas correlate --out',
    );
  }
  return sourced;
}

function wildcardPattern(name: string): RegExp {
  const escaped = name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * The files named by a comma-separated list whose file names may hold `*` and `?` wildcards
 * (expanded here, sorted, so `--merge 'shards/part-*.csv'` works without a shell).
 */
export function expandFileList(text: string): string[] {
  const files: string[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    if (!/[*?]/.test(basename(item))) {
      files.push(item);
      continue;
    }
    const folder = dirname(item);
    const pattern = wildcardPattern(basename(item));
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      throw new TenasInputError(`--merge: the folder ${folder} of '${item}' cannot be read`);
    }
    const matches = names.filter((name) => pattern.test(name) && !name.endsWith('.svg')).sort();
    if (matches.length === 0) throw new TenasInputError(`--merge: no file matches '${item}'`);
    files.push(...matches.map((name) => (folder === '.' && !item.startsWith('./') ? name : join(folder, name))));
  }
  if (files.length === 0) throw new TenasInputError('--merge needs at least one file (a comma-separated list; * and ? wildcards allowed)');
  return [...new Set(files)];
}

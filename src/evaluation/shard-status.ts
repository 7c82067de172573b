import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TenasInputError } from '../errors.js';
import { mergeRows, parseRows, rowFormatOf, type CorrelationRow } from './rows.js';
import { selectArchs, shardOf, type IndexedArch } from './selection.js';

/** What a sharded run was asked to score: the selection (`--sample N` or `--all`) split `shards` ways. */
export interface ShardPlan {
  readonly sample: number | undefined;
  readonly shards: number;
}

/** One shard's output file as found on disk. */
export interface ShardFile {
  readonly shard: number;
  readonly path: string;
  readonly rows: readonly CorrelationRow[];
  /** Last modification (ms since the epoch): a running shard appends a row per architecture. */
  readonly modifiedMs: number;
}

export type ShardState = 'done' | 'running' | 'quiet' | 'not started';

export interface ShardProgress {
  readonly shard: number;
  readonly path: string | null;
  readonly done: number;
  readonly share: number;
  /** Mean compute time per architecture of its rows; null before its first row. */
  readonly secondsPerArch: number | null;
  /** Seconds since the file last changed; null without a file. */
  readonly idleSeconds: number | null;
  /** running: wrote recently; quiet: unfinished and silent for longer than `quietAfterSeconds`. */
  readonly state: ShardState;
}

export interface RunStatus {
  readonly archs: number;
  readonly done: number;
  readonly shards: readonly ShardProgress[];
  readonly secondsPerArch: number | null;
  /** Architectures per second of the running shards together. */
  readonly archsPerSecond: number;
  /** Estimated seconds until every shard is done at the current rate; null when nothing runs. */
  readonly etaSeconds: number | null;
  readonly quietAfterSeconds: number;
}

/** A shard that has not written for this long (or 10 × its slowest architecture) is reported as quiet. */
const QUIET_AFTER_SECONDS = 600;

const SHARD_FILE = /-(\d+)\.(csv|jsonl|ndjson)$/i;

const mean = (values: readonly number[]) => (values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length);

/**
 * The shard files of a run folder: `*-K.csv` or `*-K.jsonl` (`shard-3.csv`, as examples/slurm writes
 * them). Incomplete last lines are ignored and nothing is changed.
 */
export function readShardFiles(folder: string): ShardFile[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    throw new TenasInputError(`--status: the folder ${folder} cannot be read; give the folder that holds the shard files (shard-K.csv)`);
  }
  const files: ShardFile[] = [];
  for (const name of names.sort()) {
    const match = SHARD_FILE.exec(name);
    if (match === null) continue;
    const path = join(folder, name);
    let text: string;
    let modifiedMs: number;
    try {
      text = readFileSync(path, 'utf8');
      modifiedMs = statSync(path).mtimeMs;
    } catch (error) {
      throw new TenasInputError(`--status: cannot read ${path}: ${(error as Error).message}`);
    }
    files.push({ shard: Number(match[1]), path, rows: parseRows(text, rowFormatOf(name), path).rows, modifiedMs });
  }
  if (files.length === 0) throw new TenasInputError(`--status: ${folder} holds no shard files (NAME-K.csv or NAME-K.jsonl, e.g. shard-3.csv)`);
  return files;
}

/**
 * The architectures of every shard, checked against the rows: a file must hold only its shard's,
 * and all rows the same settings (as --merge will require).
 */
function sharesOf(plan: ShardPlan, files: readonly ShardFile[]): IndexedArch[][] {
  const sourced = files.flatMap((file) => file.rows.map((row, i) => ({ row, source: `${file.path} row ${i + 1}` })));
  if (sourced.length > 0) mergeRows(sourced);
  const seed = files.find((file) => file.rows.length > 0)?.rows[0].seed ?? 0;
  const selection = selectArchs({ sample: plan.sample, seed });
  const shares = Array.from({ length: plan.shards }, (_, i) => shardOf(selection, { index: i + 1, count: plan.shards }));
  const planText = `shard K of ${plan.shards} of ${plan.sample === undefined ? '--all' : `--sample ${plan.sample}`} (seed ${seed})`;
  const seen = new Map<number, string>();
  for (const file of files) {
    if (file.shard < 1 || file.shard > plan.shards) throw new TenasInputError(`--status: ${file.path} is shard ${file.shard}, but the run has --shards ${plan.shards}`);
    const other = seen.get(file.shard);
    if (other !== undefined) throw new TenasInputError(`--status: ${other} and ${file.path} are both shard ${file.shard}; keep one per shard in the folder`);
    seen.set(file.shard, file.path);
    const share = new Map(shares[file.shard - 1].map((arch) => [arch.archIndex, arch.arch]));
    for (const row of file.rows) {
      if (share.get(row.archIndex) !== row.arch) {
        throw new TenasInputError(
          `--status: ${file.path} holds arch ${row.archIndex}, which is not in ${planText.replace('K', String(file.shard))}; check --shards and --sample`,
        );
      }
    }
  }
  return shares;
}

/** Progress of a sharded run at time `nowMs`: per shard, in total, the rate and an ETA. */
export function runStatus(plan: ShardPlan, files: readonly ShardFile[], nowMs: number): RunStatus {
  const shares = sharesOf(plan, files);
  const allSeconds = files.flatMap((file) => file.rows.map((row) => row.seconds));
  const overallSecondsPerArch = mean(allSeconds);
  const quietAfterSeconds = Math.max(QUIET_AFTER_SECONDS, 10 * Math.max(0, ...allSeconds));
  const shards = shares.map((share, i): ShardProgress => {
    const file = files.find((candidate) => candidate.shard === i + 1);
    const done = new Set(file?.rows.map((row) => row.archIndex)).size;
    const idleSeconds = file === undefined ? null : Math.max(0, (nowMs - file.modifiedMs) / 1000);
    const state: ShardState =
      done >= share.length ? 'done' : idleSeconds === null ? 'not started' : idleSeconds > quietAfterSeconds ? 'quiet' : 'running';
    return { shard: i + 1, path: file?.path ?? null, done, share: share.length, secondsPerArch: mean(file?.rows.map((row) => row.seconds) ?? []), idleSeconds, state };
  });
  const running = shards.filter((shard) => shard.state === 'running');
  const costOf = (shard: ShardProgress) => shard.secondsPerArch ?? overallSecondsPerArch;
  const archsPerSecond = running.reduce((rate, shard) => {
    const cost = costOf(shard);
    return cost === null || cost <= 0 ? rate : rate + 1 / cost;
  }, 0);
  const archs = shards.reduce((sum, shard) => sum + shard.share, 0);
  const done = shards.reduce((sum, shard) => sum + shard.done, 0);
  let etaSeconds: number | null = null;
  if (done === archs) etaSeconds = 0;
  else if (archsPerSecond > 0) {
    // No faster than the whole rate allows, nor than the slowest unfinished shard alone.
    const longestShard = Math.max(...shards.map((shard) => (shard.share - shard.done) * (costOf(shard) ?? 0)));
    etaSeconds = Math.max((archs - done) / archsPerSecond, longestShard);
  }
  return { archs, done, shards, secondsPerArch: overallSecondsPerArch, archsPerSecond, etaSeconds, quietAfterSeconds };
}

function duration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  return hours > 0 ? `${hours} h ${String(minutes).padStart(2, '0')} min` : `${minutes} min ${String(whole % 60).padStart(2, '0')} s`;
}

export function formatRunStatus(status: RunStatus): string {
  const percent = status.archs === 0 ? 100 : (100 * status.done) / status.archs;
  const header = ['shard', 'done', 'share', 's/arch', 'last write', 'state'];
  const table = status.shards.map((shard) => [
    String(shard.shard),
    String(shard.done),
    String(shard.share),
    shard.secondsPerArch === null ? '-' : shard.secondsPerArch.toFixed(2),
    shard.idleSeconds === null ? '-' : `${duration(shard.idleSeconds)} ago`,
    shard.state,
  ]);
  const widths = header.map((_, column) => Math.max(...[header, ...table].map((row) => row[column].length)));
  const lines = [header, ...table].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padStart(widths[column]))).join('  '));
  const running = status.shards.filter((shard) => shard.state === 'running').length;
  const quiet = status.shards.filter((shard) => shard.state === 'quiet').map((shard) => shard.shard);
  const notStarted = status.shards.filter((shard) => shard.state === 'not started').length;
  const perArch = status.secondsPerArch === null ? '' : ` (${status.secondsPerArch.toFixed(2)} s per architecture)`;
  const eta =
    status.etaSeconds === 0
      ? 'every shard is done'
      : status.etaSeconds === null
        ? 'ETA unknown: no shard is running'
        : `${status.archsPerSecond.toFixed(2)} architecture(s)/s from ${running} running shard(s)${perArch}; ETA for the whole array ${duration(status.etaSeconds)}`;
  return (
    `${status.done} of ${status.archs} architecture(s) scored (${percent.toFixed(1)}%) in ${status.shards.length} shard(s)\n` +
    `${lines.join('\n')}\n${eta}\n` +
    (notStarted > 0 ? `${notStarted} shard(s) have no file yet (pending in the queue, or not submitted)\n` : '') +
    (quiet.length > 0
      ? `shard(s) ${quiet.join(', ')} wrote nothing for more than ${duration(status.quietAfterSeconds)}: preempted and pending, failed or stuck? (squeue, sacct)\n`
      : '')
  );
}

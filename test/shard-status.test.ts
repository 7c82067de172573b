// `tenas correlate --status`: the progress of a sharded run read from its shard files.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenasInputError } from '../src/errors.js';
import { CSV_HEADER, formatRow, type CorrelationRow } from '../src/evaluation/rows.js';
import { selectArchs, shardOf } from '../src/evaluation/selection.js';
import { formatRunStatus, readShardFiles, runStatus, type ShardFile } from '../src/evaluation/shard-status.js';
import { repoRoot } from './support/golden.js';

const SEED = 7;
const NOW = Date.UTC(2026, 0, 1, 12);
const plan = { sample: 16, shards: 4 };

/** Rows for the first `count` architectures of shard `shard` of `plan`, each taking `seconds`. */
function shardRows(shard: number, count: number, seconds: number): CorrelationRow[] {
  const share = shardOf(selectArchs({ sample: plan.sample, seed: SEED }), { index: shard, count: plan.shards });
  return share.slice(0, count).map((arch, i) => ({
    ...arch,
    kappa: 100 + i,
    regions: 50 + i,
    dataset: 'cifar10',
    protocol: 'reference',
    seed: SEED,
    batch: 8,
    repeats: 1,
    patches: 100,
    backend: 'wasm',
    seconds,
  }));
}

function shardFile(shard: number, rows: CorrelationRow[], idleSeconds: number): ShardFile {
  return { shard, path: `run/shard-${shard}.csv`, rows, modifiedMs: NOW - idleSeconds * 1000 };
}

describe('runStatus', () => {
  // Shard 1 is done, 2 writes, 3 has been silent for half an hour, 4 has not started.
  const files = [shardFile(1, shardRows(1, 4, 1), 60), shardFile(2, shardRows(2, 2, 2), 5), shardFile(3, shardRows(3, 1, 3), 1800)];

  it('counts each shard against its share and tells done, running, quiet and not-started shards apart', () => {
    const status = runStatus(plan, files, NOW);
    expect(status.archs).toBe(16);
    expect(status.done).toBe(7);
    expect(status.shards.map((shard) => [shard.done, shard.share, shard.state])).toEqual([
      [4, 4, 'done'],
      [2, 4, 'running'],
      [1, 4, 'quiet'],
      [0, 4, 'not started'],
    ]);
    expect(status.shards.map((shard) => shard.secondsPerArch)).toEqual([1, 2, 3, null]);
    expect(status.shards.map((shard) => shard.idleSeconds)).toEqual([60, 5, 1800, null]);
    expect(status.secondsPerArch).toBeCloseTo(11 / 7, 12);
    expect(status.quietAfterSeconds).toBe(600);
  });

  it('estimates the rate from the running shards and the ETA from the work left', () => {
    const status = runStatus(plan, files, NOW);
    // Only shard 2 runs, at 2 s per architecture; 9 architectures are left.
    expect(status.archsPerSecond).toBeCloseTo(0.5, 12);
    expect(status.etaSeconds).toBeCloseTo(18, 12);

    // With every unfinished shard running, the slowest shard's own work bounds the ETA.
    const allRunning = runStatus(plan, [files[0], files[1], shardFile(3, shardRows(3, 1, 30), 5), shardFile(4, [], 1)], NOW);
    expect(allRunning.shards.map((shard) => shard.state)).toEqual(['done', 'running', 'running', 'running']);
    // Shard 3 needs 3 more architectures at 30 s each; shard 4 has no rows and uses the mean over all rows.
    expect(allRunning.etaSeconds).toBeCloseTo(90, 12);
    expect(allRunning.quietAfterSeconds).toBe(600);
  });

  it('reports a finished run, and no ETA when nothing runs', () => {
    const finished = runStatus(plan, [1, 2, 3, 4].map((shard) => shardFile(shard, shardRows(shard, 4, 1), 3600)), NOW);
    expect(finished.done).toBe(16);
    expect(finished.etaSeconds).toBe(0);
    expect(formatRunStatus(finished)).toContain('16 of 16 architecture(s) scored (100.0%) in 4 shard(s)\n');
    expect(formatRunStatus(finished)).toContain('every shard is done');

    const stalled = runStatus(plan, [shardFile(1, shardRows(1, 2, 1), 3600)], NOW);
    expect(stalled.etaSeconds).toBeNull();
    expect(formatRunStatus(stalled)).toContain('ETA unknown: no shard is running');
  });

  it('prints a table and names the quiet and missing shards', () => {
    const text = formatRunStatus(runStatus(plan, files, NOW));
    expect(text.split('\n')).toEqual([
      '7 of 16 architecture(s) scored (43.8%) in 4 shard(s)',
      'shard  done  share  s/arch       last write  state',
      '    1     4      4    1.00   1 min 00 s ago  done',
      '    2     2      4    2.00          5 s ago  running',
      '    3     1      4    3.00  30 min 00 s ago  quiet',
      '    4     0      4       -                -  not started',
      '0.50 architecture(s)/s from 1 running shard(s) (1.57 s per architecture); ETA for the whole array 18 s',
      '1 shard(s) have no file yet (pending in the queue, or not submitted)',
      'shard(s) 3 wrote nothing for more than 10 min 00 s: preempted and pending, failed or stuck? (squeue, sacct)',
      '',
    ]);
  });

  it('splits all 15,625 architectures into shares that differ by at most one', () => {
    const status = runStatus({ sample: undefined, shards: 64 }, [], NOW);
    expect(status.archs).toBe(15_625);
    expect(new Set(status.shards.map((shard) => shard.share))).toEqual(new Set([244, 245]));
  });

  it('rejects files that are not shards of the stated run', () => {
    const wrongShard = { ...shardFile(2, shardRows(1, 1, 1), 1) };
    expect(() => runStatus(plan, [wrongShard], NOW)).toThrow(TenasInputError);
    expect(() => runStatus(plan, [wrongShard], NOW)).toThrow(/run\/shard-2\.csv holds arch \d+, which is not in shard 2 of 4 of --sample 16 \(seed 7\)/);
    expect(() => runStatus({ sample: 16, shards: 3 }, files, NOW)).toThrow(/shard-1\.csv holds arch/);
    expect(() => runStatus(plan, [shardFile(5, [], 1)], NOW)).toThrow(/is shard 5, but the run has --shards 4/);
    const otherBatch = shardFile(2, shardRows(2, 1, 1).map((row) => ({ ...row, batch: 16 })), 1);
    expect(() => runStatus(plan, [files[0], otherBatch], NOW)).toThrow(/scored with different settings: run\/shard-1\.csv row 1 has .*batch 8.* but run\/shard-2\.csv row 1 has .*batch 16/);
    expect(() => runStatus(plan, [shardFile(1, [], 1), { ...shardFile(1, [], 1), path: 'run/part-1.jsonl' }], NOW)).toThrow(/both shard 1/);
  });
});

describe('readShardFiles', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'tenas-status-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('reads NAME-K.csv and NAME-K.jsonl files, skips other files and ignores a cut-off last line', () => {
    const rows = shardRows(2, 3, 1.5);
    writeFileSync(path.join(folder, 'shard-2.csv'), CSV_HEADER + rows.map((row) => formatRow(row, 'csv')).join('') + '12,|nor_co');
    writeFileSync(path.join(folder, 'shard-1.jsonl'), '');
    writeFileSync(path.join(folder, 'merged.csv'), CSV_HEADER);
    writeFileSync(path.join(folder, 'shard-2.csv.svg'), '<svg/>');
    utimesSync(path.join(folder, 'shard-2.csv'), (NOW - 30_000) / 1000, (NOW - 30_000) / 1000);
    const files = readShardFiles(folder);
    expect(files.map((file) => [file.shard, path.basename(file.path), file.rows.length])).toEqual([
      [1, 'shard-1.jsonl', 0],
      [2, 'shard-2.csv', 3],
    ]);
    expect(files[1].rows).toEqual(rows);
    expect(files[1].modifiedMs).toBe(NOW - 30_000);
  });

  it('names a folder without shard files', () => {
    const empty = path.join(folder, 'empty');
    mkdirSync(empty);
    expect(() => readShardFiles(empty)).toThrow(/holds no shard files/);
    expect(() => readShardFiles(path.join(folder, 'missing'))).toThrow(/cannot be read/);
  });
});

describe('tenas correlate --status', () => {
  let scratch: string;
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup.mjs')], { cwd: repoRoot, stdio: 'inherit' });
    scratch = mkdtempSync(path.join(tmpdir(), 'tenas-status-cli-'));
    mkdirSync(path.join(scratch, 'run'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const tenas = (args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'tenas.mjs'), 'correlate', ...args], { cwd: scratch, encoding: 'utf8', timeout: 110_000 });

  it('summarises the shard files that tenas correlate --shard wrote', () => {
    const scored = tenas(['--sample', '5', '--seed', '4', '--batch', '8', '--patches', '100', '--backend', 'wasm', '--shard', '1/2', '--out', 'run/shard-1.csv', '--quiet']);
    expect(scored.status, scored.stderr).toBe(0);
    const status = tenas(['--status', 'run', '--shards', '2', '--sample', '5']);
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^3 of 5 architecture\(s\) scored \(60\.0%\) in 2 shard\(s\)\n/);
    expect(status.stdout).toMatch(/\n {4}1 {5}3 {6}3 +\d+\.\d\d +\d+ s ago  done\n/);
    expect(status.stdout).toMatch(/\n {4}2 {5}0 {6}2 +- +- {2}not started\n/);

    const json = JSON.parse(tenas(['--status', 'run', '--shards', '2', '--sample', '5', '--json']).stdout) as { folder: string; done: number; archs: number };
    expect([json.folder, json.done, json.archs]).toEqual(['run', 3, 5]);
  });

  it('reports bad --status arguments in one line with exit code 2', () => {
    for (const args of [
      ['--status', 'run', '--sample', '5'],
      ['--status', 'run', '--shards', '2'],
      ['--status', 'run', '--shards', '3', '--sample', '5'],
      ['--status', 'missing', '--shards', '2', '--sample', '5'],
      ['--status', 'run', '--shards', '2', '--sample', '5', '--batch', '8'],
      ['--sample', '5', '--shards', '2', '--out', 'x.csv'],
      ['--merge', 'run/shard-*.csv', '--shards', '2'],
    ]) {
      const run = tenas(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^tenas: error: [^\n]+\n$/);
    }
  });
});

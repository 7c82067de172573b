// Runs the built CLI (`node bin/tenas.mjs correlate`) as a user would, on tiny settings (batch 8,
// 100 patches per LR batch) so that every run takes about a second.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/golden.js';

const QUICK = ['--batch', '8', '--patches', '100', '--backend', 'wasm', '--seed', '4'];

function tenas(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'tenas.mjs'), ...args], { cwd: scratch, encoding: 'utf8', timeout: 110_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function dataLines(file: string): string[] {
  return readFileSync(path.join(scratch, file), 'utf8').split('\n').slice(1).filter((line) => line !== '');
}

/** A row without its timing column, which differs from run to run. */
const scoresOf = (line: string) => line.split(',').slice(0, -1).join(',');

let scratch: string;
beforeAll(() => {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  scratch = mkdtempSync(path.join(tmpdir(), 'tenas-correlate-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('tenas correlate', () => {
  it('resumes: a larger sample skips the rows already written, and a cut-off last row is rescored', () => {
    const first = tenas(['correlate', '--space', 'nb201', '--sample', '3', ...QUICK, '--out', 'resume.csv']);
    expect(first.stderr).toContain('scored 3, skipped 0');
    expect(first.status).toBe(0);
    const firstRows = dataLines('resume.csv');
    expect(firstRows).toHaveLength(3);

    const second = tenas(['correlate', '--sample', '6', ...QUICK, '--out', 'resume.csv']);
    expect(second.stderr).toContain('scored 3, skipped 3');
    expect(second.status).toBe(0);
    const rows = dataLines('resume.csv');
    expect(rows.slice(0, 3)).toEqual(firstRows);
    expect(new Set(rows.map((line) => line.split(',')[0])).size).toBe(6);
    expect(second.stdout).toMatch(/over 6 architecture\(s\)/);
    expect(readFileSync(path.join(scratch, 'resume.csv.svg'), 'utf8')).toMatch(/^<svg [^]*<\/svg>\n$/);

    // A crash in the middle of appending the last row leaves a line without its newline.
    const complete = readFileSync(path.join(scratch, 'resume.csv'), 'utf8');
    const lastRowStart = complete.lastIndexOf('\n', complete.length - 2) + 1;
    writeFileSync(path.join(scratch, 'resume.csv'), complete.slice(0, lastRowStart + 25));
    const third = tenas(['correlate', '--sample', '6', ...QUICK, '--out', 'resume.csv']);
    expect(third.stderr).toContain('incomplete last line');
    expect(third.stderr).toContain('scored 1, skipped 5');
    expect(dataLines('resume.csv').map(scoresOf)).toEqual(rows.map(scoresOf));

    appendFileSync(path.join(scratch, 'resume.csv'), '12,|nor_co');
    const fourth = tenas(['correlate', '--sample', '6', ...QUICK, '--out', 'resume.csv']);
    expect(fourth.stderr).toContain('scored 0, skipped 6');
    expect(dataLines('resume.csv').map(scoresOf)).toEqual(rows.map(scoresOf));
  });

  it('refuses to resume a file scored with other settings', () => {
    tenas(['correlate', '--sample', '2', ...QUICK, '--out', 'settings.jsonl']);
    const otherBatch = QUICK.map((arg, i) => (QUICK[i - 1] === '--batch' ? '9' : arg));
    const other = tenas(['correlate', '--sample', '2', ...otherBatch, '--out', 'settings.jsonl']);
    expect(other.status).toBe(2);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
    expect(other.stderr).toMatch(/^tenas: error: settings\.jsonl holds rows scored with .*batch 8.*batch 9/);
  });

  it('--shard 1/2 and 2/2, merged, give the rows of the unsharded run', () => {
    const whole = tenas(['correlate', '--sample', '5', ...QUICK, '--out', 'whole.csv', '--json']);
    expect(whole.status).toBe(0);
    const shard1 = tenas(['correlate', '--sample', '5', ...QUICK, '--shard', '1/2', '--out', 'part-1.jsonl']);
    const shard2 = tenas(['correlate', '--sample', '5', ...QUICK, '--shard', '2/2', '--out', 'part-2.jsonl']);
    expect(shard1.stderr).toContain('scored 3, skipped 0');
    expect(shard2.stderr).toContain('scored 2, skipped 0');

    const merged = tenas(['correlate', '--merge', 'part-*.jsonl', '--out', 'merged.csv', '--json']);
    expect(merged.stderr).toContain('merged 5 architectures');
    expect(merged.status).toBe(0);
    const byArch = (lines: string[]) => lines.map(scoresOf).sort();
    expect(byArch(dataLines('merged.csv'))).toEqual(byArch(dataLines('whole.csv')));

    const wholeReport = JSON.parse(whole.stdout) as Record<string, unknown>;
    const mergedReport = JSON.parse(merged.stdout) as Record<string, unknown>;
    for (const key of ['archs', 'kappa', 'regions', 'combined', 'dataset', 'settings']) expect(mergedReport[key]).toEqual(wholeReport[key]);
    expect(wholeReport.archs).toBe(5);
    expect(typeof (wholeReport.kappa as { kendallTau: number }).kendallTau).toBe('number');

    // Merging the shards with the whole run deduplicates identical rows.
    const again = tenas(['correlate', '--merge', 'part-1.jsonl,part-2.jsonl,whole.csv']);
    expect(again.stderr).toContain('merged 5 architectures from 10 rows in 3 file(s)');
  });

  it('scores proxies on the evaluation network beside κ and R, resumes, shards, merges and reports a --combine rank sum', () => {
    const proxies = ['--indicators', 'ntk,regions,synflow', '--channels', '4', '--cells', '1', '--combine', 'ntk,synflow'];
    const whole = tenas(['correlate', '--sample', '4', ...QUICK, ...proxies, '--out', 'proxies.csv', '--json']);
    expect(whole.status, whole.stderr).toBe(0);
    expect(readFileSync(path.join(scratch, 'proxies.csv'), 'utf8').split('\n')[0]).toBe(
      'arch_index,arch,kappa,regions,synflow,dataset,protocol,seed,batch,repeats,patches,backend,seconds,channels,cells,eval_batch',
    );
    const report = JSON.parse(whole.stdout) as Record<string, { kendallTau: number } | unknown>;
    expect(report.indicators).toEqual(['ntk', 'regions', 'synflow']);
    for (const key of ['kappa', 'regions', 'synflow', 'combined', 'ranksum:ntk,synflow']) expect(typeof (report[key] as { kendallTau: number }).kendallTau, key).toBe('number');
    expect(readFileSync(path.join(scratch, 'proxies.csv.svg'), 'utf8').match(/<g fill=/g)?.length).toBe(3);

    const resumed = tenas(['correlate', '--sample', '5', ...QUICK, ...proxies, '--out', 'proxies.csv']);
    expect(resumed.stderr).toContain('scored 1, skipped 4');
    expect(resumed.stdout).toMatch(/rank\(κ\) \+ rank\(SynFlow\)/);
    const shards = ['1/2', '2/2'].map((shard, i) => tenas(['correlate', '--sample', '5', ...QUICK, ...proxies, '--shard', shard, '--out', `proxies-${i + 1}.jsonl`]));
    expect(shards.map((run) => run.status)).toEqual([0, 0]);
    const merged = tenas(['correlate', '--merge', 'proxies-*.jsonl', '--combine', 'ntk,synflow', '--out', 'proxies-merged.csv']);
    expect(merged.status, merged.stderr).toBe(0);
    const secondsColumn = 12;
    const byArch = (lines: string[]) => lines.map((line) => line.split(',').filter((_, i) => i !== secondsColumn).join(',')).sort();
    expect(byArch(dataLines('proxies-merged.csv'))).toEqual(byArch(dataLines('proxies.csv')));

    const other = tenas(['correlate', '--sample', '5', ...QUICK, '--out', 'proxies.csv']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/^tenas: error: proxies\.csv holds rows scored with indicators kappa,regions,synflow, .* but this run uses indicators kappa,regions, /);
  });

  it('--merge rejects conflicting duplicates', () => {
    tenas(['correlate', '--sample', '2', ...QUICK, '--out', 'conflict-a.csv']);
    const lines = readFileSync(path.join(scratch, 'conflict-a.csv'), 'utf8').split('\n');
    const fields = lines[1].split(',');
    fields[2] = String(Number(fields[2]) * 1.01);
    writeFileSync(path.join(scratch, 'conflict-b.csv'), `${lines[0]}\n${fields.join(',')}\n`);
    const merged = tenas(['correlate', '--merge', 'conflict-a.csv,conflict-b.csv']);
    expect(merged.status).toBe(2);
    expect(merged.stderr).toMatch(/^tenas: error: conflicting rows for arch \d+/);
  });

  it('reports usage errors in one line with exit code 2', () => {
    for (const args of [
      ['correlate', '--out', 'x.csv'],
      ['correlate', '--sample', '3', '--all', '--out', 'x.csv'],
      ['correlate', '--sample', '3', '--out', 'x.txt'],
      ['correlate', '--sample', '3', '--shard', '3/2', '--out', 'x.csv'],
      ['correlate', '--sample', '3', '--space', 'darts', '--out', 'x.csv'],
      ['correlate', '--merge', 'missing-*.csv'],
      ['correlate', '--merge', 'a.csv', '--shard', '1/2'],
    ]) {
      const run = tenas(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});

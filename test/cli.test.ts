// Runs the built CLI (`node bin/tenas.mjs`) as a user would. `npm test` builds it first through
// scripts/setup.mjs; the beforeAll below does the same when this file is run on its own.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldenRoot, repoRoot, type GoldenExpected } from './support/golden.js';

function tenas(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'tenas.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 110_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expected(caseName: string): GoldenExpected {
  return JSON.parse(readFileSync(path.join(goldenRoot, caseName, 'expected.json'), 'utf8')) as GoldenExpected;
}

function goldenFiles(caseName: string): string[] {
  const dir = path.join(goldenRoot, caseName);
  return ['--weights', path.join(dir, 'weights.safetensors'), '--input', path.join(dir, 'input.npy')];
}

const relativeError = (actual: number, reference: number) => Math.abs(actual - reference) / Math.abs(reference);

/** Builds the WebAssembly module and the CLI bundle when they are missing or older than their sources. */
function buildIfStale(): void {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup.mjs')], { cwd: repoRoot, stdio: 'inherit' });
}

let scratch: string;
beforeAll(() => {
  buildIfStale();
  scratch = mkdtempSync(path.join(tmpdir(), 'tenas-cli-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('tenas score reproduces the NB201 golden cases', () => {
  const ntkCases: [string, string[]][] = [
    ['nb201-ntk-full-b8', []],
    ['nb201-ntk-mask-b16', []],
    ['nb201-ntk-in16-b8', ['--dataset', 'imagenet16-120', '--classes', '120']],
    ['nb201-ntk-c100-b8', ['--dataset', 'cifar100']],
  ];
  for (const [caseName, extra] of ntkCases) {
    it(caseName, () => {
      const e = expected(caseName);
      const run = tenas(['score', '--space', 'nb201', '--net', 'ntk', '--arch', e.alive.arch as string, ...extra, ...goldenFiles(caseName), '--json']);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const score = JSON.parse(run.stdout) as { kappa: number; eigenvalues: number[]; gradientDim: number };
      const eig = e.eig_f64!;
      expect(score.eigenvalues).toHaveLength(eig.length);
      expect(score.eigenvalues).toEqual([...score.eigenvalues].sort((a, b) => a - b));
      expect(relativeError(score.eigenvalues[eig.length - 1], eig[eig.length - 1])).toBeLessThanOrEqual(1e-4);
      expect(relativeError(score.kappa, e.kappa_f64!)).toBeLessThanOrEqual(2e-3);
      expect(score.gradientDim).toBe(e.P);
    });
  }

  for (const caseName of ['nb201-thin-full', 'nb201-thin-mask']) {
    it(caseName, () => {
      const e = expected(caseName);
      const run = tenas(['score', '--space', 'nb201', '--net', 'thin', '--arch', e.alive.arch as string, ...goldenFiles(caseName), '--json']);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const score = JSON.parse(run.stdout) as { regions: number; features: number };
      expect(score.regions).toBe(e.regions);
      expect(score.features).toBe(e.features);
    });
  }

  it('darts-ntk-mask-b14 and darts-thin-mask (DARTS masks given as JSON)', () => {
    const ntk = expected('darts-ntk-mask-b14');
    const ntkRun = tenas(['score', '--space', 'darts', '--net', 'ntk', '--arch', JSON.stringify(ntk.alive.arch), ...goldenFiles('darts-ntk-mask-b14'), '--json']);
    expect(ntkRun.stderr).toBe('');
    const ntkScore = JSON.parse(ntkRun.stdout) as { kappa: number; gradientDim: number };
    expect(relativeError(ntkScore.kappa, ntk.kappa_f64!)).toBeLessThanOrEqual(2e-3);
    expect(ntkScore.gradientDim).toBe(ntk.P);

    const thin = expected('darts-thin-mask');
    const thinRun = tenas(['score', '--space', 'darts', '--net', 'thin', '--arch', JSON.stringify(thin.alive.arch), ...goldenFiles('darts-thin-mask'), '--json']);
    expect(thinRun.stderr).toBe('');
    expect(JSON.parse(thinRun.stdout)).toMatchObject({ regions: thin.regions, features: thin.features });
  });

  it('prints a human summary without --json, sampling inputs and weights when no files are given', () => {
    const run = tenas(['score', '--net', 'ntk', '--arch', '|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|', '--batch', '8']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/kappa \(NTK condition number\): \d/);
    expect(run.stdout).toMatch(/gradient dimension: \d+/);
  });
});

describe('tenas search', () => {
  it('runs a small synthetic NB201 search and writes the full result as JSON', () => {
    const out = path.join(scratch, 'out.json');
    const run = tenas(['search', '--synthetic', '--batch', '8', '--repeats', '1', '--json', out, '--quiet']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      arch: string;
      nb201Index: number;
      history: unknown[];
      settings: { ntkBatch: number; repeats: number };
      benchmark: { cifar10: number; cifar100: number; imagenet16: number };
      backend: { name: string; reason: string };
    };
    expect(result.backend.name).toBe('wasm');
    expect(result.backend.reason.length).toBeGreaterThan(10);
    expect(result.arch).toMatch(/^\|[a-z_0-9]+~0\|\+\|[a-z_0-9]+~0\|[a-z_0-9]+~1\|\+\|[a-z_0-9]+~0\|[a-z_0-9]+~1\|[a-z_0-9]+~2\|$/);
    expect(result.history).toHaveLength(3);
    expect(result.settings).toMatchObject({ ntkBatch: 8, repeats: 1 });
    expect(Number.isInteger(result.nb201Index)).toBe(true);
    for (const accuracy of Object.values(result.benchmark)) expect(accuracy).toBeGreaterThan(0);
    expect(run.stdout).toContain(`architecture: ${result.arch}`);
    expect(run.stdout).toContain(`NAS-Bench-201 index: ${result.nb201Index}`);
    expect(run.stdout).toMatch(/CIFAR-10 [\d.]+%, CIFAR-100 [\d.]+%, ImageNet16-120 [\d.]+%/);
    // Written through a temporary file that was renamed into place: nothing else is left.
    expect(readdirSync(scratch)).toEqual(['out.json']);
  });
});

describe('tenas bench', () => {
  it('times the NTK and linear-region pairs and prints the report as JSON', () => {
    const run = tenas(['bench', '--json', '--runs', '1', '--batch', '8']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ space: 'nb201', dataset: 'cifar10', batch: 8, runs: 1 });
    for (const key of ['ntkPairSeconds', 'lrPairSeconds', 'gflops']) expect(report[key]).toBeGreaterThan(0);
  });
});

describe('tenas help and version', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const run = tenas(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('--help lists the commands; <command> --help lists its options', () => {
    const top = tenas(['--help']);
    expect(top.status).toBe(0);
    for (const command of ['search', 'score', 'bench']) expect(top.stdout).toContain(command);
    const search = tenas(['search', '--help']);
    expect(search.status).toBe(0);
    for (const option of ['--space', '--protocol', '--prune-number', '--workers', '--json', '--quiet']) expect(search.stdout).toContain(option);
    const score = tenas(['score', '--help']);
    expect(score.status).toBe(0);
    for (const option of ['--net', '--arch', '--weights', '--input', '--classes']) expect(score.stdout).toContain(option);
  });
});

describe('search progress', () => {
  const progress = (candidate: number, done: number) => ({
    stage: 'op' as const,
    round: 1,
    candidate,
    candidates: 18,
    done,
    total: 54,
    elapsedSeconds: 30,
    etaSeconds: done > 0 ? (30 / done) * (54 - done) : undefined,
  });

  it('redraws one bar in place on a terminal and clears it at the end', async () => {
    const { ProgressBar } = await import('../src/cli/progress.js');
    let text = '';
    const bar = new ProgressBar({ write: (chunk: string) => (text += chunk), columns: 200 });
    bar.update(progress(18, 42));
    expect(text).toMatch(/^\r.*round 1 \(op\).*candidate 18\/18.*78%.*elapsed 0:30.*ETA 0:09/);
    expect(text).not.toContain('\n');
    bar.finish();
    expect(text.endsWith('\r\x1b[K')).toBe(true);
  });

  it('writes one plain line per finished round otherwise', async () => {
    const { ProgressLines } = await import('../src/cli/progress.js');
    let text = '';
    const lines = new ProgressLines({ write: (chunk: string) => (text += chunk) });
    for (let i = 0; i <= 18; i++) lines.update(progress(i, 24 + i));
    expect(text).toBe('round 1 (op): 18 candidates scored; 42/54 overall (78%), elapsed 0:30, ETA 0:09\n');
  });

  it('says after the first candidate how long the search will take', async () => {
    const { ProgressLines } = await import('../src/cli/progress.js');
    let text = '';
    new ProgressLines({ write: (chunk: string) => (text += chunk) }).update(progress(1, 1));
    expect(text).toBe('scoring 54 candidates; the first took 0:30, ETA 26:30\n');
  });
});

// The zero-cost proxies through the built CLI: `tenas score --net eval` on a golden case's files
// against its expected values (test/golden-proxies/README.md tolerances), and a search ranked by
// proxies combined with AZ-NAS's aggregation, identical with and without workers.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_INDICATORS } from '../src/metrics/registry.js';
import { repoRoot } from './support/golden.js';
import { proxyGoldenCases, type ProxyGoldenValue } from './support/golden-proxies.js';

function tenas(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'tenas.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let scratch: string;
beforeAll(() => {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  scratch = mkdtempSync(path.join(tmpdir(), 'tenas-proxies-cli-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Whether a value is within the README's tolerance for that proxy. */
function withinTolerance(name: string, got: number, want: ProxyGoldenValue): boolean {
  const { value } = want;
  const abs = Math.abs(got - value);
  const relative = abs / Math.max(Math.abs(value), Number.MIN_VALUE);
  switch (name) {
    case 'params':
    case 'flops':
      return got === value;
    case 'az_complexity':
      return relative <= 1e-12;
    case 'synflow':
      return relative <= 1e-6;
    case 'snip':
    case 'grad_norm':
    case 'fisher':
      return relative <= 1e-4;
    case 'grasp':
      return abs <= 1e-5 * (want.extra!.abs_sum as number);
    case 'jacob_cov':
      return abs <= 1.5e-4 * Math.abs(value);
    case 'zico':
      return abs <= 5e-3 * Math.abs(value);
    case 'nwot':
      return abs <= 1e-3;
    case 'zen':
    case 'az_progressivity':
      return abs <= 1e-4;
    case 'az_expressivity':
      return abs <= 5e-4;
    case 'az_trainability':
      return abs <= 5e-5;
    default:
      return false;
  }
}

describe('tenas score --net eval', () => {
  const [golden] = proxyGoldenCases((expected) => expected.C === 8 && expected.N === 1 && expected.arch.includes('nor_conv_3x3~0|+|nor_conv_3x3~0'));
  const file = (name: string) => path.join(golden.dir, name);
  const evalIndicators = ALL_INDICATORS.filter((indicator) => indicator.network === 'eval').map((indicator) => indicator.name);

  it(`reproduces every registered proxy of ${golden.name} from its files`, () => {
    const e = golden.expected;
    const run = tenas([
      'score', '--space', 'nb201', '--net', 'eval', '--arch', e.arch, '--channels', String(e.C), '--cells', String(e.N), '--indicators', 'all',
      '--weights', file('weights.safetensors'), '--input', file('input.npy'), '--labels', file('labels.npy'),
      '--zen-weights', file('zen_weights.safetensors'), '--zen-input', file('zen_input.npy'), '--az-gout', file('az_gout_bits.npy'),
      '--backend', 'wasm', '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const output = JSON.parse(run.stdout) as { indicators: Record<string, { value: number }>; C: number; N: number; batch: number };
    expect(Object.keys(output.indicators)).toEqual(evalIndicators);
    expect(evalIndicators.length).toBeGreaterThan(0);
    expect([output.C, output.N, output.batch]).toEqual([e.C, e.N, e.batch]);
    const stored = { ...e.proxies, ...golden.az.proxies };
    for (const [name, { value }] of Object.entries(output.indicators)) {
      expect(withinTolerance(name, value, stored[name]), `${name}: ${value} vs ${stored[name].value}`).toBe(true);
    }
  });

  it('refuses what it cannot score with one clear line', () => {
    const arch = golden.expected.arch;
    const cases: [string[], RegExp][] = [
      [['--indicators', 'synflow,bogus'], /unknown indicator 'bogus'; the indicators are ntk, regions, .*\(or all\)/],
      [['--indicators', 'ntk'], /ntk is measured on the ntk network, not the evaluation network; score it with --net ntk/],
      [['--labels', file('labels.npy')], /--labels gives the classes of the images of --input; pass --input X\.npy too/],
      [['--input', file('input.npy'), '--labels', file('input.npy')], /labels file .* holds float32 values; labels must be integers/],
      [['--az-gout', file('input.npy')], /must be a 1-D uint8 array of packed bits/],
    ];
    for (const [extra, message] of cases) {
      const run = tenas(['score', '--space', 'nb201', '--net', 'eval', '--arch', arch, '--channels', '8', '--cells', '1', ...extra, '--backend', 'wasm']);
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/^tenas: error: /);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    }
    const thin = tenas(['score', '--space', 'nb201', '--net', 'thin', '--channels', '8']);
    expect(thin.status).toBe(2);
    expect(thin.stderr).toMatch(/--channels goes with --net eval/);
  });
});

describe('tenas search --indicators ... --combine az', () => {
  const small = ['search', '--space', 'nb201', '--repeats', '1', '--batch', '8', '--patches', '50', '--backend', 'wasm', '--quiet'];

  it('prunes by proxies combined with AZ-NAS aggregation, the same with and without workers', () => {
    const results = ['0', '2'].map((workers) => {
      const json = path.join(scratch, `search-${workers}.json`);
      const run = tenas([...small, '--indicators', SEARCH_INDICATORS, '--combine', 'az', '--workers', workers, '--json', json]);
      expect(run.status, run.stderr).toBe(0);
      return JSON.parse(readFileSync(json, 'utf8')) as { arch: string; settings: { indicators: string[]; combine: string }; history: { candidates: Record<string, unknown>[]; seconds: number }[] };
    });
    const [inline, pooled] = results;
    expect(inline.settings).toMatchObject({ indicators: SEARCH_INDICATORS.split(','), combine: 'az' });
    expect(pooled.arch).toBe(inline.arch);
    expect(pooled.history).toEqual(inline.history.map((round, i) => ({ ...round, seconds: pooled.history[i].seconds })));
    const [first] = inline.history[0].candidates;
    for (const indicator of ALL_INDICATORS.filter((candidate) => SEARCH_INDICATORS.split(',').includes(candidate.name))) {
      const stem = indicator.key[0].toUpperCase() + indicator.key.slice(1);
      expect(Object.keys(first)).toEqual(expect.arrayContaining([`${indicator.key}Origin`, `${indicator.key}Candidate`, `delta${stem}`, `rank${stem}`]));
    }
    expect(first).not.toHaveProperty('kappaOrigin');
  });
});

/** The proxies the search test ranks by: the example of a proxy-driven search. */
const SEARCH_INDICATORS = 'nwot,synflow';

/**
 * `npm run device-check`: its argument checks always; the whole `--quick` run (SwiftShader in Node
 * and in headless Chromium, the profiled benchmark and a tiny search) only with TENAS_SLOW_TESTS=1,
 * since it takes 3–4 minutes on a shared 2-core machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium } from '../src/browser-bench/chromium.js';
import { repoRoot } from './support/golden.js';

const script = join(repoRoot, 'scripts', 'device-check.mjs');
const folder = mkdtempSync(join(tmpdir(), 'tenas-device-check-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const deviceCheck = (args: string[], timeout: number) => spawnSync(process.execPath, [script, ...args], { cwd: repoRoot, encoding: 'utf8', timeout });

describe('npm run device-check', () => {
  it('refuses an unknown argument with one line and exit code 2, writing nothing', () => {
    const result = deviceCheck(['--fast', `--out=${join(folder, 'a.json')}`], 30_000);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe("device-check: error: unknown argument '--fast'; use --quick and/or --out=FILE");
    expect(existsSync(join(folder, 'a.json'))).toBe(false);
  });

  it('refuses a report path in a missing folder before any work', () => {
    const result = deviceCheck(['--quick', `--out=${join(folder, 'missing', 'report.json')}`], 30_000);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^device-check: error: the folder of --out=.* does not exist/);
    expect(result.stdout).toBe('');
  });

  it.skipIf(process.env.TENAS_SLOW_TESTS !== '1' || !findChromium())('--quick runs on SwiftShader and writes one JSON report', () => {
    const out = join(folder, 'quick.json');
    const result = deviceCheck(['--quick', `--out=${out}`], 900_000);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report).toMatchObject({ tool: 'tenas device-check', quick: true, ok: true });
    expect(report.adapter.architecture).toBe('swiftshader');
    expect(report.benchWebGpu.backend).toBe('webgpu');
    // SwiftShader offers timestamp queries: the convolutions are timed on the GPU, Gram and eigen-solve on the CPU.
    const rows = report.benchWebGpu.profile.ntkPair.rows.map((row: { device: string; stage: string }) => `${row.device}/${row.stage}`);
    expect(rows).toEqual(expect.arrayContaining(['cpu/gram', 'cpu/eigen-solve', 'gpu/conv']));
    expect(report.benchChromium.results[0]).toMatchObject({ available: true, backend: 'webgpu' });
    expect(report.search.arch).toMatch(/^\|.+\|$/);
    for (const step of report.steps) expect(['passed', 'skipped']).toContain(step.status);
  }, 900_000);
});

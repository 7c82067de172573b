/**
 * The zero-cost proxy rows of the benchmark: one row per registered proxy and one for all of them
 * together, with dense-layer FLOPs counted from the passes each one runs; `tenas bench` prints them
 * (JSON and text) when asked to, and refuses a malformed size.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBenchmarks } from '../src/bench/bench.js';
import { benchProxies, parseProxySize, PROXY_BENCH_ARCH } from '../src/bench/proxies.js';
import { loadEmbeddedCifar } from '../src/data/embedded.js';
import { createBackend } from '../src/engine/create.js';
import { backwardFlopsPerSample, forwardFlopsPerSample } from '../src/graph/flops.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { PROXY_INDICATORS } from '../src/metrics/proxies/index.js';
import { parseNb201Mask } from '../src/spaces/nb201/arch.js';
import { nb201EvalNetwork } from '../src/spaces/nb201/networks.js';
import { repoRoot } from './support/golden.js';

function tenas(args: string[]) {
  return spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'tenas.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
}

describe('proxy benchmark rows', () => {
  it('times every registered proxy alone and all together, and counts the FLOPs of the passes', async () => {
    const [backend, linalg, images] = await Promise.all([createBackend('wasm'), LinearAlgebra.create(), loadEmbeddedCifar()]);
    try {
      const report = await benchProxies(backend, linalg, { channels: 8, cells: 1, batch: 16, images });
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
      expect(report).toMatchObject({ arch: PROXY_BENCH_ARCH, channels: 8, cells: 1, batch: 16 });
      expect(report.proxies.map((row) => row.name)).toEqual(PROXY_INDICATORS.map((indicator) => indicator.name));
      for (const row of [...report.proxies, report.allTogether]) {
        expect(row.seconds).toBeGreaterThan(0);
        expect(row.gflops === null ? row.gflop : row.gflops).toBeGreaterThanOrEqual(0);
      }
      const network = nb201EvalNetwork({ mask: parseNb201Mask(PROXY_BENCH_ARCH), classes: 10, inputSize: 32, channels: 8, cells: 1 });
      const forward = 16 * forwardFlopsPerSample(network);
      expect(report.forward.gflop * 1e9).toBeCloseTo(forward, -3);
      expect(report.forwardBackward.gflop * 1e9).toBeCloseTo(forward + 16 * backwardFlopsPerSample(network), -3);
      expect(report.forward.gflops).toBeGreaterThan(0);
      if (report.proxies.length > 0) {
        const slowest = report.proxies.reduce((worst, row) => (row.seconds > worst.seconds ? row : worst));
        expect(report.mostExpensive).toBe(slowest.name);
        expect(report.allOverMostExpensive).toBeCloseTo(report.allTogether.seconds / slowest.seconds, 10);
        // Shared passes: all together never runs more backend arithmetic than the proxies one by one.
        expect(report.allTogether.gflop).toBeLessThanOrEqual(report.proxies.reduce((total, row) => total + row.gflop, 0) + 1e-9);
      } else {
        expect(report.mostExpensive).toBeNull();
      }
    } finally {
      backend.dispose();
    }
  }, 300_000);

  it('skips the proxies on a software WebGPU adapter unless a size is given, and says so', async (context) => {
    const backend = await createBackend('webgpu').catch(() => undefined);
    if (!backend) return context.skip('no WebGPU adapter here (the webgpu package and SwiftShader are needed)');
    const fallback = backend.info.isFallbackAdapter === 'true';
    backend.dispose();
    if (!fallback) return context.skip('a hardware adapter: the proxies are measured there');
    const report = await runBenchmarks({ backend: 'webgpu', batch: 2, runs: 1, proxies: {} });
    expect(report.proxies).toBeUndefined();
    expect(report.proxiesSkipped).toMatch(/^software \(fallback\) adapter: .*give a size/);
  }, 300_000);

  it('parses C,N,B and refuses anything else with the fix', () => {
    expect(parseProxySize('16,5,64', '--proxy-size')).toEqual({ channels: 16, cells: 5, batch: 64 });
    expect(() => parseProxySize('16,5', '--proxy-size')).toThrow(/--proxy-size must be C,N,B with .*got '16,5'/);
    expect(() => parseProxySize('16,0,64', '--proxy-size')).toThrow(/1 ≤ N ≤ 20/);
    expect(() => parseProxySize('8,1,1.5', '--proxy-size')).toThrow(/e\.g\. 16,5,64/);
  });

  it('tenas bench --proxies prints the proxy rows in JSON and text, only then, and rejects a bad size', () => {
    const json = tenas(['bench', '--json', '--runs', '1', '--batch', '4', '--backend', 'wasm', '--proxies', '--proxy-size', '8,1,16']);
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.proxies).toMatchObject({ channels: 8, cells: 1, batch: 16 });
    expect(report.proxies.proxies).toHaveLength(PROXY_INDICATORS.length);

    const text = tenas(['bench', '--runs', '1', '--batch', '4', '--backend', 'wasm', '--proxies', '--proxy-size', '8,1,16']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/zero-cost proxies on .*C = 8, N = 1, batch 16:\n {2}forward +\d+\.\d{3} s {2}\d+\.\d GFLOP\/s\n/);
    expect(text.stdout).toMatch(/\n {2}all together +\d+\.\d{3} s/);

    const without = tenas(['bench', '--json', '--runs', '1', '--batch', '4', '--backend', 'wasm']);
    expect(without.status).toBe(0);
    expect(JSON.parse(without.stdout).proxies).toBeUndefined();

    const bad = tenas(['bench', '--proxies', '--proxy-size', '16x5x64']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^tenas: error: --proxy-size must be C,N,B .*got '16x5x64'\n$/);
    const sizeAlone = tenas(['bench', '--proxy-size', '8,1,16']);
    expect(sizeAlone.status).toBe(2);
    expect(sizeAlone.stderr).toMatch(/^tenas: error: --proxy-size sizes the proxy rows, which only --proxies adds: give both\n$/);
  }, 300_000);
});

import { describe, expect, it } from 'vitest';
import { createBackend, describeBackendChoice } from '../src/engine/create.js';
import { WasmKernels } from '../src/engine/wasm/module.js';
import { fmaTitle, fmaUnavailable } from './support/fma.js';
import { goldenCases } from './support/golden.js';
import { goldenNetwork, ntkGradientRows } from './support/golden-checks.js';

// The `wasm-fma` backend: the same kernels built with relaxed SIMD's multiply-add (assembly/madd.ts).
// The golden cases and every layer kind also run on it (golden-wasm.test.ts, ops.test.ts, and the
// proxy goldens), and a search on it gives one result for any number of workers (pool.test.ts).

describe('the exact kernels', () => {
  it('multiply, then add: the fusion probe sees two roundings', async () => {
    const kernels = await WasmKernels.create('exact');
    expect(kernels.exports.fused_madd_probe()).toBe(0);
  });
});

describe.skipIf(fmaUnavailable)(fmaTitle('the fused multiply-add kernels'), () => {
  it('round once: the fusion probe sees the product exactly', async () => {
    const kernels = await WasmKernels.create('fma');
    expect(kernels.exports.fused_madd_probe()).toBe(2 ** -24);
  });

  it('run as the wasm-fma backend, chosen by name only', async () => {
    const backend = await createBackend('wasm-fma');
    expect(backend.name).toBe('wasm-fma');
    expect(describeBackendChoice()?.reason).toBe('requested with --backend wasm-fma');
    backend.dispose();
  });

  it('give the NTK gradients of the exact kernels to float32 rounding, not bit for bit', async () => {
    // A case whose ReLU inputs keep clear of 0 (golden-wasm.test.ts: where they do not, a sign can flip).
    const golden = goldenCases().find((candidate) => candidate.name === 'nb201-ntk-full-b8')!;
    const { network, weights } = goldenNetwork(golden);
    const input = golden.input().data as Float32Array;
    const [exact, fused] = await Promise.all([createBackend('wasm'), createBackend('wasm-fma')]);
    const a = (await ntkGradientRows(exact, network, weights, input, golden.expected.batch)).gradients.data;
    const b = (await ntkGradientRows(fused, network, weights, input, golden.expected.batch)).gradients.data;
    const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let largest = 0;
    let differing = 0;
    a.forEach((value, index) => {
      largest = Math.max(largest, Math.abs(value - b[index]));
      if (value !== b[index]) differing++;
    });
    expect(largest).toBeLessThanOrEqual(1e-4 * scale);
    expect(differing).toBeGreaterThan(0);
  });
});

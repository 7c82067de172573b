import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { goldenCases, type GoldenCase } from './support/golden.js';
import { expectNtkGolden, expectNtkGoldenRows, expectThinGolden, maxAbs, maxDiff, ntkGradientRows } from './support/golden-checks.js';
import { NB201_EDGES, NB201_OPS, type Nb201Mask } from '../src/spaces/nb201/arch.js';
import { nb201NtkNetwork } from '../src/spaces/nb201/networks.js';
import { tensorSize, type Network } from '../src/graph/ir.js';
import { initialiseWeights, type Weights } from '../src/graph/weights.js';
import { Rng } from '../src/data/rng.js';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { WebGpuBackend } from '../src/engine/webgpu/backend.js';
import { adapterFacts, requestGpuAdapter } from '../src/engine/webgpu/device.js';
import { createBackend, describeBackendChoice } from '../src/engine/create.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { scoreNtk } from '../src/metrics/ntk.js';

// SwiftShader (a CPU) runs these in Node. Two goldens take minutes there in full (darts-ntk-in1k-b24:
// 440 s): on a software adapter they check the logits, rows 0-1 of G and Θ's 2 × 2 block, and the
// whole case (κ) with TENAS_SLOW_TESTS=1 or on a hardware adapter.
const SLOW_GOLDENS = new Set(['nb201-ntk-full-b72', 'darts-ntk-in1k-b24']);
const SLOW_GOLDEN_ROWS = 2;
const gpuAccess = await requestGpuAdapter();
const slow = process.env.TENAS_SLOW_TESTS === '1';

let backend: WebGpuBackend;
let wasm: WasmBackend;
let linalg: LinearAlgebra;

async function checkGolden(golden: GoldenCase): Promise<void> {
  const started = performance.now();
  if (golden.expected.net === 'ntk') {
    const kappaError = await expectNtkGolden(backend, linalg, golden);
    const stats = backend.lastStats!;
    const seconds = (performance.now() - started) / 1000;
    console.log(`${golden.name}: ${seconds.toFixed(1)} s, ${stats.dispatches} dispatches, ${stats.readbacks} read-back(s), chunk ${stats.chunk}×${stats.chunks}; κ rel. error ${kappaError.toExponential(2)}`);
  } else {
    await expectThinGolden(backend, linalg, golden);
  }
  expect(backend.lastStats!.readbacks).toBe(1);
}

/** One test per NTK case: whole, or through a few rows of G where the adapter is too slow for it. */
function checkNtkGoldenCase(golden: GoldenCase): void {
  const partial = SLOW_GOLDENS.has(golden.name) && !slow && ('adapter' in gpuAccess ? adapterFacts(gpuAccess.adapter).isFallbackAdapter : true);
  if (!partial) {
    it(golden.name, () => checkGolden(golden), 1_800_000);
    return;
  }
  it(`${golden.name}: logits, G rows 0-${SLOW_GOLDEN_ROWS - 1} and their Θ block on this software adapter (whole case with TENAS_SLOW_TESTS=1)`, async () => {
    await expectNtkGoldenRows(backend, golden, SLOW_GOLDEN_ROWS);
    expect(backend.lastStats!.readbacks).toBe(1);
  }, 600_000);
}

function randomNb201Mask(rng: Rng): Nb201Mask {
  return NB201_EDGES.map(() => {
    const row = NB201_OPS.map(() => rng.uniform() < 0.5);
    if (!row.some(Boolean)) row[1 + Math.floor(rng.uniform() * (NB201_OPS.length - 1))] = true;
    return row;
  });
}

function randomProblem(seed: number, batch: number, inputSize: number): { network: Network; weights: Weights; input: Float32Array } {
  const rng = Rng.stream(seed, 'webgpu-test');
  const network = nb201NtkNetwork({ mask: randomNb201Mask(rng), classes: 10, inputSize });
  const weights = initialiseWeights(network, 'pytorch-default', rng);
  const input = Float32Array.from({ length: batch * tensorSize(network.input) }, () => rng.normal());
  return { network, weights, input };
}

describe.skipIf(!('adapter' in gpuAccess))('WebGPU backend (skipped when no WebGPU adapter exists: apt-get install -y chromium libvulkan1)', () => {
  beforeAll(async () => {
    backend = await WebGpuBackend.create();
    wasm = await WasmBackend.create();
    linalg = await LinearAlgebra.create();
    console.log(`WebGPU adapter: ${JSON.stringify(backend.info)}`);
  });
  afterAll(() => {
    backend?.dispose();
  });

  describe('NB201 golden cases', () => {
    for (const golden of goldenCases((e) => e.space === 'nb201' && e.net === 'ntk')) {
      checkNtkGoldenCase(golden);
    }
    for (const golden of goldenCases((e) => e.space === 'nb201' && e.net === 'thin')) it(golden.name, () => checkGolden(golden));
  });

  describe('DARTS golden cases', () => {
    for (const golden of goldenCases((e) => e.space === 'darts' && e.net === 'ntk')) {
      checkNtkGoldenCase(golden);
    }
    for (const golden of goldenCases((e) => e.space === 'darts' && e.net === 'thin')) it(golden.name, () => checkGolden(golden));
  });

  it('agrees with WebAssembly on κ within 1e-3 over 20 random NB201 masks (B = 8)', async () => {
    const batch = 8;
    for (let seed = 0; seed < 20; seed++) {
      const { network, weights, input } = randomProblem(seed, batch, 8);
      const [gpu, cpu] = [await scoreNtk(backend, linalg, network, weights, input, batch), await scoreNtk(wasm, linalg, network, weights, input, batch)];
      expect(Math.abs(gpu.kappa - cpu.kappa) / Math.abs(cpu.kappa), `seed ${seed}`).toBeLessThanOrEqual(1e-3);
    }
  });

  it('gives the same G when forced to chunks of 1 and 3 cotangents', async () => {
    const batch = 8;
    const { network, weights, input } = randomProblem(101, batch, 8);
    const whole = await ntkGradientRows(backend, network, weights, input, batch);
    expect(backend.lastStats!.chunks).toBe(1);
    for (const maxChunk of [1, 3]) {
      const chunked = await WebGpuBackend.create({ maxChunk });
      try {
        const result = await ntkGradientRows(chunked, network, weights, input, batch);
        expect(chunked.lastStats!.chunk).toBe(maxChunk);
        expect(chunked.lastStats!.chunks).toBe(Math.ceil(batch / maxChunk));
        expect(maxDiff(result.gradients.data, whole.gradients.data)).toBeLessThanOrEqual(1e-6 * maxAbs(whole.gradients.data));
        expect(result.logits).toEqual(whole.logits);
      } finally {
        chunked.dispose();
      }
    }
  });

  it('recovers from a device lost mid-evaluation (recreate and retry once)', async () => {
    const batch = 8;
    const { network, weights, input } = randomProblem(202, batch, 8);
    const reference = await ntkGradientRows(wasm, network, weights, input, batch);
    let destroyed = 0;
    const fragile = await WebGpuBackend.create({
      testHooks: {
        afterSubmit(device, attempt) {
          if (attempt === 0) {
            destroyed++;
            device.destroy();
          }
        },
      },
    });
    try {
      const first = fragile.device;
      const result = await ntkGradientRows(fragile, network, weights, input, batch);
      expect(destroyed).toBe(1);
      expect(fragile.device).not.toBe(first);
      expect(fragile.lastStats).toMatchObject({ attempts: 2, fellBackToWasm: false, readbacks: 1 });
      expect(maxDiff(result.gradients.data, reference.gradients.data)).toBeLessThanOrEqual(1e-4 * maxAbs(reference.gradients.data));
    } finally {
      fragile.dispose();
    }
  });

  it('falls back to WebAssembly with a warning when the device is lost again on the retry', async () => {
    const batch = 4;
    const { network, weights, input } = randomProblem(303, batch, 8);
    const reference = await ntkGradientRows(wasm, network, weights, input, batch);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const doomed = await WebGpuBackend.create({ testHooks: { afterSubmit: (device) => device.destroy() } });
    try {
      const result = await ntkGradientRows(doomed, network, weights, input, batch);
      expect(doomed.lastStats).toMatchObject({ fellBackToWasm: true });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('runs on WebAssembly'));
      expect(result.gradients.data).toEqual(reference.gradients.data);
    } finally {
      warn.mockRestore();
      doomed.dispose();
    }
  });

  it('auto picks WebAssembly on a software adapter and says why', async () => {
    const chosen = await createBackend('auto');
    try {
      const decision = describeBackendChoice()!;
      if (backend.info.isFallbackAdapter === 'true') {
        expect(chosen.name).toBe('wasm');
        expect(decision.reason).toContain('software fallback');
      } else {
        expect(chosen.name).toBe('webgpu');
        expect(decision.reason).toContain('passed the self-check');
      }
    } finally {
      chosen.dispose();
    }
  });
});

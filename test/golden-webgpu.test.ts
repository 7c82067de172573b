import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { goldenCases, type GoldenCase } from './support/golden.js';
import { parseNb201Mask, NB201_EDGES, NB201_OPS, type Nb201Mask } from '../src/spaces/nb201.js';
import { parseDartsMask } from '../src/spaces/darts.js';
import { nb201NtkNetwork, nb201ThinNetwork } from '../src/graph/nb201-networks.js';
import { dartsNtkNetwork, dartsThinNetwork } from '../src/graph/darts-networks.js';
import { ntkColumns, tensorSize, type Network } from '../src/graph/ir.js';
import { initialiseWeights, weightsFromTensors, type Weights } from '../src/graph/weights.js';
import { Rng } from '../src/data/rng.js';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { WebGpuBackend } from '../src/engine/webgpu/backend.js';
import { requestGpuAdapter } from '../src/engine/webgpu/device.js';
import { createBackend, describeBackendChoice } from '../src/engine/create.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { scoreNtk } from '../src/metrics/ntk.js';
import { scoreRegions } from '../src/metrics/regions.js';

// SwiftShader (a CPU) runs these in Node. Two goldens take minutes there and run only with
// TENAS_SLOW_TESTS=1: nb201-ntk-full-b72 and darts-ntk-in1k-b24 (measured 440 s).
const SLOW_GOLDENS = new Set(['nb201-ntk-full-b72', 'darts-ntk-in1k-b24']);
const adapter = await requestGpuAdapter();
const slow = process.env.TENAS_SLOW_TESTS === '1';

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

let backend: WebGpuBackend;
let wasm: WasmBackend;
let linalg: LinearAlgebra;

function ntkNetworkOf(golden: GoldenCase): Network {
  const e = golden.expected;
  if (e.space === 'nb201') return nb201NtkNetwork({ mask: parseNb201Mask(e.alive.arch as string), classes: e.classes, inputSize: e.input_shape[2] });
  return dartsNtkNetwork({ mask: parseDartsMask(e.alive.arch), classes: e.classes, inputSize: e.input_shape[2] });
}

async function checkNtkGolden(golden: GoldenCase): Promise<void> {
  const e = golden.expected;
  const network = ntkNetworkOf(golden);
  const { columns, dimension } = ntkColumns(network);
  expect(columns.map((c) => network.params[c.param].name)).toEqual(e.ntk_param_names);
  expect(dimension).toBe(e.P);
  const weights = weightsFromTensors(network, golden.weights(), 'weights.safetensors');
  const input = golden.input().data as Float32Array;
  const started = performance.now();
  const { gradients, logits } = await backend.ntkGradients(network, weights, input, e.batch);
  const seconds = (performance.now() - started) / 1000;
  const stats = backend.lastStats!;
  const theta = linalg.gram(gradients);
  const eigenvalues = linalg.eigenvalues(theta, e.batch);
  const kappa = eigenvalues[e.batch - 1] / eigenvalues[0];
  const goldenLogits = golden.array('logits.npy').data as Float32Array;
  const grad0 = golden.array('grad0.npy').data as Float32Array;
  const eig = e.eig_f64!;
  const lmax = eig[eig.length - 1];
  const measured = {
    logits: maxDiff(logits, goldenLogits) / maxAbs(goldenLogits),
    grad0: maxDiff(gradients.data.subarray(0, gradients.columns), grad0) / maxAbs(grad0),
    lambdaMax: Math.abs(eigenvalues[e.batch - 1] - lmax) / lmax,
    kappa: Math.abs(kappa - e.kappa_f64!) / e.kappa_f64!,
  };
  console.log(`${golden.name}: ${seconds.toFixed(1)} s, ${stats.dispatches} dispatches, ${stats.readbacks} read-back(s), chunk ${stats.chunk}×${stats.chunks}; rel. errors ${JSON.stringify(measured)}`);
  expect(maxDiff(logits, goldenLogits)).toBeLessThanOrEqual(1e-4 * maxAbs(goldenLogits) + 1e-6);
  expect(measured.lambdaMax).toBeLessThanOrEqual(1e-4);
  expect(measured.kappa).toBeLessThanOrEqual(2e-3);
  expect(maxDiff(gradients.data.subarray(0, gradients.columns), grad0)).toBeLessThanOrEqual(1e-3 * maxAbs(grad0));
  expect(stats.readbacks).toBe(1);
}

async function checkThinGolden(golden: GoldenCase): Promise<void> {
  const e = golden.expected;
  const network = e.space === 'nb201' ? nb201ThinNetwork({ mask: parseNb201Mask(e.alive.arch as string), classes: e.classes }) : dartsThinNetwork({ mask: parseDartsMask(e.alive.arch), classes: e.classes });
  const weights = weightsFromTensors(network, golden.weights(), 'weights.safetensors');
  const input = golden.input().data as Float32Array;
  const batches = [0, 1, 2].map((b) => input.subarray(b * 9000, (b + 1) * 9000));
  const score = await scoreRegions(backend, linalg, network, weights, batches, 1000);
  expect(score.features).toBe(e.features);
  expect(score.firings).toBe(e.relu_firings);
  expect(score.regions).toBe(e.regions);
  const sum = score.logits.reduce((s, l) => s + l.reduce((a, v) => a + v, 0), 0);
  expect(Math.abs(sum - e.logits_sum)).toBeLessThanOrEqual(1e-3 * Math.abs(e.logits_sum));
  expect(backend.lastStats!.readbacks).toBe(1);
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

describe.skipIf(!adapter)('WebGPU backend (skipped when no WebGPU adapter exists: apt-get install -y chromium libvulkan1)', () => {
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
      const heavy = SLOW_GOLDENS.has(golden.name);
      it.skipIf(heavy && !slow)(`${golden.name}${heavy ? ' (TENAS_SLOW_TESTS=1)' : ''}`, () => checkNtkGolden(golden), 1_800_000);
    }
    for (const golden of goldenCases((e) => e.space === 'nb201' && e.net === 'thin')) it(golden.name, () => checkThinGolden(golden));
  });

  describe('DARTS golden cases', () => {
    for (const golden of goldenCases((e) => e.space === 'darts' && e.net === 'ntk')) {
      const heavy = SLOW_GOLDENS.has(golden.name);
      it.skipIf(heavy && !slow)(`${golden.name}${heavy ? ' (TENAS_SLOW_TESTS=1)' : ''}`, () => checkNtkGolden(golden), 1_800_000);
    }
    for (const golden of goldenCases((e) => e.space === 'darts' && e.net === 'thin')) it(golden.name, () => checkThinGolden(golden));
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
    const whole = await backend.ntkGradients(network, weights, input, batch);
    expect(backend.lastStats!.chunks).toBe(1);
    for (const maxChunk of [1, 3]) {
      const chunked = await WebGpuBackend.create({ maxChunk });
      try {
        const result = await chunked.ntkGradients(network, weights, input, batch);
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
    const reference = await wasm.ntkGradients(network, weights, input, batch);
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
      const result = await fragile.ntkGradients(network, weights, input, batch);
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
    const reference = await wasm.ntkGradients(network, weights, input, batch);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const doomed = await WebGpuBackend.create({ testHooks: { afterSubmit: (device) => device.destroy() } });
    try {
      const result = await doomed.ntkGradients(network, weights, input, batch);
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

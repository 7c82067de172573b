import { describe, it, expect, beforeAll } from 'vitest';
import { goldenCases } from './support/golden.js';
import { parseDartsMask } from '../src/spaces/darts.js';
import { dartsNtkNetwork, dartsThinNetwork } from '../src/graph/darts-networks.js';
import { ntkColumns } from '../src/graph/ir.js';
import { weightsFromTensors } from '../src/graph/weights.js';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { scoreNtk } from '../src/metrics/ntk.js';
import { scoreRegions } from '../src/metrics/regions.js';

let backend: WasmBackend;
let linalg: LinearAlgebra;
beforeAll(async () => {
  backend = await WasmBackend.create();
  linalg = await LinearAlgebra.create();
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('DARTS golden cases on WebAssembly', () => {
  for (const golden of goldenCases((e) => e.space === 'darts' && e.net === 'ntk')) {
    it(golden.name, async () => {
      const e = golden.expected;
      const mask = parseDartsMask(e.alive.arch);
      const network = dartsNtkNetwork({ mask, classes: e.classes, inputSize: e.input_shape[2] });
      expect(network.params.map((p) => p.name)).toEqual(e.param_names);
      const { columns, dimension } = ntkColumns(network);
      expect(columns.map((c) => network.params[c.param].name)).toEqual(e.ntk_param_names);
      expect(dimension).toBe(e.P);
      const weights = weightsFromTensors(network, golden.weights(), 'weights.safetensors');
      const input = golden.input().data as Float32Array;
      const score = await scoreNtk(backend, linalg, network, weights, input, e.batch);
      const logits = golden.array('logits.npy').data as Float32Array;
      expect(maxDiff(score.logits, logits)).toBeLessThanOrEqual(1e-4 * maxAbs(logits) + 1e-6);
      const eig = e.eig_f64!;
      const lmax = eig[eig.length - 1];
      expect(Math.abs(score.eigenvalues[eig.length - 1] - lmax) / lmax).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(score.kappa - e.kappa_f64!) / e.kappa_f64!).toBeLessThanOrEqual(2e-3);
      const { gradients } = await backend.ntkGradients(network, weights, input, e.batch);
      const grad0 = golden.array('grad0.npy').data as Float32Array;
      expect(maxDiff(gradients.data.subarray(0, gradients.columns), grad0)).toBeLessThanOrEqual(1e-3 * maxAbs(grad0));
    });
  }
  for (const golden of goldenCases((e) => e.space === 'darts' && e.net === 'thin')) {
    it(golden.name, async () => {
      const e = golden.expected;
      const mask = parseDartsMask(e.alive.arch);
      const network = dartsThinNetwork({ mask, classes: e.classes });
      expect(network.params.map((p) => p.name)).toEqual(e.param_names);
      const weights = weightsFromTensors(network, golden.weights(), 'weights.safetensors');
      const input = golden.input().data as Float32Array;
      const batches = [0, 1, 2].map((b) => input.subarray(b * 9000, (b + 1) * 9000));
      const score = await scoreRegions(backend, linalg, network, weights, batches, 1000);
      expect(score.features).toBe(e.features);
      expect(score.firings).toBe(e.relu_firings);
      expect(score.regions).toBe(e.regions);
      const sum = score.logits.reduce((s, l) => s + l.reduce((a, v) => a + v, 0), 0);
      expect(Math.abs(sum - e.logits_sum)).toBeLessThanOrEqual(1e-3 * Math.abs(e.logits_sum));
    });
  }
});

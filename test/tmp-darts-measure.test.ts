import { it, beforeAll } from 'vitest';
import { goldenCases } from './support/golden.js';
import { parseDartsMask } from '../src/spaces/darts.js';
import { dartsNtkNetwork, dartsThinNetwork } from '../src/graph/darts-networks.js';
import { weightsFromTensors } from '../src/graph/weights.js';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { scoreNtk } from '../src/metrics/ntk.js';

let backend: WasmBackend;
let linalg: LinearAlgebra;
beforeAll(async () => { backend = await WasmBackend.create(); linalg = await LinearAlgebra.create(); });
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
it('measure', async () => {
  for (const golden of goldenCases((e) => e.space === 'darts')) {
    const e = golden.expected;
    const mask = parseDartsMask(e.alive.arch);
    if (e.net === 'ntk') {
      const network = dartsNtkNetwork({ mask, classes: e.classes, inputSize: e.input_shape[2] });
      const weights = weightsFromTensors(network, golden.weights(), 'w');
      const input = golden.input().data as Float32Array;
      const score = await scoreNtk(backend, linalg, network, weights, input, e.batch);
      const logits = golden.array('logits.npy').data as Float32Array;
      const eig = e.eig_f64!; const lmax = eig[eig.length - 1];
      const { gradients } = await backend.ntkGradients(network, weights, input, e.batch);
      const grad0 = golden.array('grad0.npy').data as Float32Array;
      console.log(golden.name, JSON.stringify({
        logitsRel: maxDiff(score.logits, logits) / maxAbs(logits),
        lmaxRel: Math.abs(score.eigenvalues[eig.length - 1] - lmax) / lmax,
        lminRel: Math.abs(score.eigenvalues[0] - eig[0]) / eig[0],
        kappa: score.kappa, kappaRel: Math.abs(score.kappa - e.kappa_f64!) / e.kappa_f64!,
        kappaF32VsF64: Math.abs(e.kappa_f32! - e.kappa_f64!) / e.kappa_f64!,
        grad0Rel: maxDiff(gradients.data.subarray(0, gradients.columns), grad0) / maxAbs(grad0),
      }));
    } else {
      const network = dartsThinNetwork({ mask, classes: e.classes });
      const weights = weightsFromTensors(network, golden.weights(), 'w');
      const input = golden.input().data as Float32Array;
      const batches = [0, 1, 2].map((b) => input.subarray(b * 9000, (b + 1) * 9000));
      const { patterns, logits } = await backend.activationPatterns(network, weights, batches, 1000);
      const expected = golden.array('patterns.npy').data as Uint8Array;
      const p = patterns as unknown as Record<string, unknown>;
      console.log(golden.name, Object.keys(p), patterns.features, patterns.firings);
      const sum = logits.reduce((s, l) => s + l.reduce((a, v) => a + v, 0), 0);
      const data = (p.data ?? p.bits ?? p.rows) as ArrayLike<number> | undefined;
      let diff = -1;
      if (data && data.length === expected.length) { diff = 0; for (let i = 0; i < expected.length; i++) if ((data[i] ? 1 : 0) !== expected[i]) diff++; }
      console.log(golden.name, JSON.stringify({ regions: linalg.countDistinctRows(patterns), expected: e.regions, patternBitDiffs: diff, dataLen: data?.length, expLen: expected.length, nearZero: e.near_zero_preacts, logitsSumRel: Math.abs(sum - e.logits_sum) / Math.abs(e.logits_sum) }));
    }
  }
});

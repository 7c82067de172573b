import { describe, it, beforeAll, expect } from 'vitest';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { scoreNtk } from '../src/metrics/ntk.js';
import { fmaTitle, fmaUnavailable } from './support/fma.js';
import { goldenCases } from './support/golden.js';
import { expectNtkGolden, expectThinGolden, goldenNetwork, reluKinks } from './support/golden-checks.js';

let linalg: LinearAlgebra;
let exact: WasmBackend;
beforeAll(async () => {
  [linalg, exact] = await Promise.all([LinearAlgebra.create(), WasmBackend.create()]);
});

describe('golden cases on the WebAssembly backend', () => {
  for (const golden of goldenCases()) {
    it(golden.name, async () => {
      if (golden.expected.net === 'ntk') await expectNtkGolden(exact, linalg, golden);
      else await expectThinGolden(exact, linalg, golden);
    });
  }
});

// Fused multiply-add rounds differently, and where a pre-activation lies within float32 rounding of
// 0 it may land on the other side of a ReLU than the reference's float32 arithmetic (and than the
// exact kernels': nb201-ntk-mask-b16 has one such input of 24,576 in one ReLU, 2.4e-7 against a
// largest |x| of 7.5). That flips a row of the gradient mask and moves κ by ~1e-3, more than the
// cases' tolerances. Where λmax is off by more than 1e-4, the check is that the two builds' ReLU
// inputs differ only in such kinks, and that κ stays within 1e-2.
describe.skipIf(fmaUnavailable)(fmaTitle('golden cases on the WebAssembly backend with fused multiply-add'), () => {
  let fused: WasmBackend;
  beforeAll(async () => {
    fused = await WasmBackend.create('wasm-fma');
  });
  for (const golden of goldenCases()) {
    it(golden.name, async () => {
      if (golden.expected.net !== 'ntk') return expectThinGolden(fused, linalg, golden);
      const { network, weights } = goldenNetwork(golden);
      const input = golden.input().data as Float32Array;
      const { kappa, eigenvalues } = await scoreNtk(fused, linalg, network, weights, input, golden.expected.batch);
      const eig = golden.expected.eig_f64!;
      const lambdaMax = eig[eig.length - 1];
      if (Math.abs(eigenvalues[eig.length - 1] - lambdaMax) / lambdaMax <= 1e-4) return void (await expectNtkGolden(fused, linalg, golden));
      const kinks = await reluKinks(exact, fused, network, weights, input, golden.expected.batch);
      expect(kinks.flips).toBeGreaterThan(0);
      expect(kinks.relative).toBeLessThan(1e-6);
      expect(Math.abs(kappa - golden.expected.kappa_f64!) / golden.expected.kappa_f64!).toBeLessThan(1e-2);
    });
  }
});

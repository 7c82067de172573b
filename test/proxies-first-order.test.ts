import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Backend } from '../src/engine/backend.js';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { TenasInputError } from '../src/errors.js';
import { SharedPasses, type Indicator, type MeasureContext, type Measured } from '../src/metrics/indicator.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { azComplexityIndicator } from '../src/metrics/proxies/az-complexity.js';
import { flopsIndicator } from '../src/metrics/proxies/flops.js';
import { gradNormIndicator } from '../src/metrics/proxies/grad-norm.js';
import { PROXY_INDICATORS } from '../src/metrics/proxies/index.js';
import { jacobCovIndicator } from '../src/metrics/proxies/jacob-cov.js';
import { nwotIndicator, nwotKernels } from '../src/metrics/proxies/nwot.js';
import { paramsIndicator } from '../src/metrics/proxies/params.js';
import { snipIndicator } from '../src/metrics/proxies/snip.js';
import { zenIndicator } from '../src/metrics/proxies/zen.js';
import { zicoIndicator } from '../src/metrics/proxies/zico.js';
import { proxyGoldenCases, type ProxyGoldenCase, type ProxyGoldenValue } from './support/golden-proxies.js';
import { goldenMeasureContext, isLargeCase, PROXY_BACKENDS } from './support/proxy-context.js';

// The first-order zero-cost proxies against the proxy goldens (test/golden-proxies/README.md), with
// the README's tolerances, on both backends (PROXY_BACKENDS says which cases a software adapter runs).

/** Largest error reached per backend and proxy (relative or absolute, as the README compares it). */
const reached = new Map<string, number>();
function record(backend: string, what: string, error: number): void {
  const key = `${backend} ${what}`;
  reached.set(key, Math.max(reached.get(key) ?? 0, error));
}

const relative = (actual: number, expected: number) => (expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected));

function stored(golden: ProxyGoldenCase, name: string): ProxyGoldenValue {
  return golden.expected.proxies[name];
}

/**
 * A ReLU whose pre-activation sits within float32 noise of 0 (|a| ~ 1e-7) can come out on the other
 * side of 0 than in the reference; the nwot kernel K shows it (K ≠ the stored K). Such a flip
 * opens or closes the gradient path through that unit, which moves the weight gradients of every
 * layer before it by up to ~1 % (seen on both backends, e.g. a BN output of 6.9e-8 in
 * nb201-mixed-c8n1-b16). The README's tolerances hold where no sign flipped; with a flip, these apply.
 */
const FLIPPED = { total: 2e-3, perLayer: 2e-2 };

/**
 * ZiCo's two halves each have their own forward, whose signs no stored K witnesses, so its checks
 * always allow a flip: gradient sums per layer within FLIPPED.perLayer (the README's 1e-4 on the
 * classifier, which no ReLU flip reaches), ln S_l of the steady layers within 0.25 (README: 0.05)
 * and the total over the steady layers within 1e-2 · |value| (README: 5e-3 for the whole total).
 * A layer is unsteady when one weight's term is ≥ 5 % of its S_l: with two batches that weight's σ
 * is |g₁ − g₂| / 2 for two nearly equal gradients, i.e. float32 rounding in the reference and here
 * alike. In nb201-mixed-c16n5-b64, 65 of 68 layers are unsteady (96 % of the total; in one, a single
 * term is 98 % of S_l, and its ln S_l moves by 3 with the kernels' summation order), so those layers
 * are only required to be finite. The errors reached are printed, the whole total's among them.
 */
const ZICO_FLIPPED = { layerLog: 0.25, steadyTotal: 1e-2 };
const ZICO_UNSTEADY_SHARE = 0.05;

/** Total and every per-layer value within a relative tolerance (a zero contribution must come out zero). */
function expectRelative(backend: string, name: string, measured: Measured, expected: ProxyGoldenValue, tolerance: number, signsFlipped: boolean): void {
  const label = signsFlipped ? `${name} (sign flips)` : name;
  const error = relative(measured.value, expected.value);
  record(backend, label, error);
  expect(error).toBeLessThanOrEqual(signsFlipped ? FLIPPED.total : tolerance);
  const perParam = expected.per_param!;
  expect(Object.keys(measured.perParam!)).toEqual(Object.keys(perParam));
  for (const [param, value] of Object.entries(perParam)) {
    const layerError = relative(measured.perParam![param] as number, value as number);
    record(backend, `${label} per layer`, layerError);
    expect(layerError, param).toBeLessThanOrEqual(signsFlipped ? FLIPPED.perLayer : tolerance);
    if (value === 0) expect(measured.perParam![param], param).toBe(0);
  }
}

/** Whether this backend's hooked pre-activation signs differ from the reference's (K ≠ stored K). */
async function signsFlipped(context: MeasureContext, golden: ProxyGoldenCase): Promise<boolean> {
  const kernel = (await nwotKernels(context)).kernel;
  const storedKernel = golden.array('nwot_K.npy').data as Float64Array;
  return kernel.some((value, i) => value !== storedKernel[i]);
}

describe.each(PROXY_BACKENDS)('first-order proxies on $name', ({ name: backendName, create, runs }) => {
  let backend: Backend;
  let linalg: LinearAlgebra;
  beforeAll(async () => {
    backend = await create();
    linalg = await LinearAlgebra.create();
  });
  afterAll(() => {
    backend?.dispose();
    const lines = [...reached].filter(([key]) => key.startsWith(`${backendName} `)).map(([key, error]) => `  ${key}: ${error.toExponential(2)}`);
    console.log(`largest errors reached on ${backendName}:\n${lines.join('\n')}`);
  });

  for (const golden of proxyGoldenCases()) {
    describe.runIf(runs(golden))(golden.name, () => {
      const seconds = new Map<string, number>();
      let context: MeasureContext;
      beforeAll(() => {
        context = { ...goldenMeasureContext(golden, backend, linalg), shared: new SharedPasses() };
      });
      afterAll(() => console.log(`${backendName} ${golden.name}: ${[...seconds].map(([proxy, s]) => `${proxy} ${s.toFixed(2)} s`).join(', ')} (shared passes paid by the first user)`));

      const measure = async (indicator: Indicator): Promise<Measured> => {
        const started = performance.now();
        const measured = await indicator.measure(context);
        seconds.set(indicator.name, (performance.now() - started) / 1000);
        return measured;
      };
      const timeout = isLargeCase(golden) ? 1_800_000 : 120_000;

      it('params and flops: exact; az_complexity = flops / 10⁶', async () => {
        for (const indicator of [paramsIndicator, flopsIndicator]) {
          const measured = await measure(indicator);
          const expected = stored(golden, indicator.name);
          expect(measured.value).toBe(expected.value);
          expect(measured.perParam).toEqual(expected.per_param);
        }
        const complexity = await measure(azComplexityIndicator);
        const error = relative(complexity.value, golden.az.proxies.az_complexity.value);
        record(backendName, 'az_complexity', error);
        expect(error).toBeLessThanOrEqual(1e-12);
      });

      it('nwot: K entrywise, log|det K| within 1e-3, and the ReLU-only variant', async () => {
        const measured = await measure(nwotIndicator);
        const expected = stored(golden, 'nwot');
        const extra = expected.extra as Record<string, number>;
        expect(measured.extra).toMatchObject({ features: extra.features, features_relu_only: extra.features_relu_only, modules_hooked: extra.modules_hooked, relu_modules_hooked: extra.relu_modules_hooked });
        const error = Math.abs(measured.value - expected.value);
        const reluOnlyError = Math.abs((measured.extra!.value_relu_only as number) - extra.value_relu_only);
        record(backendName, 'nwot', error);
        record(backendName, 'nwot value_relu_only', reluOnlyError);
        expect(error).toBeLessThanOrEqual(1e-3);
        expect(reluOnlyError).toBeLessThanOrEqual(1e-3);
        // K is exact up to a few units that sit on 0 and flip in float32: each flip of sample i moves
        // row and column i by 1 (2 for a ReLUConvBN input, hooked twice).
        const { batch } = golden.expected;
        const kernel = (await nwotKernels(context)).kernel;
        const storedKernel = golden.array('nwot_K.npy').data as Float64Array;
        let largest = 0;
        let differing = 0;
        kernel.forEach((value, i) => {
          largest = Math.max(largest, Math.abs(value - storedKernel[i]));
          if (value !== storedKernel[i]) differing++;
        });
        record(backendName, 'nwot K max |ΔK|', largest);
        record(backendName, 'nwot K entries differing', differing);
        expect(largest).toBeLessThanOrEqual(8);
        expect(differing).toBeLessThanOrEqual(8 * 2 * (batch - 1));
      }, timeout);

      it('snip and grad_norm: total and per layer within 1e-4 relative (where no sign flipped)', async () => {
        const flipped = await signsFlipped(context, golden);
        expectRelative(backendName, 'snip', await measure(snipIndicator), stored(golden, 'snip'), 1e-4, flipped);
        expectRelative(backendName, 'grad_norm', await measure(gradNormIndicator), stored(golden, 'grad_norm'), 1e-4, flipped);
      }, timeout);

      it('jacob_cov: within 1.5e-4 · |value|', async () => {
        const measured = await measure(jacobCovIndicator);
        const expected = stored(golden, 'jacob_cov');
        const jacobianError = relative(measured.extra!.jacobian_abs_sum as number, (expected.extra as Record<string, number>).jacobian_abs_sum);
        record(backendName, 'jacob_cov Σ|J|', jacobianError);
        expect(jacobianError).toBeLessThanOrEqual(1e-4);
        const error = relative(measured.value, expected.value);
        record(backendName, 'jacob_cov', error);
        expect(error).toBeLessThanOrEqual(1.5e-4);
      }, timeout);

      it('zen: within 1e-4 absolute, with every BN running variance', async () => {
        const measured = await measure(zenIndicator);
        const expected = stored(golden, 'zen');
        const extra = expected.extra as { bn_mean_running_var: Record<string, number>; nas_score: number };
        const runningVar = measured.extra!.bn_mean_running_var as Record<string, number>;
        expect(Object.keys(runningVar)).toEqual(Object.keys(extra.bn_mean_running_var));
        for (const [bn, value] of Object.entries(extra.bn_mean_running_var)) {
          const bnError = relative(runningVar[bn], value);
          record(backendName, 'zen running_var', bnError);
          expect(bnError, bn).toBeLessThanOrEqual(1e-4);
        }
        const error = Math.abs(measured.value - expected.value);
        record(backendName, 'zen', error);
        expect(error).toBeLessThanOrEqual(1e-4);
      }, timeout);

      it('zico: gradients per layer, steady ln S_l and the total (bounds that allow a sign flip)', async () => {
        const measured = await measure(zicoIndicator);
        const expected = stored(golden, 'zico');
        const extra = expected.extra as { grad_abs_sum: Record<string, number[]>; grad_dev_abs_sum: Record<string, number>; max_term_share: Record<string, number | null> };
        const got = measured.extra as typeof extra;
        for (const [layer, sums] of Object.entries(extra.grad_abs_sum)) {
          const tolerance = layer === 'classifier.weight' ? 1e-4 : FLIPPED.perLayer;
          sums.forEach((sum, k) => {
            const e = relative(got.grad_abs_sum[layer][k], sum);
            record(backendName, 'zico grad_abs_sum', e);
            expect(e, layer).toBeLessThanOrEqual(tolerance);
          });
          const e = relative(got.grad_dev_abs_sum[layer], extra.grad_dev_abs_sum[layer]);
          record(backendName, 'zico grad_dev_abs_sum', e);
          expect(e, layer).toBeLessThanOrEqual(tolerance);
        }
        let unsteadyMeasured = 0;
        let unsteadyExpected = 0;
        for (const [layer, value] of Object.entries(expected.per_param!)) {
          if (value === null || extra.max_term_share[layer]! < ZICO_UNSTEADY_SHARE) continue;
          const got = measured.perParam![layer] as number;
          expect(Number.isFinite(got), layer).toBe(true);
          unsteadyMeasured += got;
          unsteadyExpected += value;
        }
        record(backendName, 'zico (total)', relative(measured.value, expected.value));
        const error = relative(measured.value - unsteadyMeasured, expected.value - unsteadyExpected);
        record(backendName, 'zico (steady layers total)', error);
        expect(error).toBeLessThanOrEqual(ZICO_FLIPPED.steadyTotal);
        for (const [layer, value] of Object.entries(expected.per_param!)) {
          if (value === null) {
            expect(measured.perParam![layer], layer).toBeNull();
            continue;
          }
          if (extra.max_term_share[layer]! >= ZICO_UNSTEADY_SHARE) continue;
          const e = Math.abs((measured.perParam![layer] as number) - value);
          record(backendName, 'zico ln S_l (steady layers)', e);
          expect(e, layer).toBeLessThanOrEqual(ZICO_FLIPPED.layerLog);
        }
      }, timeout);
    });
  }
});

describe('first-order proxies: contract', () => {
  it('are registered once each under the goldens names', () => {
    const names = PROXY_INDICATORS.map((indicator) => indicator.name);
    for (const name of ['nwot', 'snip', 'grad_norm', 'jacob_cov', 'zen', 'zico', 'params', 'flops', 'az_complexity']) expect(names).toContain(name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(PROXY_INDICATORS.map((indicator) => indicator.key)).size).toBe(names.length);
  });

  it('count sign agreements over any bit range, word-aligned or not', async () => {
    const linalg = await LinearAlgebra.create();
    const rows = 5;
    const words = 4;
    const packed = new Uint32Array(rows * words);
    let state = 12345;
    for (let i = 0; i < packed.length; i++) packed[i] = state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const bit = (row: number, t: number) => (packed[row * words + (t >>> 5)] >>> (t & 31)) & 1;
    for (const [start, end] of [
      [0, 128],
      [3, 29],
      [5, 70],
      [32, 64],
      [31, 33],
      [100, 100],
    ]) {
      const kernel = linalg.signAgreements({ packed, rows, words, features: 128, firings: 1 }, start, end);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < rows; j++) {
          let agree = 0;
          for (let t = start; t < end; t++) agree += bit(i, t) === bit(j, t) ? 1 : 0;
          expect(kernel[i * rows + j], `[${start}, ${end}) K${i}${j}`).toBe(agree);
        }
      }
    }
  });

  it('refuse data without labels when they need a loss', async () => {
    const [golden] = proxyGoldenCases((e) => e.C * e.N <= 16);
    const network = golden.network();
    const context: MeasureContext = {
      backend: await WasmBackend.create(),
      linalg: await LinearAlgebra.create(),
      network,
      weights: golden.weights(network),
      inputs: [golden.input()],
      batch: golden.expected.batch,
      gramPrecision: 'float64',
      kappaPolicy: 'floor',
    };
    for (const indicator of [snipIndicator, gradNormIndicator, zicoIndicator]) {
      expect(indicator.needsLabels).toBe(true);
      await expect(indicator.measure(context)).rejects.toThrow(TenasInputError);
      await expect(indicator.measure(context)).rejects.toThrow(new RegExp(`^${indicator.name} needs class labels`));
    }
    await expect(zenIndicator.measure(context)).rejects.toThrow(/zen needs its own Gaussian weights/);
    // jacob_cov needs no labels.
    expect(Number.isFinite((await jacobCovIndicator.measure(context)).value)).toBe(true);
  });
});

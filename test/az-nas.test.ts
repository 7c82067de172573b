import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Rng } from '../src/data/rng.js';
import type { Backend } from '../src/engine/backend.js';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { subNetwork } from '../src/graph/subnetwork.js';
import { initialiseWeights } from '../src/graph/weights.js';
import { SharedPasses, type MeasureContext } from '../src/metrics/indicator.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { azExpressivityIndicator } from '../src/metrics/proxies/az-expressivity.js';
import { kaimingFanInScale } from '../src/metrics/proxies/az-nas.js';
import { azProgressivityIndicator } from '../src/metrics/proxies/az-progressivity.js';
import { azTrainabilityIndicator } from '../src/metrics/proxies/az-trainability.js';
import { archToMask } from '../src/spaces/nb201/arch.js';
import { nb201EvalNetwork } from '../src/spaces/nb201/networks.js';
import { proxyGoldenCases } from './support/golden-proxies.js';
import { goldenMeasureContext, PROXY_BACKENDS, relativeError } from './support/proxy-context.js';

// AZ-NAS's expressivity, progressivity and trainability against every proxy golden, with the
// tolerances of the goldens: expressivity abs 5e-4 (each map's entropy 5e-5), progressivity abs
// 1e-4, trainability abs 5e-5; each block's σ_max relative 1e-5 plus the float32 noise of the
// reference itself (its σ_max against the float64 net: up to 4.6e-5 at C = 16, N = 5, where ReLU
// inputs near 0 flip from one float32 evaluation order to another), Σ g_in² relative 1e-4.

interface Block {
  block: string;
  g_in_sq_sum: number;
  sigma_max: number | null;
  score: number;
}

describe.each(PROXY_BACKENDS)('AZ-NAS on $name', ({ name, create, runs }) => {
  let backend: Backend;
  let linalg: LinearAlgebra;
  beforeAll(async () => {
    backend = await create();
    linalg = await LinearAlgebra.create();
  });
  afterAll(() => backend?.dispose());

  for (const golden of proxyGoldenCases()) {
    const run = runs(golden) ? it : it.skip;
    run(`${golden.name}${run === it ? '' : ' (on a software adapter: TENAS_SLOW_TESTS=1)'}`, async () => {
      const context = { ...goldenMeasureContext(golden, backend, linalg), shared: new SharedPasses() };
      const want = golden.az.proxies;
      const started = performance.now();
      const expressivity = await azExpressivityIndicator.measure(context);
      const progressivity = await azProgressivityIndicator.measure(context);
      const trainability = await azTrainabilityIndicator.measure(context);
      const seconds = (performance.now() - started) / 1000;

      const entropies = expressivity.extra!.per_feature_entropy as number[];
      const wantEntropies = want.az_expressivity.extra!.per_feature_entropy as number[];
      const entropyError = Math.max(...entropies.map((e, i) => Math.abs(e - wantEntropies[i])));
      const blocks = trainability.extra!.per_block as Block[];
      const wantBlocks = want.az_trainability.extra!.per_block as Block[];
      const sigmaError = Math.max(...blocks.map((b, i) => relativeError(b.sigma_max!, wantBlocks[i].sigma_max!)));
      // The reference's own float32 noise: its σ_max against the same computation in float64.
      const sigmasNet64 = want.az_trainability.extra!.per_block_sigma_max_net64 as number[];
      const referenceNoise = Math.max(...wantBlocks.map((b, i) => relativeError(b.sigma_max!, sigmasNet64[i])));
      const gInError = Math.max(...blocks.map((b, i) => relativeError(b.g_in_sq_sum, wantBlocks[i].g_in_sq_sum)));
      const errors = {
        expressivity: Math.abs(expressivity.value - want.az_expressivity.value),
        progressivity: Math.abs(progressivity.value - want.az_progressivity.value),
        trainability: Math.abs(trainability.value - want.az_trainability.value),
      };
      console.log(
        `AZ-NAS ${name} ${golden.name}: ${seconds.toFixed(2)} s for the three; abs. errors expressivity ${errors.expressivity.toExponential(2)} (worst map ${entropyError.toExponential(2)}), ` +
          `progressivity ${errors.progressivity.toExponential(2)}, trainability ${errors.trainability.toExponential(2)} (σ_max rel. ${sigmaError.toExponential(2)}, reference vs float64 ${referenceNoise.toExponential(2)}; Σg_in² rel. ${gInError.toExponential(2)})`,
      );

      expect(entropies).toHaveLength(golden.az.features.length);
      expect(entropyError).toBeLessThanOrEqual(5e-5);
      expect(errors.expressivity).toBeLessThanOrEqual(5e-4);
      expect(progressivity.extra!.argmin).toBe(want.az_progressivity.extra!.argmin);
      expect(errors.progressivity).toBeLessThanOrEqual(1e-4);
      expect(blocks.map((b) => b.block)).toEqual(wantBlocks.map((b) => b.block));
      expect(gInError).toBeLessThanOrEqual(1e-4);
      expect(sigmaError).toBeLessThanOrEqual(1e-5 + referenceNoise);
      expect(errors.trainability).toBeLessThanOrEqual(5e-5);
    }, 1_800_000);
  }
});

describe('AZ-NAS inputs and special cases', () => {
  it('scales the Gaussian weights by the Kaiming fan-in std of the goldens, bit for bit', () => {
    for (const golden of proxyGoldenCases()) {
      const network = golden.network();
      for (const [param, scale] of Object.entries(golden.az.weights.init_scale)) {
        const spec = network.params.find((p) => p.name === param)!;
        expect(kaimingFanInScale(spec.shape), `${golden.name} ${param}`).toBe(scale);
      }
    }
  });

  it('names the feature maps F_0 … F_{L−1} of the goldens: the stem, every cell and both ResNet blocks', () => {
    for (const golden of proxyGoldenCases()) {
      const network = golden.network();
      const shapes = network.features!.map((f) => {
        const { channels, height, width } = network.layers[f.layer].shape;
        return { name: f.name, shape: [golden.expected.batch, channels, height, width] };
      });
      expect(shapes).toEqual(golden.az.features.map((f) => ({ name: f.name, shape: f.shape })));
    }
  });

  /** A C = 4, N = 1 eval net with drawn weights, inputs and bits. */
  async function drawnContext(arch: string): Promise<MeasureContext> {
    const network = nb201EvalNetwork({ mask: archToMask(arch), classes: 10, inputSize: 32, channels: 4, cells: 1 });
    const batch = 4;
    const rng = Rng.stream(7, 'az-nas-test');
    const input = Float32Array.from({ length: batch * 3 * 32 * 32 }, () => rng.normal());
    const gaussian = initialiseWeights(network, 'kaiming-normal-fan-in', rng);
    return {
      backend: await WasmBackend.create(),
      linalg: await LinearAlgebra.create(),
      network,
      weights: gaussian,
      inputs: [input],
      batch,
      gramPrecision: 'float64',
      kappaPolicy: 'floor',
      shared: new SharedPasses(),
      draws: {
        gaussianWeights: () => gaussian,
        gaussianInputs: () => [input, input],
        signBits: (bits) => Uint8Array.from({ length: Math.ceil(bits / 8) }, () => rng.nextU32() & 255),
      },
    };
  }

  it('scores an identity cell −∞ and a cell cut off by `none` edges −10⁶ + 2', async () => {
    const identity = await drawnContext('|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|');
    const identityBlocks = (await azTrainabilityIndicator.measure(identity)).extra!.per_block as Block[];
    expect(identityBlocks.map((b) => b.score === -Infinity)).toEqual([true, false, true, false, true]);
    expect((await azTrainabilityIndicator.measure(identity)).value).toBe(-Infinity);

    const cut = await drawnContext('|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|');
    const cutBlocks = (await azTrainabilityIndicator.measure(cut)).extra!.per_block as Block[];
    expect(cutBlocks[0]).toMatchObject({ g_in_sq_sum: 0, sigma_max: 0, score: -1e6 + 2 });
    // The cut cell outputs zeros: its covariance has trace 0, the entropy is NaN, stored as −∞.
    expect((await azExpressivityIndicator.measure(cut)).value).toBe(-Infinity);
    expect((await azProgressivityIndicator.measure(cut)).value).toBe(-Infinity);
  });

  it('cuts a block out of a network: same output as the whole network at that layer', async () => {
    const context = await drawnContext('|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|');
    const { network, weights, batch, inputs, backend } = context;
    const [stem, cell] = network.features!;
    const { activations } = await backend.forward({ network, weights, batch, inputs, capture: { layers: [stem.layer, cell.layer], as: 'values' } });
    const block = subNetwork(network, stem.layer, cell.layer);
    expect(block.layers[0]).toEqual({ kind: 'input', shape: network.layers[stem.layer].shape });
    const { logits } = await backend.forward({ network: block, weights, batch, inputs: [activations![0][0]] });
    expect(Array.from(logits[0])).toEqual(Array.from(activations![0][1]));
    expect(() => subNetwork(network, stem.layer + 1, cell.layer)).toThrow(/not a block/);
  });
});

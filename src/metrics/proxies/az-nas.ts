import { TenasInputError } from '../../errors.js';
import { tensorSize, type NamedFeature, type Network, type TensorShape } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import type { IndicatorDraws, MeasureContext } from '../indicator.js';
import type { LinearAlgebra } from '../linalg.js';

/**
 * What AZ-NAS's three network proxies (expressivity, progressivity, trainability; Lee & Ham, CVPR
 * 2024) share: the re-initialised network, its Gaussian input and one forward pass that keeps every
 * feature map F_0 (the stem) … F_{L−1} (each cell and ResNet block), in BN training mode.
 */
export interface AzNasPass {
  readonly weights: Weights;
  readonly input: Float32Array;
  readonly features: readonly NamedFeature[];
  /** Each feature map, `batch × its size` floats. */
  readonly maps: readonly Float32Array[];
}

/** AZ-NAS's Kaiming-normal fan-in std √2/√fan_in of a weight, rounded to float32 as PyTorch holds it. */
export function kaimingFanInScale(shape: readonly number[]): number {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return Math.fround(Math.SQRT2 / Math.sqrt(fanIn));
}

/**
 * AZ-NAS re-initialises every conv and linear weight ~ N(0, 2/fan_in): here each N(0, 1) weight
 * of the Gaussian draw times its layer's std, a float32 product; biases 0, BN γ = 1, β = 0 as drawn.
 */
export function azNasWeights(network: Network, gaussian: Weights): Weights {
  return network.params.map((spec, param) => {
    if (spec.role !== 'conv' && spec.role !== 'linear-weight') return gaussian[param];
    const scale = kaimingFanInScale(spec.shape);
    return gaussian[param].map((z) => z * scale);
  });
}

export function requireAzNasDraws(context: MeasureContext, indicator: string): IndicatorDraws {
  if (!context.draws) throw new TenasInputError(`${indicator} needs AZ-NAS's random draws (Gaussian weights, input and ±1 gradients), which this measurement does not provide; score it on the eval network`);
  return context.draws;
}

export function requireFeatures(network: Network, indicator: string): readonly NamedFeature[] {
  if (!network.features || network.features.length < 2) throw new TenasInputError(`${indicator} needs a network with named feature maps (the stem and every cell), which ${network.label} does not have; use the eval network`);
  return network.features;
}

/** The re-initialised forward pass, run once per measurement context and shared by the three proxies. */
export function azNasPass(context: MeasureContext, indicator: string): Promise<AzNasPass> {
  const compute = async (): Promise<AzNasPass> => {
    const { backend, network, batch } = context;
    const draws = requireAzNasDraws(context, indicator);
    const features = requireFeatures(network, indicator);
    const weights = azNasWeights(network, draws.gaussianWeights());
    const input = draws.gaussianInputs()[0];
    const { activations } = await backend.forward({ network, weights, batch, inputs: [input], capture: { layers: features.map((f) => f.layer), as: 'values' } });
    return { weights, input, features, maps: activations![0] };
  };
  return context.shared ? context.shared.once('az-nas:features', compute) : compute();
}

/** A `batch × C × plane` tensor (NCHW) as C rows of `batch · plane` values: channels as rows, positions (b, h, w) as columns. */
export function channelRows(tensor: Float32Array, batch: number, shape: TensorShape): Float32Array {
  const plane = shape.height * shape.width;
  const rows = new Float32Array(tensor.length);
  for (let c = 0; c < shape.channels; c++) {
    for (let n = 0; n < batch; n++) {
      const from = (n * shape.channels + c) * plane;
      rows.set(tensor.subarray(from, from + plane), (c * batch + n) * plane);
    }
  }
  return rows;
}

export interface SpectralEntropy {
  readonly entropy: number;
  readonly trace: number;
  readonly eigMax: number;
  readonly eigMin: number;
}

/**
 * The entropy Σ −p ln(p + 10⁻⁸) of the normalised eigenvalues p = λ/Σλ of a feature map's channel
 * covariance over its B·H·W positions (mean removed, divided by B·H·W), formed in float64.
 */
export function spectralEntropy(linalg: LinearAlgebra, map: Float32Array, batch: number, shape: TensorShape): SpectralEntropy {
  const channels = shape.channels;
  const positions = batch * shape.height * shape.width;
  const rows = channelRows(map, batch, shape);
  const gram = linalg.gram({ data: rows, rows: channels, columns: positions }, 'float64');
  const means = Array.from({ length: channels }, (_, c) => {
    let total = 0;
    for (let i = c * positions; i < (c + 1) * positions; i++) total += rows[i];
    return total / positions;
  });
  const covariance = gram.map((value, index) => value / positions - means[Math.floor(index / channels)] * means[index % channels]);
  const eigenvalues = linalg.eigenvalues(covariance, channels);
  const trace = eigenvalues.reduce((a, b) => a + b, 0);
  const entropy = eigenvalues.reduce((sum, lambda) => {
    const p = lambda / trace;
    return sum - p * Math.log(p + 1e-8);
  }, 0);
  return { entropy, trace, eigMax: eigenvalues[channels - 1], eigMin: eigenvalues[0] };
}

/** The entropy of every feature map, computed once per measurement context (expressivity and progressivity share it). */
export function featureEntropies(context: MeasureContext, indicator: string): Promise<{ pass: AzNasPass; entropies: SpectralEntropy[] }> {
  const compute = async () => {
    const pass = await azNasPass(context, indicator);
    const shapeOf = (index: number) => context.network.layers[pass.features[index].layer].shape;
    const entropies = pass.maps.map((map, index) => spectralEntropy(context.linalg, map, context.batch, shapeOf(index)));
    return { pass, entropies };
  };
  return context.shared ? context.shared.once('az-nas:entropies', compute) : compute();
}

/** The reference stores a NaN proxy value as −inf. */
export const nanToNegativeInfinity = (value: number): number => (Number.isNaN(value) ? -Infinity : value);

export const featureShape = (network: Network, feature: NamedFeature, batch: number): number[] => {
  const { channels, height, width } = network.layers[feature.layer].shape;
  return [batch, channels, height, width];
};

export const featureFloats = (network: Network, feature: NamedFeature, batch: number): number => batch * tensorSize(network.layers[feature.layer].shape);

import { subNetwork } from '../../graph/subnetwork.js';
import type { TensorShape } from '../../graph/ir.js';
import type { Indicator, MeasureContext, Measured } from '../indicator.js';
import type { LinearAlgebra } from '../linalg.js';
import { azNasPass, channelRows, featureFloats, featureShape, requireAzNasDraws } from './az-nas.js';

/** ±1 from packed bits (MSB first): bit j of the stream, from `offset` on, as 2b − 1. */
function unpackSigns(bits: Uint8Array, offset: number, count: number): Float32Array {
  const signs = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const j = offset + i;
    signs[i] = ((bits[j >> 3] >> (7 - (j & 7))) & 1) === 1 ? 1 : -1;
  }
  return signs;
}

/**
 * g_in (`batch × C × rH × rW`) pixel-unshuffled to C·r² rows over the B·H·W output positions,
 * stacked above g_out's C_out rows (channels as rows, positions (b, h, w) as columns).
 */
function stackedRows(gIn: Float32Array, inShape: TensorShape, gOut: Float32Array, outShape: TensorShape, batch: number): { rows: Float32Array; inRows: number } {
  const r = inShape.height / outShape.height;
  const { height, width } = outShape;
  const positions = batch * height * width;
  const inRows = inShape.channels * r * r;
  const rows = new Float32Array((inRows + outShape.channels) * positions);
  for (let c = 0; c < inShape.channels; c++) {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        const row = (c * r + i) * r + j;
        for (let n = 0; n < batch; n++) {
          for (let h = 0; h < height; h++) {
            const source = ((n * inShape.channels + c) * inShape.height + r * h + i) * inShape.width + j;
            const target = row * positions + (n * height + h) * width;
            for (let w = 0; w < width; w++) rows[target + w] = gIn[source + r * w];
          }
        }
      }
    }
  }
  rows.set(channelRows(gOut, batch, outShape), inRows * positions);
  return { rows, inRows };
}

/** σ_max of M = G_inᵀ G_out / (B·H·W), from the float64 Gram of the stacked rows: √λ_max of the smaller of MᵀM and MMᵀ. */
function largestSingularValue(linalg: LinearAlgebra, rows: Float32Array, inRows: number, outRows: number, positions: number): number {
  const total = inRows + outRows;
  const gram = linalg.gram({ data: rows, rows: total, columns: positions }, 'float64');
  const m = (a: number, b: number) => gram[a * total + inRows + b] / positions;
  const [size, inner, entry] = outRows <= inRows ? [outRows, inRows, (k: number, i: number) => m(k, i)] : [inRows, outRows, (k: number, i: number) => m(i, k)];
  const product = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += entry(k, i) * entry(k, j);
      product[i * size + j] = sum;
      product[j * size + i] = sum;
    }
  }
  const eigenvalues = linalg.eigenvalues(product, size);
  return Math.sqrt(Math.max(eigenvalues[size - 1], 0));
}

/**
 * AZ-NAS trainability: for every block (cell or ResNet block) between consecutive feature maps, the
 * ±1 output gradient is pulled back through the block (weights fixed, BN batch statistics included),
 * and σ, the largest singular value of the input–output gradient correlation, scores −σ − 1/σ + 2
 * (0 at σ = 1: the block neither amplifies nor damps gradients). An identity block scores −∞.
 */
async function measureTrainability(context: MeasureContext): Promise<Measured> {
  const { backend, linalg, network, batch } = context;
  const pass = await azNasPass(context, 'az_trainability');
  const blocks = pass.features.slice(1);
  const totalBits = blocks.reduce((sum, feature) => sum + featureFloats(network, feature, batch), 0);
  const bits = requireAzNasDraws(context, 'az_trainability').signBits(totalBits);
  const perBlock = [];
  let bitOffset = 0;
  for (const [index, block] of blocks.entries()) {
    const source = pass.features[index];
    const inShape = network.layers[source.layer].shape;
    const outShape = network.layers[block.layer].shape;
    const outFloats = featureFloats(network, block, batch);
    const gOut = unpackSigns(bits, bitOffset, outFloats);
    bitOffset += outFloats;
    const { inputGradients } = await backend.vjp({
      network: subNetwork(network, source.layer, block.layer),
      weights: pass.weights,
      batch,
      input: pass.maps[index],
      cotangents: { kind: 'given', data: gOut, count: 1 },
      reduce: 'param-sums',
      inputGradient: true,
    });
    const gIn = inputGradients!;
    const gInSquareSum = gIn.reduce((sum, g) => sum + g * g, 0);
    const sameShape = inShape.channels === outShape.channels && inShape.height === outShape.height && inShape.width === outShape.width;
    const identity = sameShape && gIn.every((g, i) => g === gOut[i]);
    const positions = batch * outShape.height * outShape.width;
    const { rows, inRows } = stackedRows(gIn, inShape, gOut, outShape, batch);
    const sigma = identity ? Number.NaN : largestSingularValue(linalg, rows, inRows, outShape.channels, positions);
    const score = identity ? -Infinity : -sigma - 1 / (sigma + 1e-6) + 2;
    perBlock.push({
      block: block.name,
      in_shape: featureShape(network, source, batch),
      out_shape: featureShape(network, block, batch),
      g_in_sq_sum: gInSquareSum,
      identity,
      sigma_max: identity ? null : sigma,
      score,
      M_shape: [inRows, outShape.channels],
    });
  }
  const scores = perBlock.map((b) => b.score);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  return { value: Number.isNaN(mean) ? -Infinity : mean, extra: { per_block: perBlock } };
}

export const azTrainabilityIndicator: Indicator<'azTrainability'> = {
  name: 'az_trainability',
  key: 'azTrainability',
  symbol: 'AZ-T',
  title: 'AZ-NAS trainability (spectral norm of block gradient maps)',
  network: 'eval',
  data: 'gaussian',
  higherIsBetter: true,
  roundDelta: (delta) => delta,
  measure: measureTrainability,
  invalidMean: (value) => (value === -Infinity || (Number.isFinite(value) && value <= 0) ? undefined : 'a finite AZ-NAS trainability ≤ 0 (or -Infinity)'),
};

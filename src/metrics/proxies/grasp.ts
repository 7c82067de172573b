import { backward64, executorKernels, float64Params, forward64, logits64, tangent64, type Sparse } from '../../engine/float64/executor.js';
import type { Network } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import type { Indicator, Measured } from '../indicator.js';
import { crossEntropy, requireLabels } from './loss.js';
import { weightLayers } from './weight-layers.js';

/**
 * The tangent of the cross-entropy's logit gradient (softmax(f) − one-hot)/B along ḟ:
 * (p ⊙ ḟ − p·⟨p, ḟ⟩)/B per sample, with p = softmax(f).
 */
function crossEntropyGradientTangent(logits: Float64Array, logitsDot: Float64Array, batch: number, classes: number): Float64Array {
  const out = new Float64Array(logits.length);
  const p = new Float64Array(classes);
  for (let n = 0; n < batch; n++) {
    const row = n * classes;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[row + k]);
    let total = 0;
    for (let k = 0; k < classes; k++) total += p[k] = Math.exp(logits[row + k] - max);
    let dot = 0;
    for (let k = 0; k < classes; k++) dot += (p[k] /= total) * logitsDot[row + k];
    for (let k = 0; k < classes; k++) out[row + k] = (p[k] * (logitsDot[row + k] - dot)) / batch;
  }
  return out;
}

/**
 * GraSP (Wang et al. 2020; zero-cost-nas `compute_grasp_per_weight`, T = 1, docs/proxies.md):
 * g = ∂L/∂W over the weight layers, Hg the Hessian of L restricted to them times g (through the
 * training-mode BN batch statistics), score = Σ −W ⊙ Hg. Hg is the forward-mode tangent of the
 * reverse pass along g on the float64 host executor: exact to rounding, as the terms cancel to
 * 0.1–1 % of Σ|W ⊙ Hg| (`extra.abs_sum`).
 */
export async function grasp(network: Network, weights: Weights, input: Float32Array, labels: Int32Array): Promise<Measured> {
  const batch = labels.length;
  const params = float64Params(weights);
  const pass = forward64(await executorKernels(), network, params, Float64Array.from(input), batch);
  const logits = logits64(pass);
  const { loss, gradient } = crossEntropy(logits, labels, network.classes);
  const g = backward64(pass, gradient).params;
  const layers = weightLayers(network);
  const direction: Sparse = [];
  let z = 0;
  for (const { param } of layers) {
    direction[param] = g[param];
    for (const v of g[param] ?? []) z += v * v;
  }
  const tangent = tangent64(pass, direction);
  const logitsDot = tangent.outputs[tangent.outputs.length - 1];
  const gradientDot = logitsDot && crossEntropyGradientTangent(logits, logitsDot, batch, network.classes);
  const hg = backward64(pass, gradient, { tangent: { forward: tangent, outputGradient: gradientDot }, paramGradients: false }).paramTangents!;
  const perParam: Record<string, number> = {};
  let value = 0;
  let absSum = 0;
  for (const { param, name } of layers) {
    const [w, h] = [params[param], hg[param]];
    let sum = 0;
    if (h) {
      for (let i = 0; i < w.length; i++) {
        const term = w[i] * h[i];
        sum -= term;
        absSum += Math.abs(term);
      }
    }
    perParam[name] = sum;
    value += sum;
  }
  return { value, perParam, extra: { abs_sum: absSum, loss, z } };
}

export const graspIndicator: Indicator<'grasp'> = {
  name: 'grasp',
  key: 'grasp',
  symbol: 'GraSP',
  title: 'gradient signal preservation (−W ⊙ Hg)',
  network: 'eval',
  data: 'samples',
  higherIsBetter: true,
  needsLabels: true,
  roundDelta: (delta) => delta,
  measure: async (context) => grasp(context.network, context.weights, context.inputs[0], requireLabels(context, 'grasp')[0]),
  invalidMean: (value) => (Number.isFinite(value) ? undefined : 'a finite GraSP score'),
};

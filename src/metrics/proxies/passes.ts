import { tensorSize, type GradientColumn } from '../../graph/ir.js';
import type { MeasureContext } from '../indicator.js';
import { crossEntropy } from './loss.js';
import { weightLayers } from './weight-layers.js';

/**
 * Passes several proxies share, each memoised in `context.shared` under its own name, so proxies
 * measured together on one network run it once. Every proxy measures the first batch of `inputs`.
 */

/** One weight layer's gradient: `null` when no gradient reaches it (it is not a gradient column). */
export interface LayerGradient {
  readonly name: string;
  readonly weight: Float32Array;
  readonly gradient: Float32Array | null;
}

export interface GradientPass {
  readonly loss: number;
  /** ∂L/∂W per weight layer (L = mean cross-entropy of the whole batch, BN in training mode). */
  readonly lossGradients: readonly LayerGradient[];
}

export interface InputJacobianPass {
  /** ∂(Σ_{i,c} f(x)_{ic})/∂x, batch × input size (one forward of the whole batch, so BN couples the rows). */
  readonly jacobian: Float32Array;
}

/** Splits one row of gradient columns into the weight layers' gradients. */
export function layerGradients(context: MeasureContext, columns: readonly GradientColumn[], row: Float32Array): LayerGradient[] {
  const { network, weights } = context;
  const offsets = new Map(columns.map((column) => [column.param, column.offset]));
  return weightLayers(network).map(({ param, name }) => {
    const offset = offsets.get(param);
    const size = network.params[param].size;
    return { name, weight: weights[param], gradient: offset === undefined ? null : row.subarray(offset, offset + size) };
  });
}

/**
 * One forward of the first batch and one reverse pass per cotangent: the loss gradient (when the
 * data has labels) and the all-ones cotangent of jacob_cov, with the input gradient.
 */
function lossAndJacobian(context: MeasureContext): Promise<{ gradients?: GradientPass; jacobian: InputJacobianPass }> {
  return shared(context, 'loss-gradient+input-jacobian', async () => {
    const { backend, network, weights, batch } = context;
    const input = context.inputs[0];
    const labels = context.labels?.[0];
    const classes = network.classes;
    const outputFloats = batch * classes;
    const withLoss = labels !== undefined && labels.length === batch;
    // The loss cotangent needs the logits first; the forward runs once more inside the vjp.
    const lossCotangent = withLoss ? crossEntropy(await logitsPass(context), labels, classes) : undefined;
    const count = withLoss ? 2 : 1;
    const data = new Float32Array(count * outputFloats);
    if (lossCotangent) data.set(lossCotangent.gradient);
    data.fill(1, (count - 1) * outputFloats);
    const result = await backend.vjp({ network, weights, batch, input, cotangents: { kind: 'given', data, count }, reduce: 'rows', inputGradient: true });
    const inputFloats = batch * tensorSize(network.input);
    const jacobian = { jacobian: result.inputGradients!.subarray((count - 1) * inputFloats, count * inputFloats) };
    if (!lossCotangent) return { jacobian };
    const row = result.gradients.data.subarray(0, result.gradients.columns);
    return { jacobian, gradients: { loss: lossCotangent.loss, lossGradients: layerGradients(context, result.columns, row) } };
  });
}

/** The logits of the first batch; a pass that forwards that batch anyway can supply them (`supplyLogits`). */
export function logitsPass(context: MeasureContext): Promise<Float32Array> {
  const { backend, network, weights, batch, inputs } = context;
  return shared(context, 'logits', async () => (await backend.forward({ network, weights, batch, inputs: [inputs[0]] })).logits[0]);
}

/** Records logits a pass computed from the first batch with the context's weights (unless known already). */
export function supplyLogits(context: MeasureContext, logits: Float32Array): void {
  void shared(context, 'logits', () => Promise.resolve(logits));
}

/** ∂L/∂W per weight layer (callers check the labels first, see `requireLabels`). */
export async function lossGradientPass(context: MeasureContext): Promise<GradientPass> {
  const { gradients } = await lossAndJacobian(context);
  if (!gradients) throw new Error('the loss gradient needs labels (call requireLabels first)');
  return gradients;
}

export async function inputJacobianPass(context: MeasureContext): Promise<InputJacobianPass> {
  return (await lossAndJacobian(context)).jacobian;
}

/** The pass memoised in `context.shared`, or run on its own when the context shares nothing. */
export function shared<T>(context: MeasureContext, name: string, compute: () => Promise<T>): Promise<T> {
  return context.shared ? context.shared.once(name, compute) : compute();
}

/** Σ over a layer's elements of f(weight, gradient), in float64. */
export function sumOver(layer: LayerGradient, term: (weight: number, gradient: number) => number): number {
  if (!layer.gradient) return 0;
  let total = 0;
  for (let i = 0; i < layer.weight.length; i++) total += term(layer.weight[i], layer.gradient[i]);
  return total;
}

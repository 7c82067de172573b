import { tensorSize } from '../../graph/ir.js';
import type { MeasureContext } from '../indicator.js';
import { crossEntropy, requireLabels } from './loss.js';
import { layerGradients, type LayerGradient } from './passes.js';
import { proxyIndicator } from './proxy.js';

/** ∂L_k/∂W per weight layer for each half of the first batch, each forwarded alone (its own BN statistics). */
async function halfBatchGradients(context: MeasureContext, labels: Int32Array): Promise<{ losses: number[]; gradients: LayerGradient[][] }> {
  const { backend, network, weights, batch } = context;
  const sampleFloats = tensorSize(network.input);
  const half = Math.floor(batch / 2);
  const losses: number[] = [];
  const gradients: LayerGradient[][] = [];
  for (const [start, end] of [
    [0, half],
    [half, batch],
  ]) {
    const input = context.inputs[0].subarray(start * sampleFloats, end * sampleFloats);
    const size = end - start;
    const { logits } = await backend.forward({ network, weights, batch: size, inputs: [input] });
    const { loss, gradient } = crossEntropy(logits[0], labels.subarray(start, end), network.classes);
    const result = await backend.vjp({ network, weights, batch: size, input, cotangents: { kind: 'given', data: gradient, count: 1 }, reduce: 'rows' });
    losses.push(loss);
    gradients.push(layerGradients(context, result.columns, result.gradients.data));
  }
  return { losses, gradients };
}

/**
 * ZiCo (`compute_zico.py`, two mini-batches = the halves of the batch): per weight layer
 * S_l = Σ mean_k|g_k| / std_k(g_k) over the elements with std > 0; score = Σ ln S_l over the
 * layers with S_l > 0 (a layer behind a `none` edge has no gradient and is skipped: null).
 */
export const zicoIndicator = proxyIndicator({
  name: 'zico',
  key: 'zico',
  symbol: 'ZiCo',
  title: 'ZiCo (gradient mean over deviation)',
  needsLabels: true,
  measure: async (context) => {
    const [labels] = requireLabels(context, 'zico');
    if (context.batch < 4) throw new RangeError(`zico splits the batch into two halves; it needs a batch of at least 4 (got ${context.batch})`);
    const { losses, gradients } = await halfBatchGradients(context, labels);
    const perParam: Record<string, number | null> = {};
    const gradAbsSum: Record<string, number[]> = {};
    const gradDevAbsSum: Record<string, number> = {};
    const maxTermShare: Record<string, number | null> = {};
    const nonzeroStdElements: Record<string, number> = {};
    let value = 0;
    gradients[0].forEach((layer, l) => {
      const g1 = layer.gradient;
      const g2 = gradients[1][l].gradient;
      let s = 0;
      let largest = 0;
      let count = 0;
      let abs1 = 0;
      let abs2 = 0;
      let deviation = 0;
      for (let i = 0; g1 && g2 && i < g1.length; i++) {
        const a = g1[i];
        const b = g2[i];
        abs1 += Math.abs(a);
        abs2 += Math.abs(b);
        const mean = (a + b) / 2;
        deviation += Math.abs(a - mean) + Math.abs(b - mean);
        // Population std of two values: |a − b| / 2; mean |g|: (|a| + |b|) / 2.
        const std = Math.abs(a - b) / 2;
        if (std === 0) continue;
        const term = (Math.abs(a) + Math.abs(b)) / 2 / std;
        s += term;
        largest = Math.max(largest, term);
        count++;
      }
      gradAbsSum[layer.name] = [abs1, abs2];
      gradDevAbsSum[layer.name] = deviation;
      nonzeroStdElements[layer.name] = count;
      if (s === 0) {
        perParam[layer.name] = null;
        maxTermShare[layer.name] = null;
        return;
      }
      perParam[layer.name] = Math.log(s);
      maxTermShare[layer.name] = largest / s;
      value += Math.log(s);
    });
    return {
      value,
      perParam,
      extra: { losses, n_batches: 2, grad_abs_sum: gradAbsSum, grad_dev_abs_sum: gradDevAbsSum, max_term_share: maxTermShare, nonzero_std_elements: nonzeroStdElements },
    };
  },
});

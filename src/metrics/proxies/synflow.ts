import { backward64, executorKernels, forward64, logits64 } from '../../engine/float64/executor.js';
import { tensorSize, withoutBatchNorm, type Network } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import type { Indicator, Measured } from '../indicator.js';
import { weightLayers } from './weight-layers.js';

/**
 * SynFlow (Tanaka et al. 2020; zero-cost-nas `compute_synflow_per_weight`, docs/proxies.md): the
 * network without BN, every parameter replaced by |θ|, fed one all-ones sample in float64;
 * R = Σ logits and score = Σ over the weight layers of Σ |W ⊙ ∂R/∂W|. R reaches ~1e40 at the
 * benchmark's size (C = 16, N = 5), past float32's range, so it runs on the float64 host executor.
 */
export async function synflow(network: Network, weights: Weights): Promise<Measured> {
  const bare = withoutBatchNorm(network);
  const params = weights.map((values) => Float64Array.from(values, Math.abs));
  const pass = forward64(await executorKernels(), bare, params, new Float64Array(tensorSize(bare.input)).fill(1), 1);
  const logits = logits64(pass);
  let flow = 0;
  for (const logit of logits) flow += logit;
  const gradients = backward64(pass, new Float64Array(logits.length).fill(1)).params;
  const perParam: Record<string, number> = {};
  let value = 0;
  for (const { param, name } of weightLayers(bare)) {
    const [w, g] = [params[param], gradients[param]];
    let sum = 0;
    if (g) for (let i = 0; i < w.length; i++) sum += Math.abs(w[i] * g[i]);
    perParam[name] = sum;
    value += sum;
  }
  return { value, perParam, extra: { R: flow, log10_value: Math.log10(value) } };
}

export const synflowIndicator: Indicator<'synflow'> = {
  name: 'synflow',
  key: 'synflow',
  symbol: 'SynFlow',
  title: 'synaptic flow (BN removed, |θ|, all-ones input)',
  network: 'eval',
  data: 'samples',
  higherIsBetter: true,
  roundDelta: (delta) => delta,
  measure: ({ network, weights }) => synflow(network, weights),
  invalidMean: (value) => (Number.isFinite(value) && value >= 0 ? undefined : 'a finite synflow score ≥ 0'),
};

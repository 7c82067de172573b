import { batchNormLayers } from '../../engine/backend.js';
import { TenasInputError } from '../../errors.js';
import type { Network } from '../../graph/ir.js';
import { proxyIndicator } from './proxy.js';

/** The layer whose output is the pre-GAP feature map φ (the final BN → ReLU). */
function preGapLayer(network: Network): number {
  for (let id = network.layers.length - 1; id >= 0; id--) {
    const layer = network.layers[id];
    if (layer.kind === 'gap') return layer.input;
  }
  throw new Error(`zen needs a network with a global average pool (${network.label} has none)`);
}

/** PyTorch BN's momentum: running_var ← (1 − m)·running_var + m·v_unbiased. */
const MOMENTUM = 0.1;

/**
 * Zen-score (ZenNAS `compute_nas_score`, repeat 1, mixup γ = 0.01) on the Gaussian re-initialised
 * network: ln(mean_n Σ |φ(x) − φ(x_mix)|) + Σ over every BN of ln √(mean_c running_var), where a
 * fresh BN's running variance (1) is updated by the forward of x, then by that of x_mix. Its
 * weights and inputs come from the context's draws, not from the run's data.
 */
export const zenIndicator = proxyIndicator({
  name: 'zen',
  key: 'zen',
  symbol: 'Zen',
  title: 'Zen-score',
  measure: async ({ backend, network, batch, draws }) => {
    if (!draws) throw new TenasInputError('zen needs its own Gaussian weights and inputs; score it with a run that provides indicator draws');
    const weights = draws.gaussianWeights();
    const [x, xMix] = draws.gaussianInputs();
    const phi = preGapLayer(network);
    const { activations, batchNormVariances } = await backend.forward({ network, weights, batch, inputs: [x, xMix], capture: { layers: [phi], as: 'values' }, batchNormVariances: true });
    const [[a], [b]] = activations!;
    let difference = 0;
    for (let i = 0; i < a.length; i++) difference += Math.abs(a[i] - b[i]);
    const nasScore = difference / batch;
    const meanRunningVar: Record<string, number> = {};
    let logBnScaling = 0;
    batchNormLayers(network).forEach((id, index) => {
      const layer = network.layers[id];
      if (layer.kind !== 'batchnorm') return;
      const n = batch * layer.shape.height * layer.shape.width;
      const unbiased = n / (n - 1);
      const [first, second] = batchNormVariances!.map((perBatch) => perBatch[index]);
      let total = 0;
      for (let c = 0; c < first.length; c++) {
        const running = (1 - MOMENTUM) * ((1 - MOMENTUM) * 1 + MOMENTUM * unbiased * first[c]) + MOMENTUM * unbiased * second[c];
        total += running;
      }
      const mean = total / first.length;
      meanRunningVar[network.params[layer.gamma].name.replace(/\.weight$/, '')] = mean;
      logBnScaling += Math.log(Math.sqrt(mean));
    });
    return { value: Math.log(nasScore) + logBnScaling, extra: { nas_score: nasScore, log_nas_score: Math.log(nasScore), log_bn_scaling: logBnScaling, bn_mean_running_var: meanRunningVar } };
  },
});

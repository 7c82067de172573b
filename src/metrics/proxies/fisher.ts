import { type LayerId, type Network, type ParamId } from '../../graph/ir.js';
import type { Indicator, MeasureContext, Measured } from '../indicator.js';
import { crossEntropy, requireLabels } from './loss.js';
import { weightLayers } from './weight-layers.js';

/** Every conv and linear layer with the weight it applies. */
function weightedLayers(network: Network): { id: LayerId; weight: ParamId }[] {
  return network.layers.flatMap((layer, id) => (layer.kind === 'conv' || layer.kind === 'linear' ? [{ id, weight: layer.weight }] : []));
}

/**
 * Δ_k = ½ · mean_n (Σ_{h,w} a_nkhw · g_nkhw)² per output channel k, from a layer's output a and its
 * loss gradient g (both `batch × channels × plane`), in float64.
 */
function channelFisher(activation: Float32Array, gradient: Float32Array, batch: number, channels: number): Float64Array {
  const plane = activation.length / (batch * channels);
  const fisher = new Float64Array(channels);
  for (let n = 0; n < batch; n++) {
    for (let k = 0; k < channels; k++) {
      const start = (n * channels + k) * plane;
      let s = 0;
      for (let i = start; i < start + plane; i++) s += activation[i] * gradient[i];
      fisher[k] += (0.5 * s * s) / batch;
    }
  }
  return fisher;
}

/**
 * zero-cost-nas `fisher` in channel mode: the loss gradient at every conv output (before its BN)
 * and at the logits, multiplied by the output and summed per sample and channel; the squared sums
 * are averaged over the batch, halved, and counted once per weight of the channel (its fan-in).
 */
async function measureFisher(context: MeasureContext): Promise<Measured> {
  const { backend, network, weights, batch } = context;
  const labels = requireLabels(context, 'fisher')[0];
  const input = context.inputs[0];
  const layers = weightedLayers(network);
  const ids = layers.map((layer) => layer.id);
  const forward = await backend.forward({ network, weights, batch, inputs: [input], capture: { layers: ids, as: 'values' } });
  const { gradient } = crossEntropy(forward.logits[0], labels, network.classes);
  const vjp = await backend.vjp({
    network,
    weights,
    batch,
    input,
    cotangents: { kind: 'given', data: gradient, count: 1 },
    reduce: 'param-sums',
    captureGradients: ids,
  });
  const perChannel = new Map<ParamId, Float64Array>();
  layers.forEach(({ id, weight }, index) => {
    const { channels } = network.layers[id].shape;
    const fisher = channelFisher(forward.activations![0][index], vjp.layerGradients![index], batch, channels);
    const total = perChannel.get(weight);
    perChannel.set(weight, total ? total.map((value, k) => value + fisher[k]) : fisher);
  });
  const perParam: Record<string, number> = {};
  const perChannelByName: Record<string, number[]> = {};
  let value = 0;
  for (const { param, name } of weightLayers(network)) {
    const fisher = perChannel.get(param)!;
    const spec = network.params[param];
    const fanIn = spec.size / spec.shape[0];
    const contribution = fisher.reduce((sum, delta) => sum + delta * fanIn, 0);
    perParam[name] = contribution;
    perChannelByName[name] = Array.from(fisher);
    value += contribution;
  }
  return { value, perParam, extra: { per_channel_del_k: perChannelByName } };
}

export const fisherIndicator: Indicator<'fisher'> = {
  name: 'fisher',
  key: 'fisher',
  symbol: 'fisher',
  title: 'Fisher information of the channels (zero-cost-nas)',
  network: 'eval',
  data: 'samples',
  higherIsBetter: true,
  needsLabels: true,
  roundDelta: (delta) => delta,
  measure: measureFisher,
  invalidMean: (value) => (Number.isFinite(value) && value >= 0 ? undefined : 'a finite fisher value ≥ 0'),
};

import { gradientFlow } from './gradient-flow.js';
import { layerInputs, tensorSize, type Layer, type LayerKind, type LayerOf, type Network } from './ir.js';

const uncounted = () => 0;

/**
 * Floating-point operations of one sample's forward pass through a layer, per layer kind (a
 * missing kind does not compile). Only the dense layers count (convolutions and the classifier; a
 * multiply-add is two), the convention used for GFLOP/s in benchmarks: element-wise layers (BN,
 * ReLU, pooling, sums) are memory-bound.
 */
const LAYER_FLOPS: { readonly [K in LayerKind]: (network: Network, layer: LayerOf<K>) => number } = {
  conv: (network, layer) => 2 * tensorSize(layer.shape) * (network.layers[layer.input].shape.channels / layer.groups) * layer.kernel * layer.kernel,
  linear: (network, layer) => 2 * layer.shape.channels * tensorSize(network.layers[layer.input].shape),
  input: uncounted,
  batchnorm: uncounted,
  relu: uncounted,
  avgpool: uncounted,
  maxpool: uncounted,
  sum: uncounted,
  zero: uncounted,
  concat: uncounted,
  gap: uncounted,
};

function layerForwardFlops(network: Network, layer: Layer): number {
  return (LAYER_FLOPS[layer.kind] as (network: Network, layer: Layer) => number)(network, layer);
}

export function forwardFlopsPerSample(network: Network): number {
  return network.layers.reduce((total, layer) => total + layerForwardFlops(network, layer), 0);
}

/** One backward pass over one sample: weight gradients, plus input gradients where they flow. */
export function backwardFlopsPerSample(network: Network): number {
  const flow = gradientFlow(network);
  return network.layers.reduce((total, layer, id) => {
    const flops = layerForwardFlops(network, layer);
    if (!flow.carries[id] || flops === 0) return total;
    return total + flops + (layerInputs(layer).some((input) => flow.carries[input]) ? flops : 0);
  }, 0);
}

/** An NTK evaluation: one forward over the batch and one backward over the batch per cotangent. */
export function ntkFlops(network: Network, batch: number): number {
  return batch * forwardFlopsPerSample(network) + batch * batch * backwardFlopsPerSample(network);
}

/** A linear-region measurement: forwards only. */
export function regionFlops(network: Network, samples: number): number {
  return samples * forwardFlopsPerSample(network);
}

/**
 * NAS-Bench-201's FLOPs of one sample (xautodl `get_model_infos`): the multiply-adds of every
 * executed conv and linear layer, plus the linear layers' bias additions; per layer, by its weight.
 */
export function benchmarkFlopsPerLayer(network: Network): Map<number, number> {
  const perWeight = new Map<number, number>();
  for (const layer of network.layers) {
    if (layer.kind !== 'conv' && layer.kind !== 'linear') continue;
    const flops = layerForwardFlops(network, layer) / 2 + (layer.kind === 'linear' ? layer.shape.channels : 0);
    perWeight.set(layer.weight, (perWeight.get(layer.weight) ?? 0) + flops);
  }
  return perWeight;
}

import { gradientFlow } from './gradient-flow.js';
import { tensorSize, type Layer, type Network } from './ir.js';

/**
 * Floating-point operations of the dense layers (convolutions and the classifier; a multiply-add
 * counts as two), the convention used for GFLOP/s in benchmarks. Element-wise layers (BN, ReLU,
 * pooling, sums) are memory-bound and not counted.
 */
function layerForwardFlops(network: Network, layer: Layer): number {
  if (layer.kind === 'conv') {
    const input = network.layers[layer.input].shape;
    return 2 * tensorSize(layer.shape) * (input.channels / layer.groups) * layer.kernel * layer.kernel;
  }
  if (layer.kind === 'linear') return 2 * layer.shape.channels * tensorSize(network.layers[layer.input].shape);
  return 0;
}

export function forwardFlopsPerSample(network: Network): number {
  return network.layers.reduce((total, layer) => total + layerForwardFlops(network, layer), 0);
}

/** One backward pass over one sample: weight gradients, plus input gradients where they flow. */
export function backwardFlopsPerSample(network: Network): number {
  const flow = gradientFlow(network);
  return network.layers.reduce((total, layer, id) => {
    if (!flow.carries[id] || (layer.kind !== 'conv' && layer.kind !== 'linear')) return total;
    const flops = layerForwardFlops(network, layer);
    return total + flops + (flow.carries[layer.input] ? flops : 0);
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

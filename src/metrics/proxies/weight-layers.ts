import { layerParams, layersReachingOutput, type Network, type ParamId } from '../../graph/ir.js';

/**
 * The weight layers of the zero-cost proxies: the weight of every executed conv and linear layer,
 * in parameter (module) order. Proxies that sum over parameters sum over these only, never over BN
 * γ/β or biases. `reachesOutput` tells which ones can receive a gradient.
 */
export function weightLayers(network: Network): { param: ParamId; name: string; reachesOutput: boolean }[] {
  const reaches = layersReachingOutput(network);
  const executed = new Map<ParamId, boolean>();
  network.layers.forEach((layer, id) => {
    if (layer.kind !== 'conv' && layer.kind !== 'linear') return;
    const [weight] = layerParams(layer);
    executed.set(weight, (executed.get(weight) ?? false) || reaches[id]);
  });
  return network.params.flatMap((spec, param) => (executed.has(param) ? [{ param, name: spec.name, reachesOutput: executed.get(param)! }] : []));
}

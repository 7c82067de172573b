import { layerInputs, tensorSize, type Layer, type LayerId, type Network } from './ir.js';

/** The layer with every input id passed through `map`. */
function remapInputs(layer: Layer, map: (id: LayerId) => LayerId): Layer {
  switch (layer.kind) {
    case 'input':
      return layer;
    case 'sum':
      return { ...layer, terms: layer.terms.map((term) => ({ ...term, input: map(term.input) })) };
    case 'concat':
      return { ...layer, inputs: layer.inputs.map(map) };
    case 'conv':
    case 'batchnorm':
    case 'relu':
    case 'avgpool':
    case 'maxpool':
    case 'zero':
    case 'gap':
    case 'linear':
      return { ...layer, input: map(layer.input) };
  }
}

/**
 * The block of `network` that maps the output of layer `from` to the output of layer `to`, as a
 * network of its own: its input has `from`'s shape, its output is `to`, and it holds every layer
 * `to` depends on after `from`. It keeps the full parameter table, so the network's weights apply
 * unchanged. Throws when the block also reads a layer before `from` (then it is not a block).
 */
export function subNetwork(network: Network, from: LayerId, to: LayerId): Network {
  if (!(from >= 0 && from < to && to < network.layers.length)) throw new RangeError(`subNetwork needs 0 ≤ from < to < ${network.layers.length}, got ${from} → ${to}`);
  const needed = new Set<LayerId>();
  const pending = [to];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (id === from || needed.has(id)) continue;
    if (id < from) throw new RangeError(`layers ${from} → ${to} of ${network.label} are not a block: layer ${id} before its input is read`);
    needed.add(id);
    pending.push(...layerInputs(network.layers[id]));
  }
  const ids = [...needed].sort((a, b) => a - b);
  const renumbered = new Map<LayerId, LayerId>([[from, 0]]);
  ids.forEach((id, index) => renumbered.set(id, index + 1));
  const input = network.layers[from].shape;
  const layers: Layer[] = [{ kind: 'input', shape: input }, ...ids.map((id) => remapInputs(network.layers[id], (old) => renumbered.get(old)!))];
  return { label: `${network.label} layers ${from}→${to}`, layers, params: network.params, input, classes: tensorSize(network.layers[to].shape) };
}

import { layerInputs, layerParams, type LayerId, type Network } from './ir.js';

export interface GradientFlow {
  /** The layer's output gradient is needed and can be non-zero. */
  readonly carries: boolean[];
  /** For each consumer, the inputs whose gradient buffer it writes first (later consumers add). */
  readonly writes: Map<LayerId, Set<LayerId>>;
}

/**
 * Which gradients a backward pass must compute: those that are non-zero (a `zero` layer passes
 * nothing back) and lead to some parameter, to the input when `toInput` asks for its gradient, or
 * to a layer of `toLayers` (whose output gradient is read back).
 * Consumers run in reverse layer order, so the first consumer met writes a gradient buffer and the
 * others accumulate into it.
 */
export function gradientFlow(network: Network, options: { toInput?: boolean; toLayers?: readonly LayerId[] } = {}): GradientFlow {
  const { layers } = network;
  const wanted = new Set(options.toLayers);
  if (options.toInput === true) wanted.add(0);
  const feedsParams = layers.map(() => false);
  layers.forEach((layer, id) => {
    feedsParams[id] = wanted.has(id) || layerParams(layer).length > 0 || layerInputs(layer).some((input) => feedsParams[input]);
  });
  const live = layers.map(() => false);
  live[layers.length - 1] = true;
  for (let id = layers.length - 1; id >= 0; id--) {
    if (!live[id] || layers[id].kind === 'zero') continue;
    for (const input of layerInputs(layers[id])) live[input] = true;
  }
  const carries = layers.map((_, id) => live[id] && feedsParams[id]);
  const written = new Set<LayerId>();
  const writes = new Map<LayerId, Set<LayerId>>();
  for (let id = layers.length - 1; id >= 0; id--) {
    if (!carries[id] || layers[id].kind === 'zero') continue;
    const first = new Set<LayerId>();
    for (const input of layerInputs(layers[id])) {
      if (carries[input] && !written.has(input)) {
        written.add(input);
        first.add(input);
      }
    }
    writes.set(id, first);
  }
  return { carries, writes };
}

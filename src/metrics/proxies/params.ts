import { layerParams } from '../../graph/ir.js';
import { proxyIndicator } from './proxy.js';

/**
 * NAS-Bench-201's parameter count (xautodl `count_parameters`, here as a count, not ×10⁶): every
 * parameter of an executed layer (convs, BN γ/β, classifier weight and bias), never `arch_parameters`.
 */
export const paramsIndicator = proxyIndicator({
  name: 'params',
  key: 'params',
  symbol: '#P',
  title: 'parameter count',
  measure: async ({ network }) => {
    const executed = new Set(network.layers.flatMap(layerParams));
    const perParam: Record<string, number> = {};
    let value = 0;
    network.params.forEach((spec, param) => {
      if (!executed.has(param) || spec.role === 'arch') return;
      perParam[spec.name] = spec.size;
      value += spec.size;
    });
    return { value, perParam, extra: { value_M: value / 1e6 } };
  },
});

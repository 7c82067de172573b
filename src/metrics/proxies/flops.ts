import { benchmarkFlopsPerLayer } from '../../graph/flops.js';
import type { Network } from '../../graph/ir.js';
import { proxyIndicator } from './proxy.js';

/** FLOPs of one sample by weight-layer name, and their total (NAS-Bench-201's convention). */
export function benchmarkFlops(network: Network): { total: number; perParam: Record<string, number> } {
  const perParam: Record<string, number> = {};
  let total = 0;
  for (const [param, flops] of benchmarkFlopsPerLayer(network)) {
    perParam[network.params[param].name] = flops;
    total += flops;
  }
  return { total, perParam };
}

/** NAS-Bench-201's FLOPs per image (xautodl `get_model_infos`, here as a count, not ×10⁶). */
export const flopsIndicator = proxyIndicator({
  name: 'flops',
  key: 'flops',
  symbol: 'FLOPs',
  title: 'FLOPs per image',
  measure: async ({ network }) => {
    const { total, perParam } = benchmarkFlops(network);
    return { value: total, perParam, extra: { value_M: total / 1e6 } };
  },
});

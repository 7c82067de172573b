import { benchmarkFlops } from './flops.js';
import { proxyIndicator } from './proxy.js';

/** AZ-NAS's complexity: the architecture's NAS-Bench-201 FLOPs in MFLOPs (more ranks higher). */
export const azComplexityIndicator = proxyIndicator({
  name: 'az_complexity',
  key: 'azComplexity',
  symbol: 'C_AZ',
  title: 'AZ-NAS complexity (MFLOPs)',
  measure: async ({ network }) => ({ value: benchmarkFlops(network).total / 1e6 }),
});

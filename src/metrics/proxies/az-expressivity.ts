import type { Indicator } from '../indicator.js';
import { featureEntropies, featureShape, nanToNegativeInfinity } from './az-nas.js';

/**
 * AZ-NAS expressivity: the sum over the feature maps (stem, every cell and ResNet block) of the
 * spectral entropy of each map's channel covariance. High when every stage spreads its variance
 * over many decorrelated channels.
 */
export const azExpressivityIndicator: Indicator<'azExpressivity'> = {
  name: 'az_expressivity',
  key: 'azExpressivity',
  symbol: 'AZ-E',
  title: 'AZ-NAS expressivity (feature-map spectral entropy)',
  network: 'eval',
  data: 'gaussian',
  higherIsBetter: true,
  roundDelta: (delta) => delta,
  measure: async (context) => {
    const { pass, entropies } = await featureEntropies(context, 'az_expressivity');
    const value = nanToNegativeInfinity(entropies.reduce((sum, e) => sum + e.entropy, 0));
    return {
      value,
      extra: {
        per_feature_entropy: entropies.map((e) => e.entropy),
        per_feature: entropies.map((e, index) => ({
          feature: pass.features[index].name,
          shape: featureShape(context.network, pass.features[index], context.batch),
          entropy: e.entropy,
          trace: e.trace,
          eig_max: e.eigMax,
          eig_min: e.eigMin,
          eig_min_over_trace: e.eigMin / e.trace,
        })),
      },
    };
  },
  invalidMean: (value) => (value === -Infinity || (Number.isFinite(value) && value >= 0) ? undefined : 'a finite AZ-NAS expressivity ≥ 0 (or -Infinity)'),
};

import type { Indicator } from '../indicator.js';
import { featureEntropies, nanToNegativeInfinity } from './az-nas.js';

/**
 * AZ-NAS progressivity: the smallest increase of the feature-map entropy (see az-expressivity)
 * from one map to the next. Negative when some cell or block loses entropy.
 */
export const azProgressivityIndicator: Indicator<'azProgressivity'> = {
  name: 'az_progressivity',
  key: 'azProgressivity',
  symbol: 'AZ-P',
  title: 'AZ-NAS progressivity (smallest entropy gain between feature maps)',
  network: 'eval',
  data: 'gaussian',
  higherIsBetter: true,
  roundDelta: (delta) => delta,
  measure: async (context) => {
    const { entropies } = await featureEntropies(context, 'az_progressivity');
    const diffs = entropies.slice(1).map((e, index) => e.entropy - entropies[index].entropy);
    const argmin = diffs.reduce((best, d, index) => (d < diffs[best] ? index : best), 0);
    const value = diffs.some(Number.isNaN) ? -Infinity : diffs[argmin];
    return { value: nanToNegativeInfinity(value), extra: { diffs, argmin } };
  },
  invalidMean: (value) => (value === -Infinity || Number.isFinite(value) ? undefined : 'a finite AZ-NAS progressivity (or -Infinity)'),
};

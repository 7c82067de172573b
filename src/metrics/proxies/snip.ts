import { requireLabels } from './loss.js';
import { lossGradientPass, sumOver } from './passes.js';
import { proxyIndicator } from './proxy.js';

/** SNIP (zero-cost-nas `snip.py`): Σ over weight layers of Σ |W ⊙ ∂L/∂W|. */
export const snipIndicator = proxyIndicator({
  name: 'snip',
  key: 'snip',
  symbol: 'SNIP',
  title: 'SNIP saliency',
  needsLabels: true,
  measure: async (context) => {
    requireLabels(context, 'snip');
    const { loss, lossGradients } = await lossGradientPass(context);
    const perParam: Record<string, number> = {};
    let value = 0;
    for (const layer of lossGradients) value += perParam[layer.name] = sumOver(layer, (w, g) => Math.abs(w * g));
    return { value, perParam, extra: { loss } };
  },
});

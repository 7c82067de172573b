import { requireLabels } from './loss.js';
import { lossGradientPass, sumOver } from './passes.js';
import { proxyIndicator } from './proxy.js';

/** grad_norm (zero-cost-nas `grad_norm.py`): the sum of the weight layers' ‖∂L/∂W‖₂, not the norm of all of them. */
export const gradNormIndicator = proxyIndicator({
  name: 'grad_norm',
  key: 'gradNorm',
  symbol: '‖∇L‖',
  title: 'gradient norm',
  needsLabels: true,
  measure: async (context) => {
    requireLabels(context, 'grad_norm');
    const { loss, lossGradients } = await lossGradientPass(context);
    const perParam: Record<string, number> = {};
    let value = 0;
    for (const layer of lossGradients) value += perParam[layer.name] = Math.sqrt(sumOver(layer, (_, g) => g * g));
    return { value, perParam, extra: { loss } };
  },
});

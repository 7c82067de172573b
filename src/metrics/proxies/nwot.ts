import { tensorSize, type LayerId, type Network } from '../../graph/ir.js';
import type { MeasureContext } from '../indicator.js';
import type { LinearAlgebra } from '../linalg.js';
import { shared, supplyLogits } from './passes.js';
import { proxyIndicator } from './proxy.js';

/**
 * The pre-activations NASWOT hooks: the input of every ReLU (each `nn.ReLU` once), then once more
 * the input of every ReLU that opens a `ReLUConvBN`, which the reference's class-name test hooks too.
 */
export function nwotHookedInputs(network: Network): { reluOnly: LayerId[]; again: LayerId[] } {
  const reluOnly: LayerId[] = [];
  const again: LayerId[] = [];
  for (const layer of network.layers) {
    if (layer.kind !== 'relu') continue;
    reluOnly.push(layer.input);
    if (layer.opensReluModule) again.push(layer.input);
  }
  return { reluOnly, again };
}

/** log|det K| of a symmetric matrix, from its eigenvalues (NumPy's `slogdet(K)[1]`). */
function logAbsDeterminant(linalg: LinearAlgebra, matrix: Float64Array, n: number): number {
  let total = 0;
  for (const v of linalg.eigenvalues(matrix, n)) total += Math.log(Math.abs(v));
  return total;
}

export interface NwotKernels {
  /** K over every hooked module (the reference's count), batch × batch. */
  readonly kernel: Float64Array;
  /** K over the ReLUs alone. */
  readonly reluOnly: Float64Array;
  readonly features: number;
  readonly reluOnlyFeatures: number;
  readonly modulesHooked: number;
  readonly reluModulesHooked: number;
}

/** One forward of the first batch with the hooked pre-activations' sign bits packed, then K both ways. */
export function nwotKernels(context: MeasureContext): Promise<NwotKernels> {
  return shared(context, 'nwot-signs', async () => {
    const { backend, linalg, network, weights, batch } = context;
    const { reluOnly, again } = nwotHookedInputs(network);
    const { signs, logits } = await backend.forward({ network, weights, batch, inputs: [context.inputs[0]], capture: { layers: [...reluOnly, ...again], as: 'signs' } });
    supplyLogits(context, logits[0]);
    const patterns = signs!;
    const reluOnlyFeatures = reluOnly.reduce((total, id) => total + tensorSize(network.layers[id].shape), 0);
    const reluKernel = linalg.signAgreements(patterns, 0, reluOnlyFeatures);
    const kernel = linalg.signAgreements(patterns, reluOnlyFeatures, patterns.features);
    for (let i = 0; i < kernel.length; i++) kernel[i] += reluKernel[i];
    return {
      kernel,
      reluOnly: reluKernel,
      features: patterns.features,
      reluOnlyFeatures,
      modulesHooked: reluOnly.length + again.length,
      reluModulesHooked: reluOnly.length,
    };
  });
}

/**
 * NASWOT (ICML 2021 code): K_ij = the number of hooked units where samples i and j are on the same
 * side of 0, summed over the hooked modules; score = log|det K|.
 */
export const nwotIndicator = proxyIndicator({
  name: 'nwot',
  key: 'nwot',
  symbol: 'NWOT',
  title: 'NASWOT activation-pattern score',
  measure: async (context) => {
    const { linalg, batch } = context;
    const k = await nwotKernels(context);
    return {
      value: logAbsDeterminant(linalg, k.kernel, batch),
      extra: {
        value_relu_only: logAbsDeterminant(linalg, k.reluOnly, batch),
        features: k.features,
        features_relu_only: k.reluOnlyFeatures,
        modules_hooked: k.modulesHooked,
        relu_modules_hooked: k.reluModulesHooked,
      },
    };
  },
});

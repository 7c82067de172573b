import { TenasInputError } from '../errors.js';
import type { NamedTensor } from '../data/safetensors.js';
import type { Rng } from '../data/rng.js';
import type { Network, ParamSpec } from './ir.js';

/** One Float32Array per entry of `network.params`, in the same order. */
export type Weights = Float32Array[];

/**
 * `pytorch-default` is what the released code runs (its Kaiming helper never matches, docs/algorithm.md §5.2):
 * conv/linear weights and linear bias ~ U(±1/√fan_in), BN γ = 1, β = 0. The `kaiming-normal-*`
 * schemes are the paper's: N(0, 2/fan), biases 0. `gaussian` is Zen-NAS's re-initialisation: conv and
 * linear weights N(0, 1), linear bias 0, BN γ = 1, β = 0.
 */
export type InitScheme = 'pytorch-default' | 'kaiming-normal-fan-in' | 'kaiming-normal-fan-out' | 'gaussian';

function fans(spec: ParamSpec): { fanIn: number; fanOut: number } {
  const [out, inPerGroup, ...kernel] = spec.shape;
  const receptive = kernel.reduce((a, b) => a * b, 1);
  return { fanIn: inPerGroup * receptive, fanOut: out * receptive };
}

export function initialiseWeights(network: Network, scheme: InitScheme, rng: Rng): Weights {
  let lastWeightFanIn = 1;
  return network.params.map((spec) => {
    const values = new Float32Array(spec.size);
    switch (spec.role) {
      case 'bn-weight':
        values.fill(1);
        break;
      case 'conv':
      case 'linear-weight': {
        const { fanIn, fanOut } = fans(spec);
        lastWeightFanIn = fanIn;
        if (scheme === 'pytorch-default') {
          const bound = 1 / Math.sqrt(fanIn);
          for (let i = 0; i < values.length; i++) values[i] = (2 * rng.uniform() - 1) * bound;
        } else if (scheme === 'gaussian') {
          for (let i = 0; i < values.length; i++) values[i] = rng.normal();
        } else {
          const std = Math.sqrt(2 / (scheme === 'kaiming-normal-fan-in' ? fanIn : fanOut));
          for (let i = 0; i < values.length; i++) values[i] = rng.normal() * std;
        }
        break;
      }
      case 'linear-bias':
        if (scheme === 'pytorch-default') {
          const bound = 1 / Math.sqrt(lastWeightFanIn);
          for (let i = 0; i < values.length; i++) values[i] = (2 * rng.uniform() - 1) * bound;
        }
        break;
      case 'bn-bias':
      case 'arch':
        break;
    }
    return values;
  });
}

/**
 * Matches named tensors (a safetensors file) to the network's parameters: every parameter must be
 * present with its exact shape and finite values, and nothing else may be there.
 */
export function weightsFromTensors(network: Network, tensors: NamedTensor[], source: string): Weights {
  const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
  const expected = new Set(network.params.map((spec) => spec.name));
  const missing = network.params.filter((spec) => !byName.has(spec.name)).map((spec) => spec.name);
  const unexpected = tensors.filter((tensor) => !expected.has(tensor.name)).map((tensor) => tensor.name);
  const describe = `the ${network.label} network (${network.params.length} parameters, ${network.classes} classes)`;
  if (missing.length > 0 || unexpected.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`${missing.length} missing (first: ${missing[0]})`);
    if (unexpected.length > 0) parts.push(`${unexpected.length} unexpected (first: ${unexpected[0]})`);
    throw new TenasInputError(`${source}: parameter names do not match ${describe}: ${parts.join(', ')}; export the weights from the same space, net and class count`);
  }
  return network.params.map((spec) => {
    const tensor = byName.get(spec.name)!;
    if (tensor.shape.join(',') !== spec.shape.join(',')) {
      throw new TenasInputError(`${source}: ${spec.name} has shape [${tensor.shape}] but ${describe} needs [${spec.shape}]; check --classes/--dataset and the arch`);
    }
    const bad = tensor.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new TenasInputError(`${source}: ${spec.name} holds a non-finite value (${tensor.data[bad]}) at element ${bad}; weights must be finite`);
    return tensor.data;
  });
}

export function weightsToTensors(network: Network, weights: Weights): NamedTensor[] {
  return network.params.map((spec, index) => ({ name: spec.name, shape: [...spec.shape], data: weights[index] }));
}

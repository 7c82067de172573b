import type { Rng } from '../data/rng.js';
import { TenasInputError } from '../errors.js';
import { initialiseWeights, type Weights } from '../graph/weights.js';
import type { Network } from '../graph/ir.js';
import type { IndicatorDraws } from './indicator.js';

/** Zen-NAS's mixup weight: x_mix = x + γ·x₂. */
const ZEN_MIXUP = 0.01;

/**
 * The extra draws of one measurement, each from its own named random stream (`stream(purpose)`,
 * e.g. `Rng.stream(seed, 'correlate', arch, purpose, repeat)`) and made at most once: indicators
 * measured together see the same Gaussian weights, inputs and sign bits. `sampleShape` is one
 * batch's `[B, C, H, W]`.
 */
export function randomDraws(network: Network, sampleShape: readonly number[], stream: (purpose: string) => Rng): IndicatorDraws {
  let weights: Weights | undefined;
  let inputs: readonly [Float32Array, Float32Array] | undefined;
  const bits = new Map<number, Uint8Array>();
  const size = sampleShape.reduce((product, dim) => product * dim, 1);
  return {
    gaussianWeights: () => (weights ??= initialiseWeights(network, 'gaussian', stream('zen-weights'))),
    gaussianInputs: () => {
      if (inputs) return inputs;
      const rng = stream('zen-data');
      const x = Float32Array.from({ length: size }, () => rng.normal());
      const mixed = Float32Array.from(x, (value) => value + ZEN_MIXUP * rng.normal());
      return (inputs = [x, mixed]);
    },
    signBits: (count) => {
      let packed = bits.get(count);
      if (!packed) {
        const rng = stream('az-gout');
        packed = Uint8Array.from({ length: Math.ceil(count / 8) }, () => rng.nextU32() & 0xff);
        const spare = packed.length * 8 - count;
        if (spare > 0) packed[packed.length - 1] &= (0xff << spare) & 0xff; // the last byte zero-padded, as np.packbits
        bits.set(count, packed);
      }
      return packed;
    },
  };
}

/** Draws with some of them replaced by fixed values (`tenas score`'s `--zen-weights`, `--zen-input`, `--az-gout`). */
export function drawsWith(draws: IndicatorDraws, fixed: { gaussianWeights?: Weights; gaussianInputs?: readonly [Float32Array, Float32Array]; signBits?: Uint8Array }): IndicatorDraws {
  return {
    gaussianWeights: () => fixed.gaussianWeights ?? draws.gaussianWeights(),
    gaussianInputs: () => fixed.gaussianInputs ?? draws.gaussianInputs(),
    signBits: (count) => {
      if (!fixed.signBits) return draws.signBits(count);
      if (fixed.signBits.length * 8 < count) throw new TenasInputError(`the sign bits (--az-gout) hold ${fixed.signBits.length * 8} bits but this network's output gradients need ${count}; pass the az_gout_bits.npy of the same arch, C, N and batch`);
      return fixed.signBits;
    },
  };
}

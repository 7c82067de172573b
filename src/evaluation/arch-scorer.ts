import type { ImageSet } from '../data/cifar.js';
import { datasetSpec } from '../data/datasets.js';
import { Rng } from '../data/rng.js';
import { ntkBatch, regionPatches } from '../data/transforms.js';
import type { Backend } from '../engine/backend.js';
import { initialiseWeights, type Weights } from '../graph/weights.js';
import type { Network } from '../graph/ir.js';
import type { LinearAlgebra } from '../metrics/linalg.js';
import { scoreNtk } from '../metrics/ntk.js';
import { scoreRegions } from '../metrics/regions.js';
import type { SearchSettings } from '../search/settings.js';
import { nb201Space } from '../spaces/nb201/space.js';
import { mean } from './statistics.js';
import type { IndexedArch } from './selection.js';

/**
 * κ of an architecture whose NTK is identically zero (λmax = 0): its cell output does not depend on
 * the input (every path to the output node passes a `none` edge), so no gradient reaches the
 * logits. The released code would compute 0/0 = NaN → 1e5; here it is the worst possible κ, so the
 * rank statistics put these untrainable archs last. It is finite, so CSV and JSON keep it exactly.
 */
export const ZERO_NTK_KAPPA = Number.MAX_VALUE;

export function hasZeroNtk(kappa: number): boolean {
  return kappa >= ZERO_NTK_KAPPA;
}

export interface ArchScore {
  /** Mean over repeats of κ (NTK net) and R (thin net). */
  readonly kappa: number;
  readonly regions: number;
  readonly kappaRepeats: number[];
  readonly regionRepeats: number[];
}

/**
 * Scores single-path NB201 architectures with the search's measurement setup (CandidateScorer):
 * κ of the NTK network on a batch of augmented images, R of the thin network on region batches of
 * 1×3×3 patches, the same weight schemes per protocol. Random streams are named by
 * (seed, 'correlate', arch index, purpose[, repeat]), so an arch's score depends on nothing but the
 * arch and the settings: not on which other archs are scored, in which order, or in which shard.
 *
 * Weights: `reference` draws PyTorch-default weights once per arch and network (shared by its
 * repeats, as the search shares a draw across repeats); `paper` draws Kaiming-normal weights
 * (fan-out NTK, fan-in thin) for every repeat.
 */
export class ArchScorer {
  constructor(
    private readonly backend: Backend,
    private readonly linalg: LinearAlgebra,
    private readonly settings: SearchSettings,
    private readonly images: ImageSet,
  ) {}

  async score({ archIndex, arch }: IndexedArch): Promise<ArchScore> {
    const { settings } = this;
    const spec = datasetSpec(settings.dataset);
    const mask = nb201Space.parseArchitecture(arch);
    const ntkNetwork = nb201Space.ntkNetwork(mask, spec.classes, spec.inputSize);
    const thinNetwork = nb201Space.thinNetwork(mask, spec.classes);
    const ntkOptions = { precision: settings.gramPrecision, policy: settings.kappaPolicy };

    const kappaRepeats: number[] = [];
    const regionRepeats: number[] = [];
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      const weights = this.weights(ntkNetwork, archIndex, 'ntk-weights', repeat);
      const input = ntkBatch(this.images, settings.ntkBatch, spec, Rng.stream(settings.seed, 'correlate', archIndex, 'ntk-data', repeat));
      kappaRepeats.push((await scoreNtk(this.backend, this.linalg, ntkNetwork, weights, input, settings.ntkBatch, ntkOptions)).kappa);
    }
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      const weights = this.weights(thinNetwork, archIndex, 'lr-weights', repeat);
      const rng = Rng.stream(settings.seed, 'correlate', archIndex, 'lr-data', repeat);
      const batches = Array.from({ length: settings.regionBatches }, () => regionPatches(this.images, settings.regionPatches, spec, rng));
      regionRepeats.push((await scoreRegions(this.backend, this.linalg, thinNetwork, weights, batches, settings.regionPatches)).regions);
    }
    const kappa = kappaRepeats.some(hasZeroNtk) ? ZERO_NTK_KAPPA : mean(kappaRepeats);
    return { kappa, regions: mean(regionRepeats), kappaRepeats, regionRepeats };
  }

  private weights(network: Network, archIndex: number, purpose: 'ntk-weights' | 'lr-weights', repeat: number): Weights {
    const { seed, protocol } = this.settings;
    if (protocol === 'reference') return initialiseWeights(network, 'pytorch-default', Rng.stream(seed, 'correlate', archIndex, purpose));
    const scheme = purpose === 'ntk-weights' ? 'kaiming-normal-fan-out' : 'kaiming-normal-fan-in';
    return initialiseWeights(network, scheme, Rng.stream(seed, 'correlate', archIndex, purpose, repeat));
  }
}

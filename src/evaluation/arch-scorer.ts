import type { ImageSet } from '../data/cifar.js';
import { Rng } from '../data/rng.js';
import type { Backend } from '../engine/backend.js';
import { initialiseWeights, type Weights } from '../graph/weights.js';
import type { Network } from '../graph/ir.js';
import type { LinearAlgebra } from '../metrics/linalg.js';
import type { Indicator, ScoredNetwork } from '../metrics/indicator.js';
import { randomDraws } from '../metrics/draws.js';
import { resolveIndicators } from '../metrics/registry.js';
import { measureGroup, measurementGroups, sampleShape, SCORED_NETWORKS } from '../search/scorer.js';
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
  /** Per indicator of the settings, by its key, the mean over repeats (`kappa`: κ of the NTK net, `regions`: R of the thin net, ...). */
  readonly values: Readonly<Record<string, number>>;
  readonly repeats: Readonly<Record<string, number[]>>;
}

/** Mean over repeats; a repeat at the largest finite value (a zero NTK) keeps the arch there. */
function aggregate(values: readonly number[]): number {
  return values.some(hasZeroNtk) ? ZERO_NTK_KAPPA : mean(values);
}

/**
 * Scores single-path NB201 architectures with the search's measurement setup (CandidateScorer):
 * every indicator of the settings on its network with that network's weights and data (κ of the
 * NTK network on a batch of augmented images, R of the thin network on region batches of 1×3×3
 * patches, the proxies on NB201's evaluation network on a labelled image batch), the same weight
 * schemes per protocol; indicators on one network share its weights, data, draws and passes. Random streams are named by (seed, 'correlate', arch index,
 * purpose[, repeat]), so an arch's score depends on nothing but the arch and the settings: not on
 * which other archs are scored, in which order, or in which shard.
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
  ) {
    this.indicators = resolveIndicators(settings.indicators);
  }

  private readonly indicators: Indicator[];

  async score({ archIndex, arch }: IndexedArch): Promise<ArchScore> {
    const { settings } = this;
    const mask = nb201Space.parseArchitecture(arch);
    const repeats: Record<string, number[]> = Object.fromEntries(this.indicators.map((indicator) => [indicator.key, []]));
    for (const group of measurementGroups(this.indicators, settings)) {
      const scored = SCORED_NETWORKS[group.network];
      const network = scored.build(nb201Space, mask, settings);
      const batch = scored.batch(settings);
      for (let repeat = 0; repeat < settings.repeats; repeat++) {
        const weights = this.weights(network, archIndex, group.network, repeat);
        const stream = (purpose: string) => Rng.stream(settings.seed, 'correlate', archIndex, `${scored.stream}-${purpose}`, repeat);
        const data = scored.inputs(settings, group.data === 'samples' ? this.images : undefined, stream('data'));
        const draws = randomDraws(network, sampleShape(network, batch), stream);
        const values = await measureGroup(group.indicators, { backend: this.backend, linalg: this.linalg, settings, network, weights, data, batch, draws });
        group.indicators.forEach((indicator, i) => repeats[indicator.key].push(values[i].value));
      }
    }
    const values = Object.fromEntries(Object.entries(repeats).map(([key, measured]) => [key, aggregate(measured)]));
    return { values, repeats };
  }

  private weights(network: Network, archIndex: number, kind: ScoredNetwork, repeat: number): Weights {
    const { seed, protocol } = this.settings;
    const { stream, paperInit } = SCORED_NETWORKS[kind];
    if (protocol === 'reference') return initialiseWeights(network, 'pytorch-default', Rng.stream(seed, 'correlate', archIndex, `${stream}-weights`));
    return initialiseWeights(network, paperInit, Rng.stream(seed, 'correlate', archIndex, `${stream}-weights`, repeat));
  }
}

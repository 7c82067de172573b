import type { ImageSet } from '../data/cifar.js';
import { datasetSpec } from '../data/datasets.js';
import { Rng } from '../data/rng.js';
import { gaussianBatch, ntkBatch, regionPatches } from '../data/transforms.js';
import type { Backend } from '../engine/backend.js';
import { initialiseWeights, type InitScheme, type Weights } from '../graph/weights.js';
import type { Network } from '../graph/ir.js';
import type { ScoredNetwork } from '../metrics/indicator.js';
import { indicatorFields, INDICATORS, type IndicatorMeasurements } from '../metrics/indicators.js';
import type { LinearAlgebra } from '../metrics/linalg.js';
import { yieldThenCheck } from '../errors.js';
import type { CellMasks, SearchSpace } from '../spaces/space.js';
import type { SearchSettings } from './settings.js';

/** One unit of search work: the origin/candidate masks of one candidate of one round, per scored network. */
export interface CandidateTask {
  readonly round: number;
  readonly index: number;
  /**
   * The round whose NTK weight draw the reference protocol uses: the task's own round, except in
   * DARTS edge pruning, whose groups share the draw of the stage's first round (the released code
   * builds that stage's NTK origin network once, docs/algorithm.md §5.3).
   */
  readonly ntkDrawRound: number;
  readonly masks: { readonly [N in ScoredNetwork]: { readonly origin: CellMasks; readonly candidate: CellMasks } };
}

/** Per-repeat measurements of one candidate, per indicator (deltas are derived by the search). */
export type CandidateMeasurement = IndicatorMeasurements;

/** How each scored network is built, and the weights and data every indicator on it is measured with. */
export const SCORED_NETWORKS: {
  readonly [N in ScoredNetwork]: {
    /** Random streams `${stream}-weights` and `${stream}-data`. */
    readonly stream: 'ntk' | 'lr';
    /** The paper protocol's weights (the reference protocol's are PyTorch's default). */
    readonly paperInit: InitScheme;
    build(space: SearchSpace, mask: CellMasks, settings: SearchSettings): Network;
    batch(settings: SearchSettings): number;
    /** A batch of images (N(0, 1) without images), or the thin net's region batches of patches. */
    inputs(settings: SearchSettings, images: ImageSet | undefined, rng: Rng): Float32Array[];
  };
} = {
  ntk: {
    stream: 'ntk',
    paperInit: 'kaiming-normal-fan-out',
    build: (space, mask, settings) => space.ntkNetwork(mask, datasetSpec(settings.dataset).classes, datasetSpec(settings.dataset).inputSize),
    batch: (settings) => settings.ntkBatch,
    inputs: (settings, images, rng) => {
      const spec = datasetSpec(settings.dataset);
      return [images ? ntkBatch(images, settings.ntkBatch, spec, rng) : gaussianBatch(settings.ntkBatch, 3, spec.inputSize, rng)];
    },
  },
  thin: {
    stream: 'lr',
    paperInit: 'kaiming-normal-fan-in',
    build: (space, mask, settings) => space.thinNetwork(mask, datasetSpec(settings.dataset).classes),
    batch: (settings) => settings.regionPatches,
    inputs: (settings, images, rng) => {
      const spec = datasetSpec(settings.dataset);
      return Array.from({ length: settings.regionBatches }, () =>
        images ? regionPatches(images, settings.regionPatches, spec, rng) : gaussianBatch(settings.regionPatches, 1, 3, rng),
      );
    },
  },
};

/**
 * Measures candidates with random streams named by (seed, round, candidate, repeat, purpose), so a
 * measurement depends on nothing but its task: not on the worker, nor on what ran before. Each
 * indicator of `INDICATORS` is measured on its network with that network's weights and data.
 *
 * Weight schedules (docs/algorithm.md §5.3): `reference` draws PyTorch-default weights once per round for the
 * NTK net (shared by all candidates and repeats) and once per candidate for the thin net;
 * `paper` draws Kaiming-normal weights (fan-out NTK, fan-in thin) for every repeat.
 */
export class CandidateScorer {
  constructor(
    private readonly backend: Backend,
    private readonly linalg: LinearAlgebra,
    private readonly space: SearchSpace,
    private readonly settings: SearchSettings,
    /** Images to sample from; `undefined` means synthetic N(0, 1) inputs. */
    private readonly images: ImageSet | undefined,
  ) {}

  async score(task: CandidateTask, signal?: AbortSignal): Promise<CandidateMeasurement> {
    const { settings } = this;
    const measurement: Record<string, number[]> = {};
    for (const indicator of INDICATORS) {
      const scored = SCORED_NETWORKS[indicator.network];
      const { origin, candidate } = task.masks[indicator.network];
      const networks = [scored.build(this.space, origin, settings), scored.build(this.space, candidate, settings)];
      const fields = indicatorFields(indicator);
      const values: [number[], number[]] = [[], []];
      [measurement[fields.origin], measurement[fields.candidate]] = values;
      for (let repeat = 0; repeat < settings.repeats; repeat++) {
        const weights = this.weights(indicator.network, networks[0], task, repeat);
        const rng = Rng.stream(settings.seed, `${scored.stream}-data`, task.round, task.index, repeat);
        const inputs = scored.inputs(settings, indicator.data === 'samples' ? this.images : undefined, rng);
        for (const [which, network] of networks.entries()) {
          await yieldThenCheck(signal);
          const context = { backend: this.backend, linalg: this.linalg, network, weights, inputs, batch: scored.batch(settings), ...settings };
          values[which].push((await indicator.measure(context)).value);
        }
      }
    }
    return measurement as CandidateMeasurement;
  }

  /** The reference protocol's one NTK draw per round (`ntkDrawRound`), shared by every candidate and repeat of it. */
  private roundWeights: { round: number; weights: Weights } | undefined;

  private weights(kind: ScoredNetwork, network: Network, task: CandidateTask, repeat: number): Weights {
    const { seed, protocol } = this.settings;
    const { stream, paperInit } = SCORED_NETWORKS[kind];
    if (protocol === 'paper') return initialiseWeights(network, paperInit, Rng.stream(seed, `${stream}-weights`, task.round, task.index, repeat));
    // Reference: the thin net is drawn once per candidate (shared by its repeats), the NTK net once per round.
    if (kind === 'thin') return initialiseWeights(network, 'pytorch-default', Rng.stream(seed, `${stream}-weights`, task.round, task.index));
    if (this.roundWeights?.round !== task.ntkDrawRound) {
      this.roundWeights = { round: task.ntkDrawRound, weights: initialiseWeights(network, 'pytorch-default', Rng.stream(seed, `${stream}-weights`, task.ntkDrawRound)) };
    }
    return this.roundWeights.weights;
  }
}

import type { ImageSet } from '../data/cifar.js';
import { datasetSpec } from '../data/datasets.js';
import { Rng } from '../data/rng.js';
import { gaussianBatch, ntkBatch, regionPatches } from '../data/transforms.js';
import type { Backend } from '../engine/backend.js';
import { initialiseWeights, type Weights } from '../graph/weights.js';
import type { Network } from '../graph/ir.js';
import type { Indicator, ScoredNetwork } from '../metrics/indicator.js';
import { indicatorFields, INDICATORS, type IndicatorMeasurements } from '../metrics/indicators.js';
import type { LinearAlgebra } from '../metrics/linalg.js';
import { throwIfAborted } from '../errors.js';
import type { CellMasks, SearchSpace } from '../spaces/space.js';
import type { SearchSettings } from './settings.js';

/** One unit of search work: the origin/candidate masks of one candidate of one round, per scored network. */
export interface CandidateTask {
  readonly round: number;
  readonly index: number;
  readonly masks: { readonly [N in ScoredNetwork]: { readonly origin: CellMasks; readonly candidate: CellMasks } };
}

/** Per-repeat measurements of one candidate, per indicator (deltas are derived by the search). */
export type CandidateMeasurement = IndicatorMeasurements;

/**
 * Measures candidates with random streams named by (seed, round, candidate, repeat, purpose), so a
 * measurement depends on nothing but its task: not on the worker, nor on what ran before. Each
 * indicator of `INDICATORS` is measured on its network with that network's weights and data.
 *
 * Weight schedules (TENAS.md §3): `reference` draws PyTorch-default weights once per round for the
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
      const { origin, candidate } = task.masks[indicator.network];
      const networks = [this.network(indicator.network, origin), this.network(indicator.network, candidate)];
      const fields = indicatorFields(indicator);
      const values: [number[], number[]] = [[], []];
      [measurement[fields.origin], measurement[fields.candidate]] = values;
      for (let repeat = 0; repeat < settings.repeats; repeat++) {
        const weights = this.weights(indicator.network, networks[0], task, repeat);
        const inputs = this.inputs(indicator, task, repeat);
        for (const [which, network] of networks.entries()) {
          throwIfAborted(signal);
          const context = { backend: this.backend, linalg: this.linalg, network, weights, inputs, batch: this.batchOf(indicator.network), ...settings };
          values[which].push(await indicator.measure(context));
        }
      }
    }
    return measurement as CandidateMeasurement;
  }

  private network(kind: ScoredNetwork, mask: CellMasks): Network {
    const spec = datasetSpec(this.settings.dataset);
    return kind === 'ntk' ? this.space.ntkNetwork(mask, spec.classes, spec.inputSize) : this.space.thinNetwork(mask, spec.classes);
  }

  private batchOf(kind: ScoredNetwork): number {
    return kind === 'ntk' ? this.settings.ntkBatch : this.settings.regionPatches;
  }

  /** The reference protocol's one NTK draw per round, shared by every candidate and repeat of it. */
  private roundWeights: { round: number; weights: Weights } | undefined;

  private weights(kind: ScoredNetwork, network: Network, task: CandidateTask, repeat: number): Weights {
    const { seed, protocol } = this.settings;
    if (kind === 'thin') {
      // Reference: one thin-net draw per candidate, shared by its repeats.
      if (protocol === 'reference') return initialiseWeights(network, 'pytorch-default', Rng.stream(seed, 'lr-weights', task.round, task.index));
      return initialiseWeights(network, 'kaiming-normal-fan-in', Rng.stream(seed, 'lr-weights', task.round, task.index, repeat));
    }
    if (protocol === 'reference') {
      if (this.roundWeights?.round !== task.round) {
        this.roundWeights = { round: task.round, weights: initialiseWeights(network, 'pytorch-default', Rng.stream(seed, 'ntk-weights', task.round)) };
      }
      return this.roundWeights.weights;
    }
    return initialiseWeights(network, 'kaiming-normal-fan-out', Rng.stream(seed, 'ntk-weights', task.round, task.index, repeat));
  }

  /** The NTK net: one batch of images (stream `ntk-data`); the thin net: region batches of patches (`lr-data`). */
  private inputs(indicator: Indicator, task: CandidateTask, repeat: number): Float32Array[] {
    const { settings } = this;
    const spec = datasetSpec(settings.dataset);
    const images = indicator.data === 'samples' ? this.images : undefined;
    if (indicator.network === 'ntk') {
      const rng = Rng.stream(settings.seed, 'ntk-data', task.round, task.index, repeat);
      return [images ? ntkBatch(images, settings.ntkBatch, spec, rng) : gaussianBatch(settings.ntkBatch, 3, spec.inputSize, rng)];
    }
    const rng = Rng.stream(settings.seed, 'lr-data', task.round, task.index, repeat);
    return Array.from({ length: settings.regionBatches }, () =>
      images ? regionPatches(images, settings.regionPatches, spec, rng) : gaussianBatch(settings.regionPatches, 1, 3, rng),
    );
  }
}

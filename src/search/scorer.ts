import type { ImageSet } from '../data/cifar.js';
import { datasetSpec } from '../data/datasets.js';
import { Rng } from '../data/rng.js';
import { gaussianBatch, ntkBatch, regionPatches } from '../data/transforms.js';
import type { Backend } from '../engine/backend.js';
import { initialiseWeights, type Weights } from '../graph/weights.js';
import type { Network } from '../graph/ir.js';
import type { LinearAlgebra } from '../metrics/linalg.js';
import { scoreNtk } from '../metrics/ntk.js';
import { scoreRegions } from '../metrics/regions.js';
import { yieldThenCheck } from '../errors.js';
import type { CellMasks, SearchSpace } from '../spaces/space.js';
import type { SearchSettings } from './settings.js';

/** One unit of search work: the origin/candidate pairs of one candidate of one round. */
export interface CandidateTask {
  readonly round: number;
  readonly index: number;
  readonly ntkOrigin: CellMasks;
  readonly ntkCandidate: CellMasks;
  readonly regionsOrigin: CellMasks;
  readonly regionsCandidate: CellMasks;
}

/** Per-repeat measurements of one candidate (deltas are derived by the search). */
export interface CandidateMeasurement {
  readonly kappaOrigin: number[];
  readonly kappaCandidate: number[];
  readonly regionsOrigin: number[];
  readonly regionsCandidate: number[];
}

/**
 * Measures candidates with random streams named by (seed, round, candidate, repeat, purpose), so a
 * measurement depends on nothing but its task: not on the worker, nor on what ran before.
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
    const { settings, space } = this;
    const spec = datasetSpec(settings.dataset);
    const ntkOrigin = space.ntkNetwork(task.ntkOrigin, spec.classes, spec.inputSize);
    const ntkCandidate = space.ntkNetwork(task.ntkCandidate, spec.classes, spec.inputSize);
    const thinOrigin = space.thinNetwork(task.regionsOrigin, spec.classes);
    const thinCandidate = space.thinNetwork(task.regionsCandidate, spec.classes);
    const measurement: CandidateMeasurement = { kappaOrigin: [], kappaCandidate: [], regionsOrigin: [], regionsCandidate: [] };

    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      await yieldThenCheck(signal);
      const weights = this.ntkWeights(ntkOrigin, task, repeat);
      const input = this.ntkInput(Rng.stream(settings.seed, 'ntk-data', task.round, task.index, repeat));
      const ntkOptions = { precision: settings.gramPrecision, policy: settings.kappaPolicy };
      measurement.kappaOrigin.push((await scoreNtk(this.backend, this.linalg, ntkOrigin, weights, input, settings.ntkBatch, ntkOptions)).kappa);
      await yieldThenCheck(signal);
      measurement.kappaCandidate.push((await scoreNtk(this.backend, this.linalg, ntkCandidate, weights, input, settings.ntkBatch, ntkOptions)).kappa);
    }
    // Reference: one thin-net draw per candidate, shared by its repeats.
    const sharedThinWeights = settings.protocol === 'reference' ? this.thinWeights(thinOrigin, task, 0) : undefined;
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      await yieldThenCheck(signal);
      const weights = sharedThinWeights ?? this.thinWeights(thinOrigin, task, repeat);
      const batches = this.regionInputs(Rng.stream(settings.seed, 'lr-data', task.round, task.index, repeat));
      measurement.regionsOrigin.push((await scoreRegions(this.backend, this.linalg, thinOrigin, weights, batches, settings.regionPatches)).regions);
      await yieldThenCheck(signal);
      measurement.regionsCandidate.push((await scoreRegions(this.backend, this.linalg, thinCandidate, weights, batches, settings.regionPatches)).regions);
    }
    return measurement;
  }

  /** The reference protocol's one NTK draw per round, shared by every candidate and repeat of it. */
  private roundWeights: { round: number; weights: Weights } | undefined;

  private ntkWeights(network: Network, task: CandidateTask, repeat: number): Weights {
    const { seed, protocol } = this.settings;
    if (protocol === 'reference') {
      if (this.roundWeights?.round !== task.round) {
        this.roundWeights = { round: task.round, weights: initialiseWeights(network, 'pytorch-default', Rng.stream(seed, 'ntk-weights', task.round)) };
      }
      return this.roundWeights.weights;
    }
    return initialiseWeights(network, 'kaiming-normal-fan-out', Rng.stream(seed, 'ntk-weights', task.round, task.index, repeat));
  }

  private thinWeights(network: Network, task: CandidateTask, repeat: number): Weights {
    const { seed, protocol } = this.settings;
    if (protocol === 'reference') return initialiseWeights(network, 'pytorch-default', Rng.stream(seed, 'lr-weights', task.round, task.index));
    return initialiseWeights(network, 'kaiming-normal-fan-in', Rng.stream(seed, 'lr-weights', task.round, task.index, repeat));
  }

  private ntkInput(rng: Rng): Float32Array {
    const spec = datasetSpec(this.settings.dataset);
    if (!this.images) return gaussianBatch(this.settings.ntkBatch, 3, spec.inputSize, rng);
    return ntkBatch(this.images, this.settings.ntkBatch, spec, rng);
  }

  private regionInputs(rng: Rng): Float32Array[] {
    const spec = datasetSpec(this.settings.dataset);
    return Array.from({ length: this.settings.regionBatches }, () =>
      this.images ? regionPatches(this.images, this.settings.regionPatches, spec, rng) : gaussianBatch(this.settings.regionPatches, 1, 3, rng),
    );
  }
}

import type { ImageSet } from '../data/cifar.js';
import { datasetSpec } from '../data/datasets.js';
import { Rng } from '../data/rng.js';
import { gaussianBatch, labelledBatch, regionPatches } from '../data/transforms.js';
import type { Backend } from '../engine/backend.js';
import { ntkFlops } from '../graph/flops.js';
import { initialiseWeights, type InitScheme, type Weights } from '../graph/weights.js';
import type { Network } from '../graph/ir.js';
import { SharedPasses, type Indicator, type IndicatorDraws, type Measured, type ScoredNetwork } from '../metrics/indicator.js';
import { indicatorFields } from '../metrics/indicators.js';
import { resolveIndicators } from '../metrics/registry.js';
import type { LinearAlgebra } from '../metrics/linalg.js';
import { randomDraws } from '../metrics/draws.js';
import { TenasInputError, yieldThenCheck } from '../errors.js';
import type { CellMasks, SearchSpace } from '../spaces/space.js';
import { nb201EvalNetwork } from '../spaces/nb201/networks.js';
import type { SearchSettings } from './settings.js';

/** The networks a search builds per candidate: `eval` indicators are measured on the `ntk` one (the supernet at NTK settings). */
export type SearchNetwork = Exclude<ScoredNetwork, 'eval'>;

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
  readonly masks: { readonly [N in SearchNetwork]: { readonly origin: CellMasks; readonly candidate: CellMasks } };
}

/**
 * Per-repeat measurements of one candidate, per indicator of the run: `${key}Origin` and
 * `${key}Candidate` (`kappaOrigin`, `regionsCandidate`, ...); deltas are derived by the search.
 */
export type CandidateMeasurement = { readonly [field: string]: number[] };

/** One or more batches of a scored network's data, with their labels when the images have them. */
export interface ScoredInputs {
  readonly inputs: Float32Array[];
  readonly labels?: Int32Array[];
}

/** How each scored network is built, and the weights and data every indicator on it is measured with. */
export const SCORED_NETWORKS: {
  readonly [N in ScoredNetwork]: {
    /** Random streams `${stream}-weights` and `${stream}-data`. */
    readonly stream: 'ntk' | 'lr' | 'eval';
    /** The paper protocol's weights (the reference protocol's are PyTorch's default). */
    readonly paperInit: InitScheme;
    build(space: SearchSpace, mask: CellMasks, settings: SearchSettings): Network;
    batch(settings: SearchSettings): number;
    /** A batch of images (N(0, 1) without images), or the thin net's region batches of patches. */
    inputs(settings: SearchSettings, images: ImageSet | undefined, rng: Rng): ScoredInputs;
  };
} = {
  ntk: {
    stream: 'ntk',
    paperInit: 'kaiming-normal-fan-out',
    build: (space, mask, settings) => space.ntkNetwork(mask, datasetSpec(settings.dataset).classes, datasetSpec(settings.dataset).inputSize),
    batch: (settings) => settings.ntkBatch,
    inputs: (settings, images, rng) => imageBatch(settings, settings.ntkBatch, images, rng),
  },
  thin: {
    stream: 'lr',
    paperInit: 'kaiming-normal-fan-in',
    build: (space, mask, settings) => space.thinNetwork(mask, datasetSpec(settings.dataset).classes),
    batch: (settings) => settings.regionPatches,
    inputs: (settings, images, rng) => {
      const spec = datasetSpec(settings.dataset);
      return {
        inputs: Array.from({ length: settings.regionBatches }, () =>
          images ? regionPatches(images, settings.regionPatches, spec, rng) : gaussianBatch(settings.regionPatches, 1, 3, rng),
        ),
      };
    },
  },
  // NB201's evaluation network; only with `settings.evalNetwork` (a search measures `eval` indicators on `ntk`).
  eval: {
    stream: 'eval',
    // The proxies are defined on PyTorch-default weights; the paper protocol does not change them.
    paperInit: 'pytorch-default',
    build: (space, mask, settings) => {
      const spec = datasetSpec(settings.dataset);
      const { channels, cells } = requireEvalNetwork(settings);
      if (space.name !== 'nb201') throw new TenasInputError('the evaluation network exists for NAS-Bench-201 only; use --space nb201');
      return nb201EvalNetwork({ mask: mask[0], classes: spec.classes, inputSize: spec.inputSize, channels, cells });
    },
    batch: (settings) => requireEvalNetwork(settings).batch,
    inputs: (settings, images, rng) => imageBatch(settings, requireEvalNetwork(settings).batch, images, rng),
  },
};

function requireEvalNetwork(settings: SearchSettings): NonNullable<SearchSettings['evalNetwork']> {
  if (!settings.evalNetwork) throw new Error('the eval network needs settings.evalNetwork (a search measures eval indicators on the ntk network)');
  return settings.evalNetwork;
}

function imageBatch(settings: SearchSettings, batch: number, images: ImageSet | undefined, rng: Rng): ScoredInputs {
  const spec = datasetSpec(settings.dataset);
  if (!images) return { inputs: [gaussianBatch(batch, 3, spec.inputSize, rng)] };
  const { input, labels } = labelledBatch(images, batch, spec, rng);
  return { inputs: [input], labels: labels && [labels] };
}

/** The network an indicator is measured on under these settings: `eval` is the `ntk` network in a search. */
export function scoredNetworkOf(indicator: Indicator, settings: SearchSettings): ScoredNetwork {
  return indicator.network === 'eval' && !settings.evalNetwork ? 'ntk' : indicator.network;
}

/** Indicators measured on the same network with the same data, so they share weights, inputs, draws and passes. */
export interface MeasurementGroup {
  readonly network: ScoredNetwork;
  readonly data: Indicator['data'];
  readonly indicators: Indicator[];
}

export function measurementGroups(indicators: readonly Indicator[], settings: SearchSettings): MeasurementGroup[] {
  const groups: MeasurementGroup[] = [];
  for (const indicator of indicators) {
    const network = scoredNetworkOf(indicator, settings);
    const group = groups.find((candidate) => candidate.network === network && candidate.data === indicator.data);
    if (group) group.indicators.push(indicator);
    else groups.push({ network, data: indicator.data, indicators: [indicator] });
  }
  return groups;
}

/** What the indicators of one group are measured with, for one network of it. */
export interface GroupMeasurement {
  readonly backend: Backend;
  readonly linalg: LinearAlgebra;
  readonly settings: Pick<SearchSettings, 'gramPrecision' | 'kappaPolicy'>;
  readonly network: Network;
  readonly weights: Weights;
  readonly data: ScoredInputs;
  readonly batch: number;
  readonly draws: IndicatorDraws;
}

/** Measures every indicator of a group on one network, with one `SharedPasses`, so they share passes. */
export async function measureGroup(indicators: readonly Indicator[], m: GroupMeasurement, signal?: AbortSignal): Promise<Measured[]> {
  const shared = new SharedPasses();
  const measured: Measured[] = [];
  for (const indicator of indicators) {
    await yieldThenCheck(signal);
    const { gramPrecision, kappaPolicy } = m.settings;
    const context = { backend: m.backend, linalg: m.linalg, network: m.network, weights: m.weights, inputs: m.data.inputs, labels: m.data.labels, batch: m.batch, draws: m.draws, shared, gramPrecision, kappaPolicy };
    measured.push(await indicator.measure(context));
  }
  return measured;
}

/**
 * The order to hand a round's tasks to workers: most work first (the candidate's NTK network, the
 * one that costs), so the round's last tasks are short and the workers finish together. Scores
 * depend only on the task, so the order changes no result.
 */
export function dispatchOrder(space: SearchSpace, settings: SearchSettings, tasks: readonly CandidateTask[]): number[] {
  const cost = tasks.map((task) => ntkFlops(SCORED_NETWORKS.ntk.build(space, task.masks.ntk.candidate, settings), settings.ntkBatch));
  return tasks.map((_, position) => position).sort((a, b) => cost[b] - cost[a] || a - b);
}

/** `[B, C, H, W]` of one batch of a network's data. */
export function sampleShape(network: Network, batch: number): number[] {
  return [batch, network.input.channels, network.input.height, network.input.width];
}

/**
 * Measures candidates with random streams named by (seed, round, candidate, repeat, purpose), so a
 * measurement depends on nothing but its task: not on the worker, nor on what ran before. Each
 * indicator of the settings is measured on its network with that network's weights and data;
 * indicators on the same network and data share them, their extra draws and their passes.
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
  ) {
    this.indicators = resolveIndicators(settings.indicators);
  }

  private readonly indicators: Indicator[];

  async score(task: CandidateTask, signal?: AbortSignal): Promise<CandidateMeasurement> {
    const { settings } = this;
    const measurement: Record<string, number[]> = {};
    for (const indicator of this.indicators) {
      const fields = indicatorFields(indicator);
      measurement[fields.origin] = [];
      measurement[fields.candidate] = [];
    }
    for (const group of measurementGroups(this.indicators, settings)) {
      const kind = group.network as SearchNetwork;
      const scored = SCORED_NETWORKS[kind];
      const { origin, candidate } = task.masks[kind];
      const networks = [scored.build(this.space, origin, settings), scored.build(this.space, candidate, settings)];
      const batch = scored.batch(settings);
      for (let repeat = 0; repeat < settings.repeats; repeat++) {
        const weights = this.weights(kind, networks[0], task, repeat);
        const rng = Rng.stream(settings.seed, `${scored.stream}-data`, task.round, task.index, repeat);
        const data = scored.inputs(settings, group.data === 'samples' ? this.images : undefined, rng);
        // Origin and candidate see the same extra draws, as they see the same weights and data.
        const draws = randomDraws(networks[0], sampleShape(networks[0], batch), (purpose) => Rng.stream(settings.seed, `${scored.stream}-${purpose}`, task.round, task.index, repeat));
        for (const [which, network] of networks.entries()) {
          const values = await measureGroup(group.indicators, { backend: this.backend, linalg: this.linalg, settings, network, weights, data, batch, draws }, signal);
          group.indicators.forEach((indicator, i) => {
            const fields = indicatorFields(indicator);
            measurement[which === 0 ? fields.origin : fields.candidate].push(values[i].value);
          });
        }
      }
    }
    return measurement;
  }

  /** The reference protocol's one NTK draw per round (`ntkDrawRound`), shared by every candidate and repeat of it. */
  private roundWeights: { round: number; weights: Weights } | undefined;

  private weights(kind: SearchNetwork, network: Network, task: CandidateTask, repeat: number): Weights {
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

import type { ImageSet } from './data/cifar.js';
import { datasetSpec, type DatasetName } from './data/datasets.js';
import { Rng } from './data/rng.js';
import { TenasInputError } from './errors.js';
import type { Backend } from './engine/backend.js';
import { createBackend, describeBackendChoice, type BackendChoice } from './engine/create.js';
import type { Network } from './graph/ir.js';
import { initialiseWeights, type InitScheme, type Weights } from './graph/weights.js';
import { LinearAlgebra, type GramPrecision } from './metrics/linalg.js';
import { scoreNtk, type KappaPolicy, type NtkScore } from './metrics/ntk.js';
import { scoreRegions, type RegionScore } from './metrics/regions.js';
import type { IndicatorDraws, Measured } from './metrics/indicator.js';
import { randomDraws } from './metrics/draws.js';
import { resolveIndicators } from './metrics/registry.js';
import { ArchScorer } from './evaluation/arch-scorer.js';
import { measureGroup, sampleShape } from './search/scorer.js';
import { nb201EvalNetwork } from './spaces/nb201/networks.js';
import { DEFAULT_EVAL_NETWORK } from './search/settings.js';
import type { WorkerPoolRunner } from './pool/index.js';
import { InProcessRunner } from './search/in-process-runner.js';
import { CandidateScorer } from './search/scorer.js';
import { runSearch, type CandidateRunner, type RoundRecord, type SearchOutcome, type SearchProgress } from './search/search.js';
import { resolveSettings, type SearchSettings, type SearchSettingsInput } from './search/settings.js';
import { searchSpace, type SpaceName } from './spaces/index.js';
import type { Nb201Table } from './spaces/nb201/table.js';
import type { CellMasks } from './spaces/space.js';

export interface NetworkRequest {
  space: SpaceName;
  /** `eval`: NAS-Bench-201's evaluation network (`TinyNetwork`), NB201 single-path archs only, sized by `channels` and `cells`. */
  net: 'ntk' | 'thin' | 'eval';
  /** NB201 arch or extended mask string; DARTS JSON mask or genotype. Default: the round-0 supernet. */
  arch?: string;
  dataset?: DatasetName;
  /** Overrides the data set's class count. */
  classes?: number;
  /** `eval` only: base width C (default 16) and cells per stage N (default 5). */
  channels?: number;
  cells?: number;
}

/** What `Engine.measureIndicators` measures: one network, its weights and one batch of its data. */
export interface IndicatorRequest {
  /** Registry names (`indicatorNames()`), e.g. `['nwot', 'synflow']`. */
  indicators: readonly string[];
  network: Network;
  weights: Weights;
  /** One batch `[batch, C, H, W]`, float32, already normalised. */
  input: Float32Array;
  batch: number;
  /** The class of each sample; required by the indicators with `needsLabels`. */
  labels?: Int32Array;
  /** Zen-NAS's and AZ-NAS's random draws; default: drawn from `Rng.stream(seed, 'eval-zen-weights')` etc. */
  draws?: IndicatorDraws;
  seed?: number;
  gramPrecision?: GramPrecision;
  kappaPolicy?: KappaPolicy;
}

/**
 * A search's options. `indicators` (registry names, default `['ntk', 'regions']`) and `combine`
 * (`'ranksum'` or `'az'`) choose what ranks the candidates; indicators of the `eval` network are
 * measured on the supernet with the NTK network's weights, batch and images.
 */
export interface SearchRequest extends Omit<SearchSettingsInput, 'evalNetwork'> {
  /** Images to sample NTK batches and LR patches from; required unless `synthetic`. */
  images?: ImageSet;
  /** Use N(0, 1) inputs instead of images. */
  synthetic?: boolean;
  onProgress?: (progress: SearchProgress) => void;
  signal?: AbortSignal;
  /** The NAS-Bench-201 table, to report the found arch's benchmark index (never read by the search). */
  benchmark?: Nb201Table;
  /** Scores candidates somewhere else (the worker pool); default: on this thread. */
  runner?: CandidateRunner;
  /**
   * Scores candidates in this many workers (Node: worker_threads, browser: module workers), started
   * for this search and closed after it; ignored when `runner` is given. 0 or absent: on this thread.
   */
  workers?: number;
}

export interface SearchResult {
  space: SpaceName;
  /** NB201 arch string or DARTS genotype (Python repr). */
  arch: string;
  /** The final mask as text (NB201 arch string / DARTS JSON mask). */
  mask: string;
  nb201Index?: number;
  settings: SearchSettings;
  data: string;
  /** The backend that scored, its adapter facts, and why it was chosen. */
  backend: { name: string; info: Readonly<Record<string, string>>; reason?: string };
  timings: { totalSeconds: number; roundSeconds: number[] };
  history: RoundRecord[];
}

/**
 * The engine: one compute backend plus the WebAssembly linear algebra. Build networks from a space
 * and an architecture, score κ and R, or run a whole TE-NAS search.
 */
export class Engine {
  private constructor(
    readonly backend: Backend,
    readonly linalg: LinearAlgebra,
    /** Why this backend was chosen (e.g. `auto` found only a software WebGPU adapter). */
    readonly backendReason: string | undefined,
  ) {}

  static async create(options: { backend?: BackendChoice } = {}): Promise<Engine> {
    const [backend, linalg] = await Promise.all([createBackend(options.backend), LinearAlgebra.create()]);
    return new Engine(backend, linalg, describeBackendChoice()?.reason);
  }

  buildNetwork(request: NetworkRequest): Network {
    const space = searchSpace(request.space);
    const spec = datasetSpec(request.dataset ?? 'cifar10');
    const classes = request.classes ?? spec.classes;
    if (!Number.isInteger(classes) || classes < 1 || classes > 100_000) {
      throw new TenasInputError(`classes must be a positive integer, got ${classes}`);
    }
    const mask: CellMasks = request.arch === undefined ? space.supernetMask() : space.parseArchitecture(request.arch);
    if (request.net === 'eval') {
      if (request.space !== 'nb201') throw new TenasInputError('the evaluation network exists for NAS-Bench-201 only; use --space nb201');
      if (request.arch === undefined || mask[0].some((edge) => edge.filter(Boolean).length !== 1)) {
        throw new TenasInputError('the evaluation network needs a single-path NB201 arch (one op per edge), e.g. --arch "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"');
      }
      const { channels = DEFAULT_EVAL_NETWORK.channels, cells = DEFAULT_EVAL_NETWORK.cells } = request;
      return nb201EvalNetwork({ mask: mask[0], classes, inputSize: spec.inputSize, channels, cells });
    }
    return request.net === 'ntk' ? space.ntkNetwork(mask, classes, spec.inputSize) : space.thinNetwork(mask, classes);
  }

  /**
   * Measures indicators on one network with one batch, sharing passes between them (all proxies of
   * an architecture cost little more than the most expensive one). Returns each one's measurement
   * (value, per-parameter contributions, diagnostics) by registry name.
   */
  async measureIndicators(request: IndicatorRequest): Promise<Record<string, Measured>> {
    const indicators = resolveIndicators(request.indicators, 'indicators');
    const { network, batch, seed = 0 } = request;
    const draws = request.draws ?? randomDraws(network, sampleShape(network, batch), (purpose) => Rng.stream(seed, `eval-${purpose}`));
    const data = { inputs: [request.input], labels: request.labels && [request.labels] };
    const settings = { gramPrecision: request.gramPrecision ?? 'float64', kappaPolicy: request.kappaPolicy ?? 'floor' } as const;
    const measured = await measureGroup(indicators, { backend: this.backend, linalg: this.linalg, settings, network, weights: request.weights, data, batch, draws });
    return Object.fromEntries(indicators.map((indicator, i) => [indicator.name, measured[i]]));
  }

  /**
   * Scores single-path NB201 architectures as `tenas correlate` does (on this thread): the
   * settings' `indicators`, with `evalNetwork` sizing the proxies' network (default C 16, N 5, B 64
   * when an indicator needs it). Random streams depend only on (seed, arch index).
   */
  archScorer(settings: SearchSettingsInput, images: ImageSet): ArchScorer {
    const names = settings.indicators;
    const needsEval = names !== undefined && resolveIndicators(names, 'indicators').some((indicator) => indicator.network === 'eval');
    const resolved = resolveSettings({ ...settings, space: 'nb201', ...(needsEval && { evalNetwork: settings.evalNetwork ?? DEFAULT_EVAL_NETWORK }) });
    return new ArchScorer(this.backend, this.linalg, resolved, images);
  }

  initialWeights(network: Network, scheme: InitScheme = 'pytorch-default', seed = 0): Weights {
    return initialiseWeights(network, scheme, Rng.stream(seed, 'weights'));
  }

  scoreNtk(network: Network, weights: Weights, input: Float32Array, batch: number, options: { precision?: GramPrecision; policy?: KappaPolicy } = {}): Promise<NtkScore> {
    return scoreNtk(this.backend, this.linalg, network, weights, input, batch, options);
  }

  scoreRegions(network: Network, weights: Weights, batches: Float32Array[], batchSize: number): Promise<RegionScore> {
    return scoreRegions(this.backend, this.linalg, network, weights, batches, batchSize);
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    if ((request as SearchSettingsInput).evalNetwork !== undefined) {
      throw new TenasInputError('a search measures the eval-network indicators on its supernet; leave out evalNetwork');
    }
    const settings = resolveSettings(request);
    const space = searchSpace(settings.space);
    if (!request.images && !request.synthetic) {
      throw new TenasInputError('no images to search with: pass `images` (e.g. the embedded CIFAR-10 set) or `synthetic: true`');
    }
    const images = request.synthetic ? undefined : request.images;
    const needLabels = resolveIndicators(settings.indicators).filter((indicator) => indicator.needsLabels && indicator.data === 'samples');
    if (needLabels.length > 0 && !images?.labels) {
      throw new TenasInputError(
        `${needLabels.map((indicator) => indicator.name).join(', ')} need${needLabels.length === 1 ? 's' : ''} class labels and ${images ? `${images.source} has none` : 'synthetic inputs have none'}; ` +
          'search with the embedded CIFAR-10 images, CIFAR binary files or a folder with one sub-folder per class',
      );
    }
    if (images && images.count < settings.ntkBatch) {
      throw new TenasInputError(`${images.source} holds ${images.count} images but the NTK batch needs ${settings.ntkBatch}; use a smaller --batch or more images`);
    }
    const workers = request.workers ?? 0;
    if (!Number.isInteger(workers) || workers < 0 || workers > 1024) {
      throw new TenasInputError(`workers must be an integer from 0 to 1024, got ${workers}`);
    }
    // The pool is loaded lazily: searches on this thread never load it, and it picks worker_threads
    // or module workers at run time without a static Node import, so this module stays browser-safe.
    let pool: WorkerPoolRunner | undefined;
    if (!request.runner && workers > 0) {
      const { createWorkerPool } = await import('./pool/index.js');
      pool = await createWorkerPool({ backend: this.backend.name, settings, images, workers });
    }
    const runner = request.runner ?? pool ?? new InProcessRunner(new CandidateScorer(this.backend, this.linalg, space, settings, images));
    let outcome: SearchOutcome;
    try {
      outcome = await runSearch(space, settings, runner, { onProgress: request.onProgress, signal: request.signal });
    } finally {
      await pool?.close();
    }
    return {
      space: settings.space,
      arch: outcome.arch,
      mask: space.formatMask(outcome.mask),
      nb201Index: settings.space === 'nb201' ? request.benchmark?.lookup(outcome.arch).index : undefined,
      settings,
      data: images ? images.source : 'synthetic N(0, 1) inputs',
      backend: { name: this.backend.name, info: this.backend.info, reason: this.backendReason },
      timings: { totalSeconds: outcome.seconds, roundSeconds: outcome.history.map((round) => round.seconds) },
      history: outcome.history,
    };
  }

  dispose(): void {
    this.backend.dispose();
  }
}

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
  net: 'ntk' | 'thin';
  /** NB201 arch or extended mask string; DARTS JSON mask or genotype. Default: the round-0 supernet. */
  arch?: string;
  dataset?: DatasetName;
  /** Overrides the data set's class count. */
  classes?: number;
}

export interface SearchRequest extends SearchSettingsInput {
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
    return request.net === 'ntk' ? space.ntkNetwork(mask, classes, spec.inputSize) : space.thinNetwork(mask, classes);
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
    const settings = resolveSettings(request);
    const space = searchSpace(settings.space);
    if (!request.images && !request.synthetic) {
      throw new TenasInputError('no images to search with: pass `images` (e.g. the embedded CIFAR-10 set) or `synthetic: true`');
    }
    const images = request.synthetic ? undefined : request.images;
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

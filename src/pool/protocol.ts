import type { ImageSet } from '../data/cifar.js';
import type { BackendName } from '../engine/backend.js';
import type { BenchOptions, BenchReport } from '../bench/bench.js';
import type { ArchScore } from '../evaluation/arch-scorer.js';
import type { IndexedArch } from '../evaluation/selection.js';
import type { CandidateMeasurement, CandidateTask } from '../search/scorer.js';
import type { SearchSettings } from '../search/settings.js';

/** Everything a worker needs to score any candidate of one search; sent once, when the worker starts. */
export interface WorkerSearchContext {
  readonly backend: BackendName;
  readonly settings: SearchSettings;
  /** The images to sample from (their pixels shared or transferred, never copied per task); `undefined`: synthetic inputs. */
  readonly images: ImageSet | undefined;
}

/**
 * Deliberate failures, for tests of the pool's fault handling. `exit`: the worker thread exits with
 * code 1 (a browser worker throws an uncaught error instead); `uncaught`: an uncaught exception;
 * `stall`: the worker spins without answering until it is terminated.
 */
export type WorkerFault = 'exit' | 'uncaught' | 'stall';

/** What a pool worker exposes through Comlink. */
export interface ScoringService {
  /** Compiles the WebAssembly, creates the backend and the scorer; called once per worker. */
  init(context: WorkerSearchContext): Promise<void>;
  score(task: CandidateTask, fault?: WorkerFault): Promise<CandidateMeasurement>;
  /** Scores one single-path NB201 architecture as `tenas correlate` does (the context's images are required). */
  scoreArch(arch: IndexedArch): Promise<ArchScore>;
  /** `tenas bench`'s measurements (no `init()` needed). */
  bench(options: WorkerBenchOptions): Promise<BenchReport>;
}

/** Bench options that can cross to a worker (no functions). */
export type WorkerBenchOptions = Omit<BenchOptions, 'peakRssMb'>;

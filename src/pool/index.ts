import * as Comlink from 'comlink';
import type { ImageSet } from '../data/cifar.js';
import type { ArchScore } from '../evaluation/arch-scorer.js';
import type { IndexedArch } from '../evaluation/selection.js';
import type { BackendName } from '../engine/backend.js';
import type { SearchSettings } from '../search/settings.js';
import type { ScoringService } from './protocol.js';
import { WorkerPoolRunner, type InjectedFault, type PoolWorkerFactory } from './worker-pool-runner.js';

export { WorkerPoolRunner, WorkerPoolError, DEFAULT_TASK_TIMEOUT_MS } from './worker-pool-runner.js';
export type { InjectedFault, PoolWorker, PoolWorkerFactory, WorkerPoolRunnerOptions } from './worker-pool-runner.js';
export type { ScoringService, WorkerFault, WorkerSearchContext } from './protocol.js';
export { browserWorkerFactory } from './browser-workers.js';

export interface CreateWorkerPoolOptions {
  readonly backend: BackendName;
  readonly settings: SearchSettings;
  /** `undefined`: synthetic inputs. */
  readonly images: ImageSet | undefined;
  /** Default: the available parallelism (`os.availableParallelism()`, `navigator.hardwareConcurrency`). */
  readonly workers?: number;
  /** The bundled worker script; default: set by `configureWorkerPool`, else `worker.js` beside this bundle. */
  readonly workerUrl?: URL | string;
  /** Replaces the environment's worker factory (then `workerUrl` is not used). */
  readonly createWorker?: PoolWorkerFactory;
  readonly taskTimeoutMs?: number;
  readonly testFaults?: readonly InjectedFault[];
}

// Right for the bundles: dist/node/worker.js and dist/browser/worker.js sit beside the bundle that contains this code.
let defaultWorkerUrl: URL | string = new URL('./worker.js', import.meta.url);

/**
 * Where pools find the worker script when none is given (and so where `Engine.search({ workers })`
 * finds it): for apps whose bundler puts the worker elsewhere, and for tests running the sources.
 */
export function configureWorkerPool(options: { workerUrl: URL | string }): void {
  defaultWorkerUrl = options.workerUrl;
}

export function isNodeRuntime(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** This runtime's way of starting workers: worker_threads in Node, module workers in a browser. */
async function runtimeWorkers(workerUrl: URL | string): Promise<{ createWorker: PoolWorkerFactory; parallelism: () => number | Promise<number> }> {
  if (isNodeRuntime()) {
    const node = await import('./node-workers.js');
    return { createWorker: await node.nodeWorkerFactory(workerUrl), parallelism: node.nodeParallelism };
  }
  const browser = await import('./browser-workers.js');
  return { createWorker: browser.browserWorkerFactory(workerUrl), parallelism: browser.browserParallelism };
}

/** A pool for this runtime: worker_threads in Node, module workers in a browser. */
export async function createWorkerPool(options: CreateWorkerPoolOptions): Promise<WorkerPoolRunner> {
  const runtime = await runtimeWorkers(options.workerUrl ?? defaultWorkerUrl);
  return new WorkerPoolRunner({
    createWorker: options.createWorker ?? runtime.createWorker,
    context: { backend: options.backend, settings: options.settings, images: options.images },
    workers: options.workers ?? (await runtime.parallelism()),
    taskTimeoutMs: options.taskTimeoutMs,
    testFaults: options.testFaults,
  });
}

/** A worker that scores single-path architectures (`tenas correlate`) one call at a time. */
export interface ArchScoringWorker {
  /** Rejects if the worker dies or is closed meanwhile. */
  score(arch: IndexedArch): Promise<ArchScore>;
  /** Terminates the worker at once, even in the middle of a score. */
  close(): Promise<void>;
}

/**
 * Starts one worker scoring architectures off the calling thread, which then stays free for signal
 * handlers and progress: a measurement takes seconds of WebAssembly that cannot be interrupted, but
 * a worker can be terminated at any moment.
 */
export async function startArchScoringWorker(options: { backend: BackendName; settings: SearchSettings; images: ImageSet; workerUrl?: URL | string }): Promise<ArchScoringWorker> {
  const { createWorker } = await runtimeWorkers(options.workerUrl ?? defaultWorkerUrl);
  const worker = createWorker();
  let markLost!: (reason: string) => void;
  const lost = new Promise<never>((_, reject) => {
    markLost = (reason) => reject(new Error(`the scoring worker stopped: ${reason}`));
  });
  lost.catch(() => {}); // observed through the calls below
  worker.onLost(markLost);
  const service = Comlink.wrap<ScoringService>(worker.endpoint);
  const call = <T>(work: Promise<T>): Promise<T> => Promise.race([work, lost]);
  try {
    await call(service.init({ backend: options.backend, settings: options.settings, images: options.images }));
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    score: (arch) => call(service.scoreArch(arch)),
    close: async () => {
      markLost('it was closed');
      await worker.terminate();
    },
  };
}

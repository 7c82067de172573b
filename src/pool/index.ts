import * as Comlink from 'comlink';
import type { ImageSet } from '../data/cifar.js';
import { TenasInputError } from '../errors.js';
import type { ArchScore } from '../evaluation/arch-scorer.js';
import type { IndexedArch } from '../evaluation/selection.js';
import type { BackendName } from '../engine/backend.js';
import { env } from '../env.js';
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
  /** The bundled worker script; default: `env.workerUrl`. */
  readonly workerUrl?: URL | string;
  /** Replaces the environment's worker factory (then `workerUrl` is not used). */
  readonly createWorker?: PoolWorkerFactory;
  readonly taskTimeoutMs?: number;
  readonly testFaults?: readonly InjectedFault[];
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
  await browser.requireWorkerScript(workerUrl);
  return { createWorker: browser.browserWorkerFactory(workerUrl), parallelism: browser.browserParallelism };
}

/** A pool for this runtime: worker_threads in Node, module workers in a browser. */
export async function createWorkerPool(options: CreateWorkerPoolOptions): Promise<WorkerPoolRunner> {
  const runtime = await runtimeWorkers(options.workerUrl ?? env.workerUrl);
  return new WorkerPoolRunner({
    createWorker: options.createWorker ?? runtime.createWorker,
    context: { backend: options.backend, settings: options.settings, images: options.images },
    workers: options.workers ?? (await runtime.parallelism()),
    taskTimeoutMs: options.taskTimeoutMs,
    testFaults: options.testFaults,
  });
}

/**
 * One pool worker used call by call: whatever it runs (seconds of WebAssembly that cannot be
 * interrupted) leaves the calling thread free for signal handlers and progress, and the worker can
 * be terminated at any moment.
 */
export interface ScoringWorker {
  /** Runs `use` on the worker's service; rejects if the worker dies or is closed meanwhile. */
  call<T>(use: (service: Comlink.Remote<ScoringService>) => Promise<T>): Promise<T>;
  /** Terminates the worker at once, even in the middle of a call. */
  close(): Promise<void>;
}

export async function startScoringWorker(workerUrl: URL | string = env.workerUrl): Promise<ScoringWorker> {
  const { createWorker } = await runtimeWorkers(workerUrl);
  const worker = createWorker();
  let markLost!: (reason: string) => void;
  const lost = new Promise<never>((_, reject) => {
    markLost = (reason) => reject(new Error(`the scoring worker stopped: ${reason}`));
  });
  lost.catch(() => {}); // observed through the calls
  worker.onLost(markLost);
  const service = Comlink.wrap<ScoringService>(worker.endpoint);
  return {
    call: (use) => Promise.race([use(service), lost]).catch((error: unknown) => {
      // Comlink rebuilds errors as plain Errors: the user's mistakes must stay user errors.
      throw (error as Error | undefined)?.name === 'TenasInputError' ? new TenasInputError((error as Error).message) : error;
    }),
    close: async () => {
      markLost('it was closed');
      await worker.terminate();
    },
  };
}

/** A worker that scores single-path architectures (`tenas correlate`) one call at a time. */
export interface ArchScoringWorker {
  /** Rejects if the worker dies or is closed meanwhile. */
  score(arch: IndexedArch): Promise<ArchScore>;
  close(): Promise<void>;
}

export async function startArchScoringWorker(options: { backend: BackendName; settings: SearchSettings; images: ImageSet; workerUrl?: URL | string }): Promise<ArchScoringWorker> {
  const worker = await startScoringWorker(options.workerUrl);
  try {
    await worker.call((service) => service.init({ backend: options.backend, settings: options.settings, images: options.images }));
  } catch (error) {
    await worker.close();
    throw error;
  }
  return { score: (arch) => worker.call((service) => service.scoreArch(arch)), close: () => worker.close() };
}

import type { ImageSet } from '../data/cifar.js';
import type { BackendName } from '../engine/backend.js';
import { env } from '../env.js';
import type { SearchSettings } from '../search/settings.js';
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

/** A pool for this runtime: worker_threads in Node, module workers in a browser. */
export async function createWorkerPool(options: CreateWorkerPoolOptions): Promise<WorkerPoolRunner> {
  const workerUrl = options.workerUrl ?? env.workerUrl;
  let createWorker = options.createWorker;
  let parallelism: () => number | Promise<number>;
  if (isNodeRuntime()) {
    const node = await import('./node-workers.js');
    createWorker ??= await node.nodeWorkerFactory(workerUrl);
    parallelism = node.nodeParallelism;
  } else {
    const browser = await import('./browser-workers.js');
    if (!createWorker) {
      await browser.requireWorkerScript(workerUrl);
      createWorker = browser.browserWorkerFactory(workerUrl);
    }
    parallelism = browser.browserParallelism;
  }
  return new WorkerPoolRunner({
    createWorker,
    context: { backend: options.backend, settings: options.settings, images: options.images },
    workers: options.workers ?? (await parallelism()),
    taskTimeoutMs: options.taskTimeoutMs,
    testFaults: options.testFaults,
  });
}

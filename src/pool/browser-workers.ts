import { TenasInputError } from '../errors.js';
import type { PoolWorker, PoolWorkerFactory } from './worker-pool-runner.js';

const WORKER_FIX = 'serve tenas-web/worker (node_modules/tenas-web/dist/browser/worker.js) there and set env.workerUrl to its URL, or search with workers: 0';

/**
 * Fails with the URL and the fix when the worker script cannot be fetched: a module worker that
 * fails to load reports only an anonymous error event.
 */
export async function requireWorkerScript(scriptUrl: URL | string): Promise<void> {
  let status: string;
  try {
    const response = await fetch(scriptUrl);
    await response.body?.cancel();
    if (response.ok) return;
    status = `HTTP ${response.status}`;
  } catch (error) {
    status = (error as Error).message;
  }
  throw new TenasInputError(`the pool's worker script could not be fetched from ${String(scriptUrl)} (${status}): ${WORKER_FIX}`);
}

export function browserParallelism(): number {
  return typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1;
}

/** Pool workers as browser module workers running the bundled worker script. */
export function browserWorkerFactory(scriptUrl: URL | string): PoolWorkerFactory {
  return (): PoolWorker => {
    const worker = new Worker(scriptUrl, { type: 'module' });
    let lostListener: ((reason: string) => void) | undefined;
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    // A browser worker has no exit event: an uncaught error (including a script that fails to load) is its death.
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      const listener = lostListener;
      lostListener = undefined;
      worker.terminate();
      markExited();
      listener?.(`the worker threw an uncaught error: ${event.message || `the worker script ${String(scriptUrl)} failed to load (${WORKER_FIX})`}`);
    });
    return {
      endpoint: worker,
      onLost: (listener) => {
        lostListener = listener;
      },
      terminate: async () => {
        lostListener = undefined;
        worker.terminate();
        markExited();
      },
      exited,
    };
  };
}

import type { PoolWorker, PoolWorkerFactory } from './worker-pool-runner.js';

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
      listener?.(`the worker threw an uncaught error: ${event.message || 'the worker script failed to load'}`);
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

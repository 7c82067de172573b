import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { TenasInputError } from '../errors.js';
import { nodeBuiltin } from './node-builtin.js';
import type { PoolWorker, PoolWorkerFactory } from './worker-pool-runner.js';

type WorkerThreads = typeof import('node:worker_threads');
type Os = typeof import('node:os');
type Fs = typeof import('node:fs');
type Url = typeof import('node:url');

export async function nodeParallelism(): Promise<number> {
  const os = await nodeBuiltin<Os>('node:os');
  return os.availableParallelism();
}

/** Pool workers as `worker_threads` running the bundled worker script (an ES module file). */
export async function nodeWorkerFactory(scriptUrl: URL | string): Promise<PoolWorkerFactory> {
  const { Worker } = await nodeBuiltin<WorkerThreads>('node:worker_threads');
  const url = new URL(scriptUrl);
  if (url.protocol === 'file:') {
    const [{ existsSync }, { fileURLToPath }] = await Promise.all([nodeBuiltin<Fs>('node:fs'), nodeBuiltin<Url>('node:url')]);
    if (!existsSync(fileURLToPath(url))) {
      throw new TenasInputError(`the pool's worker script ${fileURLToPath(url)} does not exist: reinstall tenas-web (it ships dist/node/worker.js) or set env.workerUrl to the built worker`);
    }
  }
  return (): PoolWorker => {
    const worker = new Worker(url);
    // The pool's task timers keep the process alive while work is pending; an idle pool that was
    // never closed must not keep it alive forever.
    worker.unref();
    let lostListener: ((reason: string) => void) | undefined;
    const reportLost = (reason: string) => {
      const listener = lostListener;
      lostListener = undefined;
      listener?.(reason);
    };
    worker.on('error', (error) => reportLost(`the worker threw an uncaught error: ${error.message}`));
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        reportLost(`the worker exited with code ${code}`);
        resolve();
      });
    });
    return {
      endpoint: nodeEndpoint(worker),
      onLost: (listener) => {
        lostListener = listener;
      },
      terminate: async () => {
        lostListener = undefined;
        await worker.terminate();
        await exited;
      },
      exited,
    };
  };
}

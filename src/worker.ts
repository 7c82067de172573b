/**
 * Entry point of a pool worker, bundled on its own (`dist/node/worker.js` for worker_threads; the
 * same source bundles as a browser module worker). It exposes a `ScoringService` through Comlink.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { nodeBuiltin } from './pool/node-builtin.js';
import { createScoringService } from './pool/scoring-service.js';

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

if (isNode) {
  const { parentPort } = await nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads');
  if (!parentPort) throw new Error('the pool worker script must run in a worker thread');
  Comlink.expose(
    createScoringService(() => process.exit(1)),
    nodeEndpoint(parentPort),
  );
} else {
  Comlink.expose(
    createScoringService(() => {
      // A browser worker cannot exit with a code; an uncaught error is how the pool sees its death.
      setTimeout(() => {
        throw new Error('injected exit of a pool worker');
      });
    }),
  );
}

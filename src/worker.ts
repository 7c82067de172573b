/**
 * Entry point of a Node pool worker (`dist/node/worker.js`, run by worker_threads); the browser's
 * module worker is `worker.browser.ts`. It exposes a `ScoringService` through Comlink.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import { createScoringService } from './pool/scoring-service.js';

if (!parentPort) throw new Error('the pool worker script must run in a worker thread');
Comlink.expose(
  createScoringService(() => process.exit(1)),
  nodeEndpoint(parentPort),
);

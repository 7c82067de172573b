/**
 * Entry point of a browser pool worker (`dist/browser/worker.js`, a module worker). It exposes a
 * `ScoringService` through Comlink; no top-level await, so minifiers that parse it as a script accept it.
 */
import * as Comlink from 'comlink';
import { createScoringService } from './pool/scoring-service.js';

Comlink.expose(
  createScoringService(() => {
    // A browser worker cannot exit with a code; an uncaught error is how the pool sees its death.
    setTimeout(() => {
      throw new Error('injected exit of a pool worker');
    });
  }),
);

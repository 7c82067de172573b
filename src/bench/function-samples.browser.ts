import type { FunctionSampler } from './function-samples.js';

/** The browser build's stand-in for `function-samples.ts`: a page has no sampling profiler to call on its workers. */
export const sampleFunctions: FunctionSampler | undefined = undefined;

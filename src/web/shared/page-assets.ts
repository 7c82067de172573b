/**
 * Where a page finds what `tenas serve` serves beside it (src/server/serve.ts): every page is one
 * folder below the root, so these resolve the same from each page's bundle.
 */
export const DATA_URL = new URL('../data/', import.meta.url);
/** The pool's module worker: the browser build's dist/browser/worker.js, served at /lib/. */
export const WORKER_URL = new URL('../lib/worker.js', import.meta.url);
export const BUILD_INFO_URL = new URL('../build-info.json', import.meta.url);

/** The phases a page with a long run goes through (exposed to tests on its `window.__TENAS_…__` handle). */
export type PageState = 'loading' | 'idle' | 'running' | 'done' | 'cancelled' | 'error';

/**
 * Where tenas-web finds the files it does not inline: the pool's worker script and the package's
 * data files. Set these before the first search (as ONNX Runtime Web's `env.wasm.wasmPaths`).
 */
export interface TenasEnv {
  /**
   * The pool's worker script (`tenas-web/worker`). Default: `worker.js` beside the tenas-web bundle,
   * written as `new URL('./worker.js', import.meta.url)` so that webpack 5 and Vite emit it with the
   * app by themselves; with esbuild (or a CDN) copy the file and point this at it.
   */
  workerUrl: URL | string;
  /**
   * Base URL of the package's `data/` folder as the app serves it (ending in `/`), for
   * `fetchEmbeddedCifar()` and `fetchNb201Table()`. Default: unset; pass a file's URL to those
   * functions instead, or serve `node_modules/tenas-web/data/` and set this. Node's `load…`
   * functions read the installed package and do not use it.
   */
  dataUrl: URL | string | undefined;
}

export const env: TenasEnv = {
  workerUrl: new URL('./worker.js', import.meta.url),
  dataUrl: undefined,
};

import { setFlagsFromString } from 'node:v8';

/**
 * Node.js 20 and 21 ship WebAssembly relaxed SIMD behind a V8 flag; set before a compile, it
 * holds for this thread and every worker. (Later versions have it on; the flag is then harmless.)
 */
export function enableRelaxedSimd(): void {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}

import { TenasInputError } from '../errors.js';
import type { Backend, BackendName } from './backend.js';
import { WasmBackend } from './wasm/backend.js';

export type BackendChoice = BackendName | 'auto';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'wasm', 'webgpu'];

/**
 * `auto` picks WebGPU on a hardware adapter that passes a self-check and WebAssembly otherwise
 * (a software adapter such as SwiftShader is a CPU, and the SIMD kernels beat it there).
 */
export async function createBackend(choice: BackendChoice = 'auto'): Promise<Backend> {
  switch (choice) {
    case 'auto':
    case 'wasm':
      return WasmBackend.create();
    case 'webgpu':
      throw new TenasInputError('the WebGPU backend is not available in this build; use --backend wasm');
    default:
      throw new TenasInputError(`unknown backend '${String(choice)}'; choose one of: ${BACKEND_CHOICES.join(', ')}`);
  }
}

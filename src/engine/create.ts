import { TenasInputError } from '../errors.js';
import { BACKEND_NAMES, type Backend, type BackendName } from './backend.js';
import { WasmBackend } from './wasm/backend.js';
import { WebGpuBackend } from './webgpu/backend.js';
import { adapterFacts, requestGpuAdapter } from './webgpu/device.js';
import { passesSelfCheck } from './webgpu/self-check.js';

export type BackendChoice = BackendName | 'auto';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_NAMES];

export interface BackendDecision {
  readonly choice: BackendChoice;
  readonly backend: BackendName;
  /** Why, in one line (for the CLI and reports). */
  readonly reason: string;
}

let lastDecision: BackendDecision | undefined;

/** Why the most recent `createBackend` call picked the backend it did. */
export function describeBackendChoice(): BackendDecision | undefined {
  return lastDecision;
}

/**
 * `auto` picks WebGPU on a hardware adapter that passes a self-check and WebAssembly otherwise
 * (a software adapter such as SwiftShader is a CPU, and the SIMD kernels beat it there).
 */
export async function createBackend(choice: BackendChoice = 'auto'): Promise<Backend> {
  switch (choice) {
    case 'wasm':
      lastDecision = { choice, backend: 'wasm', reason: 'requested with --backend wasm' };
      return WasmBackend.create();
    case 'wasm-fma':
      lastDecision = { choice, backend: 'wasm-fma', reason: 'requested with --backend wasm-fma' };
      return WasmBackend.create('wasm-fma');
    case 'webgpu': {
      const backend = await WebGpuBackend.create();
      lastDecision = { choice, backend: 'webgpu', reason: `requested with --backend webgpu (adapter: ${backend.info.description || backend.info.adapter})` };
      return backend;
    }
    case 'auto':
      return chooseAutomatically();
    default:
      throw new TenasInputError(`unknown backend '${String(choice)}'; choose one of: ${BACKEND_CHOICES.join(', ')}`);
  }
}

async function chooseAutomatically(): Promise<Backend> {
  const wasm = await WasmBackend.create();
  const decide = (backend: BackendName, reason: string): void => {
    lastDecision = { choice: 'auto', backend, reason };
  };
  const access = await requestGpuAdapter();
  if (!('adapter' in access)) {
    decide('wasm', `no WebGPU adapter is available: ${access.unavailable}`);
    return wasm;
  }
  const { adapter } = access;
  const facts = adapterFacts(adapter);
  const name = [facts.vendor, facts.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  if (facts.isFallbackAdapter) {
    decide('wasm', `the WebGPU adapter (${name}) is a software fallback; WebAssembly SIMD is faster on a CPU`);
    return wasm;
  }
  let gpu: WebGpuBackend | undefined;
  try {
    gpu = await WebGpuBackend.create();
    if (await passesSelfCheck(gpu, wasm)) {
      decide('webgpu', `hardware WebGPU adapter (${name}) passed the self-check`);
      wasm.dispose();
      return gpu;
    }
    decide('wasm', `the WebGPU adapter (${name}) failed the self-check (its conv forward differs from WebAssembly)`);
  } catch (error) {
    decide('wasm', `the WebGPU adapter (${name}) could not run the self-check: ${(error as Error).message}`);
  }
  gpu?.dispose();
  return wasm;
}

/// <reference types="@webgpu/types" />
import { TenasInputError } from '../../errors.js';
import { loadNodeGpu } from './node-gpu.js';

const INSTALL_HINT = 'install a WebGPU driver (on Debian/Ubuntu: `apt-get install -y chromium libvulkan1`) or pass --backend wasm';

export interface AdapterFacts {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}

export interface GpuContext {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly facts: AdapterFacts;
}

/** A WebGPU entry point, or why this environment has none (one line, for `--verbose` and errors). */
export type GpuAccess = { readonly gpu: GPU } | { readonly unavailable: string };

/** An adapter, or why there is none. */
export type AdapterAccess = { readonly adapter: GPUAdapter } | { readonly unavailable: string };

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** `navigator.gpu` in browsers; in Node the optional `webgpu` package (Dawn), see `node-gpu.ts`. */
async function loadGpu(): Promise<GpuAccess> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) return { gpu: browserGpu };
  if (!isNode()) return { unavailable: 'this browser does not offer WebGPU (navigator.gpu is missing)' };
  return loadNodeGpu();
}

export function adapterFacts(adapter: GPUAdapter): AdapterFacts {
  const info = adapter.info;
  const legacyFallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const isFallbackAdapter = Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? legacyFallback);
  return { vendor: info.vendor, architecture: info.architecture, description: info.description, isFallbackAdapter };
}

/** The adapter, or why this environment has none (no loader, no driver, no `webgpu` package). */
export async function requestGpuAdapter(): Promise<AdapterAccess> {
  const access = await loadGpu();
  if (!('gpu' in access)) return access;
  try {
    const adapter = await access.gpu.requestAdapter({ powerPreference: 'high-performance' });
    return adapter ? { adapter } : { unavailable: 'no WebGPU adapter was found (no GPU driver and no SwiftShader)' };
  } catch (error) {
    return { unavailable: `the WebGPU adapter request failed: ${(error as Error).message}` };
  }
}

/** The limits this engine depends on, raised to what the adapter offers. */
const WANTED_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage'] as const;

export async function acquireGpu(): Promise<GpuContext> {
  const access = await requestGpuAdapter();
  if (!('adapter' in access)) throw new TenasInputError(`no WebGPU adapter is available: ${access.unavailable}; ${INSTALL_HINT}`);
  const { adapter } = access;
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  if (adapter.limits.maxStorageBuffersPerShaderStage < 8) {
    throw new TenasInputError(`the WebGPU adapter offers only ${adapter.limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage (8 needed): ${INSTALL_HINT}`);
  }
  let device: GPUDevice;
  try {
    // Timestamp queries time each dispatch under `tenas bench --profile`; unprofiled work never writes one.
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (error) {
    throw new TenasInputError(`the WebGPU adapter refused a device (${(error as Error).message}): ${INSTALL_HINT}`);
  }
  return { adapter, device, facts: adapterFacts(adapter) };
}

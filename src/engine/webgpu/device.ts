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

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** `navigator.gpu` in browsers; in Node the `webgpu` package (Dawn). */
async function loadGpu(): Promise<{ gpu: GPU | undefined; reason?: string }> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) return { gpu: browserGpu };
  if (!isNode()) return { gpu: undefined, reason: 'this browser has no WebGPU (navigator.gpu)' };
  return loadNodeGpu();
}

export function adapterFacts(adapter: GPUAdapter): AdapterFacts {
  const info = adapter.info;
  const legacyFallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const isFallbackAdapter = Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? legacyFallback);
  return { vendor: info.vendor, architecture: info.architecture, description: info.description, isFallbackAdapter };
}

/** Why `requestGpuAdapter` found none: the `webgpu` package is missing, or no driver offers an adapter. */
export async function missingAdapterReason(): Promise<string> {
  const { reason } = await loadGpu();
  return reason ?? 'no WebGPU adapter is available';
}

/** The adapter, or undefined when this environment has none (no driver, no `webgpu` package). */
export async function requestGpuAdapter(): Promise<GPUAdapter | undefined> {
  const { gpu } = await loadGpu();
  if (!gpu) return undefined;
  try {
    return (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The limits this engine depends on, raised to what the adapter offers. */
const WANTED_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage'] as const;

export async function acquireGpu(): Promise<GpuContext> {
  const adapter = await requestGpuAdapter();
  if (!adapter) {
    const { reason } = await loadGpu();
    throw new TenasInputError(reason ? `${reason} (or pass --backend wasm)` : `no WebGPU adapter is available: ${INSTALL_HINT}`);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  if (adapter.limits.maxStorageBuffersPerShaderStage < 8) {
    throw new TenasInputError(`the WebGPU adapter offers only ${adapter.limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage (8 needed): ${INSTALL_HINT}`);
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (error) {
    throw new TenasInputError(`the WebGPU adapter refused a device (${(error as Error).message}): ${INSTALL_HINT}`);
  }
  return { adapter, device, facts: adapterFacts(adapter) };
}

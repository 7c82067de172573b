/// <reference types="@webgpu/types" />
import { TenasInputError } from '../../errors.js';

/** Chromium's SwiftShader Vulkan driver: a software WebGPU adapter for machines without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

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

let nodeGpu: Promise<GPU | undefined> | undefined;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * `navigator.gpu` in browsers; in Node the `webgpu` package (Dawn). On Linux without a chosen Vulkan
 * driver it points Dawn at Chromium's SwiftShader, which must happen before the first `create()`.
 */
async function loadGpu(): Promise<GPU | undefined> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) return browserGpu;
  if (!isNode()) return undefined;
  nodeGpu ??= (async () => {
    if (process.platform === 'linux' && !process.env.VK_ICD_FILENAMES) {
      const { existsSync } = await import('node:fs');
      if (existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    process.env.VK_LOADER_LAYERS_DISABLE ??= '~implicit~';
    // A non-literal specifier keeps browser bundlers from resolving the Node-only native addon.
    const specifier = 'webgpu';
    try {
      const dawn = (await import(/* @vite-ignore */ specifier)) as { create(flags: string[]): GPU; globals: Record<string, unknown> };
      Object.assign(globalThis, dawn.globals);
      return dawn.create([]);
    } catch {
      return undefined;
    }
  })();
  return nodeGpu;
}

export function adapterFacts(adapter: GPUAdapter): AdapterFacts {
  const info = adapter.info;
  const legacyFallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const isFallbackAdapter = Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? legacyFallback);
  return { vendor: info.vendor, architecture: info.architecture, description: info.description, isFallbackAdapter };
}

/** The adapter, or undefined when this environment has none (no driver, no `webgpu` package). */
export async function requestGpuAdapter(): Promise<GPUAdapter | undefined> {
  const gpu = await loadGpu();
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
  if (!adapter) throw new TenasInputError(`no WebGPU adapter is available: ${INSTALL_HINT}`);
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

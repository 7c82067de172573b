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

/** A WebGPU entry point, or why this environment has none (one line, for `--verbose` and errors). */
export type GpuAccess = { readonly gpu: GPU } | { readonly unavailable: string };

/** An adapter, or why there is none. */
export type AdapterAccess = { readonly adapter: GPUAdapter } | { readonly unavailable: string };

let nodeGpu: Promise<GpuAccess> | undefined;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** Where the dynamic loader looks for `libvulkan.so.1` on common Linux layouts, plus LD_LIBRARY_PATH. */
function vulkanLoaderDirectories(): string[] {
  const fromEnvironment = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const multiarch = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'riscv64-linux-gnu'];
  return [...fromEnvironment, ...multiarch.flatMap((triple) => [`/usr/lib/${triple}`, `/lib/${triple}`]), '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];
}

/**
 * `navigator.gpu` in browsers; in Node the `webgpu` package (Dawn). On Linux, Dawn reaches the GPU
 * through the Vulkan loader; without it Dawn prints a warning of its own (with a path from the
 * package's build machine) on every adapter request, so a missing loader is detected here first
 * and reported as a plain reason instead. Without a chosen Vulkan driver, Dawn is pointed at
 * Chromium's SwiftShader, which must happen before the first `create()`.
 */
async function loadGpu(): Promise<GpuAccess> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) return { gpu: browserGpu };
  if (!isNode()) return { unavailable: 'this browser does not offer WebGPU (navigator.gpu is missing)' };
  nodeGpu ??= (async (): Promise<GpuAccess> => {
    if (process.platform === 'linux') {
      const { existsSync } = await import('node:fs');
      const { join } = await import('node:path');
      if (!vulkanLoaderDirectories().some((directory) => existsSync(join(directory, 'libvulkan.so.1')))) {
        return { unavailable: 'the Vulkan loader libvulkan.so.1 is not installed (Debian/Ubuntu: apt-get install -y libvulkan1)' };
      }
      if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    process.env.VK_LOADER_LAYERS_DISABLE ??= '~implicit~';
    // A non-literal specifier keeps browser bundlers from resolving the Node-only native addon.
    const specifier = 'webgpu';
    try {
      const dawn = (await import(/* @vite-ignore */ specifier)) as { create(flags: string[]): GPU; globals: Record<string, unknown> };
      Object.assign(globalThis, dawn.globals);
      return { gpu: dawn.create([]) };
    } catch (error) {
      return { unavailable: `the 'webgpu' package (Dawn for Node) could not be loaded: ${(error as Error).message}` };
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
    device = await adapter.requestDevice({ requiredLimits });
  } catch (error) {
    throw new TenasInputError(`the WebGPU adapter refused a device (${(error as Error).message}): ${INSTALL_HINT}`);
  }
  return { adapter, device, facts: adapterFacts(adapter) };
}

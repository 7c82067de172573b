/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node: the optional `webgpu` package (Dawn). The browser build replaces this module with
 * `node-gpu.browser.ts`, so that no Node built-in and no native addon reaches a browser bundle.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMissingPackage, OPTIONAL_PACKAGES } from '../../optional-packages.js';
import type { GpuAccess } from './device.js';

/** Chromium's SwiftShader Vulkan driver: a software WebGPU adapter for machines without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let nodeGpu: Promise<GpuAccess> | undefined;

/**
 * Whether this machine has a GPU a Vulkan driver can reach: an NVIDIA device node or a DRM render
 * node (Mesa's drivers may be installed on machines without one; they would find nothing).
 */
function hasGpuDevice(): boolean {
  if (existsSync('/dev/nvidia0')) return true;
  return existsSync('/dev/dri') && readdirSync('/dev/dri').some((name) => name.startsWith('renderD'));
}

/** Where the dynamic loader looks for `libvulkan.so.1` on common Linux layouts, plus LD_LIBRARY_PATH. */
function vulkanLoaderDirectories(): string[] {
  const fromEnvironment = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const multiarch = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'riscv64-linux-gnu'];
  return [...fromEnvironment, ...multiarch.flatMap((triple) => [`/usr/lib/${triple}`, `/lib/${triple}`]), '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];
}

/**
 * The package is looked for first: without it, nothing else matters. On Linux, Dawn reaches the GPU
 * through the Vulkan loader (opened by `create()`, not by the import); without it Dawn prints a
 * warning of its own (with a path from the package's build machine) on every adapter request, so a
 * missing loader is detected here and reported as a plain reason instead. When no Vulkan driver is
 * chosen (VK_ICD_FILENAMES) and the machine shows no GPU device, Dawn is pointed at Chromium's
 * SwiftShader, which must happen before the first `create()`.
 */
export function loadNodeGpu(): Promise<GpuAccess> {
  nodeGpu ??= (async (): Promise<GpuAccess> => {
    let dawn: typeof import('webgpu');
    try {
      dawn = await import('webgpu');
    } catch (error) {
      if (isMissingPackage(error, 'webgpu')) {
        return { unavailable: `WebGPU in Node needs the optional package webgpu (Dawn), which is not installed: npm install ${OPTIONAL_PACKAGES.webgpu}` };
      }
      return { unavailable: `the 'webgpu' package (Dawn for Node) could not be loaded: ${(error as Error).message}` };
    }
    if (process.platform === 'linux') {
      if (!vulkanLoaderDirectories().some((directory) => existsSync(join(directory, 'libvulkan.so.1')))) {
        return { unavailable: 'the Vulkan loader libvulkan.so.1 is not installed (Debian/Ubuntu: apt-get install -y libvulkan1)' };
      }
      if (!process.env.VK_ICD_FILENAMES && !hasGpuDevice() && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    process.env.VK_LOADER_LAYERS_DISABLE ??= '~implicit~';
    Object.assign(globalThis, dawn.globals);
    return { gpu: dawn.create([]) };
  })();
  return nodeGpu;
}

/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node: the optional `webgpu` package (Dawn). The browser build replaces this module with
 * `node-gpu.browser.ts`, so no Node built-in reaches a browser bundle.
 */
import { existsSync } from 'node:fs';
import { isMissingPackage, OPTIONAL_PACKAGES } from '../../optional-packages.js';

/** Chromium's SwiftShader Vulkan driver: a software WebGPU adapter for machines without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The GPU, or why there is none (one line with the fix). */
export type NodeGpu = { readonly gpu: GPU } | { readonly gpu: undefined; readonly reason: string };

let loaded: Promise<NodeGpu> | undefined;

/**
 * On Linux without a chosen Vulkan driver it points Dawn at Chromium's SwiftShader, which must
 * happen before the first `create()`.
 */
export function loadNodeGpu(): Promise<NodeGpu> {
  loaded ??= (async (): Promise<NodeGpu> => {
    if (process.platform === 'linux' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    process.env.VK_LOADER_LAYERS_DISABLE ??= '~implicit~';
    let dawn: typeof import('webgpu');
    try {
      dawn = await import('webgpu');
    } catch (error) {
      return {
        gpu: undefined,
        reason: isMissingPackage(error, 'webgpu')
          ? `WebGPU in Node needs the optional package webgpu (Dawn), which is not installed: npm install ${OPTIONAL_PACKAGES.webgpu}`
          : `the webgpu package (Dawn) failed to load: ${(error as Error).message}`,
      };
    }
    Object.assign(globalThis, dawn.globals);
    return { gpu: dawn.create([]) };
  })();
  return loaded;
}

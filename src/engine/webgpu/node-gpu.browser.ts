/** The browser build's stand-in for `node-gpu.ts`: outside Node, WebGPU is `navigator.gpu` or nothing. */
import type { GpuAccess } from './device.js';

export async function loadNodeGpu(): Promise<GpuAccess> {
  return { unavailable: 'this browser does not offer WebGPU (navigator.gpu is missing)' };
}

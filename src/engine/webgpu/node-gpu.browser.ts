/// <reference types="@webgpu/types" />
/** The browser build's stand-in for `node-gpu.ts`: outside Node, WebGPU is `navigator.gpu` or nothing. */
export type NodeGpu = { readonly gpu: GPU } | { readonly gpu: undefined; readonly reason: string };

export async function loadNodeGpu(): Promise<NodeGpu> {
  return { gpu: undefined, reason: 'this browser has no WebGPU (navigator.gpu); use a WebGPU-enabled browser or the wasm backend' };
}

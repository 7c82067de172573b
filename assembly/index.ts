// The WebAssembly module's exports. Memory is managed by the host (a bump allocator over
// `memory` starting at `heap_base()`), so the module uses the stub runtime and raw pointers.

export function heap_base(): usize {
  return __heap_base;
}

export { bn_backward, bn_forward, bn_gradient_coefficients } from './batchnorm';
export * from './conv';
export * from './conv64';
export * from './layers';
export * from './linalg';
export * from './patterns';
export * from './peak';
export * from './winograd';
export { fused_madd_probe } from './madd';

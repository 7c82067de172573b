import { fmaKernelsUnavailable } from '../../engine/wasm/module.js';
import { webGpuAvailability } from './capabilities.js';

/**
 * What a backend choice of a page's form will run on, in words, and whether it can run here
 * (`webgpu` without an adapter cannot).
 */
export async function describeBackendChoice(choice: string): Promise<{ usable: boolean; text: string }> {
  if (choice === 'wasm') return { usable: true, text: 'Runs on the CPU with 128-bit SIMD kernels.' };
  if (choice === 'wasm-fma') {
    const reason = await fmaKernelsUnavailable();
    if (reason) return { usable: false, text: `Not available here: ${reason}.` };
    return { usable: true, text: 'Runs on the CPU with fused multiply-add (relaxed SIMD): faster, with results that differ in the last bits from the default kernels (and may change a search result).' };
  }
  const gpu = await webGpuAvailability();
  if (choice === 'auto') {
    return {
      usable: true,
      text: gpu.available ? 'WebGPU on a hardware adapter that passes a self-check, else WebAssembly.' : `WebAssembly (no WebGPU here: ${gpu.reason}).`,
    };
  }
  if (!gpu.available) return { usable: false, text: `WebGPU is not available: ${gpu.reason}. Choose WebAssembly instead.` };
  const adapter = gpu.adapter ?? {};
  const name = [adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' · ') || 'unnamed';
  return { usable: true, text: `Adapter: ${name}${adapter.fallback === 'true' ? ' (a software fallback: expect it to be slower than WebAssembly)' : ''}.` };
}

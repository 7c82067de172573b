/** What the browser offers the engine: WebAssembly SIMD (required) and WebGPU (optional). */

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): a tiny module that
// validates only where 128-bit SIMD is supported.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export function hasWebAssemblySimd(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

export const SIMD_MISSING_MESSAGE =
  'This browser cannot run the search: it lacks WebAssembly SIMD, which every kernel uses. ' +
  'Use a current Chrome, Edge (91+), Firefox (89+) or Safari (16.4+).';

export interface WebGpuAvailability {
  readonly available: boolean;
  /** Why not, in words a user can act on. */
  readonly reason?: string;
  /** Adapter facts when available. */
  readonly adapter?: Readonly<Record<string, string>>;
  /** Whether the adapter is a software fallback (a CPU, such as SwiftShader), where the browser says. */
  readonly isFallbackAdapter?: boolean;
}

interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
}

/** Only what is read here; `isFallbackAdapter` moved from the adapter to its info in newer browsers. */
interface GpuLike {
  requestAdapter(): Promise<{ readonly info?: AdapterInfoLike & { readonly isFallbackAdapter?: boolean }; readonly isFallbackAdapter?: boolean } | null>;
}

/** Asks `navigator.gpu` for an adapter (without creating a device). */
export async function webGpuAvailability(): Promise<WebGpuAvailability> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) {
    const reason = window.isSecureContext
      ? 'navigator.gpu is missing: this browser has no WebGPU (Chrome and Edge 113+, Safari 26+, or start Chromium with --enable-unsafe-webgpu)'
      : 'navigator.gpu is missing because the page is not a secure context: open it over https or from localhost';
    return { available: false, reason };
  }
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { available: false, reason: 'navigator.gpu returned no adapter: WebGPU is disabled or blocked for this GPU' };
    const info = adapter.info ?? {};
    const facts: Record<string, string> = {};
    for (const key of ['vendor', 'architecture', 'device', 'description'] as const) {
      if (info[key]) facts[key] = info[key]!;
    }
    const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter;
    if (fallback !== undefined) facts.fallback = String(fallback);
    return { available: true, adapter: facts, isFallbackAdapter: fallback };
  } catch (error) {
    return { available: false, reason: `requesting a WebGPU adapter failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

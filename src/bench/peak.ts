import { wallClock, type ProfileClock } from '../engine/profile.js';
import { WasmKernels, type KernelBuild } from '../engine/wasm/module.js';

/** This machine's limits for the kernels' instructions, measured on the current thread. */
export interface MachinePeak {
  /** f32x4 multiply-then-add throughput of one thread (GFLOP/s, a multiply-add is 2 FLOP). */
  readonly simdGflops: number;
  /** Streaming triad bandwidth over 2 × 32 MiB (GB/s, bytes read plus written). */
  readonly memoryGBps: number;
}

const MUL_ADD_FLOPS_PER_ITERATION = 96;
const TRIAD_FLOATS = 8 * 2 ** 20;
const TRIAD_BYTES_PER_FLOAT = 12;

/** Best of `tries` timings of `work`, in seconds on `clock`. */
function fastest(clock: ProfileClock, tries: number, work: () => void): number {
  let best = Infinity;
  for (let attempt = 0; attempt < tries; attempt++) {
    const started = clock();
    work();
    best = Math.min(best, clock() - started);
  }
  return best;
}

/**
 * The f32x4 multiply-add peak (of the kernel build the profiled backend runs: fused or not) and the
 * memory bandwidth, each the best of a few short runs (about half a second in all), so that a busy
 * machine's slower runs do not count.
 */
export async function measurePeak(clock: ProfileClock = wallClock, build: KernelBuild = 'exact'): Promise<MachinePeak> {
  const kernels = await WasmKernels.create(build);
  const { peak_f32x4_mul_add, bandwidth_triad, fill_zero } = kernels.exports;
  const iterations = 2_000_000;
  peak_f32x4_mul_add(iterations / 10, 1); // let the engine compile the loop at its top tier
  const mulAddSeconds = fastest(clock, 5, () => peak_f32x4_mul_add(iterations, 1));
  const mark = kernels.mark();
  try {
    const x = kernels.allocF32(TRIAD_FLOATS);
    const y = kernels.allocF32(TRIAD_FLOATS);
    fill_zero(x, TRIAD_FLOATS);
    fill_zero(y, TRIAD_FLOATS);
    bandwidth_triad(x, y, TRIAD_FLOATS, 1);
    const triadSeconds = fastest(clock, 4, () => bandwidth_triad(x, y, TRIAD_FLOATS, 2));
    return {
      simdGflops: (iterations * MUL_ADD_FLOPS_PER_ITERATION) / mulAddSeconds / 1e9,
      memoryGBps: (2 * TRIAD_FLOATS * TRIAD_BYTES_PER_FLOAT) / triadSeconds / 1e9,
    };
  } finally {
    kernels.release(mark);
  }
}

import { Engine } from '../api.js';
import type { BackendName } from '../engine/backend.js';
import { WASM_KERNEL_BUILDS } from '../engine/wasm/backend.js';
import { cpuClock, KernelProfile, wallClock, withKernelProfile, type KernelTally, type ProfiledDevice, type ProfiledPass, type ProfiledStage } from '../engine/profile.js';
import { measurePeak, type MachinePeak } from './peak.js';

/** One (layer kind or NTK stage, pass) of a profiled unit, with its fraction of the machine's peak. */
export interface ProfileRow {
  /** Where the kernels ran: WebAssembly on the CPU, or WebGPU dispatches timed on the GPU. */
  readonly device: ProfiledDevice;
  readonly stage: ProfiledStage | 'host' | 'gpu';
  readonly pass: ProfiledPass | 'other';
  readonly calls: number;
  readonly seconds: number;
  /** Share of the unit's time. */
  readonly share: number;
  /** Arithmetic kernels: work, rate and (CPU rows) fraction of the f32x4 multiply-add peak (Gram: of half of it, float64). */
  readonly gflop?: number;
  readonly gflops?: number;
  readonly peakFraction?: number;
  /** Memory-bound kernels: bytes moved, rate and fraction of the measured memory bandwidth. */
  readonly gbps?: number;
  readonly bandwidthFraction?: number;
}

export interface UnitProfile {
  readonly seconds: number;
  readonly rows: readonly ProfileRow[];
}

export interface BenchProfile {
  /** What the seconds are: this process's CPU time (WebAssembly in Node) or wall time. */
  readonly clock: 'cpu' | 'wall';
  readonly peak: MachinePeak;
  readonly ntkPair: UnitProfile;
  readonly lrPair: UnitProfile;
  /** What the rows cannot show on this backend, when anything. */
  readonly note?: string;
}

/**
 * Runs each unit once more on a fresh engine whose WebAssembly kernels are timed call by call.
 * Time outside the kernels is `host` on WebAssembly (JavaScript, copies between buffers) and `gpu`
 * on WebGPU, whose dispatches run as one submission and are not itemised. WebAssembly in Node is
 * timed in CPU time (the peak too), so that a machine shared with other work still gives
 * meaningful fractions; WebGPU, whose work runs elsewhere, and browsers in wall time.
 */
export async function profileUnits(
  backend: BackendName,
  units: { ntkPair: (engine: Engine) => Promise<void>; lrPair: (engine: Engine) => Promise<void> },
): Promise<BenchProfile> {
  const cpu = backend !== 'webgpu' ? cpuClock() : undefined;
  const clock = cpu ?? wallClock;
  const peak = await measurePeak(clock, backend === 'webgpu' ? 'exact' : WASM_KERNEL_BUILDS[backend]);
  const profile = new KernelProfile(clock);
  return withKernelProfile(profile, async () => {
    const engine = await Engine.create({ backend });
    try {
      const measure = async (unit: (engine: Engine) => Promise<void>): Promise<UnitProfile> => {
        await unit(engine); // warm-up: compilation, memory growth
        profile.clear();
        const started = clock();
        await unit(engine);
        const seconds = clock() - started;
        return { seconds, rows: profileRows(profile.rows(), seconds, peak, backend) };
      };
      const ntkPair = await measure(units.ntkPair);
      const lrPair = await measure(units.lrPair);
      const timed = [...ntkPair.rows, ...lrPair.rows].some((row) => row.device === 'gpu');
      const note = backend === 'webgpu' ? webGpuNote(timed) : undefined;
      return { clock: cpu ? 'cpu' : 'wall', peak, ntkPair, lrPair, ...(note ? { note } : {}) };
    } finally {
      engine.dispose();
    }
  });
}

function webGpuNote(timed: boolean): string {
  if (!timed) {
    return "the adapter offers no timestamp-query, so WebGPU dispatches are not itemised (the row 'gpu'); Gram and eigen-solve run in WebAssembly (cpu rows)";
  }
  return (
    'gpu rows are GPU time from timestamp queries, with one compute pass per dispatch while profiling (unprofiled runs use one pass per ' +
    'submission), and have no measured GPU peak to compare with; browsers may round timestamps (Chrome: to 100 µs without ' +
    "WebGPU developer features); 'host' is the rest of the wall time: encoding, submission, read-back, and the cpu rows' WebAssembly"
  );
}

export function profileRows(tallies: readonly KernelTally[], seconds: number, peak: MachinePeak, backend: BackendName): ProfileRow[] {
  const rows: ProfileRow[] = tallies.map((tally) => {
    const row = { device: tally.device, stage: tally.stage, pass: tally.pass, calls: tally.calls, seconds: tally.seconds, share: tally.seconds / seconds };
    if (tally.flops > 0 && tally.device === 'gpu') {
      const gflops = tally.flops / tally.seconds / 1e9;
      return { ...row, gflop: tally.flops / 1e9, gflops };
    }
    if (tally.flops > 0) {
      const gflops = tally.flops / tally.seconds / 1e9;
      // The float64 Gram runs f64x2 lanes: half the f32x4 rate is its peak.
      const peakGflops = tally.stage === 'gram' ? peak.simdGflops / 2 : peak.simdGflops;
      return { ...row, gflop: tally.flops / 1e9, gflops, peakFraction: gflops / peakGflops };
    }
    if (tally.bytes > 0) {
      const gbps = tally.bytes / tally.seconds / 1e9;
      return { ...row, gbps, bandwidthFraction: gbps / peak.memoryGBps };
    }
    return row;
  });
  const kernelSeconds = tallies.reduce((total, tally) => total + tally.seconds, 0);
  const rest = Math.max(0, seconds - kernelSeconds);
  // On WebGPU without timestamps, the GPU's work is in the rest; with them, only the host's is.
  const untimedGpu = backend === 'webgpu' && !tallies.some((tally) => tally.device === 'gpu');
  rows.push({ device: untimedGpu ? 'gpu' : 'cpu', stage: untimedGpu ? 'gpu' : 'host', pass: 'other', calls: 0, seconds: rest, share: rest / seconds });
  return rows;
}

import { Engine } from '../api.js';
import type { BackendName } from '../engine/backend.js';
import { WASM_KERNEL_BUILDS } from '../engine/wasm/backend.js';
import { FUSED_BACKWARD } from '../engine/wasm/profile.js';
import { cpuClock, KernelProfile, wallClock, withKernelProfile, type KernelTally, type ProfiledDevice, type ProfiledPass, type ProfiledStage } from '../engine/profile.js';
import { sampleFunctions } from './function-samples.js';
import type { SampledStack } from './sampled-stacks.js';
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
  /** conv/backward on WebAssembly, where a sampling profiler is at hand: what its fused call spends its time on. */
  readonly parts?: FusedBackwardParts;
}

/**
 * The fused backward call (one or two convolutions read by a BN, with the BN's input gradient and
 * the edge's pool, sample by sample) split by a sampling profiler: shares of its time, and the
 * rate of the convolutions' products alone.
 */
export interface FusedBackwardParts {
  /** The convolutions' products: everything the call runs but the two parts below. */
  readonly products: number;
  /** The BN's input gradient (which also has the per-sample step's bookkeeping). */
  readonly batchnorm: number;
  readonly pooling: number;
  /** The row's work over its time × `products`, and that rate's fraction of the peak. */
  readonly productGflops: number;
  readonly productPeakFraction: number;
}

/** A function's share of a unit's sampled time, not counting the functions it calls. */
export interface FunctionRow {
  /** A WebAssembly function (`module/function`, as in assembly/), `(JavaScript)`, `(garbage collector)` or `(program)`. */
  readonly name: string;
  readonly share: number;
}

/** How many of a unit's functions the text report and the benchmark page list; the JSON has them all. */
export const FUNCTIONS_SHOWN = 12;

export interface UnitProfile {
  readonly seconds: number;
  readonly rows: readonly ProfileRow[];
  /** WebAssembly, where a sampling profiler is at hand: the functions of at least 0.2 % of one more run under it, largest first. */
  readonly functions?: readonly FunctionRow[];
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

/** How `profileUnits` runs the units. */
export interface ProfileOptions {
  /** Profiled runs of each unit after its warm-up; the fastest is reported, as the unprofiled time is the best of its runs (default 1). */
  readonly runs?: number;
  /** An engine that has run the units already: each unit runs once more on it under a sampling profiler, where there is one. */
  readonly sampledOn?: Engine;
}

/**
 * Runs each unit again on a fresh engine whose WebAssembly kernels are timed call by call.
 * Time outside the kernels is `host` on WebAssembly (JavaScript, copies between buffers) and `gpu`
 * on WebGPU, whose dispatches run as one submission and are not itemised. WebAssembly in Node is
 * timed in CPU time (the peak too), so that a machine shared with other work still gives
 * meaningful fractions; WebGPU, whose work runs elsewhere, and browsers in wall time. Given
 * `sampledOn`, WebAssembly then runs each unit once more under a sampling profiler (V8's in Node,
 * the JS Self-Profiling API in Chromium): the functions' self time, and the fused backward call
 * split into its parts, which per-call timing cannot see inside.
 */
export async function profileUnits(
  backend: BackendName,
  units: { ntkPair: (engine: Engine) => Promise<void>; lrPair: (engine: Engine) => Promise<void> },
  { runs = 1, sampledOn }: ProfileOptions = {},
): Promise<BenchProfile> {
  const sampler = backend === 'webgpu' ? undefined : sampleFunctions;
  const cpu = backend !== 'webgpu' ? cpuClock() : undefined;
  const clock = cpu ?? wallClock;
  const peak = await measurePeak(clock, backend === 'webgpu' ? 'exact' : WASM_KERNEL_BUILDS[backend]);
  const profile = new KernelProfile(clock);
  return withKernelProfile(profile, async () => {
    const engine = await Engine.create({ backend });
    try {
      const measure = async (unit: (engine: Engine) => Promise<void>): Promise<UnitProfile> => {
        await unit(engine); // warm-up: compilation, memory growth
        let fastest: { seconds: number; tallies: KernelTally[] } | undefined;
        for (let run = 0; run < Math.max(1, runs); run++) {
          profile.clear();
          const started = clock();
          await unit(engine);
          const seconds = clock() - started;
          if (!fastest || seconds < fastest.seconds) fastest = { seconds, tallies: profile.rows() };
        }
        const { seconds, tallies } = fastest!;
        const rows = profileRows(tallies, seconds, peak, backend);
        // One more run under the sampling profiler, on the engine without per-call timing.
        const sampled = sampledOn && sampler ? await sampler(() => unit(sampledOn)) : undefined;
        return sampled ? withSampledFunctions(rows, sampled, peak, seconds) : { seconds, rows };
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

function withSampledFunctions(rows: readonly ProfileRow[], stacks: readonly SampledStack[], peak: MachinePeak, seconds: number): UnitProfile {
  const selfSeconds = new Map<string, number>();
  for (const stack of stacks) selfSeconds.set(stack.leaf, (selfSeconds.get(stack.leaf) ?? 0) + stack.seconds);
  const total = stacks.reduce((sum, stack) => sum + stack.seconds, 0);
  if (total === 0) return { seconds, rows };
  const functions = [...selfSeconds]
    .map(([name, time]) => ({ name, share: time / total }))
    .filter((row) => row.share >= 0.002)
    .sort((a, b) => b.share - a.share);
  const withParts = rows.map((row) => {
    if (row.device !== 'cpu' || row.stage !== 'conv' || row.pass !== 'backward' || row.gflop === undefined) return row;
    const parts = fusedBackwardParts(stacks, row.gflop / row.seconds, peak);
    return parts ? { ...row, parts } : row;
  });
  return { seconds, rows: withParts, functions };
}

function fusedBackwardParts(stacks: readonly SampledStack[], gflops: number, peak: MachinePeak): FusedBackwardParts | undefined {
  const inside = stacks.filter((stack) => stack.leaf === FUSED_BACKWARD.call || stack.callers.includes(FUSED_BACKWARD.call));
  const total = inside.reduce((sum, stack) => sum + stack.seconds, 0);
  if (total === 0) return undefined;
  const partSeconds = { batchnorm: 0, pooling: 0 };
  const parts: Readonly<Record<string, 'batchnorm' | 'pooling'>> = FUSED_BACKWARD.parts;
  for (const stack of inside) {
    const part = parts[stack.leaf];
    if (part) partSeconds[part] += stack.seconds;
  }
  const products = 1 - (partSeconds.batchnorm + partSeconds.pooling) / total;
  // Too few samples to have caught a product (a tiny unit sampled coarsely): no rate to give.
  if (products <= 0) return undefined;
  const productGflops = gflops / products;
  return { products, batchnorm: partSeconds.batchnorm / total, pooling: partSeconds.pooling / total, productGflops, productPeakFraction: productGflops / peak.simdGflops };
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

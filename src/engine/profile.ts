/**
 * Per-kernel time and work, grouped by layer kind and pass, for `tenas bench --profile`: the
 * WebAssembly kernels record each call (`wasm/profile.ts`), WebGPU each dispatch's GPU time from
 * timestamp queries (`webgpu/timestamps.ts`).
 */

/** What a profile row attributes time to: the layer kind (or NTK stage) and the pass. */
export type ProfiledStage = 'conv' | 'batchnorm' | 'pooling' | 'relu' | 'linear' | 'sum-copy' | 'gram' | 'eigen-solve' | 'patterns' | 'setup';
export type ProfiledPass = 'forward' | 'backward-input' | 'backward-weight' | 'backward' | 'solve';

/** Where a kernel ran: the CPU (WebAssembly) or the GPU (a WebGPU dispatch, timed on the GPU). */
export type ProfiledDevice = 'cpu' | 'gpu';

/** Time and work of one (device, stage, pass) over the calls recorded. */
export interface KernelTally {
  readonly device: ProfiledDevice;
  readonly stage: ProfiledStage;
  readonly pass: ProfiledPass;
  calls: number;
  seconds: number;
  flops: number;
  bytes: number;
}

/** Seconds on some clock; only differences count. */
export type ProfileClock = () => number;

export const wallClock: ProfileClock = () => performance.now() / 1000;

/**
 * This process's CPU time where the platform tells it (Node), else undefined. On a machine shared
 * with other work, a busy-waiting-free kernel's CPU time is what it costs, while its wall time also
 * counts the time other processes held the core.
 */
export function cpuClock(): ProfileClock | undefined {
  const usage = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process?.cpuUsage;
  if (typeof usage !== 'function') return undefined;
  return () => {
    const { user, system } = usage();
    return (user + system) / 1e6;
  };
}

export class KernelProfile {
  private readonly tallies = new Map<string, KernelTally>();

  constructor(readonly clock: ProfileClock = wallClock) {}

  /** One kernel call or dispatch: `flops` for arithmetic kernels, `bytes` for memory-bound ones. */
  add(device: ProfiledDevice, stage: ProfiledStage, pass: ProfiledPass, seconds: number, work: { flops?: number; bytes?: number } = {}): void {
    const key = `${device}/${stage}/${pass}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { device, stage, pass, calls: 0, seconds: 0, flops: 0, bytes: 0 };
      this.tallies.set(key, tally);
    }
    tally.calls++;
    tally.seconds += seconds;
    tally.flops += work.flops ?? 0;
    tally.bytes += work.bytes ?? 0;
  }

  rows(): KernelTally[] {
    return [...this.tallies.values()].map((tally) => ({ ...tally })).sort((a, b) => b.seconds - a.seconds);
  }

  clear(): void {
    this.tallies.clear();
  }
}

let active: KernelProfile | undefined;

/** Kernels set up while a profile is active record into it (`WasmKernels.create`, each WebGPU submission). */
export function activeKernelProfile(): KernelProfile | undefined {
  return active;
}

export async function withKernelProfile<T>(profile: KernelProfile, work: () => Promise<T>): Promise<T> {
  const previous = active;
  active = profile;
  try {
    return await work();
  } finally {
    active = previous;
  }
}

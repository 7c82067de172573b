import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';

/**
 * One call stack V8's sampling profiler saw, and for how long: `leaf` is the function running (a
 * kernel function of assembly/ as `module/function`, or `(JavaScript)`, `(garbage collector)`,
 * `(program)`), `callers` the kernel functions below it, innermost first.
 */
export interface SampledStack {
  readonly leaf: string;
  readonly callers: readonly string[];
  readonly seconds: number;
}

/** Runs `work` under a sampling profiler; undefined where the platform has none to offer. */
export type FunctionSampler = (work: () => Promise<void>) => Promise<readonly SampledStack[]>;

// 100 µs between samples: a 4-second NTK pair gives some 40,000 samples, a function of 1 % of it 400.
const SAMPLING_INTERVAL_MICROSECONDS = 100;
// A unit shorter than this (the linear-region pair) is repeated until it has been sampled this long.
const MINIMUM_SAMPLED_SECONDS = 1;

/**
 * V8's CPU profiler on this thread, through the inspector (a worker thread profiles itself). The
 * kernels' names come from the WebAssembly module's name section (asconfig.json `debug`, which
 * leaves the code itself as it is).
 */
export const sampleFunctions: FunctionSampler | undefined = async (work) => {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_MICROSECONDS });
    await session.post('Profiler.start');
    const started = performance.now();
    do await work();
    while (performance.now() - started < MINIMUM_SAMPLED_SECONDS * 1000);
    const { profile } = await session.post('Profiler.stop');
    return sampledStacks(profile);
  } finally {
    session.disconnect();
  }
};

// The project's kernels; V8's wrappers between JavaScript and WebAssembly (js-to-wasm:…) are host time.
const KERNEL_PREFIX = /^assembly\//;

function sampledStacks(profile: Profiler.Profile): SampledStack[] {
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const wasmName = (node: Profiler.ProfileNode) => (KERNEL_PREFIX.test(node.callFrame.functionName) ? node.callFrame.functionName.replace(KERNEL_PREFIX, '') : undefined);
  const seconds = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, index) => seconds.set(id, (seconds.get(id) ?? 0) + (deltas[index] ?? 0) / 1e6));
  const stacks: SampledStack[] = [];
  for (const [id, time] of seconds) {
    const node = nodes.get(id)!;
    const name = node.callFrame.functionName;
    // The thread waiting (between awaits) is not the unit's work.
    if (name === '(idle)') continue;
    const leaf = wasmName(node) ?? (name.startsWith('(') ? name : '(JavaScript)');
    const callers: string[] = [];
    for (let parent = parents.get(id); parent !== undefined; parent = parents.get(parent)) {
      const caller = wasmName(nodes.get(parent)!);
      if (caller) callers.push(caller);
    }
    stacks.push({ leaf, callers, seconds: time });
  }
  return stacks;
}

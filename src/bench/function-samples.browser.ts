import { repeatFor, sampledStack, type FunctionSampler, type SampledStack } from './sampled-stacks.js';

// What Chromium's JS Self-Profiling API (https://wicg.github.io/js-self-profiling/) reports.
interface ProfilerTrace {
  readonly frames: readonly { readonly name: string }[];
  readonly stacks: readonly { readonly frameId: number; readonly parentId?: number }[];
  readonly samples: readonly { readonly timestamp: number; readonly stackId?: number }[];
}
interface SelfProfiler {
  readonly sampleInterval: number;
  stop(): Promise<ProfilerTrace>;
}
type SelfProfilerConstructor = new (options: { sampleInterval: number; maxBufferSize: number }) => SelfProfiler;

// Chromium samples every 10 ms at the finest (16 ms on Windows): a unit is sampled for at least
// 3 seconds, some 300 samples, enough for the functions of a few per cent and more.
const MINIMUM_SAMPLED_SECONDS = 3;
const MAX_SAMPLES = 100_000;

/**
 * The browser build's sampler: Chromium's JS Self-Profiling API, which names WebAssembly functions
 * from the module's name section. It is there only where the page was served with
 * `Document-Policy: js-profiling` (`tenas serve` sends it); elsewhere the profile has no samples.
 */
export const sampleFunctions: FunctionSampler = async (work) => {
  const Profiler = (globalThis as { Profiler?: SelfProfilerConstructor }).Profiler;
  if (!Profiler) return undefined;
  let profiler: SelfProfiler;
  try {
    profiler = new Profiler({ sampleInterval: 1, maxBufferSize: MAX_SAMPLES });
  } catch {
    return undefined; // the document policy does not allow profiling
  }
  await repeatFor(work, MINIMUM_SAMPLED_SECONDS);
  return sampledStacks(await profiler.stop(), profiler.sampleInterval / 1000);
};

function sampledStacks(trace: ProfilerTrace, intervalSeconds: number): SampledStack[] {
  const stacks: SampledStack[] = [];
  trace.samples.forEach((sample, index) => {
    // A sample without a stack is the thread waiting between awaits.
    if (sample.stackId === undefined) return;
    const next = trace.samples[index + 1];
    const seconds = next ? (next.timestamp - sample.timestamp) / 1000 : intervalSeconds;
    const names: string[] = [];
    for (let id: number | undefined = sample.stackId; id !== undefined; id = trace.stacks[id].parentId) names.push(trace.frames[trace.stacks[id].frameId].name);
    stacks.push(sampledStack(names, seconds));
  });
  return stacks;
}

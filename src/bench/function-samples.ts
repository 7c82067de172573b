import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';
import { repeatFor, sampledStack, type FunctionSampler, type SampledStack } from './sampled-stacks.js';

// 100 µs between samples: a 4-second NTK pair gives some 40,000 samples, a function of 1 % of it 400.
const SAMPLING_INTERVAL_MICROSECONDS = 100;
// A unit shorter than this (the linear-region pair) is repeated until it has been sampled this long.
const MINIMUM_SAMPLED_SECONDS = 1;

/** V8's CPU profiler on this thread, through the inspector (a worker thread profiles itself). */
export const sampleFunctions: FunctionSampler = async (work) => {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_MICROSECONDS });
    await session.post('Profiler.start');
    await repeatFor(work, MINIMUM_SAMPLED_SECONDS);
    const { profile } = await session.post('Profiler.stop');
    return sampledStacks(profile);
  } finally {
    session.disconnect();
  }
};

function sampledStacks(profile: Profiler.Profile): SampledStack[] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const seconds = new Map<number, number>();
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, index) => seconds.set(id, (seconds.get(id) ?? 0) + (deltas[index] ?? 0) / 1e6));
  const stacks: SampledStack[] = [];
  for (const [id, time] of seconds) {
    const names: string[] = [];
    for (let node: number | undefined = id; node !== undefined; node = parents.get(node)) names.push(nodes.get(node)!.callFrame.functionName);
    // The thread waiting between awaits is not the unit's work.
    if (names[0] !== '(idle)') stacks.push(sampledStack(names, time));
  }
  return stacks;
}

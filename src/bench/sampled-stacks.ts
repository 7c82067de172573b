/**
 * One call stack a sampling profiler saw, and for how long: `leaf` is the function running (a
 * kernel function of assembly/ as `module/function`, or `(JavaScript)`, or a name the profiler
 * gives its own work, such as V8's `(garbage collector)` and `(program)`), `callers` the kernel
 * functions below it, innermost first.
 */
export interface SampledStack {
  readonly leaf: string;
  readonly callers: readonly string[];
  readonly seconds: number;
}

/** Runs `work` under a sampling profiler on this thread; undefined where none can be started. */
export type FunctionSampler = (work: () => Promise<void>) => Promise<readonly SampledStack[] | undefined>;

// The project's kernels, named from the WebAssembly module's name section (asconfig.json `debug`,
// which leaves the code itself as it is); other frames (JavaScript, V8's js-to-wasm wrappers) are host time.
const KERNEL_PREFIX = /^assembly\//;

const kernelName = (name: string) => (KERNEL_PREFIX.test(name) ? name.replace(KERNEL_PREFIX, '') : undefined);

/** A stack of function names as a profiler reports them, innermost first. */
export function sampledStack(names: readonly string[], seconds: number): SampledStack {
  const [leaf = '(JavaScript)', ...below] = names;
  return {
    leaf: kernelName(leaf) ?? (leaf.startsWith('(') ? leaf : '(JavaScript)'),
    callers: below.flatMap((name) => kernelName(name) ?? []),
    seconds,
  };
}

/** Runs `work` once, and again until `seconds` of wall time have passed, so that a short unit still gets enough samples. */
export async function repeatFor(work: () => Promise<void>, seconds: number): Promise<void> {
  const started = performance.now();
  do await work();
  while (performance.now() - started < seconds * 1000);
}

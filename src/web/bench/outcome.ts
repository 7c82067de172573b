/** What the benchmark page reports in `window.__TENAS_BENCH__` (plain JSON). */
import type { BenchReport } from '../../bench/bench.js';
import type { BackendName } from '../../engine/backend.js';
import type { SpaceName } from '../../spaces/index.js';

export type BackendResult =
  | ({
      readonly available: true;
      /** WebGPU: whether the adapter is a software fallback (a CPU, such as SwiftShader). */
      readonly isFallbackAdapter?: boolean;
      /** Why the measurement departs from the requested settings (e.g. a smaller batch on a software adapter). */
      readonly note?: string;
    } & BenchReport)
  | { readonly available: false; readonly backend: BackendName; readonly reason: string; readonly timedOut?: boolean };

export interface BrowserBenchOutcome {
  readonly results: BackendResult[];
  readonly userAgent: string;
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  readonly settings: { space: SpaceName; batch?: number; runs: number; data: 'embedded' | 'synthetic'; profile?: boolean };
}

/** What the page has finished so far, updated as each backend starts and ends. */
export interface BrowserBenchProgress extends BrowserBenchOutcome {
  /** The backend being measured now, if any. */
  readonly running?: BackendName;
  /** The backends requested, in order. */
  readonly requested: readonly BackendName[];
}

declare global {
  interface Window {
    __TENAS_BENCH__?: BrowserBenchOutcome | { error: string };
    __TENAS_BENCH_PROGRESS__?: BrowserBenchProgress;
  }
}

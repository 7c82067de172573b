/** What the benchmark page reports in `window.__TENAS_BENCH__` (plain JSON). */
import type { BenchReport } from '../../bench/bench.js';
import type { ProxyBenchOptions } from '../../bench/proxies.js';
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

/** The size of NAS-Bench-201's evaluation network the proxies are timed on. */
export type ProxyBenchSize = Pick<ProxyBenchOptions, 'channels' | 'cells' | 'batch'>;

export interface BrowserBenchOutcome {
  readonly results: BackendResult[];
  readonly userAgent: string;
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  readonly settings: {
    space: SpaceName;
    batch?: number;
    runs: number;
    data: 'embedded' | 'synthetic';
    /** The zero-cost proxy rows: false when not asked for, else the network size (default C = 16, N = 5, B = 64). */
    proxies: ProxyBenchSize | false;
    /** Whether each pair was also profiled per layer kind and pass (`profile=1`). */
    profile?: boolean;
  };
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

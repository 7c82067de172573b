/** What the benchmark page reports in `window.__TENAS_BENCH__` (plain JSON). */
import type { BenchReport } from '../../bench/bench.js';
import type { BackendName } from '../../engine/backend.js';
import type { SpaceName } from '../../spaces/index.js';

export type BackendResult =
  | ({ readonly available: true } & BenchReport)
  | { readonly available: false; readonly backend: BackendName; readonly reason: string };

export interface BrowserBenchOutcome {
  readonly results: BackendResult[];
  readonly userAgent: string;
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  readonly settings: { space: SpaceName; batch?: number; runs: number; data: 'embedded' | 'synthetic' };
}

declare global {
  interface Window {
    __TENAS_BENCH__?: BrowserBenchOutcome | { error: string };
  }
}

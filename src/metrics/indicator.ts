import type { Backend } from '../engine/backend.js';
import type { Network } from '../graph/ir.js';
import type { Weights } from '../graph/weights.js';
import type { GramPrecision, LinearAlgebra } from './linalg.js';
import type { KappaPolicy } from './ntk.js';

/**
 * The networks a search space builds for scoring: `ntk` is the full supernet (κ's), `thin` the
 * 1-channel, 3×3-input one (R's), `eval` the network the zero-cost proxies score: NAS-Bench-201's
 * evaluation network (C, N) in `correlate` and `score`, the supernet at NTK settings in a search.
 * Each comes with its own weight draws and data (see `search/scorer.ts`).
 */
export type ScoredNetwork = 'ntk' | 'thin' | 'eval';

/**
 * The data an indicator is measured on: `samples` are the scored network's samples (images of the
 * run, or N(0, 1) when the run is synthetic), `gaussian` always N(0, 1) of the same shape.
 */
export type IndicatorData = 'samples' | 'gaussian';

export interface MeasureContext {
  readonly backend: Backend;
  readonly linalg: LinearAlgebra;
  readonly network: Network;
  readonly weights: Weights;
  /** One or more batches of `batch` samples. */
  readonly inputs: readonly Float32Array[];
  readonly batch: number;
  readonly gramPrecision: GramPrecision;
  readonly kappaPolicy: KappaPolicy;
  /** Class labels of each batch of `inputs`, when the data carries them (indicators with `needsLabels`). */
  readonly labels?: readonly Int32Array[];
  /** Draws beyond the network's weights and data; `score` can replace each with a file. */
  readonly draws?: IndicatorDraws;
  /** Passes shared by the indicators measured on the same network, weights and data. */
  readonly shared?: SharedPasses;
}

/**
 * Random draws some indicators make besides the network's weights and data (Zen-NAS and AZ-NAS
 * re-initialise the network and feed noise). Each is drawn once per measurement context.
 */
export interface IndicatorDraws {
  /** N(0, 1) conv and linear weights, linear bias 0, BN γ = 1, β = 0 (Zen-NAS's Gaussian init). */
  gaussianWeights(): Weights;
  /** x ~ N(0, 1) shaped like one batch of `inputs`, and x + 0.01·x₂ with x₂ ~ N(0, 1) (Zen-NAS's mixup). */
  gaussianInputs(): readonly [Float32Array, Float32Array];
  /** `bits` random bits packed MSB first into bytes (AZ-NAS's ±1 output gradients: bit 1 → +1). */
  signBits(bits: number): Uint8Array;
}

/**
 * Memoises passes by name within one measurement context, so indicators that need the same pass
 * (e.g. the loss gradient of snip, grad_norm and fisher) run it once.
 */
export class SharedPasses {
  private readonly passes = new Map<string, Promise<unknown>>();

  once<T>(name: string, compute: () => Promise<T>): Promise<T> {
    let pass = this.passes.get(name) as Promise<T> | undefined;
    if (!pass) {
      pass = compute();
      this.passes.set(name, pass);
    }
    return pass;
  }
}

/** One measurement: the value the search and the statistics use, and what explains it (for `score --json`). */
export interface Measured {
  readonly value: number;
  /** Contribution of each parameter, by name, where the indicator is a sum over parameters (null: skipped). */
  readonly perParam?: Readonly<Record<string, number | null>>;
  /** Diagnostics, named as in the proxy goldens' `extra`. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * A training-free indicator: how it is measured from the backend's primitives and how the search
 * ranks it. Deltas are relative, (origin − candidate) / origin, rounded per repeat, then averaged.
 */
export interface Indicator<Key extends string = string> {
  /** Registry name, e.g. `ntk`. */
  readonly name: string;
  /** Stem of its record fields: `${key}Origin`, `${key}Candidate`, `delta${Key}`, `rank${Key}`. */
  readonly key: Key;
  /** Short symbol for tables, e.g. κ, and what it is, e.g. `NTK condition number`. */
  readonly symbol: string;
  readonly title: string;
  readonly network: ScoredNetwork;
  readonly data: IndicatorData;
  /** Whether a larger value means a better network (the candidate whose removal hurts least is pruned first). */
  readonly higherIsBetter: boolean;
  /** Whether it needs `labels` (a loss); data without labels is refused with a clear error. */
  readonly needsLabels?: boolean;
  /** Rounds one repeat's relative delta (the released code's rounding, which decides ties). */
  roundDelta(delta: number): number;
  measure(context: MeasureContext): Promise<Measured>;
  /**
   * Whether `value`, the mean of `repeats` measurements, is one a measurement can produce: undefined
   * when it is, otherwise what a valid value is (for errors about rows read back from files).
   */
  invalidMean(value: number, repeats: number): string | undefined;
}

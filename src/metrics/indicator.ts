import type { Backend } from '../engine/backend.js';
import type { Network } from '../graph/ir.js';
import type { Weights } from '../graph/weights.js';
import type { GramPrecision, LinearAlgebra } from './linalg.js';
import type { KappaPolicy } from './ntk.js';

/**
 * The networks a search space builds for scoring: `ntk` is the full supernet (κ's), `thin` the
 * 1-channel, 3×3-input one (R's). Each comes with its own weight draws and data (see `search/scorer.ts`).
 */
export type ScoredNetwork = 'ntk' | 'thin';

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
  /** Rounds one repeat's relative delta (the released code's rounding, which decides ties). */
  roundDelta(delta: number): number;
  measure(context: MeasureContext): Promise<number>;
  /**
   * Whether `value`, the mean of `repeats` measurements, is one a measurement can produce: undefined
   * when it is, otherwise what a valid value is (for errors about rows read back from files).
   */
  invalidMean(value: number, repeats: number): string | undefined;
}

import { TenasInputError } from '../errors.js';
import { datasetSpec, type DatasetName } from '../data/datasets.js';
import type { GramPrecision } from '../metrics/linalg.js';
import type { KappaPolicy } from '../metrics/ntk.js';
import { SPACE_NAMES, type SpaceName } from '../spaces/index.js';
import { DEFAULT_INDICATOR_NAMES, resolveIndicators } from '../metrics/registry.js';

/**
 * `reference` reproduces the released code (docs/algorithm.md §11); `paper` follows the
 * paper's text (Kaiming-normal weights redrawn every repeat, NTK batch 32, current baseline in
 * DARTS edge pruning).
 */
export type Protocol = 'reference' | 'paper';

/**
 * How a search combines its indicators into a pruning order: `ranksum` is TE-NAS's rank sum of the
 * deltas; `az` is AZ-NAS's aggregation Σ ln(rank / n) over the candidates of a round.
 */
export type CombineMethod = 'ranksum' | 'az';
export const COMBINE_METHODS: readonly CombineMethod[] = ['ranksum', 'az'];

/** NAS-Bench-201's evaluation network, the `eval` network of `correlate` (C = 16, N = 5, B = 64 by default). */
export interface EvalNetworkSettings {
  readonly channels: number;
  readonly cells: number;
  readonly batch: number;
}

export const DEFAULT_EVAL_NETWORK: EvalNetworkSettings = { channels: 16, cells: 5, batch: 64 };

export interface SearchSettings {
  readonly space: SpaceName;
  readonly protocol: Protocol;
  readonly dataset: DatasetName;
  readonly seed: number;
  readonly ntkBatch: number;
  readonly repeats: number;
  readonly pruneNumber: number;
  /** Linear regions: patches per batch and batches per measurement (1000 × 3). */
  readonly regionPatches: number;
  readonly regionBatches: number;
  readonly gramPrecision: GramPrecision;
  readonly kappaPolicy: KappaPolicy;
  /** Registry names of the indicators measured (metrics/registry.ts), in registry order; default `ntk`, `regions`. */
  readonly indicators: readonly string[];
  readonly combine: CombineMethod;
  /**
   * The `eval` network as NB201's evaluation network (`correlate`); absent in a search, where
   * `eval` indicators are measured on the supernet at NTK settings (its weights, batch and images).
   */
  readonly evalNetwork?: EvalNetworkSettings;
}

export type SearchSettingsInput = Partial<SearchSettings> & { space?: SpaceName };

function defaultsFor(space: SpaceName, protocol: Protocol, dataset: DatasetName): { ntkBatch: number; pruneNumber: number } {
  if (space === 'nb201') return { ntkBatch: protocol === 'paper' ? 32 : 72, pruneNumber: 1 };
  const imagenet = dataset === 'imagenet-1k';
  return { ntkBatch: protocol === 'paper' ? 32 : imagenet ? 24 : 14, pruneNumber: imagenet ? 2 : 3 };
}

function requireInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TenasInputError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function requireChoice<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new TenasInputError(`${name} must be one of ${choices.join(', ')}, got '${value}'`);
  }
  return value as T;
}

/** Fills in the protocol's defaults and validates every value (TenasInputError on bad input). */
export function resolveSettings(input: SearchSettingsInput = {}): SearchSettings {
  const space = requireChoice('space', input.space ?? 'nb201', SPACE_NAMES);
  const protocol = requireChoice('protocol', input.protocol ?? 'reference', ['reference', 'paper'] as const);
  const dataset = datasetSpec(input.dataset ?? 'cifar10').name;
  const defaults = defaultsFor(space, protocol, dataset);
  return {
    space,
    protocol,
    dataset,
    seed: requireInteger('seed', input.seed ?? 0, 0, 2 ** 31 - 1),
    ntkBatch: requireInteger('batch', input.ntkBatch ?? defaults.ntkBatch, 2, 1024),
    repeats: requireInteger('repeats', input.repeats ?? 3, 1, 100),
    pruneNumber: requireInteger('prune-number', input.pruneNumber ?? defaults.pruneNumber, 1, 7),
    regionPatches: requireInteger('region patches', input.regionPatches ?? 1000, 2, 100_000),
    regionBatches: requireInteger('region batches', input.regionBatches ?? 3, 1, 100),
    gramPrecision: requireChoice('gram precision', input.gramPrecision ?? 'float64', ['float64', 'float32'] as const),
    kappaPolicy: requireChoice('kappa policy', input.kappaPolicy ?? 'floor', ['floor', 'faithful'] as const),
    indicators: resolveIndicators(input.indicators ?? DEFAULT_INDICATOR_NAMES, 'indicators').map((indicator) => indicator.name),
    combine: requireChoice('combine', input.combine ?? 'ranksum', COMBINE_METHODS),
    ...(input.evalNetwork && {
      evalNetwork: {
        channels: requireInteger('channels', input.evalNetwork.channels, 1, 256),
        cells: requireInteger('cells', input.evalNetwork.cells, 1, 20),
        batch: requireInteger('eval batch', input.evalNetwork.batch, 2, 1024),
      },
    }),
  };
}

// The browser-safe public API: everything except the Node file loaders (see `index.ts`).
export { Engine, type IndicatorRequest, type NetworkRequest, type SearchRequest, type SearchResult } from './api.js';
export { env, type TenasEnv } from './env.js';
export { TenasInputError, AbortError } from './errors.js';
export { fetchEmbeddedCifar, fetchNb201Table } from './data/fetch.js';
export type { Backend, BackendName, GradientMatrix, PatternMatrix } from './engine/backend.js';
export type { BackendChoice } from './engine/create.js';
export type { Network, ParamSpec, Layer, TensorShape } from './graph/ir.js';
export { ntkColumns } from './graph/ir.js';
export type { Weights, InitScheme } from './graph/weights.js';
export { weightsFromTensors, weightsToTensors } from './graph/weights.js';
export type { NtkScore, KappaPolicy } from './metrics/ntk.js';
export type { RegionScore } from './metrics/regions.js';
export type { GramPrecision, LinearAlgebra } from './metrics/linalg.js';
export type { SearchProgress, RoundRecord, CandidateRecord, CandidateRunner } from './search/search.js';
export type { CandidateTask, CandidateMeasurement } from './search/scorer.js';
export {
  resolveSettings,
  COMBINE_METHODS,
  DEFAULT_EVAL_NETWORK,
  type SearchSettings,
  type SearchSettingsInput,
  type Protocol,
  type CombineMethod,
  type EvalNetworkSettings,
} from './search/settings.js';
export { teNasCombination, azCombination, type Combination, type CandidateRanking } from './search/ranking.js';
export { SharedPasses, type Indicator, type IndicatorDraws, type Measured, type MeasureContext, type ScoredNetwork } from './metrics/indicator.js';
export { ALL_INDICATORS, DEFAULT_INDICATOR_NAMES, indicatorByName, indicatorNames, parseIndicatorList, resolveIndicators } from './metrics/registry.js';
export { randomDraws, drawsWith } from './metrics/draws.js';
export { ArchScorer, type ArchScore } from './evaluation/arch-scorer.js';
export { selectArchs, type IndexedArch } from './evaluation/selection.js';
export {
  correlationReport,
  correlationReportJson,
  formatCorrelationTable,
  combinedRankScore,
  azAggregateScore,
  type CorrelationReport,
  type ReportedScore,
  type RankCorrelation,
} from './evaluation/correlation-report.js';
export { csvHeaderOf, formatRow, rowIndicators, type CorrelationRow, type ScoringKey } from './evaluation/rows.js';
export { kendallTau, spearmanRho, averageRanks } from './evaluation/statistics.js';
export { AZ_NAS_PROXIES, azNasAggregate, rankSum, argmaxFirst, type IndicatorColumn } from './metrics/aggregation.js';
export type { SpaceName } from './spaces/index.js';
export { parseNb201Mask, formatNb201Mask, enumerateNb201Archs, NB201_OPS } from './spaces/nb201/arch.js';
export { parseGenotype, formatGenotype, parseDartsMask, formatDartsMask, DARTS_OPS, type Genotype } from './spaces/darts/arch.js';
export { parseNb201Table, type Nb201Table, type BenchmarkEntry } from './spaces/nb201/table.js';
export { parseCifarBinary, imageSetFromNpy, type ImageSet } from './data/cifar.js';
export { parseEmbeddedCifar } from './data/embedded.js';
export { parseNpy, encodeNpy, type NdArray } from './data/npy.js';
export { parseSafetensors, encodeSafetensors, type NamedTensor } from './data/safetensors.js';
export { datasetSpec, type DatasetName } from './data/datasets.js';
export { Rng } from './data/rng.js';
export { ntkBatch, labelledBatch, regionPatches, gaussianBatch, type LabelledBatch } from './data/transforms.js';

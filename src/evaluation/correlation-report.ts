import type { Nb201Table } from '../spaces/nb201/table.js';
import { BENCHMARK_DATASETS, DATASET_LABELS, PAPER_KENDALL_TAU, benchmarkAccuracy, type BenchmarkDataset } from './benchmark.js';
import { describeScoringKey, indicatorValue, rowIndicators, scoringKeyOf, type CorrelationRow, type ScoringKey } from './rows.js';
import { kendallTau, spearmanRho } from './statistics.js';
import { AZ_NAS_PROXIES, azNasAggregate, rankSum } from '../metrics/aggregation.js';
import { TenasInputError } from '../errors.js';
import { hasZeroNtk } from './arch-scorer.js';
import type { Indicator } from '../metrics/indicator.js';
import { INDICATORS } from '../metrics/indicators.js';
import { DEFAULT_INDICATOR_NAMES, indicatorByName, resolveIndicators } from '../metrics/registry.js';

export interface RankCorrelation {
  /** NaN (null in JSON) with fewer than two archs or a constant score. */
  readonly kendallTau: number;
  readonly spearmanRho: number;
}

/** One line of the report: an indicator or a combination of indicators. */
export interface ReportedScore extends RankCorrelation {
  /** The JSON key: the indicator's key (`kappa`, `nwot`, ...), `combined` (TE-NAS's rank sum), `az` (AZ-NAS's aggregation) or `ranksum:a,b,c`. */
  readonly id: string;
  /** How the table names it. */
  readonly label: string;
  /** Whether a higher score is better (agreement shows as a positive correlation). */
  readonly higherIsBetter: boolean;
  /** The τ the TE-NAS paper reports, where it reports one. */
  readonly paperTau?: number;
}

export interface CorrelationReport {
  readonly dataset: BenchmarkDataset;
  readonly accuracy: string;
  readonly archs: number;
  /** Archs whose NTK is identically zero; their κ is ZERO_NTK_KAPPA (ranked worst). */
  readonly zeroNtkArchs: number;
  readonly settings: ScoringKey | undefined;
  /** The rows' indicators (registry names). */
  readonly indicators: readonly string[];
  /** Each indicator's correlation, then TE-NAS's rank sum (κ and R), AZ-NAS's aggregation (its four proxies) and each `--combine` rank sum. */
  readonly scores: readonly ReportedScore[];
}

/** Points of the report: each indicator's scores (by key) and the benchmark accuracy of each row. */
export interface ScoredAccuracy {
  readonly scores: Readonly<Record<string, number[]>>;
  readonly accuracy: number[];
}

export function requireBenchmarkDataset(name: string): BenchmarkDataset {
  const match = BENCHMARK_DATASETS.find((dataset) => dataset === name);
  if (match === undefined) throw new TenasInputError(`NAS-Bench-201 has accuracies for ${BENCHMARK_DATASETS.join(', ')} only, got '${name}'`);
  return match;
}

export function scoredAccuracy(rows: readonly CorrelationRow[], table: Nb201Table, dataset: BenchmarkDataset): ScoredAccuracy {
  const indicators = rows.length > 0 ? rowIndicators(rows[0]) : [];
  const scores = Object.fromEntries(indicators.map((indicator) => [indicator.key, rows.map((row) => indicatorValue(row, indicator))]));
  return { scores, accuracy: rows.map((row) => benchmarkAccuracy(table.lookup(row.arch), dataset)) };
}

/**
 * A rank sum: rank each indicator best first (κ ascending, R descending), with average ranks for
 * ties, and add the ranks. A lower sum is a better architecture. TE-NAS's combination by default.
 */
export function combinedRankScore(scores: Readonly<Record<string, ArrayLike<number>>>, indicators: readonly Indicator[] = INDICATORS): Float64Array {
  return rankSum(indicators.map((indicator) => ({ values: scores[indicator.key], higherIsBetter: indicator.higherIsBetter })));
}

/** AZ-NAS's aggregation of its four proxies (higher is better). */
export function azAggregateScore(scores: Readonly<Record<string, ArrayLike<number>>>): Float64Array {
  return azNasAggregate(AZ_NAS_PROXIES.map((name) => scores[indicatorByName(name).key]));
}

function correlate(score: ArrayLike<number>, accuracy: readonly number[]): RankCorrelation {
  return { kendallTau: kendallTau(score, accuracy), spearmanRho: spearmanRho(score, accuracy) };
}

/**
 * The report of rows against the benchmark: every indicator of the rows, TE-NAS's rank sum when
 * both its indicators are there, AZ-NAS's aggregation when its four are, and a rank sum of each of
 * `combine` (lists of registry names, all in the rows).
 */
export function correlationReport(rows: readonly CorrelationRow[], table: Nb201Table, dataset: BenchmarkDataset, combine: readonly (readonly string[])[] = []): CorrelationReport {
  const points = scoredAccuracy(rows, table, dataset);
  const indicators = rows.length > 0 ? rowIndicators(rows[0]) : [];
  const names = indicators.map((indicator) => indicator.name);
  const has = (wanted: readonly string[]) => wanted.every((name) => names.includes(name));
  const paper: Readonly<Record<string, number>> = PAPER_KENDALL_TAU;
  const scores: ReportedScore[] = indicators.map((indicator) => ({
    id: indicator.key,
    label: `${indicator.symbol} (${indicator.title})`,
    higherIsBetter: indicator.higherIsBetter,
    paperTau: paper[indicator.key],
    ...correlate(points.scores[indicator.key], points.accuracy),
  }));
  if (has(DEFAULT_INDICATOR_NAMES)) {
    const label = INDICATORS.map((indicator) => `rank(${indicator.symbol})`).join(' + ');
    scores.push({ id: 'combined', label, higherIsBetter: false, paperTau: paper.combined, ...correlate(combinedRankScore(points.scores), points.accuracy) });
  }
  if (has(AZ_NAS_PROXIES)) {
    scores.push({ id: 'az', label: 'AZ-NAS aggregation Σ ln(rank/n)', higherIsBetter: true, ...correlate(azAggregateScore(points.scores), points.accuracy) });
  }
  for (const list of combine) {
    const missing = list.filter((name) => !names.includes(name));
    if (missing.length > 0) throw new TenasInputError(`--combine names ${missing.join(', ')}, which the rows do not hold (they hold ${names.join(', ')}); add it to --indicators`);
    const chosen = resolveIndicators(list, '--combine');
    const label = chosen.map((indicator) => `rank(${indicator.symbol})`).join(' + ');
    scores.push({ id: `ranksum:${chosen.map((indicator) => indicator.name).join(',')}`, label, higherIsBetter: false, ...correlate(combinedRankScore(points.scores, chosen), points.accuracy) });
  }
  const kappa = points.scores[INDICATORS[0].key];
  return {
    dataset,
    accuracy: `NAS-Bench-201 ${DATASET_LABELS[dataset]} test accuracy (200 epochs)`,
    archs: rows.length,
    zeroNtkArchs: kappa ? kappa.filter(hasZeroNtk).length : 0,
    settings: rows.length > 0 ? scoringKeyOf(rows[0]) : undefined,
    indicators: names,
    scores,
  };
}

/** The report as `--json` prints it: each score's correlation under its id (`kappa`, `regions`, `combined`, `az`, ...). */
export function correlationReportJson(report: CorrelationReport): Record<string, unknown> {
  const { scores, ...rest } = report;
  return {
    ...rest,
    ...Object.fromEntries(scores.map((score) => [score.id, { kendallTau: score.kendallTau, spearmanRho: score.spearmanRho }])),
    labels: Object.fromEntries(scores.map((score) => [score.id, score.label])),
    paperKendallTau: PAPER_KENDALL_TAU,
  };
}

function signed(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const text = value.toFixed(3);
  return value >= 0 ? ` ${text}` : text;
}

export function formatCorrelationTable(report: CorrelationReport): string {
  const header = ['score', 'Kendall τ-b', 'Spearman ρ', 'paper τ'];
  const body = report.scores.map((score) => [score.label, signed(score.kendallTau), signed(score.spearmanRho), score.paperTau === undefined ? 'n/a' : signed(score.paperTau)]);
  const rows = [header, ...body];
  const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  '));
  const settings = report.settings ? ` (${describeScoringKey(report.settings, report.indicators.map((name) => indicatorByName(name).key))})` : '';
  const zeroNtk =
    report.zeroNtkArchs > 0 ? `${report.zeroNtkArchs} architecture(s) have a zero NTK (no path from the input to the output): κ = ∞, ranked worst\n` : '';
  const lowerBetter = report.scores.filter((score) => !score.higherIsBetter).map((score) => score.label);
  return (
    `rank correlation with ${report.accuracy} over ${report.archs} architecture(s)${settings}\n` +
    `${lines.join('\n')}\n` +
    zeroNtk +
    (lowerBetter.length > 0 ? `lower is better for ${lowerBetter.join(', ')}, so agreement shows as a negative correlation for them and a positive one for the others;\n` : '') +
    "the paper's τ are read off its Figs. 1, 3 and 9 (CIFAR-100 by their axis ranges)\n"
  );
}

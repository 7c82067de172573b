import type { Nb201Table } from '../spaces/nb201/table.js';
import { BENCHMARK_DATASETS, DATASET_LABELS, PAPER_KENDALL_TAU, benchmarkAccuracy, type BenchmarkDataset } from './benchmark.js';
import { describeScoringKey, scoringKeyOf, type CorrelationRow, type ScoringKey } from './rows.js';
import { kendallTau, spearmanRho } from './statistics.js';
import { TenasInputError } from '../errors.js';
import { hasZeroNtk } from './arch-scorer.js';
import { INDICATORS, type IndicatorSeries, type IndicatorValues } from '../metrics/indicators.js';
import { rankSum } from '../metrics/aggregation.js';

export interface RankCorrelation {
  /** NaN (null in JSON) with fewer than two archs or a constant score. */
  readonly kendallTau: number;
  readonly spearmanRho: number;
}

/** Each indicator's correlation (`kappa`, `regions`, ...) and the combination's. */
export type CorrelationReport = { readonly [K in keyof IndicatorValues]: RankCorrelation } & {
  readonly dataset: BenchmarkDataset;
  readonly accuracy: string;
  readonly archs: number;
  /** Archs whose NTK is identically zero; their κ is ZERO_NTK_KAPPA (ranked worst). */
  readonly zeroNtkArchs: number;
  readonly settings: ScoringKey | undefined;
  /** Σ over indicators of its rank (best first, e.g. κ ascending, R descending): lower is better. */
  readonly combined: RankCorrelation;
  readonly paperKendallTau: typeof PAPER_KENDALL_TAU;
};

/** Points of the report: each indicator's scores and the benchmark accuracy of each row. */
export type ScoredAccuracy = IndicatorSeries & { readonly accuracy: number[] };

export function requireBenchmarkDataset(name: string): BenchmarkDataset {
  const match = BENCHMARK_DATASETS.find((dataset) => dataset === name);
  if (match === undefined) throw new TenasInputError(`NAS-Bench-201 has accuracies for ${BENCHMARK_DATASETS.join(', ')} only, got '${name}'`);
  return match;
}

export function scoredAccuracy(rows: readonly CorrelationRow[], table: Nb201Table, dataset: BenchmarkDataset): ScoredAccuracy {
  const scores = Object.fromEntries(INDICATORS.map((indicator) => [indicator.key, rows.map((row) => row[indicator.key])])) as IndicatorSeries;
  return { ...scores, accuracy: rows.map((row) => benchmarkAccuracy(table.lookup(row.arch), dataset)) };
}

/**
 * TE-NAS's combined ranking: rank each indicator best first (κ ascending, R descending), with
 * average ranks for ties, and add the ranks. A lower sum is a better architecture.
 */
export function combinedRankScore(scores: IndicatorSeries): Float64Array {
  return rankSum(INDICATORS.map((indicator) => ({ values: scores[indicator.key], higherIsBetter: indicator.higherIsBetter })));
}

function correlate(score: ArrayLike<number>, accuracy: readonly number[]): RankCorrelation {
  return { kendallTau: kendallTau(score, accuracy), spearmanRho: spearmanRho(score, accuracy) };
}

export function correlationReport(rows: readonly CorrelationRow[], table: Nb201Table, dataset: BenchmarkDataset): CorrelationReport {
  const points = scoredAccuracy(rows, table, dataset);
  return {
    dataset,
    accuracy: `NAS-Bench-201 ${DATASET_LABELS[dataset]} test accuracy (200 epochs)`,
    archs: rows.length,
    zeroNtkArchs: rows.filter((row) => hasZeroNtk(row.kappa)).length,
    settings: rows.length > 0 ? scoringKeyOf(rows[0]) : undefined,
    ...(Object.fromEntries(INDICATORS.map((indicator) => [indicator.key, correlate(points[indicator.key], points.accuracy)])) as { [K in keyof IndicatorValues]: RankCorrelation }),
    combined: correlate(combinedRankScore(points), points.accuracy),
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
  const paper: Readonly<Record<string, number>> = report.paperKendallTau;
  const entries: [string, RankCorrelation, number | undefined][] = [
    ...INDICATORS.map((indicator): [string, RankCorrelation, number | undefined] => [`${indicator.symbol} (${indicator.title})`, report[indicator.key], paper[indicator.key]]),
    [INDICATORS.map((indicator) => `rank(${indicator.symbol})`).join(' + '), report.combined, paper.combined],
  ];
  const body = entries.map(([name, { kendallTau: tau, spearmanRho: rho }, paperTau]) => [name, signed(tau), signed(rho), paperTau === undefined ? 'n/a' : signed(paperTau)]);
  const rows = [header, ...body];
  const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  '));
  const settings = report.settings ? ` (${describeScoringKey(report.settings)})` : '';
  const zeroNtk =
    report.zeroNtkArchs > 0 ? `${report.zeroNtkArchs} architecture(s) have a zero NTK (no path from the input to the output): κ = ∞, ranked worst\n` : '';
  return (
    `rank correlation with ${report.accuracy} over ${report.archs} architecture(s)${settings}\n` +
    `${lines.join('\n')}\n` +
    zeroNtk +
    'lower κ and a lower rank sum are better, so agreement shows as a negative correlation for them and a positive one for R;\n' +
    "the paper's τ are read off its Figs. 1, 3 and 9 (CIFAR-100 by their axis ranges)\n"
  );
}

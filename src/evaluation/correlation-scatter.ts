import type { Nb201Table } from '../spaces/nb201/table.js';
import { hasZeroNtk } from './arch-scorer.js';
import { DATASET_LABELS } from './benchmark.js';
import { scoredAccuracy, type CorrelationReport } from './correlation-report.js';
import { rowIndicators, type CorrelationRow } from './rows.js';
import { scatterSvg, type ScatterPanel } from './scatter-svg.js';

/**
 * The report's scatter plots, as `tenas correlate` writes them: one panel per indicator against the
 * benchmark accuracy, κ on a log scale (zero-NTK archs left out), the others as they are.
 */
export function correlationScatterSvg(rows: readonly CorrelationRow[], table: Nb201Table, report: CorrelationReport): string {
  const points = scoredAccuracy(rows, table, report.dataset);
  const panels = (rows.length > 0 ? rowIndicators(rows[0]) : []).map((indicator): ScatterPanel => {
    const values = points.scores[indicator.key];
    const correlation = report.scores.find((score) => score.id === indicator.key)!;
    const direction = indicator.higherIsBetter ? 'higher is better' : 'lower is better';
    if (indicator.name === 'ntk') {
      const kappaNote = report.zeroNtkArchs > 0 ? `; ${report.zeroNtkArchs} with a zero NTK (κ = ∞) not shown` : '';
      return { title: indicator.title, xLabel: `log10 κ (${direction}${kappaNote})`, x: values.map((kappa) => Math.log10(kappa)), shown: values.map((kappa) => !hasZeroNtk(kappa)), correlation };
    }
    return { title: indicator.title, xLabel: `${indicator.symbol} (${direction})`, x: values, shown: values.map(Number.isFinite), correlation };
  });
  return scatterSvg(panels, points.accuracy, `${DATASET_LABELS[report.dataset]} test accuracy (%)`);
}

import type { Nb201Table } from '../spaces/nb201/table.js';
import { hasZeroNtk } from './arch-scorer.js';
import { DATASET_LABELS } from './benchmark.js';
import { scoredAccuracy, type CorrelationReport } from './correlation-report.js';
import type { CorrelationRow } from './rows.js';
import { scatterSvg } from './scatter-svg.js';

/** The report's scatter plots (one panel per indicator against the benchmark accuracy), as `tenas correlate` writes them. */
export function correlationScatterSvg(rows: readonly CorrelationRow[], table: Nb201Table, report: CorrelationReport): string {
  const points = scoredAccuracy(rows, table, report.dataset);
  const kappaShown = points.kappa.map((kappa) => !hasZeroNtk(kappa));
  const kappaNote = report.zeroNtkArchs > 0 ? `; ${report.zeroNtkArchs} with a zero NTK (κ = ∞) not shown` : '';
  return scatterSvg(
    [
      {
        title: 'NTK condition number',
        xLabel: `log10 κ (lower is better${kappaNote})`,
        x: points.kappa.map((kappa) => Math.log10(kappa)),
        shown: kappaShown,
        correlation: report.kappa,
      },
      { title: 'Linear regions', xLabel: 'R (higher is better)', x: points.regions, correlation: report.regions },
    ],
    points.accuracy,
    `${DATASET_LABELS[report.dataset]} test accuracy (%)`,
  );
}

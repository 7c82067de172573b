/** The Evaluate page's outcome: rows, report and scatter plots, from the evaluation code `tenas correlate` uses. */
import type { BackendName } from '../../engine/backend.js';
import type { BenchmarkDataset } from '../../evaluation/benchmark.js';
import { correlationReport, correlationReportJson, type CorrelationReport } from '../../evaluation/correlation-report.js';
import { correlationScatterSvg } from '../../evaluation/correlation-scatter.js';
import { csvHeaderOf, formatRow, type CorrelationRow } from '../../evaluation/rows.js';
import { correlationRow, scoringKeyOfSettings } from '../../evaluation/scored-rows.js';
import { ALL_INDICATORS, resolveIndicators } from '../../metrics/registry.js';
import { resolveSettings, type SearchSettings } from '../../search/settings.js';
import type { Nb201Table } from '../../spaces/nb201/table.js';
import { element } from '../shared/dom.js';
import type { ScoredArch } from './sample-scoring.js';

/** The indicators the page offers: the whole registry. */
export const EVALUATION_INDICATORS = ALL_INDICATORS;

export interface EvaluationRequest {
  /** Registry names. */
  readonly indicators: readonly string[];
  readonly sample: number;
  readonly seed: number;
  readonly dataset: BenchmarkDataset;
  /** NB201's evaluation network, for the indicators measured on it; `batch` is also the NTK batch, as `correlate --batch` sets both. */
  readonly channels: number;
  readonly cells: number;
  readonly batch: number;
}

export interface EvaluationOutcome {
  readonly rows: CorrelationRow[];
  /** The rows as `tenas correlate` writes a CSV file. */
  readonly csv: string;
  readonly report: CorrelationReport;
  /** The report as `tenas correlate --json` prints it. */
  readonly reportJson: Record<string, unknown>;
  readonly svg: string;
}

/** The settings `tenas correlate --indicators … --channels C --cells N --batch B --repeats 1` resolves to. */
export function evaluationSettings(request: EvaluationRequest): SearchSettings {
  const onEvalNetwork = resolveIndicators(request.indicators, 'indicators').some((indicator) => indicator.network === 'eval');
  return resolveSettings({
    space: 'nb201',
    dataset: request.dataset,
    seed: request.seed,
    ntkBatch: request.batch,
    repeats: 1,
    indicators: request.indicators,
    ...(onEvalNetwork && { evalNetwork: { channels: request.channels, cells: request.cells, batch: request.batch } }),
  });
}

export function evaluationOutcome(scored: readonly ScoredArch[], settings: SearchSettings, backend: BackendName, table: Nb201Table, dataset: BenchmarkDataset): EvaluationOutcome {
  const key = scoringKeyOfSettings(settings);
  const rows = scored.map(({ arch, score, seconds }) => correlationRow(key, arch, score, backend, seconds));
  const report = correlationReport(rows, table, dataset);
  const csv = rows.length > 0 ? csvHeaderOf(rows[0]) + rows.map((row) => formatRow(row, 'csv')).join('') : '';
  return { rows, csv, report, reportJson: correlationReportJson(report), svg: correlationScatterSvg(rows, table, report) };
}

function formatCorrelation(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

/**
 * The report as an HTML table: each indicator, then TE-NAS's rank sum (κ and R chosen), AZ-NAS's
 * aggregation (its four proxies chosen); Kendall τ-b and Spearman ρ with the benchmark accuracy.
 */
export function renderCorrelationTable(container: HTMLElement, report: CorrelationReport): void {
  const head = element('thead', {}, [element('tr', {}, ['Score', 'Better', 'Kendall τ-b', 'Spearman ρ'].map((text) => element('th', { scope: 'col' }, [text])))]);
  const body = element(
    'tbody',
    {},
    report.scores.map((score) =>
      element('tr', { 'data-score': score.id }, [
        element('th', { scope: 'row' }, [score.label]),
        element('td', {}, [score.higherIsBetter ? 'higher' : 'lower']),
        element('td', { class: 'tau' }, [formatCorrelation(score.kendallTau)]),
        element('td', { class: 'rho' }, [formatCorrelation(score.spearmanRho)]),
      ]),
    ),
  );
  const zeroNtk = report.zeroNtkArchs > 0 ? `; ${report.zeroNtkArchs} with a zero NTK (κ = ∞, ranked worst)` : '';
  const caption = element('caption', {}, [
    `${report.archs} architectures against the ${report.accuracy}${zeroNtk}. Agreement shows as a positive correlation where higher is better and a negative one where lower is.`,
  ]);
  container.replaceChildren(element('table', { class: 'rounds correlation' }, [caption, head, body]));
}

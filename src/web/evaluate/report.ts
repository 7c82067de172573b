/** The Evaluate page's outcome: rows, report and scatter plots, from the evaluation code `tenas correlate` uses. */
import type { BackendName } from '../../engine/backend.js';
import { correlationReport, type CorrelationReport, type RankCorrelation } from '../../evaluation/correlation-report.js';
import type { BenchmarkDataset } from '../../evaluation/benchmark.js';
import { correlationScatterSvg } from '../../evaluation/correlation-scatter.js';
import { correlationRow, CSV_HEADER, formatRow, scoringKeyOfSettings, type CorrelationRow } from '../../evaluation/rows.js';
import { INDICATORS } from '../../metrics/indicators.js';
import { resolveSettings, type SearchSettings } from '../../search/settings.js';
import type { Nb201Table } from '../../spaces/nb201/table.js';
import { element } from '../shared/dom.js';
import type { ScoredArch } from './sample-scoring.js';

/** The indicators the page offers. */
export const EVALUATION_INDICATORS = INDICATORS;

export interface EvaluationRequest {
  readonly indicators: readonly string[];
  readonly sample: number;
  readonly seed: number;
  readonly dataset: string;
  readonly channels: number;
  readonly cells: number;
  readonly batch: number;
}

export interface EvaluationOutcome {
  readonly rows: CorrelationRow[];
  /** The rows as `tenas correlate` writes a CSV file. */
  readonly csv: string;
  readonly report: CorrelationReport;
  readonly svg: string;
}

export function evaluationSettings(request: EvaluationRequest): SearchSettings {
  return resolveSettings({ space: 'nb201', dataset: request.dataset as BenchmarkDataset, seed: request.seed, ntkBatch: request.batch, repeats: 1 });
}

export function evaluationOutcome(scored: readonly ScoredArch[], settings: SearchSettings, backend: BackendName, table: Nb201Table, dataset: BenchmarkDataset): EvaluationOutcome {
  const key = scoringKeyOfSettings(settings);
  const rows = scored.map(({ arch, score, seconds }) => correlationRow(key, arch, score, backend, seconds));
  const report = correlationReport(rows, table, dataset);
  return { rows, csv: CSV_HEADER + rows.map((row) => formatRow(row, 'csv')).join(''), report, svg: correlationScatterSvg(rows, table, report) };
}

function signed(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

/** The report as an HTML table: one row per indicator and per combination, Kendall τ-b and Spearman ρ. */
export function renderCorrelationTable(container: HTMLElement, report: CorrelationReport): void {
  const entries: [string, string, RankCorrelation][] = [
    ...INDICATORS.map((indicator): [string, string, RankCorrelation] => [indicator.name, `${indicator.symbol}: ${indicator.title}`, report[indicator.key]]),
    ['TE-NAS rank sum', INDICATORS.map((indicator) => `rank(${indicator.symbol})`).join(' + '), report.combined],
  ];
  const head = element('thead', {}, [element('tr', {}, ['Score', 'What it is', 'Kendall τ-b', 'Spearman ρ'].map((text) => element('th', { scope: 'col' }, [text])))]);
  const body = element(
    'tbody',
    {},
    entries.map(([name, what, correlation]) =>
      element('tr', { 'data-score': name }, [
        element('th', { scope: 'row' }, [name]),
        element('td', {}, [what]),
        element('td', { class: 'tau' }, [signed(correlation.kendallTau)]),
        element('td', { class: 'rho' }, [signed(correlation.spearmanRho)]),
      ]),
    ),
  );
  const caption = element('caption', {}, [`${report.archs} architectures against the ${report.accuracy}`]);
  container.replaceChildren(element('table', { class: 'rounds correlation' }, [caption, head, body]));
}

/**
 * The Evaluate page: scores a seeded sample of NAS-Bench-201 architectures with the chosen
 * indicators (the pool's module workers or this thread; WebAssembly or WebGPU), then shows each
 * indicator's rank correlation with the benchmark accuracy, a scatter plot per indicator, and
 * exports the rows (CSV, as `tenas correlate` writes them) and the report (JSON).
 */
import { Engine } from '../../api.js';
import type { ImageSet } from '../../data/cifar.js';
import { fetchEmbeddedCifar, fetchNb201Table } from '../../data/fetch.js';
import type { BackendName } from '../../engine/backend.js';
import type { BackendChoice } from '../../engine/create.js';
import { TenasInputError } from '../../errors.js';
import { requireBenchmarkDataset } from '../../evaluation/correlation-report.js';
import { selectArchs } from '../../evaluation/selection.js';
import type { Nb201Table } from '../../spaces/nb201/table.js';
import { downloadText, timestampForFilename } from '../app/export.js';
import { describeBackendChoice } from '../shared/backend-choice.js';
import { hasWebAssemblySimd, SIMD_MISSING_MESSAGE } from '../shared/capabilities.js';
import { byId, element, errorMessage, formatSeconds } from '../shared/dom.js';
import { chosenIndicators, renderIndicatorChoices, unknownIndicatorsWarning } from '../shared/indicator-choices.js';
import { showNotice } from '../shared/notices.js';
import { BUILD_INFO_URL, DATA_URL, WORKER_URL, type PageState } from '../shared/page-assets.js';
import { endFailedRun } from '../shared/run-failure.js';
import { defaultWorkerCount, workerScriptBuilt } from '../shared/worker-script.js';
import { readEvaluateQuery } from './query.js';
import { evaluationSettings, evaluationOutcome, EVALUATION_INDICATORS, renderCorrelationTable, type EvaluationOutcome, type EvaluationRequest } from './report.js';
import { scoreSample } from './sample-scoring.js';


interface EvaluateHandle {
  state: PageState;
  outcome?: EvaluationOutcome;
  error?: string;
}

declare global {
  interface Window {
    /** For tests and the console: the page state and the last outcome. */
    __TENAS_EVALUATE__?: EvaluateHandle;
  }
}

const ui = {
  form: byId('settings', HTMLFormElement),
  notices: byId('notices', HTMLDivElement),
  indicatorList: byId('indicator-list', HTMLDivElement),
  sample: byId('sample', HTMLInputElement),
  seed: byId('seed', HTMLInputElement),
  dataset: byId('dataset', HTMLSelectElement),
  channels: byId('channels', HTMLInputElement),
  cells: byId('cells', HTMLInputElement),
  batch: byId('batch', HTMLInputElement),
  backend: byId('backend', HTMLSelectElement),
  backendStatus: byId('backend-status', HTMLParagraphElement),
  workers: byId('workers', HTMLInputElement),
  workersHint: byId('workers-hint', HTMLParagraphElement),
  start: byId('start', HTMLButtonElement),
  cancel: byId('cancel', HTMLButtonElement),
  progress: byId('progress', HTMLProgressElement),
  status: byId('status', HTMLParagraphElement),
  backendInfo: byId('backend-info', HTMLDListElement),
  correlation: byId('correlation', HTMLDivElement),
  scatter: byId('scatter', HTMLDivElement),
  downloadCsv: byId('download-csv', HTMLButtonElement),
  downloadJson: byId('download-json', HTMLButtonElement),
  downloadSvg: byId('download-svg', HTMLButtonElement),
};

const page: EvaluateHandle = { state: 'loading' };
window.__TENAS_EVALUATE__ = page;

let images: Promise<ImageSet> | undefined;
let table: Promise<Nb201Table> | undefined;
let running: AbortController | undefined;
let workerScriptAvailable = false;

function setState(state: PageState): void {
  page.state = state;
  document.body.dataset.state = state;
}

function notice(kind: 'error' | 'warning' | 'info', text: string): void {
  showNotice(ui.notices, kind, text);
}

function integerField(input: HTMLInputElement, label: string, min: number, max: number): number {
  const text = input.value.trim();
  const value = Number(text);
  if (text === '' || !Number.isSafeInteger(value) || value < min || value > max) throw new TenasInputError(`${label} must be a whole number from ${min} to ${max}, got '${text}'`);
  return value;
}

function setRunning(isRunning: boolean): void {
  ui.start.disabled = isRunning;
  ui.cancel.disabled = !isRunning;
  for (const control of ui.form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) control.disabled = isRunning;
  ui.form.setAttribute('aria-busy', String(isRunning));
}

function showBackendInfo(name: string, info: Readonly<Record<string, string>>): void {
  ui.backendInfo.replaceChildren(
    element('dt', {}, ['backend']),
    element('dd', {}, [name]),
    ...Object.entries(info)
      .filter(([, value]) => value !== '')
      .flatMap(([key, value]) => [element('dt', {}, [key]), element('dd', {}, [value])]),
  );
}

function resetResults(): void {
  page.outcome = undefined;
  ui.correlation.replaceChildren('The table appears when the sample is scored.');
  ui.scatter.replaceChildren('The plots appear when the sample is scored.');
  for (const button of [ui.downloadCsv, ui.downloadJson, ui.downloadSvg]) button.disabled = true;
}

function showOutcome(outcome: EvaluationOutcome): void {
  renderCorrelationTable(ui.correlation, outcome.report);
  // The SVG is this page's own output (numbers and fixed labels, XML-escaped), so it can be parsed as markup.
  const figure = new DOMParser().parseFromString(outcome.svg, 'image/svg+xml').documentElement;
  ui.scatter.replaceChildren(document.importNode(figure, true));
  for (const button of [ui.downloadCsv, ui.downloadJson, ui.downloadSvg]) button.disabled = false;
}

async function evaluate(): Promise<void> {
  if (running) return;
  const controller = new AbortController();
  let backendChoice: BackendChoice;
  let request: EvaluationRequest & { workers: number };
  try {
    request = {
      indicators: chosenIndicators(ui.indicatorList),
      sample: integerField(ui.sample, 'Architectures', 2, 15_625),
      seed: integerField(ui.seed, 'Seed', 0, 2 ** 31 - 1),
      dataset: requireBenchmarkDataset(ui.dataset.value),
      channels: integerField(ui.channels, 'Channels C', 1, 256),
      cells: integerField(ui.cells, 'Cells N', 1, 20),
      batch: integerField(ui.batch, 'Batch B', 2, 1024),
      workers: integerField(ui.workers, 'Workers', 0, 64),
    };
    if (request.indicators.length === 0) throw new TenasInputError('choose at least one indicator');
    if (request.workers > 0 && !workerScriptAvailable) throw new TenasInputError('this build has no worker script (worker.js), so scoring can only run on the page: set Workers to 0');
    backendChoice = ui.backend.value as BackendChoice;
    const choice = await describeBackendChoice(backendChoice);
    if (!choice.usable) throw new TenasInputError(choice.text);
  } catch (error) {
    notice('error', errorMessage(error));
    return;
  }
  running = controller;
  setRunning(true);
  setState('running');
  resetResults();
  page.error = undefined;
  ui.progress.removeAttribute('value');
  ui.status.textContent = 'Starting the engine…';
  const started = performance.now();
  try {
    const settings = evaluationSettings(request);
    const archs = selectArchs({ sample: request.sample, seed: request.seed });
    // The backend is chosen here (as `tenas correlate` does) and the workers are told its name.
    let backend: BackendName;
    try {
      const engine = await Engine.create({ backend: backendChoice });
      backend = engine.backend.name;
      showBackendInfo(backend, engine.backend.info);
      engine.dispose();
    } catch (error) {
      throw new TenasInputError(`the ${backendChoice} backend could not start: ${errorMessage(error)}`);
    }
    images ??= fetchEmbeddedCifar(new URL('cifar10-test-1000/cifar10_test_first1000.bin', DATA_URL));
    table ??= fetchNb201Table(new URL('nb201/nb201_test_acc_200ep.csv', DATA_URL));
    images.catch(() => (images = undefined));
    table.catch(() => (table = undefined));
    const imageSet = await images;
    ui.progress.max = archs.length;
    ui.progress.value = 0;
    ui.status.textContent = `Scoring ${archs.length} architectures…`;
    const scored = await scoreSample({
      backend,
      settings,
      images: imageSet,
      archs,
      workers: request.workers,
      workerUrl: WORKER_URL,
      signal: controller.signal,
      onScored: (done, total) => {
        ui.progress.value = done;
        const elapsed = (performance.now() - started) / 1000;
        ui.status.textContent = `Scored ${done} of ${total} architectures · ${formatSeconds(elapsed)} elapsed · about ${formatSeconds((elapsed / done) * (total - done))} left`;
      },
    });
    const outcome = evaluationOutcome(scored, settings, backend, await table, request.dataset);
    page.outcome = outcome;
    showOutcome(outcome);
    ui.status.textContent = `Done: ${archs.length} architectures in ${formatSeconds((performance.now() - started) / 1000)}.`;
    setState('done');
  } catch (error) {
    endFailedRun(error, controller.signal.aborted, 'evaluation', { setState, status: ui.status, notices: ui.notices, recordError: (message) => (page.error = message) });
  } finally {
    running = undefined;
    setRunning(false);
  }
}

function download(kind: 'csv' | 'json' | 'svg'): void {
  const outcome = page.outcome;
  if (!outcome) return;
  const stem = `tenas-evaluate-${outcome.report.dataset}-${timestampForFilename()}`;
  if (kind === 'csv') downloadText(`${stem}.csv`, outcome.csv, 'text/csv');
  if (kind === 'svg') downloadText(`${stem}.svg`, outcome.svg, 'image/svg+xml');
  if (kind === 'json') {
    const document = { tool: 'tenas-web', exportedAt: new Date().toISOString(), userAgent: navigator.userAgent, report: outcome.reportJson, rows: outcome.rows };
    downloadText(`${stem}.json`, `${JSON.stringify(document, null, 2)}\n`, 'application/json');
  }
}

function applyQuery(): boolean {
  const { query, problems } = readEvaluateQuery(location.search);
  for (const problem of problems) notice('warning', problem);
  const warning = unknownIndicatorsWarning(query.indicators ?? [], EVALUATION_INDICATORS);
  if (warning) notice('warning', warning);
  renderIndicatorChoices(ui.indicatorList, EVALUATION_INDICATORS, query.indicators ?? EVALUATION_INDICATORS.map((indicator) => indicator.name));
  const fields: [HTMLInputElement, number | undefined][] = [
    [ui.sample, query.sample],
    [ui.seed, query.seed],
    [ui.channels, query.channels],
    [ui.cells, query.cells],
    [ui.batch, query.batch],
    [ui.workers, query.workers],
  ];
  for (const [input, value] of fields) if (value !== undefined) input.value = String(value);
  if (query.dataset !== undefined) ui.dataset.value = query.dataset;
  if (query.backend !== undefined) ui.backend.value = query.backend;
  return query.autostart;
}

async function initialise(): Promise<void> {
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void evaluate();
  });
  ui.cancel.addEventListener('click', () => running?.abort());
  ui.backend.addEventListener('change', async () => (ui.backendStatus.textContent = (await describeBackendChoice(ui.backend.value)).text));
  ui.downloadCsv.addEventListener('click', () => download('csv'));
  ui.downloadJson.addEventListener('click', () => download('json'));
  ui.downloadSvg.addEventListener('click', () => download('svg'));
  const workersFromQuery = new URLSearchParams(location.search).has('workers');
  const autostart = applyQuery();
  if (!hasWebAssemblySimd()) {
    notice('error', SIMD_MISSING_MESSAGE);
    ui.start.disabled = true;
    page.error = SIMD_MISSING_MESSAGE;
    setState('error');
    return;
  }
  workerScriptAvailable = await workerScriptBuilt(BUILD_INFO_URL);
  if (workerScriptAvailable && !workersFromQuery) ui.workers.value = String(defaultWorkerCount());
  if (!workerScriptAvailable) {
    ui.workers.value = '0';
    ui.workersHint.textContent = 'This build has no worker script, so scoring runs on the page (0).';
  }
  ui.backendStatus.textContent = (await describeBackendChoice(ui.backend.value)).text;
  setState('idle');
  if (autostart) await evaluate();
}

void initialise();

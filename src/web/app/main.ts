/**
 * The search app: settings form → `Engine.search` → live progress → the found architecture, the
 * cell round by round, the κ–R trajectory and the per-round candidate table. Plain DOM: one form,
 * a few result panels and two hand-drawn SVG figures do not need a framework.
 */
import { Engine, type SearchRequest, type SearchResult } from '../../api.js';
import type { ImageSet } from '../../data/cifar.js';
import { parseEmbeddedCifar } from '../../data/embedded.js';
import type { BackendChoice } from '../../engine/create.js';
import { TenasInputError } from '../../errors.js';
import { env } from '../../env.js';
import type { SearchProgress } from '../../search/search.js';
import { ALL_INDICATORS, DEFAULT_INDICATOR_NAMES, resolveIndicators } from '../../metrics/registry.js';
import { resolveSettings, type CombineMethod } from '../../search/settings.js';
import { searchSpace, type SpaceName } from '../../spaces/index.js';
import { parseNb201Table, type BenchmarkEntry, type Nb201Table } from '../../spaces/nb201/table.js';
import type { CellMasks } from '../../spaces/space.js';
import { describeBackendChoice as describeChoice } from '../shared/backend-choice.js';
import { hasWebAssemblySimd, SIMD_MISSING_MESSAGE } from '../shared/capabilities.js';
import { byId, element, errorMessage, formatSeconds } from '../shared/dom.js';
import { chosenIndicators, renderIndicatorChoices, unknownIndicatorsWarning } from '../shared/indicator-choices.js';
import { showNotice } from '../shared/notices.js';
import { BUILD_INFO_URL, WORKER_URL, type PageState } from '../shared/page-assets.js';
import { endFailedRun } from '../shared/run-failure.js';
import { defaultWorkerCount, workerScriptBuilt } from '../shared/worker-script.js';
import { renderCellGraph } from './cell-graph.js';
import { copyText, downloadText, timestampForFilename } from './export.js';
import { decodeImageFiles, drawPreview } from './images.js';
import { readQuery } from './query.js';
import { renderRoundTable, roundLabel } from './round-table.js';
import { renderTrajectory, trajectoryPoints } from './trajectory.js';

/** The package's data/ folder is served at /data/ (see src/server/serve.ts). */
const EMBEDDED_CIFAR_URL = '/data/cifar10-test-1000/cifar10_test_first1000.bin';
const NB201_TABLE_URL = '/data/nb201/nb201_test_acc_200ep.csv';

interface AppHandle {
  state: PageState;
  result?: SearchResult;
  benchmark?: BenchmarkEntry;
  error?: string;
}

declare global {
  interface Window {
    /** For tests and the console: the page state and the last result. */
    __TENAS_APP__?: AppHandle;
  }
}

const ui = {
  form: byId('settings', HTMLFormElement),
  notices: byId('notices', HTMLDivElement),
  files: byId('files', HTMLInputElement),
  dropZone: byId('drop-zone', HTMLDivElement),
  dataStatus: byId('data-status', HTMLParagraphElement),
  preview: byId('preview', HTMLCanvasElement),
  indicatorList: byId('indicator-list', HTMLDivElement),
  combine: byId('combine', HTMLSelectElement),
  protocol: byId('protocol', HTMLSelectElement),
  backend: byId('backend', HTMLSelectElement),
  backendStatus: byId('backend-status', HTMLParagraphElement),
  batch: byId('batch', HTMLInputElement),
  repeats: byId('repeats', HTMLInputElement),
  patches: byId('patches', HTMLInputElement),
  seed: byId('seed', HTMLInputElement),
  workers: byId('workers', HTMLInputElement),
  workersHint: byId('workers-hint', HTMLParagraphElement),
  start: byId('start', HTMLButtonElement),
  cancel: byId('cancel', HTMLButtonElement),
  progress: byId('progress', HTMLProgressElement),
  status: byId('status', HTMLParagraphElement),
  progressDetail: byId('progress-detail', HTMLParagraphElement),
  backendInfo: byId('backend-info', HTMLDListElement),
  arch: byId('arch', HTMLOutputElement),
  benchmark: byId('benchmark', HTMLParagraphElement),
  copyArch: byId('copy-arch', HTMLButtonElement),
  downloadArch: byId('download-arch', HTMLButtonElement),
  downloadJson: byId('download-json', HTMLButtonElement),
  step: byId('step', HTMLInputElement),
  stepLabel: byId('step-label', HTMLSpanElement),
  replay: byId('replay', HTMLButtonElement),
  cellGraph: byId('cell-graph', HTMLDivElement),
  trajectory: byId('trajectory', HTMLDivElement),
  roundSelect: byId('round-select', HTMLSelectElement),
  roundTable: byId('round-table', HTMLDivElement),
};

const app: AppHandle = { state: 'loading' };
window.__TENAS_APP__ = app;

let embeddedImages: ImageSet | undefined;
let ownImages: ImageSet | undefined;
let running: AbortController | undefined;
let workerScriptAvailable = false;
let workersFromQuery = false;
let shown: { space: SpaceName; states: CellMasks[]; result: SearchResult } | undefined;
let replayTimer: ReturnType<typeof setInterval> | undefined;

function setState(state: PageState): void {
  app.state = state;
  document.body.dataset.state = state;
}

function notice(kind: 'error' | 'warning' | 'info', text: string): HTMLElement {
  return showNotice(ui.notices, kind, text);
}

function selectedRadio(name: string): string {
  const checked = ui.form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`);
  return checked?.value ?? '';
}

function setRadio(name: string, value: string): void {
  const input = ui.form.querySelector<HTMLInputElement>(`input[name="${name}"][value="${value}"]`);
  if (input) input.checked = true;
}

function integerField(input: HTMLInputElement, label: string): number | undefined {
  const text = input.value.trim();
  if (text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new TenasInputError(`${label} must be a whole number, got '${text}'`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Data

function currentImages(): ImageSet | undefined {
  return selectedRadio('data') === 'own' ? ownImages : embeddedImages;
}

function showImages(): void {
  const images = currentImages();
  const context = ui.preview.getContext('2d');
  context?.clearRect(0, 0, ui.preview.width, ui.preview.height);
  if (images) {
    drawPreview(ui.preview, images);
    ui.dataStatus.textContent = `${images.count} images: ${images.source}.`;
  } else if (selectedRadio('data') === 'own') {
    ui.dataStatus.textContent = 'No images chosen yet: choose files or drop them on the box above.';
  }
}

async function loadEmbeddedImages(): Promise<void> {
  try {
    const response = await fetch(EMBEDDED_CIFAR_URL);
    if (!response.ok) throw new TenasInputError(`fetching ${EMBEDDED_CIFAR_URL} failed with HTTP ${response.status}; serve the pages with \`tenas serve\`, which maps /data/ to the package's data folder`);
    embeddedImages = parseEmbeddedCifar(new Uint8Array(await response.arrayBuffer()));
  } catch (error) {
    ui.dataStatus.textContent = 'The embedded images could not be loaded.';
    notice('error', `Embedded images: ${errorMessage(error)}`);
  }
  showImages();
}

async function useFiles(fileList: FileList | null): Promise<void> {
  const files = [...(fileList ?? [])];
  if (files.length === 0) return;
  setRadio('data', 'own');
  ui.dataStatus.textContent = `Decoding ${files.length} file(s)…`;
  try {
    const { images, skipped } = await decodeImageFiles(files);
    ownImages = images;
    if (skipped.length > 0) notice('warning', `${skipped.length} file(s) are not images this browser can decode and were skipped: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  } catch (error) {
    ownImages = undefined;
    notice('error', errorMessage(error));
  }
  showImages();
}

// ---------------------------------------------------------------------------------------------
// Backend

async function describeBackendChoice(): Promise<boolean> {
  const { usable, text } = await describeChoice(ui.backend.value);
  ui.backendStatus.textContent = text;
  return usable;
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

// ---------------------------------------------------------------------------------------------
// Search

let lastAnnounced = { round: -1, at: 0 };

function showProgress(progress: SearchProgress): void {
  ui.progress.max = progress.total;
  ui.progress.value = progress.done;
  const stage = progress.stage === 'op' ? 'op pruning' : 'edge pruning';
  const eta = progress.etaSeconds === undefined ? 'estimating time left' : `about ${formatSeconds(progress.etaSeconds)} left`;
  const text = `Round ${progress.round} (${stage}): candidate ${progress.candidate} of ${progress.candidates} · ${progress.done} of ${progress.total} overall · ${eta}`;
  ui.progressDetail.textContent = `${formatSeconds(progress.elapsedSeconds)} elapsed`;
  // The live region is updated at round changes and at most every 3 s, so screen readers are not flooded.
  const now = performance.now();
  if (progress.round !== lastAnnounced.round || now - lastAnnounced.at > 3000 || progress.done === progress.total) {
    ui.status.textContent = text;
    lastAnnounced = { round: progress.round, at: now };
  }
}

function buildRequest(): { request: SearchRequest; backend: BackendChoice } {
  const space = selectedRadio('space') as SpaceName;
  const images = currentImages();
  if (!images) {
    throw new TenasInputError(
      selectedRadio('data') === 'own' ? 'choose some images first (file picker or drag and drop), or use the embedded CIFAR-10 images' : 'the embedded images are not loaded yet; wait a moment or reload the page',
    );
  }
  const request: SearchRequest = {
    space,
    indicators: chosenIndicators(ui.indicatorList),
    combine: ui.combine.value as CombineMethod,
    protocol: ui.protocol.value as 'reference' | 'paper',
    ntkBatch: integerField(ui.batch, 'NTK batch'),
    repeats: integerField(ui.repeats, 'Repeats'),
    regionPatches: integerField(ui.patches, 'Linear-region patches'),
    seed: integerField(ui.seed, 'Seed'),
    images,
  };
  const settings = resolveSettings(request);
  if (images.count < settings.ntkBatch) {
    throw new TenasInputError(`${images.count} images are fewer than the NTK batch of ${settings.ntkBatch}: add images or lower the NTK batch`);
  }
  const workers = integerField(ui.workers, 'Workers') ?? 0;
  if (workers < 0 || workers > 64) throw new TenasInputError(`Workers must be from 0 to 64, got ${workers}`);
  if (workers > 0 && !workerScriptAvailable) {
    throw new TenasInputError('this build has no worker script (worker.js), so the search can only run on the page: set Workers to 0');
  }
  request.workers = workers;
  return { request, backend: ui.backend.value as BackendChoice };
}

function setRunning(isRunning: boolean): void {
  ui.start.disabled = isRunning;
  ui.cancel.disabled = !isRunning;
  for (const control of ui.form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) control.disabled = isRunning;
  ui.form.setAttribute('aria-busy', String(isRunning));
}

async function startSearch(): Promise<void> {
  if (running) return;
  let request: SearchRequest;
  let backend: BackendChoice;
  try {
    ({ request, backend } = buildRequest());
  } catch (error) {
    notice('error', errorMessage(error));
    return;
  }
  if (backend === 'webgpu' && !(await describeBackendChoice())) {
    notice('error', ui.backendStatus.textContent ?? 'WebGPU is not available');
    return;
  }
  const controller = new AbortController();
  running = controller;
  stopReplay();
  setRunning(true);
  setState('running');
  app.result = undefined;
  app.error = undefined;
  lastAnnounced = { round: -1, at: 0 };
  ui.status.textContent = 'Starting the engine…';
  ui.progressDetail.textContent = '';
  ui.progress.removeAttribute('value');
  resetResults(request.space ?? 'nb201');
  let engine: Engine | undefined;
  try {
    try {
      engine = await Engine.create({ backend });
    } catch (error) {
      throw new TenasInputError(`the ${backend} backend could not start: ${errorMessage(error)}`);
    }
    showBackendInfo(engine.backend.name, engine.backend.info);
    // Without workers the engine scores on this thread, yielding to the page between candidates.
    if ((request.workers ?? 0) > 0) env.workerUrl = WORKER_URL;
    const result = await engine.search({ ...request, signal: controller.signal, onProgress: showProgress });
    app.result = result;
    showResult(result);
    ui.status.textContent = `Done in ${formatSeconds(result.timings.totalSeconds)}: found the architecture below.`;
    ui.progress.value = ui.progress.max;
    await showBenchmarkAccuracy(result);
    setState('done');
  } catch (error) {
    endFailedRun(error, controller.signal.aborted, 'search', { setState, status: ui.status, notices: ui.notices, recordError: (message) => (app.error = message) });
  } finally {
    engine?.dispose();
    running = undefined;
    setRunning(false);
  }
}

// ---------------------------------------------------------------------------------------------
// Results

function resetResults(space: SpaceName): void {
  const searchSpaceOfChoice = searchSpace(space);
  shown = undefined;
  ui.arch.textContent = '—';
  ui.benchmark.textContent = '';
  for (const button of [ui.copyArch, ui.downloadArch, ui.downloadJson, ui.replay]) button.disabled = true;
  ui.step.disabled = true;
  ui.step.max = '0';
  ui.step.value = '0';
  ui.stepLabel.textContent = 'the supernet';
  ui.roundSelect.disabled = true;
  ui.roundSelect.replaceChildren();
  ui.roundTable.replaceChildren();
  ui.trajectory.replaceChildren('The trajectory appears when a search finishes.');
  const supernet = searchSpaceOfChoice.supernetMask();
  renderCellGraph(ui.cellGraph, { space, ops: searchSpaceOfChoice.ops, cellTypes: searchSpaceOfChoice.cellTypes, states: [supernet], step: 0 });
}

function showStep(step: number): void {
  if (!shown) return;
  const space = searchSpace(shown.space);
  ui.step.value = String(step);
  const rounds = shown.result.history.length;
  ui.stepLabel.textContent = step === 0 ? 'the supernet, before pruning' : `after round ${step - 1} of ${rounds - 1}${step === rounds ? ' (final)' : ''}`;
  renderCellGraph(ui.cellGraph, { space: shown.space, ops: space.ops, cellTypes: space.cellTypes, states: shown.states, step });
  if (step > 0) showRound(step - 1);
}

function showRound(index: number): void {
  if (!shown) return;
  const round = shown.result.history[index];
  if (!round) return;
  ui.roundSelect.value = String(index);
  const { indicators, combine } = shown.result.settings;
  renderRoundTable(ui.roundTable, shown.space, round, resolveIndicators(indicators), combine);
}

function stopReplay(): void {
  if (replayTimer !== undefined) clearInterval(replayTimer);
  replayTimer = undefined;
  ui.replay.textContent = 'Replay the rounds';
}

function toggleReplay(): void {
  if (replayTimer !== undefined || !shown) {
    stopReplay();
    return;
  }
  const last = shown.states.length - 1;
  let step = 0;
  showStep(step);
  ui.replay.textContent = 'Stop replay';
  replayTimer = setInterval(() => {
    step++;
    showStep(step);
    if (step >= last) stopReplay();
  }, 900);
}

function showResult(result: SearchResult): void {
  const space = searchSpace(result.space);
  ui.arch.textContent = result.arch;
  showBackendInfo(result.backend.name, result.backend.info);
  const states = [space.supernetMask(), ...result.history.map((round) => space.parseArchitecture(round.mask))];
  shown = { space: result.space, states, result };
  ui.step.max = String(states.length - 1);
  ui.step.disabled = false;
  ui.roundSelect.replaceChildren(...result.history.map((round, index) => element('option', { value: String(index) }, [roundLabel(round)])));
  ui.roundSelect.disabled = result.history.length === 0;
  if (DEFAULT_INDICATOR_NAMES.every((name) => result.settings.indicators.includes(name))) renderTrajectory(ui.trajectory, trajectoryPoints(result.history));
  else ui.trajectory.replaceChildren(`The κ–R trajectory needs the indicators ${DEFAULT_INDICATOR_NAMES.join(' and ')}; this search measured ${result.settings.indicators.join(', ')}.`);
  showStep(states.length - 1);
  for (const button of [ui.copyArch, ui.downloadArch, ui.downloadJson, ui.replay]) button.disabled = false;
}

let tablePromise: Promise<Nb201Table> | undefined;

async function showBenchmarkAccuracy(result: SearchResult): Promise<void> {
  app.benchmark = undefined;
  if (result.space !== 'nb201') {
    ui.benchmark.textContent = 'DARTS cells have no benchmark table: train the genotype to measure its accuracy.';
    return;
  }
  ui.benchmark.textContent = 'Looking up NAS-Bench-201…';
  try {
    tablePromise ??= fetch(NB201_TABLE_URL).then(async (response) => {
      if (!response.ok) throw new TenasInputError(`fetching ${NB201_TABLE_URL} failed with HTTP ${response.status}`);
      return parseNb201Table(await response.text());
    });
    tablePromise.catch(() => (tablePromise = undefined));
    const entry = (await tablePromise).lookup(result.arch);
    app.benchmark = entry;
    ui.benchmark.textContent =
      `NAS-Bench-201 test accuracy after 200 epochs of training (index ${entry.index}): ` +
      `CIFAR-10 ${entry.cifar10.toFixed(2)} %, CIFAR-100 ${entry.cifar100.toFixed(2)} %, ImageNet16-120 ${entry.imagenet16.toFixed(2)} %. ` +
      'Looked up after the search; the search never sees it.';
  } catch (error) {
    ui.benchmark.textContent = `NAS-Bench-201 lookup failed: ${errorMessage(error)}`;
  }
}

function exportJson(): void {
  if (!app.result) return;
  const document = {
    tool: 'tenas-web',
    exportedAt: new Date().toISOString(),
    userAgent: navigator.userAgent,
    crossOriginIsolated: window.crossOriginIsolated,
    nb201Benchmark: app.benchmark ?? null,
    ...app.result,
  };
  downloadText(`tenas-${app.result.space}-${timestampForFilename()}.json`, `${JSON.stringify(document, null, 2)}\n`, 'application/json');
}

// ---------------------------------------------------------------------------------------------
// Wiring

async function checkWorkerScript(): Promise<void> {
  workerScriptAvailable = await workerScriptBuilt(BUILD_INFO_URL);
  const cores = navigator.hardwareConcurrency || 1;
  if (workerScriptAvailable && !workersFromQuery) ui.workers.value = String(defaultWorkerCount());
  if (!workerScriptAvailable) ui.workers.value = '0';
  ui.workersHint.textContent = workerScriptAvailable
    ? `Module workers scoring candidates in parallel (this browser reports ${cores} logical cores); 0: on this page's thread.`
    : 'This build has no worker script, so the search runs on the page (0).';
}

function applyQuery(): boolean {
  const { settings, problems } = readQuery(location.search);
  for (const problem of problems) notice('warning', problem);
  if (settings.space) setRadio('space', settings.space);
  const warning = unknownIndicatorsWarning(settings.indicators ?? [], ALL_INDICATORS);
  if (warning) notice('warning', warning);
  renderIndicatorChoices(ui.indicatorList, ALL_INDICATORS, settings.indicators ?? DEFAULT_INDICATOR_NAMES);
  if (settings.combine) ui.combine.value = settings.combine;
  if (settings.protocol) ui.protocol.value = settings.protocol;
  if (settings.backend) ui.backend.value = settings.backend;
  if (settings.batch !== undefined) ui.batch.value = String(settings.batch);
  if (settings.repeats !== undefined) ui.repeats.value = String(settings.repeats);
  if (settings.patches !== undefined) ui.patches.value = String(settings.patches);
  if (settings.seed !== undefined) ui.seed.value = String(settings.seed);
  if (settings.workers !== undefined) ui.workers.value = String(settings.workers);
  workersFromQuery = settings.workers !== undefined;
  return settings.autostart;
}

function wire(): void {
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void startSearch();
  });
  ui.cancel.addEventListener('click', () => {
    running?.abort();
    ui.status.textContent = 'Cancelling after the current candidate…';
  });
  ui.files.addEventListener('change', () => void useFiles(ui.files.files));
  for (const radio of ui.form.querySelectorAll<HTMLInputElement>('input[name="data"]')) radio.addEventListener('change', showImages);
  for (const radio of ui.form.querySelectorAll<HTMLInputElement>('input[name="space"]')) {
    radio.addEventListener('change', () => {
      if (!running) resetResults(selectedRadio('space') as SpaceName);
    });
  }
  ui.dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    ui.dropZone.classList.add('dragging');
  });
  ui.dropZone.addEventListener('dragleave', () => ui.dropZone.classList.remove('dragging'));
  ui.dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    ui.dropZone.classList.remove('dragging');
    void useFiles(event.dataTransfer?.files ?? null);
  });
  ui.backend.addEventListener('change', () => void describeBackendChoice());
  ui.step.addEventListener('input', () => {
    stopReplay();
    showStep(Number(ui.step.value));
  });
  ui.replay.addEventListener('click', toggleReplay);
  ui.roundSelect.addEventListener('change', () => {
    const index = Number(ui.roundSelect.value);
    if (shown) showStep(index + 1);
  });
  ui.copyArch.addEventListener('click', async () => {
    if (!app.result) return;
    const outcome = await copyText(app.result.arch, ui.arch);
    notice('info', outcome === 'copied' ? 'The architecture is on the clipboard.' : 'The clipboard is not available here: the architecture is selected, press Ctrl+C (⌘C) to copy it.');
  });
  ui.downloadArch.addEventListener('click', () => {
    if (!app.result) return;
    const kind = app.result.space === 'nb201' ? 'NAS-Bench-201 arch string' : 'DARTS genotype';
    downloadText(`tenas-${app.result.space}-arch.txt`, `# ${kind} found by tenas-web (${app.result.settings.protocol} protocol)\n${app.result.arch}\n`, 'text/plain');
  });
  ui.downloadJson.addEventListener('click', exportJson);
}

async function initialise(): Promise<void> {
  wire();
  const autostart = applyQuery();
  resetResults(selectedRadio('space') as SpaceName);
  if (!hasWebAssemblySimd()) {
    notice('error', SIMD_MISSING_MESSAGE);
    ui.start.disabled = true;
    setState('error');
    app.error = SIMD_MISSING_MESSAGE;
    return;
  }
  await Promise.all([loadEmbeddedImages(), checkWorkerScript(), describeBackendChoice()]);
  setState('idle');
  if (autostart) await startSearch();
}

void initialise();

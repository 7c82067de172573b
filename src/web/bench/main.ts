/**
 * The benchmark page: `runBenchmarks` on each backend the browser offers (WebAssembly always,
 * WebGPU when `navigator.gpu` yields an adapter and the build has the backend). When done it sets
 * `window.__TENAS_BENCH__` to `{results, userAgent, crossOriginIsolated, ...}` (plain JSON), or to
 * `{error}` when the page itself fails; `tenas browser-bench` reads it through Puppeteer.
 */
import { runBenchmarks } from '../../bench/bench.js';
import { parseProxySize, type ProxyBenchReport } from '../../bench/proxies.js';
import type { ImageSet } from '../../data/cifar.js';
import { parseEmbeddedCifar } from '../../data/embedded.js';
import { BACKEND_NAMES, type BackendName } from '../../engine/backend.js';
import { TenasInputError } from '../../errors.js';
import { hasWebAssemblySimd, SIMD_MISSING_MESSAGE, webGpuAvailability } from '../shared/capabilities.js';
import { byId, element, errorMessage, formatNumber, formatSeconds } from '../shared/dom.js';
import { FUNCTIONS_SHOWN, type BenchProfile, type FunctionRow, type UnitProfile } from '../../bench/profile.js';
import type { BackendResult, BrowserBenchOutcome, ProxyBenchSize } from './outcome.js';

/**
 * A software adapter is a CPU running the shaders: at the reference batch the NB201 NTK pair takes
 * minutes there. Unless a batch is asked for, such an adapter is measured at this batch and once.
 */
const SOFTWARE_ADAPTER_BATCH = 8;

const EMBEDDED_CIFAR_URL = '/data/cifar10-test-1000/cifar10_test_first1000.bin';

const statusLine = byId('status', HTMLParagraphElement);
const tableBody = byId('results', HTMLTableElement).tBodies[0];
const proxyTableBody = byId('proxy-results', HTMLTableElement).tBodies[0];
const environment = byId('environment', HTMLDListElement);
const profiles = byId('profiles', HTMLDivElement);

function positiveInteger(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new TenasInputError(`URL parameter ${name}=${text} must be a positive integer`);
  return value;
}

function readSettings(): { settings: BrowserBenchOutcome['settings']; backends: BackendName[] } {
  const params = new URLSearchParams(location.search);
  const space = params.get('space') ?? 'nb201';
  if (space !== 'nb201' && space !== 'darts') throw new TenasInputError(`URL parameter space=${space} must be nb201 or darts`);
  const data = params.get('data') ?? 'embedded';
  if (data !== 'embedded' && data !== 'synthetic') throw new TenasInputError(`URL parameter data=${data} must be embedded or synthetic`);
  const backends = (params.get('backends') ?? 'wasm,webgpu').split(',').map((name) => name.trim());
  const known: readonly string[] = BACKEND_NAMES;
  for (const name of backends) if (!known.includes(name)) throw new TenasInputError(`URL parameter backends lists '${name}'; use one or more of ${BACKEND_NAMES.join(', ')}`);
  const profile = params.get('profile') ?? '0';
  if (profile !== '0' && profile !== '1') throw new TenasInputError(`URL parameter profile=${profile} must be 0 or 1`);
  return {
    settings: { space, batch: positiveInteger(params, 'batch'), runs: positiveInteger(params, 'runs') ?? 2, data, proxies: proxySize(params.get('proxies')), profile: profile === '1' },
    backends: backends as BackendName[],
  };
}

/** The proxy rows (minutes on a CPU): `proxies=1` at C = 16, N = 5, B = 64, `proxies=C,N,B` at that size; absent or `0`: none. */
function proxySize(text: string | null): ProxyBenchSize | false {
  if (text === null || text === '0') return false;
  return text === '1' ? {} : parseProxySize(text, `URL parameter proxies=${text}: 0, 1 or`);
}

async function loadImages(): Promise<ImageSet> {
  const response = await fetch(EMBEDDED_CIFAR_URL);
  if (!response.ok) throw new TenasInputError(`fetching ${EMBEDDED_CIFAR_URL} failed with HTTP ${response.status}; serve the pages with \`tenas serve\``);
  return parseEmbeddedCifar(new Uint8Array(await response.arrayBuffer()));
}

function addRow(result: BackendResult): void {
  const cells = result.available
    ? [
        result.backend,
        result.space,
        String(result.batch),
        formatSeconds(result.ntkPairSeconds),
        formatNumber(result.gflops),
        formatSeconds(result.lrPairSeconds),
        [...Object.entries(result.backendInfo).map(([key, value]) => `${key}: ${value}`), ...(result.note ? [result.note] : [])].join(' · '),
      ]
    : [result.backend, '–', '–', '–', '–', '–', `unavailable: ${result.reason}`];
  tableBody.appendChild(element('tr', result.available ? {} : { class: 'pruned' }, cells.map((text, index) => element(index === 0 ? 'th' : 'td', index === 0 ? { scope: 'row' } : {}, [text]))));
  if (result.available && result.proxies) addProxyRows(result.backend, result.proxies);
  if (result.available && result.proxiesSkipped) {
    proxyTableBody.appendChild(element('tr', { class: 'pruned' }, [element('td', {}, [result.backend]), element('td', { colspan: '5' }, [result.proxiesSkipped])]));
  }
}

function addProxyRows(backend: string, report: ProxyBenchReport): void {
  const size = `C = ${report.channels}, N = ${report.cells}, B = ${report.batch}`;
  const rows = [report.forward, report.forwardBackward, ...report.proxies, report.allTogether];
  for (const row of rows) {
    const ratio = row === report.allTogether && report.allOverMostExpensive !== null ? `${formatNumber(report.allOverMostExpensive)} × ${report.mostExpensive}` : '';
    const cells = [backend, row.name, formatSeconds(row.seconds), row.gflops === null ? '–' : formatNumber(row.gflops), ratio, size];
    proxyTableBody.appendChild(element('tr', { 'data-proxy': row.name }, cells.map((text, index) => element(index === 1 ? 'th' : 'td', index === 1 ? { scope: 'row' } : {}, [text]))));
  }
}

const percent = (fraction: number | undefined) => (fraction === undefined ? '' : `${(100 * fraction).toFixed(1)} %`);

/** One table per profiled pair: time per layer kind and pass, and its fraction of the measured peak. */
function addProfile(backend: string, profile: BenchProfile): void {
  const { simdGflops, memoryGBps } = profile.peak;
  const table = (title: string, unit: UnitProfile) =>
    element('table', { class: 'rounds' }, [
      element('caption', {}, [`${backend}: ${title}, ${formatSeconds(unit.seconds)} profiled`]),
      element('thead', {}, [element('tr', {}, ['Layer', 'Device', 'Pass', 'Calls', 'Time', 'Share', 'Rate', 'Of peak'].map((text) => element('th', { scope: 'col' }, [text])))]),
      element(
        'tbody',
        {},
        unit.rows.flatMap((row) => {
          const cells = [
            row.stage,
            row.device,
            row.pass,
            String(row.calls),
            formatSeconds(row.seconds),
            percent(row.share),
            row.gflops !== undefined ? `${formatNumber(row.gflops)} GFLOP/s` : row.gbps !== undefined ? `${formatNumber(row.gbps)} GB/s` : '',
            percent(row.peakFraction ?? row.bandwidthFraction),
          ];
          const parts = row.parts && [
            `… its products alone (sampled: ${percent(row.parts.products)} of its time; BN input gradient ${percent(row.parts.batchnorm)}, pool ${percent(row.parts.pooling)})`,
            ...Array<string>(5).fill(''),
            `${formatNumber(row.parts.productGflops)} GFLOP/s`,
            percent(row.parts.productPeakFraction),
          ];
          return [cells, ...(parts ? [parts] : [])].map((texts) =>
            element('tr', {}, texts.map((text, index) => element(index === 0 ? 'th' : 'td', index === 0 ? { scope: 'row' } : {}, [text]))),
          );
        }),
      ),
    ]);
  const functionsTable = (title: string, functions: readonly FunctionRow[]) =>
    element('table', { class: 'rounds' }, [
      element('caption', {}, [`${backend}: ${title}, sampled self time by function`]),
      element('thead', {}, [element('tr', {}, ['Function', 'Share'].map((text) => element('th', { scope: 'col' }, [text])))]),
      element(
        'tbody',
        {},
        functions.slice(0, FUNCTIONS_SHOWN).map((row) => element('tr', {}, [element('th', { scope: 'row' }, [row.name]), element('td', {}, [percent(row.share)])])),
      ),
    ]);
  const unitTables = (title: string, unit: UnitProfile) => [
    element('div', { class: 'table-scroll' }, [table(title, unit)]),
    ...(unit.functions ? [element('div', { class: 'table-scroll' }, [functionsTable(title, unit.functions)])] : []),
  ];
  profiles.append(
    element('p', {}, [`${backend} (${profile.clock === 'cpu' ? 'CPU' : 'wall'} time): this thread's f32x4 multiply-add peak ${formatNumber(simdGflops)} GFLOP/s, memory bandwidth ${formatNumber(memoryGBps)} GB/s.${profile.note ? ` Note: ${profile.note}.` : ''}`]),
    ...unitTables('NTK pair', profile.ntkPair),
    ...unitTables('linear-region pair', profile.lrPair),
  );
}

/** Lets the page paint the status line before a long synchronous measurement starts. */
const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

async function benchmarkBackend(backend: BackendName, settings: BrowserBenchOutcome['settings'], images: ImageSet | undefined): Promise<BackendResult> {
  let measured = { batch: settings.batch, runs: settings.runs };
  let adapterNotes: { isFallbackAdapter?: boolean; note?: string } = {};
  if (backend === 'webgpu') {
    const gpu = await webGpuAvailability();
    if (!gpu.available) return { available: false, backend, reason: gpu.reason ?? 'no WebGPU adapter' };
    adapterNotes = { isFallbackAdapter: gpu.isFallbackAdapter };
    if (gpu.isFallbackAdapter && settings.batch === undefined) {
      measured = { batch: SOFTWARE_ADAPTER_BATCH, runs: 1 };
      adapterNotes.note = `software (fallback) adapter: measured at NTK batch ${SOFTWARE_ADAPTER_BATCH}, one run, so that it finishes in well under a minute; pass a batch to override`;
    }
  }
  statusLine.textContent = `Measuring ${backend}…`;
  await nextFrame();
  try {
    const report = await runBenchmarks({ backend, space: settings.space, batch: measured.batch, runs: measured.runs, images, proxies: settings.proxies, profile: settings.profile });
    return { available: true, ...adapterNotes, ...report };
  } catch (error) {
    // WebGPU may be missing from this build or fail on this adapter: report it, keep the others.
    if (backend === 'webgpu') return { available: false, backend, reason: errorMessage(error) };
    throw error;
  }
}

async function run(): Promise<void> {
  if (!hasWebAssemblySimd()) throw new TenasInputError(SIMD_MISSING_MESSAGE);
  const { settings, backends } = readSettings();
  const images = settings.data === 'embedded' ? await loadImages() : undefined;
  const facts: [string, string][] = [
    ['user agent', navigator.userAgent],
    ['cross-origin isolated', String(window.crossOriginIsolated)],
    ['logical cores', String(navigator.hardwareConcurrency)],
  ];
  environment.replaceChildren(...facts.flatMap(([key, value]) => [element('dt', {}, [key]), element('dd', {}, [value])]));
  const outcome: BrowserBenchOutcome = {
    results: [],
    userAgent: navigator.userAgent,
    crossOriginIsolated: window.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    settings,
  };
  // Published before and after each backend so that a run stopped by a time limit keeps what finished.
  const publishProgress = (running?: BackendName) => {
    window.__TENAS_BENCH_PROGRESS__ = { ...outcome, results: [...outcome.results], requested: backends, running };
  };
  for (const backend of backends) {
    publishProgress(backend);
    const result = await benchmarkBackend(backend, settings, images);
    outcome.results.push(result);
    addRow(result);
    if (result.available && result.profile) addProfile(result.backend, result.profile);
  }
  publishProgress();
  window.__TENAS_BENCH__ = outcome;
  statusLine.textContent = `Done: ${outcome.results.filter((result) => result.available).length} of ${outcome.results.length} backend(s) measured.`;
  document.body.dataset.state = 'done';
}

run().catch((error: unknown) => {
  const message = errorMessage(error);
  window.__TENAS_BENCH__ = { error: message };
  statusLine.textContent = `The benchmark failed: ${message}`;
  document.body.dataset.state = 'error';
});

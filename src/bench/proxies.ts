import type { ImageSet } from '../data/cifar.js';
import { TenasInputError } from '../errors.js';
import { datasetSpec } from '../data/datasets.js';
import { Rng } from '../data/rng.js';
import { gaussianBatch, labelledBatch } from '../data/transforms.js';
import { cotangentCount, executedNetwork, type Backend } from '../engine/backend.js';
import { backwardFlopsPerSample, forwardFlopsPerSample } from '../graph/flops.js';
import type { Network } from '../graph/ir.js';
import { initialiseWeights } from '../graph/weights.js';
import { randomDraws } from '../metrics/draws.js';
import { SharedPasses, type Indicator, type MeasureContext } from '../metrics/indicator.js';
import type { LinearAlgebra } from '../metrics/linalg.js';
import { PROXY_INDICATORS } from '../metrics/proxies/index.js';
import { parseNb201Mask } from '../spaces/nb201/arch.js';
import { nb201EvalNetwork } from '../spaces/nb201/networks.js';

/** NAS-Bench-201's evaluation network as the proxy papers score it: C = 16, N = 5, a batch of 64. */
export const PROXY_BENCH_DEFAULTS = { channels: 16, cells: 5, batch: 64 } as const;

/** A benchmark-only architecture with every kind of op (conv 3×3, conv 1×1, pooling, skip, none). */
export const PROXY_BENCH_ARCH = '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|';

/** Parses `C,N,B` (the evaluation network's width, cells per stage and batch), as `--proxy-size` and the page's `proxies=` take it. */
export function parseProxySize(text: string, what: string): Required<Pick<ProxyBenchOptions, 'channels' | 'cells' | 'batch'>> {
  const numbers = text.split(',').map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : Number.NaN));
  const [channels, cells, batch] = numbers;
  if (numbers.length !== 3 || !(channels >= 1 && channels <= 256 && cells >= 1 && cells <= 20 && batch >= 2 && batch <= 1024)) {
    throw new TenasInputError(`${what} must be C,N,B with 1 ≤ C ≤ 256, 1 ≤ N ≤ 20, 2 ≤ B ≤ 1024 (e.g. 16,5,64), got '${text.slice(0, 200)}'`);
  }
  return { channels, cells, batch };
}

export interface ProxyBenchOptions {
  readonly channels?: number;
  readonly cells?: number;
  readonly batch?: number;
  /** Images (with labels) to draw the batch from; default N(0, 1) inputs with random labels. */
  readonly images?: ImageSet;
}

export interface ProxyBenchRow {
  readonly name: string;
  readonly seconds: number;
  /** Dense-layer GFLOP of the backend passes it ran (convolutions and the classifier; see graph/flops.ts). */
  readonly gflop: number;
  /** gflop / seconds; null where it ran no backend pass (its arithmetic is on the host, e.g. a float64 executor, or it counts). */
  readonly gflops: number | null;
}

export interface ProxyBenchReport {
  readonly arch: string;
  readonly channels: number;
  readonly cells: number;
  readonly batch: number;
  /** One forward pass of the batch, and one forward plus one backward (a loss gradient): the passes the proxies are made of. */
  readonly forward: ProxyBenchRow;
  readonly forwardBackward: ProxyBenchRow;
  /** Each proxy measured on its own (no pass shared with another). */
  readonly proxies: readonly ProxyBenchRow[];
  /** Every proxy of the architecture in one measurement context, sharing passes (as `score --indicators all` does). */
  readonly allTogether: ProxyBenchRow;
  readonly mostExpensive: string | null;
  /** allTogether.seconds / the most expensive proxy's seconds. */
  readonly allOverMostExpensive: number | null;
}

/** Wraps a backend so that the dense-layer FLOPs of the passes run through it are counted. */
function countingBackend(backend: Backend): { backend: Backend; take(): number } {
  let flops = 0;
  const counted: Backend = {
    get name() {
      return backend.name;
    },
    get info() {
      return backend.info;
    },
    get lastStats() {
      return backend.lastStats;
    },
    forward(request) {
      flops += request.inputs.length * request.batch * forwardFlopsPerSample(executedNetwork(request));
      return backend.forward(request);
    },
    vjp(request) {
      const network = executedNetwork(request);
      flops += request.batch * forwardFlopsPerSample(network) + cotangentCount(request.cotangents, request.batch) * request.batch * backwardFlopsPerSample(network);
      return backend.vjp(request);
    },
    dispose: () => backend.dispose(),
  };
  return {
    backend: counted,
    take: () => {
      const taken = flops;
      flops = 0;
      return taken;
    },
  };
}

async function timedRow(name: string, counter: { take(): number }, work: () => Promise<unknown>): Promise<ProxyBenchRow> {
  counter.take();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const gflop = counter.take() / 1e9;
  return { name, seconds, gflop, gflops: gflop > 0 ? gflop / seconds : null };
}

/**
 * Times every registered zero-cost proxy on one architecture of NAS-Bench-201's evaluation network,
 * each on its own and then all together with shared passes. One warm-up pass pair first; then each
 * measurement once (a proxy at C = 16, N = 5, B = 64 takes seconds on a CPU).
 */
export async function benchProxies(backend: Backend, linalg: LinearAlgebra, options: ProxyBenchOptions = {}): Promise<ProxyBenchReport> {
  const channels = options.channels ?? PROXY_BENCH_DEFAULTS.channels;
  const cells = options.cells ?? PROXY_BENCH_DEFAULTS.cells;
  const batch = options.batch ?? PROXY_BENCH_DEFAULTS.batch;
  const spec = datasetSpec('cifar10');
  const network: Network = nb201EvalNetwork({ mask: parseNb201Mask(PROXY_BENCH_ARCH), classes: spec.classes, inputSize: spec.inputSize, channels, cells });
  const rng = Rng.stream(0, 'bench', 'proxies');
  const weights = initialiseWeights(network, 'pytorch-default', rng);
  const drawn = options.images ? labelledBatch(options.images, batch, spec, rng) : undefined;
  const input = drawn?.input ?? gaussianBatch(batch, 3, spec.inputSize, rng);
  const labels = drawn?.labels ?? Int32Array.from({ length: batch }, () => rng.int(spec.classes));
  const counter = countingBackend(backend);
  const context = (shared: SharedPasses): MeasureContext => ({
    backend: counter.backend,
    linalg,
    network,
    weights,
    inputs: [input],
    batch,
    gramPrecision: 'float64',
    kappaPolicy: 'floor',
    labels: [labels],
    draws: randomDraws(network, [batch, 3, spec.inputSize, spec.inputSize], (purpose) => Rng.stream(0, 'bench', 'proxies', purpose)),
    shared,
  });
  const forwardPass = () => counter.backend.forward({ network, weights, inputs: [input], batch, batchNorm: 'train' });
  const backwardPass = () => counter.backend.vjp({ network, weights, input, batch, batchNorm: 'train', cotangents: { kind: 'given', data: new Float32Array(batch * spec.classes).fill(1 / batch), count: 1 }, reduce: 'param-square-norms' });
  await backwardPass(); // warm-up: compiles pipelines, grows buffers
  const forward = await timedRow('forward', counter, forwardPass);
  const forwardBackward = await timedRow('forward+backward', counter, backwardPass);
  const measureAll = async (indicators: readonly Indicator[], shared: SharedPasses) => {
    const measurements = context(shared);
    for (const indicator of indicators) await indicator.measure(measurements);
  };
  const proxies: ProxyBenchRow[] = [];
  for (const indicator of PROXY_INDICATORS) proxies.push(await timedRow(indicator.name, counter, () => measureAll([indicator], new SharedPasses())));
  const allTogether = await timedRow('all together', counter, () => measureAll(PROXY_INDICATORS, new SharedPasses()));
  const slowest = proxies.reduce<ProxyBenchRow | undefined>((worst, row) => (worst === undefined || row.seconds > worst.seconds ? row : worst), undefined);
  return {
    arch: PROXY_BENCH_ARCH,
    channels,
    cells,
    batch,
    forward,
    forwardBackward,
    proxies,
    allTogether,
    mostExpensive: slowest?.name ?? null,
    allOverMostExpensive: slowest ? allTogether.seconds / slowest.seconds : null,
  };
}

/** The proxy rows as text, one line per row (`tenas bench`, `tenas browser-bench`). */
export function formatProxyBenchReport(report: ProxyBenchReport): string {
  const rows = [report.forward, report.forwardBackward, ...report.proxies, report.allTogether];
  const width = Math.max(...rows.map((row) => row.name.length));
  const line = (row: ProxyBenchRow) => `  ${row.name.padEnd(width)}  ${row.seconds.toFixed(3).padStart(8)} s${row.gflops === null ? '' : `  ${row.gflops.toFixed(1)} GFLOP/s`}\n`;
  const ratio = report.allOverMostExpensive === null ? '' : `  all together: ${report.allOverMostExpensive.toFixed(2)} × the most expensive proxy (${report.mostExpensive})\n`;
  return `zero-cost proxies on ${report.arch}, C = ${report.channels}, N = ${report.cells}, batch ${report.batch}:\n${rows.map(line).join('')}${ratio}`;
}

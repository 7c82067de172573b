import { benchSetup, type BenchReport } from '../../bench/bench.js';
import { findPytorchPython, runPytorchBaseline, type PytorchBaseline } from '../../bench/pytorch-baseline.js';
import { formatProxyBenchReport, parseProxySize } from '../../bench/proxies.js';
import { FUNCTIONS_SHOWN, type BenchProfile, type FunctionRow, type FusedBackwardParts, type UnitProfile } from '../../bench/profile.js';
import { DATASET_NAMES } from '../../data/datasets.js';
import { loadImageSet } from '../../data/files.js';
import { Engine } from '../../api.js';
import type { BackendName } from '../../engine/backend.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../engine/create.js';
import { TenasInputError, unlessAborted } from '../../errors.js';
import { startScoringWorker, type ScoringWorker } from '../../pool/index.js';
import { choiceOption, flagOption, integerOption, stringOption, type ParsedOptions } from '../args.js';
import { BACKEND_OPTION, COMMON_OPTIONS, type Command } from '../command.js';
import { abortOnInterrupt, EXIT_CANCELLED, isCancellation } from '../interrupt.js';
import { toJson, type CliIO } from '../output.js';
import { SPACE_NAMES } from '../../spaces/index.js';

/** Peak resident set size of this process in MiB (`maxRSS` is in KiB). */
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

function summary(report: BenchReport): string {
  const info = Object.entries(report.backendInfo)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  return (
    `backend: ${report.backend}${info ? ` (${info})` : ''}\n` +
    `${report.space} on ${report.dataset}, NTK batch ${report.batch}, best of ${report.runs} runs\n` +
    `NTK pair:           ${report.ntkPairSeconds.toFixed(3)} s (${report.ntkPairGflop.toFixed(2)} GFLOP, ${report.gflops.toFixed(1)} GFLOP/s)\n` +
    `linear-region pair: ${report.lrPairSeconds.toFixed(3)} s (${report.lrPairGflop.toFixed(2)} GFLOP)\n` +
    `peak memory:        ${report.peakRssMb === null ? 'unknown' : `${report.peakRssMb.toFixed(0)} MiB`}\n` +
    (report.profile ? profileTable(report.profile) : '') +
    (report.proxies ? formatProxyBenchReport(report.proxies) : '') +
    (report.proxiesSkipped ? `zero-cost proxies not measured: ${report.proxiesSkipped}\n` : '') +
    (report.pytorch ? pytorchLine(report.pytorch) : '')
  );
}

function pytorchLine(baseline: PytorchBaseline): string {
  return (
    `PyTorch ${baseline.torch}, ${baseline.threads} thread: NTK pair ${baseline.ntkPairSeconds.toFixed(3)} s, ` +
    `${baseline.speedup.toFixed(2)}x the engine's time; kappa agrees to ${baseline.kappaRelativeDifference.toExponential(1)} (relative)\n`
  );
}

function profileTable(profile: BenchProfile): string {
  const { simdGflops, memoryGBps } = profile.peak;
  const unit = (title: string, { seconds, rows, functions }: UnitProfile) =>
    `${title} (${seconds.toFixed(3)} s ${profile.clock === 'cpu' ? 'CPU time' : 'wall time'} profiled):\n` +
    `  ${'layer'.padEnd(12)}${'device'.padEnd(7)}${'pass'.padEnd(17)}${'calls'.padStart(7)}${'seconds'.padStart(10)}${'share'.padStart(8)}  rate, fraction of peak\n` +
    rows
      .map((row) => {
        const rate =
          row.gflops !== undefined ? `${row.gflops.toFixed(2)} GFLOP/s${row.peakFraction === undefined ? '' : `, ${percent(row.peakFraction)} of peak`}` : row.gbps !== undefined ? `${row.gbps.toFixed(2)} GB/s, ${percent(row.bandwidthFraction)} of bandwidth` : '';
        return `  ${row.stage.padEnd(12)}${row.device.padEnd(7)}${row.pass.padEnd(17)}${String(row.calls).padStart(7)}${row.seconds.toFixed(3).padStart(10)}${percent(row.share).padStart(8)}  ${rate}${row.parts ? partsLine(row.parts) : ''}`;
      })
      .join('\n') +
    '\n' +
    (functions ? functionsTable(functions) : '');
  return (
    `machine peak (one thread): f32x4 multiply-add ${simdGflops.toFixed(1)} GFLOP/s, memory bandwidth ${memoryGBps.toFixed(1)} GB/s\n` +
    unit('NTK pair', profile.ntkPair) +
    unit('linear-region pair', profile.lrPair) +
    (profile.note ? `note: ${profile.note}\n` : '')
  );
}

function partsLine(parts: FusedBackwardParts): string {
  return (
    `\n    of which (sampled): products ${percent(parts.products)} at ${parts.productGflops.toFixed(2)} GFLOP/s, ${percent(parts.productPeakFraction)} of peak; ` +
    `BN input gradient ${percent(parts.batchnorm)}; pool ${percent(parts.pooling)}`
  );
}

function functionsTable(functions: readonly FunctionRow[]): string {
  const shown = functions.slice(0, FUNCTIONS_SHOWN);
  return `  sampled self time, by function:\n${shown.map((row) => `    ${percent(row.share).padStart(7)}  ${row.name}`).join('\n')}\n`;
}

const percent = (fraction: number | undefined) => (fraction === undefined ? '' : `${(100 * fraction).toFixed(1)} %`);

/**
 * The backend `choice` gives here, for the worker: a worker cannot point Dawn at SwiftShader (its
 * environment is a copy), so the choice and that set-up happen on this thread.
 */
async function resolvedBackend(choice: BackendChoice): Promise<BackendName> {
  const engine = await Engine.create({ backend: choice });
  const name = engine.backend.name;
  engine.dispose();
  return name;
}

async function run(options: ParsedOptions, io: CliIO): Promise<number> {
  const dataset = choiceOption(options, 'dataset', DATASET_NAMES) ?? 'cifar10';
  const dataPath = stringOption(options, 'data');
  const space = choiceOption(options, 'space', SPACE_NAMES);
  const batch = integerOption(options, 'batch', 2, 1024);
  const backendChoice = choiceOption(options, 'backend', BACKEND_CHOICES) ?? 'auto';
  const runs = integerOption(options, 'runs', 1, 100);
  const proxySize = stringOption(options, 'proxy-size');
  if (proxySize !== undefined && !flagOption(options, 'proxies')) throw new TenasInputError('--proxy-size sizes the proxy rows, which only --proxies adds: give both');
  const proxies = flagOption(options, 'proxies') && (proxySize === undefined ? {} : parseProxySize(proxySize, '--proxy-size'));
  const profile = flagOption(options, 'profile');
  // Listening before the first await: a Ctrl-C while the images load or the backend starts also exits 130.
  const controller = new AbortController();
  const stopListening = abortOnInterrupt(controller);
  let worker: ScoringWorker | undefined;
  try {
    const images = dataPath === undefined ? undefined : await loadImageSet(dataPath, dataset);
    const python = flagOption(options, 'pytorch') ? await findPytorchPython() : undefined;
    const settings = { space, dataset, batch, backend: await resolvedBackend(backendChoice), runs, images, proxies, profile };
    controller.signal.throwIfAborted();
    // The measurements run in a worker thread (WebAssembly runs at the same speed there): this thread
    // stays free, so Ctrl-C ends a run at once instead of after the network evaluation in progress.
    worker = await startScoringWorker();
    const measured = await unlessAborted(worker.call((service) => service.bench(settings)), controller.signal);
    // The worker shares this process, so its peak memory is the process's.
    const report: BenchReport = { ...measured, peakRssMb: peakRssMb() };
    if (python) {
      const setup = benchSetup({ space, dataset, batch, images });
      report.pytorch = await runPytorchBaseline(python, setup, runs ?? 2, { seconds: measured.ntkPairSeconds, kappa: measured.ntkPairKappa }, controller.signal);
    }
    // A Ctrl-C that came as the measurements finished still means: stop, print nothing.
    controller.signal.throwIfAborted();
    io.stdout.write(flagOption(options, 'json') ? toJson(report) : summary(report));
    return 0;
  } catch (error) {
    if (!isCancellation(error, controller.signal)) throw error;
    io.stderr.write('bench cancelled\n');
    return EXIT_CANCELLED;
  } finally {
    stopListening();
    await worker?.close();
  }
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time one NTK pair and one linear-region pair of round 0 on a backend',
  description: `Usage: tenas bench [options]

Times the two units a search repeats, on the round-0 supernet and one candidate: an NTK pair
(kappa of both networks) and a linear-region pair (both thin networks on 3 x 1000 patches).
Reports the best of several runs after one warm-up. With --profile, each pair runs as many times
again with its kernels timed call by call (forward, backward to inputs and to weights, BN, pooling,
Gram, eigen-solve), the fastest run reported, and each row shows its fraction of this machine's
f32x4 multiply-add peak or memory bandwidth, both measured first; then once more under V8's
sampling profiler, for each kernel function's share of the time. With --proxies it then times each zero-cost proxy once on one
architecture of NAS-Bench-201's evaluation network (C = 16, N = 5, batch 64), on its own and all of
them together with shared passes: minutes on a CPU (npm run bench:proxies). On a software WebGPU
adapter they are skipped, and the report says so, unless --proxy-size is given. With --pytorch the
same NTK pair (same networks, weights and batch) is then timed in PyTorch on one CPU thread, as the
released TE-NAS code computes it, and the report gives the ratio and how closely kappa agrees.`,
  options: {
    space: { type: 'string', value: SPACE_NAMES.join('|'), description: 'search space (default nb201)' },
    dataset: { type: 'string', value: 'NAME', description: `${DATASET_NAMES.join(', ')} (default cifar10)` },
    data: { type: 'string', value: 'PATH', description: 'images to sample inputs from (default: N(0, 1) inputs)' },
    batch: { type: 'string', value: 'N', description: 'NTK batch size, 2 to 1024 (default: 72 for nb201, 14 for darts, 24 for darts on imagenet-1k)' },
    backend: BACKEND_OPTION,
    runs: { type: 'string', value: 'N', description: 'timed runs after the warm-up, 1 to 100 (default 2)' },
    profile: { type: 'boolean', description: "also time each pair's kernels per layer kind and pass, against this machine's measured SIMD peak and memory bandwidth" },
    proxies: { type: 'boolean', description: 'also time each zero-cost proxy, and all of them together, on NB201\'s evaluation network (minutes on a CPU)' },
    'proxy-size': { type: 'string', value: 'C,N,B', description: 'with --proxies: the evaluation network\'s size (default 16,5,64; on a software WebGPU adapter they are skipped unless a size is given)' },
    pytorch: { type: 'boolean', description: 'also time the same NTK pair in PyTorch on one thread (python3 with torch; scripts/pytorch-ntk-pair.py) and compare kappa' },
    json: { type: 'boolean', description: 'print the report as JSON' },
    ...COMMON_OPTIONS,
  },
  run,
};

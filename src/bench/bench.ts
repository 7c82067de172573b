import { Engine } from '../api.js';
import type { ImageSet } from '../data/cifar.js';
import { datasetSpec, type DatasetName } from '../data/datasets.js';
import { Rng } from '../data/rng.js';
import { gaussianBatch, ntkBatch, regionPatches } from '../data/transforms.js';
import type { BackendChoice } from '../engine/create.js';
import { ntkFlops, regionFlops } from '../graph/flops.js';
import type { Network } from '../graph/ir.js';
import { initialiseWeights } from '../graph/weights.js';
import { searchSpace, type SpaceName } from '../spaces/index.js';
import { cloneMasks } from '../spaces/space.js';
import { benchProxies, type ProxyBenchOptions, type ProxyBenchReport } from './proxies.js';
import { profileUnits, type BenchProfile } from './profile.js';
import type { PytorchBaseline } from './pytorch-baseline.js';
import type { Weights } from '../graph/weights.js';

export interface BenchOptions {
  space?: SpaceName;
  dataset?: DatasetName;
  batch?: number;
  backend?: BackendChoice;
  /** Timed runs after one warm-up; the best is reported. */
  runs?: number;
  images?: ImageSet;
  /** Also profile the NTK pair and the linear-region pair per kernel (the fastest of `runs` profiled runs), against this machine's peak. */
  profile?: boolean;
  /** Peak resident memory of the process in MiB, where the platform can tell. */
  peakRssMb?: () => number | undefined;
  /** Also time every zero-cost proxy on NAS-Bench-201's evaluation network (default C = 16, N = 5, B = 64). */
  proxies?: ProxyBenchOptions | false;
}

export interface BenchReport {
  backend: string;
  backendInfo: Readonly<Record<string, string>>;
  space: SpaceName;
  dataset: DatasetName;
  batch: number;
  /** One NTK pair: the round-0 supernet and one candidate (κ of both, G formed and solved). */
  ntkPairSeconds: number;
  ntkPairGflop: number;
  /** κ of the supernet and of the candidate. */
  ntkPairKappa: readonly [number, number];
  /** One linear-region pair: both thin nets on 3 × 1000 patches. */
  lrPairSeconds: number;
  lrPairGflop: number;
  /** Achieved dense-layer GFLOP/s of the NTK pair. */
  gflops: number;
  peakRssMb: number | null;
  runs: number;
  /** GPU backends: compute dispatches and buffer read-backs of one NTK pair. */
  dispatchesPerNtkPair?: number;
  readbacksPerNtkPair?: number;
  /** With `profile`: where the time of each pair goes, per layer kind and pass. */
  profile?: BenchProfile;
  /** A row per zero-cost proxy, and all of them together (when asked for). */
  proxies?: ProxyBenchReport;
  /** Why the proxy rows were asked for but not measured (a software adapter). */
  proxiesSkipped?: string;
  /** With `--pytorch` (Node): the same NTK pair in PyTorch on one thread, in the same run. */
  pytorch?: PytorchBaseline;
}

/**
 * Why the proxy rows are left out on this backend, if they are: a software WebGPU adapter
 * (SwiftShader) is a CPU running the shaders, where one forward pass of the C = 16, N = 5 network at
 * batch 64 takes about two minutes and the proxies at the goldens' small size still take many
 * minutes. There they are measured only at a size asked for.
 */
function proxiesSkipped(info: Readonly<Record<string, string>>, asked: ProxyBenchOptions): string | undefined {
  const sized = asked.channels !== undefined || asked.cells !== undefined || asked.batch !== undefined;
  if (info.isFallbackAdapter !== 'true' || sized) return undefined;
  return 'software (fallback) adapter: the proxies would take tens of minutes here, so they were not measured; give a size (--proxy-size C,N,B, or proxies=C,N,B on the page) to measure them anyway';
}

async function best(runs: number, work: () => Promise<unknown>): Promise<number> {
  await work();
  let fastest = Infinity;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await work();
    fastest = Math.min(fastest, (performance.now() - started) / 1000);
  }
  return fastest;
}

/** What one benchmark run measures: the round-0 NTK pair and linear-region pair, with their inputs. */
export interface BenchSetup {
  readonly batch: number;
  /** The supernet and the candidate without op 3 of edge 0 (nor_conv_3x3 in NB201, sep_conv_5x5 in DARTS). */
  readonly networks: readonly [Network, Network];
  readonly thin: readonly [Network, Network];
  /** One draw shared by both networks of the pair (the candidate leaves some of it unused). */
  readonly weights: Weights;
  readonly thinWeights: Weights;
  readonly input: Float32Array;
  readonly patches: readonly Float32Array[];
}

/** The pairs a benchmark with these options times; the same options always give the same pairs. */
export function benchSetup(options: Pick<BenchOptions, 'space' | 'dataset' | 'batch' | 'images'> = {}): BenchSetup {
  const space = searchSpace(options.space ?? 'nb201');
  const spec = datasetSpec(options.dataset ?? 'cifar10');
  const batch = options.batch ?? (space.name === 'nb201' ? 72 : spec.name === 'imagenet-1k' ? 24 : 14);
  const origin = space.supernetMask();
  const candidate = cloneMasks(origin);
  candidate[0][0][3] = false;
  const networks: [Network, Network] = [space.ntkNetwork(origin, spec.classes, spec.inputSize), space.ntkNetwork(candidate, spec.classes, spec.inputSize)];
  const thin: [Network, Network] = [space.thinNetwork(origin, spec.classes), space.thinNetwork(candidate, spec.classes)];
  const rng = Rng.stream(0, 'bench');
  const weights = initialiseWeights(networks[0], 'pytorch-default', rng);
  const thinWeights = initialiseWeights(thin[0], 'pytorch-default', rng);
  const input = options.images ? ntkBatch(options.images, batch, spec, rng) : gaussianBatch(batch, 3, spec.inputSize, rng);
  const patches = [0, 1, 2].map(() => (options.images ? regionPatches(options.images, 1000, spec, rng) : gaussianBatch(1000, 1, 3, rng)));
  return { batch, networks, thin, weights, thinWeights, input, patches };
}

/** Times the two units a search repeats: the NTK pair and the linear-region pair of round 0 (see `benchSetup`). */
export async function runBenchmarks(options: BenchOptions = {}): Promise<BenchReport> {
  const space = searchSpace(options.space ?? 'nb201');
  const dataset = options.dataset ?? 'cifar10';
  const runs = options.runs ?? 2;
  const { batch, networks, thin, weights, thinWeights, input, patches } = benchSetup(options);
  const engine = await Engine.create({ backend: options.backend ?? 'auto' });
  try {
    let dispatches = 0;
    let readbacks = 0;
    const ntkPairKappa: [number, number] = [NaN, NaN];
    const ntkPair = async (on: Engine) => {
      dispatches = 0;
      readbacks = 0;
      for (const [index, network] of networks.entries()) {
        ntkPairKappa[index] = (await on.scoreNtk(network, weights, input, batch)).kappa;
        dispatches += on.backend.lastStats?.dispatches ?? 0;
        readbacks += on.backend.lastStats?.readbacks ?? 0;
      }
    };
    const lrPair = async (on: Engine) => {
      for (const network of thin) await on.scoreRegions(network, thinWeights, [...patches], 1000);
    };
    const ntkPairSeconds = await best(runs, () => ntkPair(engine));
    const counts = { dispatchesPerNtkPair: dispatches, readbacksPerNtkPair: readbacks };
    const lrPairSeconds = await best(runs, () => lrPair(engine));
    const profile = options.profile ? await profileUnits(engine.backend.name, { ntkPair, lrPair }, { runs, sampledOn: engine }) : undefined;
    const skipped = options.proxies ? proxiesSkipped(engine.backend.info, options.proxies) : undefined;
    const proxies = options.proxies && !skipped ? await benchProxies(engine.backend, engine.linalg, { images: options.images, ...options.proxies }) : undefined;
    const ntkPairGflop = (ntkFlops(networks[0], batch) + ntkFlops(networks[1], batch)) / 1e9;
    const lrPairGflop = (regionFlops(thin[0], 3000) + regionFlops(thin[1], 3000)) / 1e9;
    return {
      backend: engine.backend.name,
      backendInfo: engine.backend.info,
      space: space.name,
      dataset,
      batch,
      ntkPairSeconds,
      ntkPairGflop,
      ntkPairKappa,
      lrPairSeconds,
      lrPairGflop,
      gflops: ntkPairGflop / ntkPairSeconds,
      peakRssMb: options.peakRssMb?.() ?? null,
      runs,
      ...(engine.backend.lastStats ? counts : {}),
      ...(profile ? { profile } : {}),
      ...(proxies && { proxies }),
      ...(skipped && { proxiesSkipped: skipped }),
    };
  } finally {
    engine.dispose();
  }
}

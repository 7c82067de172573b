import { Engine, type SearchRequest, type SearchResult } from '../../api.js';
import type { ImageSet } from '../../data/cifar.js';
import { DATASET_NAMES } from '../../data/datasets.js';
import { loadEmbeddedCifar } from '../../data/embedded.js';
import { loadImageSet } from '../../data/files.js';
import { BACKEND_CHOICES } from '../../engine/create.js';
import { TenasInputError } from '../../errors.js';
import { COMBINE_METHODS, resolveSettings } from '../../search/settings.js';
import { DEFAULT_INDICATOR_NAMES, indicatorNames, parseIndicatorList } from '../../metrics/registry.js';
import { loadNb201Table, type BenchmarkEntry } from '../../spaces/nb201/table.js';
import { WORKERS_HELP, choiceOption, flagOption, integerOption, workersOption, stringOption, type ParsedOptions } from '../args.js';
import { BACKEND_OPTION, COMMON_OPTIONS, type Command } from '../command.js';
import { abortOnInterrupt, EXIT_CANCELLED, isCancellation } from '../interrupt.js';
import { formatSeconds, toJson, type CliIO } from '../output.js';
import { prepareOutputFile, writeOutputFile } from '../output-file.js';
import { ProgressBar, ProgressLines, silentProgress, type ProgressReporter } from '../progress.js';
import { SPACE_NAMES } from '../../spaces/index.js';

const MAX_SEED = 2 ** 31 - 1;

interface SearchOptions {
  request: SearchRequest;
  dataPath: string | undefined;
  backend: (typeof BACKEND_CHOICES)[number];
  jsonPath: string | undefined;
  quiet: boolean;
}

function readSearchOptions(options: ParsedOptions): SearchOptions {
  const synthetic = flagOption(options, 'synthetic');
  const dataPath = stringOption(options, 'data');
  if (synthetic && dataPath !== undefined) throw new TenasInputError('--synthetic and --data exclude each other; pass one of them');
  const indicatorsText = stringOption(options, 'indicators');
  const request: SearchRequest = {
    space: choiceOption(options, 'space', SPACE_NAMES),
    dataset: choiceOption(options, 'dataset', DATASET_NAMES),
    protocol: choiceOption(options, 'protocol', ['reference', 'paper'] as const),
    seed: integerOption(options, 'seed', 0, MAX_SEED),
    ntkBatch: integerOption(options, 'batch', 2, 1024),
    repeats: integerOption(options, 'repeats', 1, 100),
    regionPatches: integerOption(options, 'patches', 2, 100_000),
    pruneNumber: integerOption(options, 'prune-number', 1, 7),
    indicators: indicatorsText === undefined ? undefined : parseIndicatorList(indicatorsText),
    combine: choiceOption(options, 'combine', COMBINE_METHODS),
    synthetic,
    workers: workersOption(options),
  };
  return {
    request,
    dataPath,
    backend: choiceOption(options, 'backend', BACKEND_CHOICES) ?? 'auto',
    jsonPath: stringOption(options, 'json'),
    quiet: flagOption(options, 'quiet'),
  };
}

function progressReporter(io: CliIO, quiet: boolean): ProgressReporter {
  if (quiet) return silentProgress;
  return io.stderr.isTTY ? new ProgressBar(io.stderr) : new ProgressLines(io.stderr);
}

function summary(result: SearchResult, benchmark: BenchmarkEntry | undefined): string {
  const lines = [`architecture: ${result.arch}`];
  if (benchmark) {
    lines.push(
      `NAS-Bench-201 index: ${benchmark.index}`,
      `NAS-Bench-201 test accuracy (200 epochs): CIFAR-10 ${benchmark.cifar10.toFixed(2)}%, ` +
        `CIFAR-100 ${benchmark.cifar100.toFixed(2)}%, ImageNet16-120 ${benchmark.imagenet16.toFixed(2)}%`,
    );
  }
  const { indicators, combine } = result.settings;
  if (indicators.join(',') !== DEFAULT_INDICATOR_NAMES.join(',') || combine !== 'ranksum') lines.push(`indicators: ${indicators.join(', ')} (combined by ${combine === 'az' ? "AZ-NAS's aggregation" : 'rank sum'})`);
  lines.push(
    `search time: ${formatSeconds(result.timings.totalSeconds)} (${result.history.length} rounds, ${result.backend.name} backend, ` +
      `${result.settings.protocol} protocol, ${result.data})`,
  );
  return `${lines.join('\n')}\n`;
}

async function searchImages(dataPath: string | undefined, request: SearchRequest): Promise<ImageSet | undefined> {
  if (request.synthetic) return undefined;
  return dataPath === undefined ? loadEmbeddedCifar() : loadImageSet(dataPath, request.dataset ?? 'cifar10');
}

async function run(options: ParsedOptions, io: CliIO): Promise<number> {
  const { request, dataPath, backend, jsonPath, quiet } = readSearchOptions(options);
  const settings = resolveSettings(request);

  const jsonFile = jsonPath === undefined ? undefined : await prepareOutputFile(jsonPath, '--json');
  const images = await searchImages(dataPath, request);
  if (images && dataPath === undefined && settings.dataset !== 'cifar10' && !quiet) {
    io.stderr.write(`note: no --data given, so the ${settings.dataset} search samples the embedded CIFAR-10 images (with ${settings.dataset}'s input size, normalisation and classes)\n`);
  }
  const table = settings.space === 'nb201' ? await loadNb201Table() : undefined;

  const engine = await Engine.create({ backend });
  if (flagOption(options, 'verbose')) {
    const facts = Object.entries(engine.backend.info).map(([key, value]) => `${key}: ${value}`).join('; ');
    io.stderr.write(`backend: ${engine.backend.name} (${engine.backendReason ?? 'chosen'}; ${facts})\n`);
  }
  const controller = new AbortController();
  const stopListening = abortOnInterrupt(controller);
  const progress = progressReporter(io, quiet);
  try {
    const result = await engine.search({
      ...request,
      images,
      benchmark: table,
      signal: controller.signal,
      onProgress: (update) => progress.update(update),
    });
    progress.finish();
    const benchmark = table?.lookup(result.arch);
    const report = benchmark ? { ...result, benchmark: { cifar10: benchmark.cifar10, cifar100: benchmark.cifar100, imagenet16: benchmark.imagenet16 } } : result;
    if (jsonFile !== undefined) await writeOutputFile(jsonFile, toJson(report));
    io.stdout.write(summary(result, benchmark));
    if (jsonPath !== undefined && !quiet) io.stderr.write(`wrote ${jsonPath}\n`);
    return 0;
  } catch (error) {
    progress.finish();
    if (isCancellation(error, controller.signal)) {
      io.stderr.write('search cancelled\n');
      return EXIT_CANCELLED;
    }
    throw error;
  } finally {
    stopListening();
    engine.dispose();
  }
}

export const searchCommand: Command = {
  name: 'search',
  summary: 'run a TE-NAS search (default: reference protocol, NB201, embedded CIFAR-10 images)',
  description: `Usage: tenas search [options]

Prunes the supernet op by op, ranking candidates by the NTK condition number and the number of
linear regions, until one architecture is left. Progress goes to stderr, the result to stdout.
--indicators chooses other registered indicators (the zero-cost proxies are measured on the
supernet with the NTK's weights, batch and images) and --combine how their per-candidate deltas
become a pruning order: TE-NAS's rank sum or AZ-NAS's aggregation Σ ln(rank/n).`,
  options: {
    space: { type: 'string', value: SPACE_NAMES.join('|'), description: 'search space (default nb201)' },
    dataset: { type: 'string', value: 'NAME', description: `dataset shapes and normalisation: ${DATASET_NAMES.join(', ')} (default cifar10)` },
    data: { type: 'string', value: 'PATH', description: 'images: CIFAR .bin file, folder of .bin files or of JPEG/PNG images, or .npy array (default: embedded CIFAR-10 test images 0-999)' },
    synthetic: { type: 'boolean', description: 'use N(0, 1) inputs instead of images' },
    protocol: { type: 'string', value: 'reference|paper', description: 'reference = the released code, paper = the paper text (default reference)' },
    seed: { type: 'string', value: 'N', description: `random seed, 0 to ${MAX_SEED} (default 0)` },
    batch: { type: 'string', value: 'N', description: 'NTK batch size, 2 to 1024 (default: 72 for nb201, 14 for darts; 32 with --protocol paper)' },
    repeats: { type: 'string', value: 'N', description: 'measurements per candidate, 1 to 100 (default 3)' },
    patches: { type: 'string', value: 'N', description: 'linear-region patches per batch (3 batches), 2 to 100000 (default 1000)' },
    indicators: {
      type: 'string',
      value: 'LIST|all',
      description: `indicators that rank the candidates, comma-separated, or all: ${indicatorNames().join(', ')} (default ${DEFAULT_INDICATOR_NAMES.join(',')}, TE-NAS)`,
    },
    combine: { type: 'string', value: COMBINE_METHODS.join('|'), description: "how the indicators' ranks combine: ranksum (TE-NAS) or az (AZ-NAS) (default ranksum)" },
    'prune-number': { type: 'string', value: 'N', description: 'ops pruned per edge per round, 1 to 7 (default: 1 for nb201, 3 for darts)' },
    backend: BACKEND_OPTION,
    workers: { type: 'string', value: 'N', description: WORKERS_HELP },
    json: { type: 'string', value: 'FILE', description: 'write the full result (history, timings, benchmark) as JSON to FILE' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress output' },
    ...COMMON_OPTIONS,
  },
  run,
};

import { Engine } from '../../api.js';
import { datasetSpec } from '../../data/datasets.js';
import { EMBEDDED_CIFAR_SOURCE, loadEmbeddedCifar } from '../../data/embedded.js';
import { BACKEND_CHOICES } from '../../engine/create.js';
import { TenasInputError } from '../../errors.js';
import {
  BENCHMARK_DATASETS,
  DATASET_LABELS,
  PAPER_SEARCH_ACCURACY,
  PAPER_SPACE_OPTIMUM,
  benchmarkAccuracy,
  type BenchmarkDataset,
} from '../../evaluation/benchmark.js';
import { mean, sampleStd } from '../../evaluation/statistics.js';
import { resolveSettings } from '../../search/settings.js';
import { loadNb201Table } from '../../spaces/nb201/table.js';
import { WORKERS_HELP, choiceOption, flagOption, integerOption, workersOption, requireOption, stringOption, type ParsedOptions } from '../args.js';
import { BACKEND_OPTION, COMMON_OPTIONS, type Command } from '../command.js';
import { abortOnInterrupt, EXIT_CANCELLED, isCancellation } from '../interrupt.js';
import { formatSeconds, toJson, type CliIO } from '../output.js';
import { prepareOutputFile, writeOutputFile } from '../output-file.js';
import { SPACE_NAMES } from '../../spaces/index.js';

const MAX_SEEDS = 1000;

interface SeedResult {
  seed: number;
  arch: string;
  nb201Index: number;
  accuracy: number;
  seconds: number;
}

/** How the embedded CIFAR-10 images stand in for the dataset; stated in every output. */
function dataNote(dataset: BenchmarkDataset): string {
  if (dataset === 'cifar10') return `${EMBEDDED_CIFAR_SOURCE} (the paper searched on the CIFAR-10 training set)`;
  const spec = datasetSpec(dataset);
  return (
    `${EMBEDDED_CIFAR_SOURCE}, used with ${DATASET_LABELS[dataset]}'s normalisation and input shape ` +
    `(${spec.inputSize}×${spec.inputSize}, ${spec.classes} classes) in place of ${DATASET_LABELS[dataset]} images, which are not shipped`
  );
}

const plusMinus = (values: readonly number[]): string => {
  const std = sampleStd(values);
  return `${mean(values).toFixed(2)} ± ${Number.isFinite(std) ? std.toFixed(2) : 'n/a'}`;
};

function alignedPairs(pairs: [string, string][]): string[] {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}

async function run(options: ParsedOptions, io: CliIO): Promise<number> {
  if (choiceOption(options, 'space', SPACE_NAMES) === 'darts') {
    throw new TenasInputError('reproduce supports --space nb201 only: it looks up the found architectures in the NAS-Bench-201 table');
  }
  const seeds = requireOption(integerOption(options, 'seeds', 1, MAX_SEEDS), 'seeds', 'how many searches to run (seeds 0 .. K-1); the paper used 4');
  const dataset = choiceOption(options, 'dataset', BENCHMARK_DATASETS) ?? 'cifar10';
  const workers = workersOption(options);
  const ntkBatch = integerOption(options, 'batch', 2, 1024);
  const repeats = integerOption(options, 'repeats', 1, 100);
  const out = stringOption(options, 'out');
  const backend = choiceOption(options, 'backend', BACKEND_CHOICES) ?? 'auto';
  const quiet = flagOption(options, 'quiet');
  const settings = resolveSettings({ space: 'nb201', dataset, ntkBatch, repeats });

  const outFile = out === undefined ? undefined : await prepareOutputFile(out, '--out');
  const images = await loadEmbeddedCifar();
  const table = await loadNb201Table();
  const data = dataNote(dataset);
  const label = DATASET_LABELS[dataset];
  if (!quiet) io.stderr.write(`data: ${data}\n`);

  const engine = await Engine.create({ backend });
  const controller = new AbortController();
  const stopListening = abortOnInterrupt(controller);
  const results: SeedResult[] = [];
  try {
    for (let seed = 0; seed < seeds; seed++) {
      const result = await engine.search({ ...settings, seed, images, workers, benchmark: table, signal: controller.signal });
      const entry = table.lookup(result.arch);
      const found: SeedResult = { seed, arch: result.arch, nb201Index: entry.index, accuracy: benchmarkAccuracy(entry, dataset), seconds: result.timings.totalSeconds };
      results.push(found);
      if (!quiet) io.stderr.write(`seed ${seed}: ${label} ${found.accuracy.toFixed(2)}% ${found.arch} (${formatSeconds(found.seconds)})\n`);
    }
  } catch (error) {
    if (isCancellation(error, controller.signal)) {
      io.stderr.write(`cancelled after ${results.length} of ${seeds} seeds\n`);
      return EXIT_CANCELLED;
    }
    throw error;
  } finally {
    stopListening();
    engine.dispose();
  }

  const accuracies = results.map((result) => result.accuracy);
  const paper = PAPER_SEARCH_ACCURACY[dataset];
  const tableOptimum = Math.max(...table.entries.map((entry) => benchmarkAccuracy(entry, dataset)));
  const summary = {
    space: 'nb201',
    dataset,
    protocol: settings.protocol,
    ntkBatch: settings.ntkBatch,
    repeats: settings.repeats,
    workers: workers ?? 0,
    backend: engine.backend.name,
    data,
    accuracy: `NAS-Bench-201 ${label} test accuracy (200 epochs, %)`,
    seeds: results,
    mean: mean(accuracies),
    sampleStd: sampleStd(accuracies),
    paper: { mean: paper.mean, std: paper.std, seeds: 4 },
    spaceOptimum: PAPER_SPACE_OPTIMUM[dataset],
    tableOptimum,
  };
  if (outFile !== undefined) await writeOutputFile(outFile, toJson(summary));

  const lines = [
    `TE-NAS on NAS-Bench-201, ${label}: ${seeds} seed(s), ${settings.protocol} protocol, NTK batch ${settings.ntkBatch}, ${settings.repeats} repeats, ${engine.backend.name} backend`,
    `data: ${data}`,
    'seed  accuracy  architecture',
    ...results.map((result) => `${String(result.seed).padEnd(4)}  ${result.accuracy.toFixed(2).padStart(8)}  ${result.arch}`),
    ...alignedPairs([
      [`this run (mean ± sample std, ${seeds} seed(s)):`, plusMinus(accuracies)],
      ['paper (TE-NAS, 4 seeds):', `${paper.mean.toFixed(2)} ± ${paper.std.toFixed(2)}`],
      ['optimum in the space:', PAPER_SPACE_OPTIMUM[dataset].toFixed(2)],
    ]),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  if (out !== undefined && !quiet) io.stderr.write(`wrote ${out}\n`);
  return 0;
}

export const reproduceCommand: Command = {
  name: 'reproduce',
  summary: "run the NB201 search for several seeds and compare the found accuracies with the paper's",
  description: `Usage: tenas reproduce --space nb201 --seeds K [options]

Runs the TE-NAS search (reference protocol, embedded CIFAR-10 images) for seeds 0 .. K-1, looks up
the found architectures in the NAS-Bench-201 table and prints the mean ± sample std of their test
accuracy beside the paper's result and the best accuracy in the space. For cifar100 and
imagenet16-120 the embedded CIFAR-10 images are used with that dataset's normalisation and input
shape (its images are not shipped); the output says so.`,
  options: {
    space: { type: 'string', value: 'nb201', description: 'search space (only nb201 has benchmark accuracies)' },
    seeds: { type: 'string', value: 'K', description: `number of searches, seeds 0 .. K-1, 1 to ${MAX_SEEDS} (required; the paper used 4)` },
    dataset: { type: 'string', value: 'NAME', description: `${BENCHMARK_DATASETS.join(', ')} (default cifar10)` },
    workers: { type: 'string', value: 'N', description: WORKERS_HELP },
    batch: { type: 'string', value: 'B', description: 'NTK batch size, 2 to 1024 (default 72)' },
    repeats: { type: 'string', value: 'R', description: 'measurements per candidate, 1 to 100 (default 3)' },
    backend: BACKEND_OPTION,
    out: { type: 'string', value: 'FILE', description: 'write the per-seed architectures and accuracies and the summary as JSON to FILE' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress output' },
    ...COMMON_OPTIONS,
  },
  run,
};

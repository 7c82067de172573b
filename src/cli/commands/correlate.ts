import { Engine } from '../../api.js';
import { loadEmbeddedCifar } from '../../data/embedded.js';
import { BACKEND_CHOICES } from '../../engine/create.js';
import { TenasInputError, throwIfAborted, unlessAborted } from '../../errors.js';
import { BENCHMARK_DATASETS, type BenchmarkDataset } from '../../evaluation/benchmark.js';
import { correlationReport, correlationReportJson, formatCorrelationTable, requireBenchmarkDataset, type CorrelationReport } from '../../evaluation/correlation-report.js';
import { expandFileList, openRowFile, readRowFiles } from '../../evaluation/row-files.js';
import { csvHeaderOf, describeScoringKey, formatRow, mergeRows, rowFormatOf, sameScoringKey, type CorrelationRow } from '../../evaluation/rows.js';
import { DEFAULT_INDICATOR_NAMES, indicatorNames, parseIndicatorList, resolveIndicators } from '../../metrics/registry.js';
import { correlationScatterSvg } from '../../evaluation/correlation-scatter.js';
import { correlationRow, scoringKeyOfSettings } from '../../evaluation/scored-rows.js';
import { MAX_SHARDS, WHOLE_SELECTION, parseShard, selectArchs, shardOf } from '../../evaluation/selection.js';
import { formatRunStatus, readShardFiles, runStatus } from '../../evaluation/shard-status.js';
import { startArchScoringWorker } from '../../pool/index.js';
import { DEFAULT_EVAL_NETWORK, resolveSettings } from '../../search/settings.js';
import { loadNb201Table } from '../../spaces/nb201/table.js';
import { choiceOption, flagOption, integerOption, requireOption, stringOption, type ParsedOptions } from '../args.js';
import { BACKEND_OPTION, COMMON_OPTIONS, type Command } from '../command.js';
import { abortOnInterrupt, EXIT_CANCELLED, isCancellation } from '../interrupt.js';
import { toJson, type CliIO } from '../output.js';
import { prepareOutputFile, writeOutputFile, type OutputFile } from '../output-file.js';
import { SPACE_NAMES } from '../../spaces/index.js';

const MAX_SEED = 2 ** 31 - 1;
const SCORING_ONLY_OPTIONS = ['sample', 'all', 'shard', 'shards', 'seed', 'batch', 'repeats', 'patches', 'protocol', 'backend', 'indicators', 'channels', 'cells'] as const;

async function writeScatterPlot(plot: OutputFile, rows: readonly CorrelationRow[], report: CorrelationReport): Promise<void> {
  await writeOutputFile(plot, correlationScatterSvg(rows, await loadNb201Table(), report));
}

/** `--combine a,b,c`: the indicators of one extra rank sum. */
function combineOption(options: ParsedOptions): string[][] {
  const text = stringOption(options, 'combine');
  return text === undefined ? [] : [resolveIndicators(text.split(',').map((name) => name.trim()), '--combine').map((indicator) => indicator.name)];
}

async function printReport(io: CliIO, rows: readonly CorrelationRow[], dataset: BenchmarkDataset, options: ParsedOptions, extra: Record<string, unknown>): Promise<CorrelationReport> {
  const report = correlationReport(rows, await loadNb201Table(), dataset, combineOption(options));
  io.stdout.write(flagOption(options, 'json') ? toJson({ ...correlationReportJson(report), ...extra }) : formatCorrelationTable(report));
  return report;
}

async function runMerge(options: ParsedOptions, io: CliIO, mergeList: string): Promise<number> {
  const stray = SCORING_ONLY_OPTIONS.filter((name) => options.has(name));
  if (stray.length > 0) {
    throw new TenasInputError(`--merge joins finished rows and scores nothing; leave out ${stray.map((name) => `--${name}`).join(', ')}`);
  }
  const out = stringOption(options, 'out');
  if (out !== undefined) rowFormatOf(out);
  const outFiles = out === undefined ? undefined : { rows: await prepareOutputFile(out, '--out'), plot: await prepareOutputFile(`${out}.svg`, '--out') };
  const files = expandFileList(mergeList);
  const sourced = readRowFiles(files);
  if (sourced.length === 0) throw new TenasInputError(`--merge: ${files.join(', ')} hold no rows`);
  const rows = mergeRows(sourced);
  const dataset = requireBenchmarkDataset(rows[0].dataset);
  const requested = choiceOption(options, 'dataset', BENCHMARK_DATASETS);
  if (requested !== undefined && requested !== dataset) {
    throw new TenasInputError(`--dataset ${requested} does not match the rows, which were scored for ${dataset}; leave out --dataset`);
  }
  io.stderr.write(`merged ${rows.length} architectures from ${sourced.length} rows in ${files.length} file(s)\n`);
  const report = await printReport(io, rows, dataset, options, { files, out: out ?? null });
  if (out !== undefined && outFiles !== undefined) {
    const format = rowFormatOf(out);
    const text = (format === 'csv' ? csvHeaderOf(rows[0]) : '') + rows.map((row) => formatRow(row, format)).join('');
    await writeOutputFile(outFiles.rows, text);
    await writeScatterPlot(outFiles.plot, rows, report);
    if (!flagOption(options, 'quiet')) io.stderr.write(`wrote ${out} and ${out}.svg\n`);
  }
  return 0;
}

function selectionOptions(options: ParsedOptions): { sample: number | undefined } {
  const sample = integerOption(options, 'sample', 1, 15_625);
  if ((sample === undefined) === !flagOption(options, 'all')) throw new TenasInputError('choose which architectures to score: --sample N (a seeded random sample) or --all (all 15,625)');
  return { sample };
}

function runStatusReport(options: ParsedOptions, io: CliIO, folder: string): number {
  const stray = ['merge', 'out', 'shard', 'seed', 'batch', 'repeats', 'patches', 'protocol', 'backend', 'dataset', 'space', 'indicators', 'channels', 'cells', 'combine'].filter((name) => options.has(name));
  if (stray.length > 0) throw new TenasInputError(`--status reads the shard files and needs only --shards and --sample N or --all; leave out ${stray.map((name) => `--${name}`).join(', ')}`);
  const shards = requireOption(integerOption(options, 'shards', 1, MAX_SHARDS), 'shards', 'the number of shards of the run (N of --shard K/N)');
  const { sample } = selectionOptions(options);
  const status = runStatus({ sample, shards }, readShardFiles(folder), Date.now());
  io.stdout.write(flagOption(options, 'json') ? toJson({ folder, ...status }) : formatRunStatus(status));
  return 0;
}

async function runScoring(options: ParsedOptions, io: CliIO): Promise<number> {
  if (choiceOption(options, 'space', SPACE_NAMES) === 'darts') {
    throw new TenasInputError('correlate supports --space nb201 only: benchmark accuracies exist for NAS-Bench-201 architectures');
  }
  const { sample } = selectionOptions(options);
  if (options.has('shards')) throw new TenasInputError('--shards goes with --status; to score one shard use --shard K/N');
  const dataset = choiceOption(options, 'dataset', BENCHMARK_DATASETS) ?? 'cifar10';
  const indicatorsText = stringOption(options, 'indicators');
  const indicators = indicatorsText === undefined ? [...DEFAULT_INDICATOR_NAMES] : parseIndicatorList(indicatorsText);
  const onEvalNetwork = resolveIndicators(indicators).some((indicator) => indicator.network === 'eval');
  const batch = integerOption(options, 'batch', 2, 1024);
  const channels = integerOption(options, 'channels', 1, 256);
  const cells = integerOption(options, 'cells', 1, 20);
  if (!onEvalNetwork && (channels !== undefined || cells !== undefined)) {
    throw new TenasInputError(`--channels and --cells size NB201's evaluation network, which none of the indicators ${indicators.join(',')} uses; leave them out or add a proxy to --indicators`);
  }
  const settings = resolveSettings({
    space: 'nb201',
    dataset,
    protocol: choiceOption(options, 'protocol', ['reference', 'paper'] as const),
    seed: integerOption(options, 'seed', 0, MAX_SEED),
    ntkBatch: batch,
    repeats: integerOption(options, 'repeats', 1, 100) ?? 1,
    regionPatches: integerOption(options, 'patches', 2, 100_000),
    indicators,
    ...(onEvalNetwork && {
      evalNetwork: { channels: channels ?? DEFAULT_EVAL_NETWORK.channels, cells: cells ?? DEFAULT_EVAL_NETWORK.cells, batch: batch ?? DEFAULT_EVAL_NETWORK.batch },
    }),
  });
  const indicatorKeys = resolveIndicators(settings.indicators).map((indicator) => indicator.key);
  // Checked before any scoring: a --combine of indicators this run does not measure would only fail at the end.
  for (const list of combineOption(options)) {
    const missing = list.filter((name) => !settings.indicators.includes(name));
    if (missing.length > 0) throw new TenasInputError(`--combine names ${missing.join(', ')}, which --indicators does not measure; add it to --indicators`);
  }
  const shardText = stringOption(options, 'shard');
  const shard = shardText === undefined ? WHOLE_SELECTION : parseShard(shardText);
  const out = requireOption(stringOption(options, 'out'), 'out', 'the CSV or JSONL file that receives one row per architecture (and is resumed from)');
  const backendChoice = choiceOption(options, 'backend', BACKEND_CHOICES) ?? 'auto';
  const quiet = flagOption(options, 'quiet');

  rowFormatOf(out);
  // The rows are appended and read back on resume, so they must go to a regular file.
  await prepareOutputFile(out, '--out', { regularOnly: true });
  const plot = await prepareOutputFile(`${out}.svg`, '--out');
  const key = scoringKeyOfSettings(settings);
  const archs = shardOf(selectArchs({ sample, seed: settings.seed }), shard);
  const file = openRowFile(out, resolveIndicators(settings.indicators), settings.evalNetwork !== undefined);
  const mismatch = file.existing.find((entry) => !sameScoringKey(entry.row, key, indicatorKeys));
  if (mismatch !== undefined) {
    throw new TenasInputError(
      `${out} holds rows scored with ${describeScoringKey(mismatch.row)} but this run uses ${describeScoringKey(key, indicatorKeys)}; use the same options or another --out`,
    );
  }
  // Conflicting duplicates would only fail the report at the end, after hours of scoring.
  if (file.existing.length > 0) mergeRows(file.existing);
  if (file.droppedTruncatedLine) io.stderr.write(`${out}: removed an incomplete last line (left by an interrupted write)\n`);
  const done = new Set(file.existing.map((entry) => entry.row.archIndex));
  const todo = archs.filter((arch) => !done.has(arch.archIndex));
  const shardNote = shard.count > 1 ? ` (shard ${shard.index}/${shard.count})` : '';
  if (!quiet) io.stderr.write(`${archs.length} architecture(s) selected${shardNote}: ${archs.length - todo.length} already in ${out}, ${todo.length} to score\n`);

  const newRows: CorrelationRow[] = [];
  const controller = new AbortController();
  if (todo.length > 0) {
    const images = await loadEmbeddedCifar();
    const engine = await Engine.create({ backend: backendChoice });
    const backend = engine.backend.name;
    engine.dispose();
    const stopListening = abortOnInterrupt(controller);
    // Scoring runs in a worker thread: this thread stays free, so Ctrl-C ends it at once, even in
    // the middle of a measurement that takes seconds.
    const worker = await startArchScoringWorker({ backend, settings, images });
    try {
      for (const [position, arch] of todo.entries()) {
        throwIfAborted(controller.signal);
        const started = performance.now();
        const score = await unlessAborted(worker.score(arch), controller.signal);
        const row = correlationRow(key, arch, score, backend, (performance.now() - started) / 1000);
        file.append(row);
        newRows.push(row);
        if (!quiet) {
          const scores = Object.entries(score.values).map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toPrecision(6)}`);
          io.stderr.write(`[${position + 1}/${todo.length}] arch ${arch.archIndex}: ${scores.join(', ')} (${row.seconds.toFixed(1)} s)\n`);
        }
      }
    } catch (error) {
      if (!isCancellation(error, controller.signal)) throw error;
    } finally {
      stopListening();
      await worker.close();
    }
  }
  io.stderr.write(`scored ${newRows.length}, skipped ${archs.length - todo.length}\n`);
  if (controller.signal.aborted) {
    // Rows are appended whole, so the file holds every architecture finished before Ctrl-C.
    io.stderr.write(`interrupted: ${out} holds every row scored so far; rerun the same command to resume\n`);
    return EXIT_CANCELLED;
  }

  const selected = new Set(archs.map((arch) => arch.archIndex));
  const rows = mergeRows([...file.existing, ...newRows.map((row) => ({ row, source: `${out} (this run)` }))]).filter((row) => selected.has(row.archIndex));
  const outside = done.size - [...done].filter((index) => selected.has(index)).length;
  if (outside > 0 && !quiet) io.stderr.write(`${outside} row(s) of ${out} lie outside this selection and are not in the report\n`);
  const report = await printReport(io, rows, dataset, options, { file: out, shard, scored: newRows.length, skipped: archs.length - todo.length });
  await writeScatterPlot(plot, rows, report);
  if (!quiet) io.stderr.write(`wrote ${out} and ${out}.svg\n`);
  return 0;
}

async function run(options: ParsedOptions, io: CliIO): Promise<number> {
  const statusFolder = stringOption(options, 'status');
  if (statusFolder !== undefined) return runStatusReport(options, io, statusFolder);
  const mergeList = stringOption(options, 'merge');
  return mergeList === undefined ? runScoring(options, io) : runMerge(options, io, mergeList);
}

export const correlateCommand: Command = {
  name: 'correlate',
  summary: 'rank-correlate kappa, R, the zero-cost proxies and their combinations with NAS-Bench-201 accuracies',
  description: `Usage: tenas correlate --space nb201 (--sample N | --all) --out FILE [options]
       tenas correlate --merge FILES [--out FILE] [--json]
       tenas correlate --status DIR --shards N (--sample N | --all) [--json]

Scores single-path NAS-Bench-201 architectures with the search's measurements (kappa of the NTK
network, R of the thin network; reference protocol: PyTorch-default weights) and reports Kendall
tau-b and Spearman rho of kappa, R and rank(kappa) + rank(R) against the benchmark's test accuracy
(lower kappa and higher R are better). --indicators adds or chooses the zero-cost proxies, measured
on NB201's evaluation network (--channels, --cells, --batch), all of one architecture in one pass
over its network; with AZ-NAS's four proxies their aggregation is reported too, and --combine a,b,c
adds a rank sum. Rows are appended to FILE (.csv or .jsonl) as they finish;
rerunning with the same FILE skips the architectures already there. A scatter plot is written to
FILE.svg. The random streams of an architecture depend only on (seed, its index), so scores do not
depend on the sample, the sharding or the order.

--shard K/N scores the K-th (1-based) of N interleaved slices of the selection: positions p with
p mod N = K - 1. Run the N shards anywhere (a job array), then join them with
--merge 'shard-*.csv' (a comma-separated list; * and ? wildcards are expanded by tenas).
examples/slurm/submit.sh (in the package) does both on a SLURM cluster. --status DIR summarises a
running job array from its shard files DIR/NAME-K.csv: rows done per shard out of its share, time
per architecture, the shards that have not written for a while, and an ETA for the whole array.`,
  options: {
    space: { type: 'string', value: 'nb201', description: 'search space (only nb201 has benchmark accuracies)' },
    sample: { type: 'string', value: 'N', description: 'score N architectures from a shuffle of the space seeded by --seed (a smaller N is a prefix of a larger one)' },
    all: { type: 'boolean', description: 'score all 15,625 architectures' },
    seed: { type: 'string', value: 'S', description: `seed of the sample and of every random stream, 0 to ${MAX_SEED} (default 0)` },
    dataset: { type: 'string', value: 'NAME', description: `${BENCHMARK_DATASETS.join(', ')} (default cifar10): normalisation, input size, classes and the accuracy column` },
    indicators: {
      type: 'string',
      value: 'LIST|all',
      description: `indicators to score, comma-separated, or all: ${indicatorNames().join(', ')} (default ${DEFAULT_INDICATOR_NAMES.join(',')})`,
    },
    channels: { type: 'string', value: 'C', description: "base width of NB201's evaluation network (the proxies' network), 1 to 256 (default 16)" },
    cells: { type: 'string', value: 'N', description: 'cells per stage of the evaluation network, 1 to 20 (default 5)' },
    combine: { type: 'string', value: 'a,b,c', description: 'also report the rank sum of these indicators (all among --indicators)' },
    batch: { type: 'string', value: 'B', description: 'NTK and evaluation-network batch size, 2 to 1024 (default 72 for the NTK, 32 with --protocol paper; 64 for the evaluation network)' },
    repeats: { type: 'string', value: 'N', description: 'measurements per architecture, averaged, 1 to 100 (default 1)' },
    patches: { type: 'string', value: 'N', description: 'patches per linear-region batch (3 batches), 2 to 100000 (default 1000; smaller only for quick tests)' },
    protocol: { type: 'string', value: 'reference|paper', description: 'weight init: reference = PyTorch default, paper = Kaiming normal per repeat (default reference)' },
    shard: { type: 'string', value: 'K/N', description: 'score only the K-th of N interleaved slices (K from 1 to N)' },
    out: { type: 'string', value: 'FILE', description: 'rows as .csv or .jsonl, appended and resumed; with --merge: the joined rows (also FILE.svg)' },
    merge: { type: 'string', value: 'FILES', description: "join finished rows of several files (comma-separated, wildcards allowed: 'out/shard-*.csv') and report on them" },
    status: { type: 'string', value: 'DIR', description: 'summarise the progress of a sharded run from its shard files DIR/NAME-K.csv (with --shards and --sample or --all)' },
    shards: { type: 'string', value: 'N', description: 'with --status: the number of shards of the run' },
    backend: BACKEND_OPTION,
    json: { type: 'boolean', description: 'print the report as JSON' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress output' },
    ...COMMON_OPTIONS,
  },
  run,
};

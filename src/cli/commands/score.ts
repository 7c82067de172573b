import { Engine } from '../../api.js';
import { datasetSpec, DATASET_NAMES, type DatasetSpec } from '../../data/datasets.js';
import { loadEmbeddedCifar } from '../../data/embedded.js';
import { elementCount, parseNpy } from '../../data/npy.js';
import { Rng } from '../../data/rng.js';
import { parseSafetensors } from '../../data/safetensors.js';
import { labelledBatch, ntkBatch, regionPatches } from '../../data/transforms.js';
import { BACKEND_CHOICES } from '../../engine/create.js';
import { TenasInputError } from '../../errors.js';
import type { Network } from '../../graph/ir.js';
import { weightsFromTensors, type Weights } from '../../graph/weights.js';
import { choiceOption, flagOption, integerOption, requireOption, stringOption, type ParsedOptions } from '../args.js';
import { BACKEND_OPTION, COMMON_OPTIONS, type Command } from '../command.js';
import { readInputFile, toJson, type CliIO } from '../output.js';
import { SPACE_NAMES } from '../../spaces/index.js';
import { ALL_INDICATORS, parseIndicatorList, resolveIndicators } from '../../metrics/registry.js';
import { drawsWith, randomDraws } from '../../metrics/draws.js';
import { sampleShape } from '../../search/scorer.js';
import { DEFAULT_EVAL_NETWORK } from '../../search/settings.js';

const MAX_SEED = 2 ** 31 - 1;
const DEFAULT_NTK_BATCH = 72;
const DEFAULT_REGION_PATCHES = 1000;
const REGION_BATCHES = 3;

interface NtkInput {
  input: Float32Array;
  batch: number;
}

interface ThinInput {
  batches: Float32Array[];
  batchSize: number;
}

const shapeText = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

async function readWeights(path: string | undefined, network: Network, engine: Engine, seed: number): Promise<Weights> {
  if (path === undefined) return engine.initialWeights(network, 'pytorch-default', seed);
  const bytes = await readInputFile(path, 'the weights file');
  return weightsFromTensors(network, parseSafetensors(bytes, `the weights file ${path}`), path);
}

/** Reads a float .npy file (float64 is narrowed to float32, the precision the networks run in). */
async function readInputArray(path: string): Promise<{ shape: number[]; data: Float32Array }> {
  const array = parseNpy(await readInputFile(path, 'the input file'), `the input file ${path}`);
  if (array.dtype !== 'float32' && array.dtype !== 'float64') {
    throw new TenasInputError(`the input file ${path} holds ${array.dtype} values; score inputs must be float32 (already normalised), e.g. a.astype("float32")`);
  }
  return { shape: array.shape, data: array.data instanceof Float32Array ? array.data : Float32Array.from(array.data) };
}

function requireFinite(data: Float32Array, path: string): void {
  const bad = data.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) throw new TenasInputError(`the input file ${path} holds a non-finite value (${data[bad]}) at flat index ${bad}; inputs must be finite`);
}

async function ntkInput(path: string | undefined, network: Network, spec: DatasetSpec, batchOption: number | undefined, seed: number, netName = 'ntk'): Promise<NtkInput> {
  const { channels, height, width } = network.input;
  if (path === undefined) {
    const batch = batchOption ?? DEFAULT_NTK_BATCH;
    const images = await loadEmbeddedCifar();
    return { input: ntkBatch(images, batch, spec, Rng.stream(seed, 'ntk-data')), batch };
  }
  const { shape, data } = await readInputArray(path);
  const fits = shape.length === 4 && shape[0] >= 1 && shape[1] === channels && shape[2] === height && shape[3] === width;
  if (!fits) {
    throw new TenasInputError(
      `the input file ${path} has shape ${shapeText(shape)} but the ${netName} net on ${spec.name} needs ${shapeText(['B', channels, height, width])} (B images, NCHW float32)`,
    );
  }
  const batch = shape[0];
  if (batchOption !== undefined && batchOption !== batch) {
    throw new TenasInputError(`--batch ${batchOption} does not match the ${batch} images in ${path}; leave out --batch`);
  }
  requireFinite(data, path);
  return { input: data, batch };
}

async function thinInput(path: string | undefined, network: Network, spec: DatasetSpec, batchOption: number | undefined, seed: number): Promise<ThinInput> {
  const { channels, height, width } = network.input;
  if (path === undefined) {
    const batchSize = batchOption ?? DEFAULT_REGION_PATCHES;
    const images = await loadEmbeddedCifar();
    const rng = Rng.stream(seed, 'lr-data');
    return { batches: Array.from({ length: REGION_BATCHES }, () => regionPatches(images, batchSize, spec, rng)), batchSize };
  }
  const { shape, data } = await readInputArray(path);
  const fits = shape.length === 5 && shape[0] >= 1 && shape[1] >= 1 && shape[2] === channels && shape[3] === height && shape[4] === width;
  if (!fits) {
    throw new TenasInputError(
      `the input file ${path} has shape ${shapeText(shape)} but the thin net needs ${shapeText(['batches', 'n', channels, height, width])} ` +
        '(n patches per batch, each batch forwarded separately, float32)',
    );
  }
  const batchSize = shape[1];
  if (batchOption !== undefined && batchOption !== batchSize) {
    throw new TenasInputError(`--batch ${batchOption} does not match the ${batchSize} patches per batch in ${path}; leave out --batch`);
  }
  requireFinite(data, path);
  const stride = elementCount(shape.slice(1));
  return { batches: Array.from({ length: shape[0] }, (_, b) => data.subarray(b * stride, (b + 1) * stride)), batchSize };
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

const EVAL_ONLY_OPTIONS = ['indicators', 'channels', 'cells', 'labels', 'zen-weights', 'zen-input', 'az-gout'] as const;

/** The indicators measured on the evaluation network (the zero-cost proxies). */
const evalIndicatorNames = () => ALL_INDICATORS.filter((indicator) => indicator.network === 'eval').map((indicator) => indicator.name);

function evalIndicators(text: string | undefined): string[] {
  if (text === undefined || text.trim() === 'all') return evalIndicatorNames();
  const names = parseIndicatorList(text);
  const elsewhere = resolveIndicators(names).filter((indicator) => indicator.network !== 'eval');
  if (elsewhere.length > 0) {
    const [first] = elsewhere;
    throw new TenasInputError(`${first.name} is measured on the ${first.network} network, not the evaluation network; score it with --net ${first.network}, or choose among ${evalIndicatorNames().join(', ')}`);
  }
  return names;
}

/** Reads an integer label file: `[B]` int64 ('<i8') or int32 ('<i4'), one class number per image. */
async function readLabels(path: string, batch: number, classes: number): Promise<Int32Array> {
  const array = parseNpy(await readInputFile(path, 'the labels file'), `the labels file ${path}`);
  if (array.dtype !== 'int64' && array.dtype !== 'int32') {
    throw new TenasInputError(`the labels file ${path} holds ${array.dtype} values; labels must be integers, int64 or int32 (e.g. y.astype("int64"))`);
  }
  if (array.shape.length !== 1 || array.shape[0] !== batch) {
    throw new TenasInputError(`the labels file ${path} has shape ${shapeText(array.shape)} but the input holds ${batch} images; pass one label per image, shape [${batch}]`);
  }
  const bad = Array.from(array.data).findIndex((label) => !(label >= 0 && label < classes));
  if (bad >= 0) throw new TenasInputError(`the labels file ${path} holds the label ${array.data[bad]} at index ${bad}, not a class number 0 to ${classes - 1}`);
  return Int32Array.from(array.data);
}

async function readZenInput(path: string, batch: number, network: Network): Promise<readonly [Float32Array, Float32Array]> {
  const { channels, height, width } = network.input;
  const { shape, data } = await readInputArray(path);
  const fits = shape.length === 5 && shape[0] === 2 && shape[1] === batch && shape[2] === channels && shape[3] === height && shape[4] === width;
  if (!fits) {
    throw new TenasInputError(`the Zen input file ${path} has shape ${shapeText(shape)} but needs ${shapeText([2, batch, channels, height, width])} (x and x + 0.01·x₂, float32)`);
  }
  requireFinite(data, path);
  const half = data.length / 2;
  return [data.subarray(0, half), data.subarray(half)];
}

async function readSignBits(path: string): Promise<Uint8Array> {
  const array = parseNpy(await readInputFile(path, 'the AZ-NAS output-gradient file'), `the AZ-NAS output-gradient file ${path}`);
  if (array.dtype !== 'uint8' || array.shape.length !== 1) {
    throw new TenasInputError(`the AZ-NAS output-gradient file ${path} must be a 1-D uint8 array of packed bits (np.packbits), got ${array.dtype} ${shapeText(array.shape)}`);
  }
  return array.data as Uint8Array;
}

/** `score --net eval`: the chosen proxies of one architecture on NB201's evaluation network, sharing passes. */
async function runEval(options: ParsedOptions, io: CliIO, space: (typeof SPACE_NAMES)[number], dataset: (typeof DATASET_NAMES)[number]): Promise<number> {
  if (space !== 'nb201') throw new TenasInputError('--net eval is NAS-Bench-201\'s evaluation network; use --space nb201');
  const arch = requireOption(stringOption(options, 'arch'), 'arch', 'the single-path NB201 arch string to score');
  const indicators = evalIndicators(stringOption(options, 'indicators'));
  const channels = integerOption(options, 'channels', 1, 256) ?? DEFAULT_EVAL_NETWORK.channels;
  const cells = integerOption(options, 'cells', 1, 20) ?? DEFAULT_EVAL_NETWORK.cells;
  const classes = integerOption(options, 'classes', 1, 100_000);
  const seed = integerOption(options, 'seed', 0, MAX_SEED) ?? 0;
  const batchOption = integerOption(options, 'batch', 2, 1024);
  const backend = choiceOption(options, 'backend', BACKEND_CHOICES) ?? 'auto';
  const inputPath = stringOption(options, 'input');
  const labelsPath = stringOption(options, 'labels');
  if (labelsPath !== undefined && inputPath === undefined) {
    throw new TenasInputError('--labels gives the classes of the images of --input; pass --input X.npy too (without --input the embedded CIFAR-10 images bring their labels)');
  }
  const spec = datasetSpec(dataset);
  const engine = await Engine.create({ backend });
  try {
    const network = engine.buildNetwork({ space, net: 'eval', arch, dataset, classes, channels, cells });
    const weights = await readWeights(stringOption(options, 'weights'), network, engine, seed);
    let input: Float32Array;
    let batch: number;
    let labels: Int32Array | undefined;
    if (inputPath === undefined) {
      batch = batchOption ?? DEFAULT_EVAL_NETWORK.batch;
      const sampled = labelledBatch(await loadEmbeddedCifar(), batch, spec, Rng.stream(seed, 'eval-data'));
      [input, labels] = [sampled.input, sampled.labels];
    } else {
      ({ input, batch } = await ntkInput(inputPath, network, spec, batchOption, seed, 'eval'));
      labels = labelsPath === undefined ? undefined : await readLabels(labelsPath, batch, network.classes);
    }
    const needLabels = resolveIndicators(indicators).filter((indicator) => indicator.needsLabels);
    if (labels === undefined && needLabels.length > 0) {
      throw new TenasInputError(`${needLabels.map((indicator) => indicator.name).join(', ')} need${needLabels.length === 1 ? 's' : ''} class labels; pass --labels Y.npy with --input, or leave out --input to use the labelled embedded CIFAR-10 images`);
    }
    const zenWeightsPath = stringOption(options, 'zen-weights');
    const zenInputPath = stringOption(options, 'zen-input');
    const gout = stringOption(options, 'az-gout');
    const drawn = randomDraws(network, sampleShape(network, batch), (purpose) => Rng.stream(seed, `eval-${purpose}`));
    const draws = drawsWith(drawn, {
      gaussianWeights: zenWeightsPath === undefined ? undefined : weightsFromTensors(network, parseSafetensors(await readInputFile(zenWeightsPath, 'the Zen weights file'), `the Zen weights file ${zenWeightsPath}`), zenWeightsPath),
      gaussianInputs: zenInputPath === undefined ? undefined : await readZenInput(zenInputPath, batch, network),
      signBits: gout === undefined ? undefined : await readSignBits(gout),
    });
    const started = performance.now();
    const measured = await engine.measureIndicators({ indicators, network, weights, input, batch, labels, draws, seed });
    const seconds = (performance.now() - started) / 1000;
    if (flagOption(options, 'json')) {
      io.stdout.write(toJson({ indicators: measured, arch, C: channels, N: cells, batch, classes: network.classes, backend: engine.backend.name, seconds }));
    } else {
      const width = Math.max(...indicators.map((name) => name.length));
      const lines = indicators.map((name) => `${name.padEnd(width)}  ${measured[name].value.toPrecision(10)}`);
      io.stdout.write(`${space} evaluation network C ${channels} N ${cells} (${arch}), batch ${batch}, ${network.classes} classes, ${engine.backend.name}, ${seconds.toFixed(2)} s\n${lines.join('\n')}\n`);
    }
    return 0;
  } finally {
    engine.dispose();
  }
}

async function run(options: ParsedOptions, io: CliIO): Promise<number> {
  const space = choiceOption(options, 'space', SPACE_NAMES) ?? 'nb201';
  const net = requireOption(choiceOption(options, 'net', ['ntk', 'thin', 'eval'] as const), 'net', 'ntk (NTK condition number), thin (linear regions) or eval (the zero-cost proxies)');
  if (net === 'eval') return runEval(options, io, space, choiceOption(options, 'dataset', DATASET_NAMES) ?? 'cifar10');
  const stray = EVAL_ONLY_OPTIONS.filter((name) => options.has(name));
  if (stray.length > 0) throw new TenasInputError(`${stray.map((name) => `--${name}`).join(', ')} go${stray.length === 1 ? 'es' : ''} with --net eval (the zero-cost proxies); leave ${stray.length === 1 ? 'it' : 'them'} out with --net ${net}`);
  const dataset = choiceOption(options, 'dataset', DATASET_NAMES) ?? 'cifar10';
  const classes = integerOption(options, 'classes', 1, 100_000);
  const seed = integerOption(options, 'seed', 0, MAX_SEED) ?? 0;
  const batch = net === 'ntk' ? integerOption(options, 'batch', 2, 1024) : integerOption(options, 'batch', 2, 100_000);
  const backend = choiceOption(options, 'backend', BACKEND_CHOICES) ?? 'auto';
  const arch = stringOption(options, 'arch');
  const weightsPath = stringOption(options, 'weights');
  const inputPath = stringOption(options, 'input');
  const json = flagOption(options, 'json');
  const spec = datasetSpec(dataset);

  const engine = await Engine.create({ backend });
  try {
    const network = engine.buildNetwork({ space, net, arch, dataset, classes });
    const weights = await readWeights(weightsPath, network, engine, seed);
    const what = `${space} ${net} net (${arch === undefined ? 'round-0 supernet' : 'given arch'}, ${network.classes} classes, ${network.params.length} parameter tensors)`;
    if (net === 'ntk') {
      const { input, batch: batchSize } = await ntkInput(inputPath, network, spec, batch, seed);
      const score = await engine.scoreNtk(network, weights, input, batchSize);
      const eigenvalues = Array.from(score.eigenvalues);
      if (json) {
        io.stdout.write(toJson({ kappa: score.kappa, eigenvalues, gradientDim: score.gradientDim, logitsSum: sum(score.logits) }));
      } else {
        io.stdout.write(
          `${what}, batch ${batchSize}\n` +
            `kappa (NTK condition number): ${score.kappa.toPrecision(8)}\n` +
            `eigenvalues: min ${eigenvalues[0].toPrecision(8)}, max ${eigenvalues[eigenvalues.length - 1].toPrecision(8)}\n` +
            `gradient dimension: ${score.gradientDim}\n`,
        );
      }
    } else {
      const { batches, batchSize } = await thinInput(inputPath, network, spec, batch, seed);
      const score = await engine.scoreRegions(network, weights, batches, batchSize);
      const logitsSum = score.logits.reduce((total, logits) => total + sum(logits), 0);
      if (json) {
        io.stdout.write(toJson({ regions: score.regions, features: score.features, logitsSum }));
      } else {
        io.stdout.write(
          `${what}, ${batches.length} batches of ${batchSize} patches\n` +
            `linear regions: ${score.regions}\n` +
            `ReLU features: ${score.features}\n`,
        );
      }
    }
    return 0;
  } finally {
    engine.dispose();
  }
}

export const scoreCommand: Command = {
  name: 'score',
  summary: 'score one network: NTK condition number (ntk), number of linear regions (thin) or the zero-cost proxies (eval)',
  description: `Usage: tenas score --net ntk|thin [--arch STR] [options]
       tenas score --space nb201 --net eval --arch STR [--indicators LIST|all] [--channels C] [--cells N] [options]

Builds one network of the space and scores it: --net ntk prints kappa, the NTK eigenvalues
(ascending) and the gradient dimension; --net thin prints the number of linear regions and of
ReLU features; --net eval scores the zero-cost proxies (default: all of them) on NAS-Bench-201's
evaluation network (C = 16, N = 5 by default), all in one pass over the network where they share
passes, and --json prints {"indicators": {"<name>": {"value", "perParam", "extra"}}, ...}.
Weights come from a safetensors file or are drawn with PyTorch's default init; inputs come from a
.npy file or are sampled from the embedded CIFAR-10 images (with their labels). Zen-NAS's and
AZ-NAS's random draws come from named random streams or from --zen-weights, --zen-input, --az-gout.`,
  options: {
    space: { type: 'string', value: SPACE_NAMES.join('|'), description: 'search space (default nb201)' },
    net: { type: 'string', value: 'ntk|thin|eval', description: 'which network to score (required)' },
    indicators: { type: 'string', value: 'LIST|all', description: 'eval: the proxies to score, comma-separated, or all (default all)' },
    channels: { type: 'string', value: 'C', description: `eval: base width C, 1 to 256 (default ${DEFAULT_EVAL_NETWORK.channels})` },
    cells: { type: 'string', value: 'N', description: `eval: cells per stage N, 1 to 20 (default ${DEFAULT_EVAL_NETWORK.cells})` },
    labels: { type: 'string', value: 'FILE', description: 'eval: int64 or int32 .npy [B], the class of each image of --input' },
    'zen-weights': { type: 'string', value: 'FILE', description: "eval: Zen-NAS's Gaussian weights (.safetensors, the network's names; AZ-NAS scales them)" },
    'zen-input': { type: 'string', value: 'FILE', description: "eval: Zen-NAS's inputs, float32 .npy [2,B,3,S,S] (x, x + 0.01·x₂; AZ-NAS uses x)" },
    'az-gout': { type: 'string', value: 'FILE', description: "eval: AZ-NAS's packed ±1 output gradients, uint8 .npy (np.packbits)" },
    arch: { type: 'string', value: 'STR', description: 'architecture or extended mask string (default: the round-0 supernet)' },
    dataset: { type: 'string', value: 'NAME', description: `${DATASET_NAMES.join(', ')} (default cifar10): input size and class count` },
    classes: { type: 'string', value: 'K', description: "output classes, 1 to 100000 (default: the dataset's)" },
    weights: { type: 'string', value: 'FILE', description: 'weights as .safetensors (default: PyTorch-default init from --seed)' },
    input: {
      type: 'string',
      value: 'FILE',
      description: 'float32 .npy input: [B,3,S,S] for ntk and eval, [batches,n,1,3,3] for thin (default: sampled from the embedded CIFAR-10 images)',
    },
    seed: { type: 'string', value: 'N', description: `seed for weights and sampled inputs, 0 to ${MAX_SEED} (default 0)` },
    batch: { type: 'string', value: 'N', description: `ntk: images, 2 to 1024 (default ${DEFAULT_NTK_BATCH}); eval: images (default ${DEFAULT_EVAL_NETWORK.batch}); thin: patches per batch (default ${DEFAULT_REGION_PATCHES})` },
    backend: BACKEND_OPTION,
    json: { type: 'boolean', description: 'print the scores as JSON' },
    ...COMMON_OPTIONS,
  },
  run,
};

import { Engine } from '../../api.js';
import { datasetSpec, DATASET_NAMES, type DatasetSpec } from '../../data/datasets.js';
import { loadEmbeddedCifar } from '../../data/embedded.js';
import { elementCount, parseNpy } from '../../data/npy.js';
import { Rng } from '../../data/rng.js';
import { parseSafetensors } from '../../data/safetensors.js';
import { ntkBatch, regionPatches } from '../../data/transforms.js';
import { BACKEND_CHOICES } from '../../engine/create.js';
import { TenasInputError } from '../../errors.js';
import type { Network } from '../../graph/ir.js';
import { weightsFromTensors, type Weights } from '../../graph/weights.js';
import { choiceOption, flagOption, integerOption, requireOption, stringOption, type ParsedOptions } from '../args.js';
import { COMMON_OPTIONS, type Command } from '../command.js';
import { readInputFile, toJson, type CliIO } from '../output.js';
import { SPACE_NAMES } from '../../spaces/index.js';

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
  if (array.dtype === 'uint8') {
    throw new TenasInputError(`the input file ${path} holds uint8 values; score inputs must be float32 (already normalised), e.g. a.astype("float32")`);
  }
  return { shape: array.shape, data: array.data instanceof Float32Array ? array.data : Float32Array.from(array.data) };
}

function requireFinite(data: Float32Array, path: string): void {
  const bad = data.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) throw new TenasInputError(`the input file ${path} holds a non-finite value (${data[bad]}) at flat index ${bad}; inputs must be finite`);
}

async function ntkInput(path: string | undefined, network: Network, spec: DatasetSpec, batchOption: number | undefined, seed: number): Promise<NtkInput> {
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
      `the input file ${path} has shape ${shapeText(shape)} but the ntk net on ${spec.name} needs ${shapeText(['B', channels, height, width])} (B images, NCHW float32)`,
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

async function run(options: ParsedOptions, io: CliIO): Promise<number> {
  const space = choiceOption(options, 'space', SPACE_NAMES) ?? 'nb201';
  const net = requireOption(choiceOption(options, 'net', ['ntk', 'thin'] as const), 'net', 'ntk (NTK condition number) or thin (linear regions)');
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
  summary: 'score one network: NTK condition number (ntk) or number of linear regions (thin)',
  description: `Usage: tenas score --net ntk|thin [--arch STR] [options]

Builds one network of the space and scores it: --net ntk prints kappa, the NTK eigenvalues
(ascending) and the gradient dimension; --net thin prints the number of linear regions and of
ReLU features. Weights come from a safetensors file or are drawn with PyTorch's default init;
inputs come from a .npy file or are sampled from the embedded CIFAR-10 images.`,
  options: {
    space: { type: 'string', value: SPACE_NAMES.join('|'), description: 'search space (default nb201)' },
    net: { type: 'string', value: 'ntk|thin', description: 'which network to score (required)' },
    arch: { type: 'string', value: 'STR', description: 'architecture or extended mask string (default: the round-0 supernet)' },
    dataset: { type: 'string', value: 'NAME', description: `${DATASET_NAMES.join(', ')} (default cifar10): input size and class count` },
    classes: { type: 'string', value: 'K', description: "output classes, 1 to 100000 (default: the dataset's)" },
    weights: { type: 'string', value: 'FILE', description: 'weights as .safetensors (default: PyTorch-default init from --seed)' },
    input: {
      type: 'string',
      value: 'FILE',
      description: 'float32 .npy input: [B,3,S,S] for ntk, [batches,n,1,3,3] for thin (default: sampled from the embedded CIFAR-10 images)',
    },
    seed: { type: 'string', value: 'N', description: `seed for weights and sampled inputs, 0 to ${MAX_SEED} (default 0)` },
    batch: { type: 'string', value: 'N', description: `ntk: images, 2 to 1024 (default ${DEFAULT_NTK_BATCH}); thin: patches per batch (default ${DEFAULT_REGION_PATCHES})` },
    backend: { type: 'string', value: BACKEND_CHOICES.join('|'), description: 'compute backend (default auto)' },
    json: { type: 'boolean', description: 'print the scores as JSON' },
    ...COMMON_OPTIONS,
  },
  run,
};

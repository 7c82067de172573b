import { TenasInputError } from '../errors.js';
import type { ImageSet } from './cifar.js';
import type { DatasetSpec } from './datasets.js';
import type { Rng } from './rng.js';

const PATCH_SIDE = 3;

/**
 * The integer factor by which images are box-downsampled to the dataset's input size (1 when they already
 * match); an error when the images are smaller or not an integer multiple.
 */
export function downsampleFactor(images: ImageSet, spec: DatasetSpec): number {
  const size = images.height;
  if (images.width !== size || size < spec.inputSize || size % spec.inputSize !== 0) {
    throw new TenasInputError(
      `${images.source}: ${images.height}×${images.width} images cannot feed the ${spec.inputSize}×${spec.inputSize} ` +
        `input of ${spec.name}; supply square images of ${spec.inputSize} px or an integer multiple of it`,
    );
  }
  return size / spec.inputSize;
}

/**
 * Pixel (channel, y, x) of image `index` after box-downsampling by `factor`, in [0, 255]. The box mean is
 * rounded half up to an integer, as a PIL box resize does (the golden ImageNet16-120 inputs were made so).
 */
function pixel(images: ImageSet, index: number, channel: number, y: number, x: number, factor: number): number {
  const width = images.width;
  const plane = (index * 3 + channel) * images.height * width;
  if (factor === 1) return images.pixels[plane + y * width + x];
  let sum = 0;
  for (let dy = 0; dy < factor; dy++) {
    const row = plane + (y * factor + dy) * width + x * factor;
    for (let dx = 0; dx < factor; dx++) sum += images.pixels[row + dx];
  }
  return Math.floor(sum / (factor * factor) + 0.5);
}

function requireCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new TenasInputError(`${what} must be a positive integer, got ${value}`);
}

export interface Augmentation {
  flip: boolean;
  /** Top-left corner of the crop in the zero-padded image, each in [0, 2 × cropPadding]. */
  cropY: number;
  cropX: number;
}

/**
 * Writes one augmented, normalised image (3×S×S, S = spec.inputSize) at `out[offset…]`: horizontal flip,
 * zero padding by spec.cropPadding, crop at (cropY, cropX), pixel/255, (x − mean)/std per channel.
 * Padding pixels are black before normalisation, as in torchvision's RandomCrop on a PIL image.
 */
export function writeAugmentedImage(
  images: ImageSet,
  index: number,
  augmentation: Augmentation,
  spec: DatasetSpec,
  out: Float32Array,
  offset: number,
): void {
  const factor = downsampleFactor(images, spec);
  const size = spec.inputSize;
  const padding = spec.cropPadding;
  for (let channel = 0; channel < 3; channel++) {
    const scale = 1 / (255 * spec.std[channel]);
    const shift = spec.mean[channel] / spec.std[channel];
    const base = offset + channel * size * size;
    for (let y = 0; y < size; y++) {
      const sourceY = y + augmentation.cropY - padding;
      for (let x = 0; x < size; x++) {
        const paddedX = x + augmentation.cropX - padding;
        const sourceX = augmentation.flip ? size - 1 - paddedX : paddedX;
        const inside = sourceY >= 0 && sourceY < size && paddedX >= 0 && paddedX < size;
        const value = inside ? pixel(images, index, channel, sourceY, sourceX, factor) : 0;
        out[base + y * size + x] = value * scale - shift;
      }
    }
  }
}

/** The first `count` entries of a uniformly random permutation of 0..n−1 (partial Fisher–Yates). */
function randomDistinct(n: number, count: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    const chosen = order[j];
    order[j] = order[i];
    order[i] = chosen;
  }
  return order.slice(0, count);
}

/**
 * An NTK batch (docs/algorithm.md §6.2): `batch` distinct random images, each randomly flipped (p = 0.5),
 * zero-padded and randomly cropped back, normalised. Returns NCHW float32 `[batch, 3, S, S]`.
 */
export function ntkBatch(images: ImageSet, batch: number, spec: DatasetSpec, rng: Rng): Float32Array {
  return labelledBatch(images, batch, spec, rng).input;
}

/** A batch of images and the labels of the images chosen. */
export interface LabelledBatch {
  /** NCHW float32 `[batch, 3, S, S]`. */
  readonly input: Float32Array;
  /** The class of each image, when the image set has labels. */
  readonly labels: Int32Array | undefined;
}

/** `ntkBatch` with the labels of the images it chose (the same draws, so the same input). */
export function labelledBatch(images: ImageSet, batch: number, spec: DatasetSpec, rng: Rng): LabelledBatch {
  requireCount(batch, 'the NTK batch size');
  if (images.count < batch) {
    throw new TenasInputError(
      `${images.source} holds ${images.count} images, fewer than the NTK batch size ${batch}; use more images or a smaller batch`,
    );
  }
  downsampleFactor(images, spec);
  const size = spec.inputSize;
  const imageFloats = 3 * size * size;
  const out = new Float32Array(batch * imageFloats);
  const chosen = randomDistinct(images.count, batch, rng);
  for (let b = 0; b < batch; b++) {
    const flip = rng.uniform() < 0.5;
    const cropY = rng.int(2 * spec.cropPadding + 1);
    const cropX = rng.int(2 * spec.cropPadding + 1);
    writeAugmentedImage(images, chosen[b], { flip, cropY, cropX }, spec, out, b * imageFloats);
  }
  const labels = images.labels;
  return { input: out, labels: labels && Int32Array.from(chosen, (index) => labels[index]) };
}

/** `count` image indices in random order: every image once per pass, reshuffled for each further pass. */
function epochOrder(n: number, count: number, rng: Rng): Int32Array {
  const order = new Int32Array(count);
  for (let start = 0; start < count; start += n) {
    const take = Math.min(n, count - start);
    order.set(randomDistinct(n, take, rng), start);
  }
  return order;
}

/**
 * Linear-region input patches (docs/algorithm.md §6.3): for `count` images in random order, a random 3×3 crop (no
 * padding), normalised, one uniformly random channel kept. Returns float32 `[count, 1, 3, 3]`.
 */
export function regionPatches(images: ImageSet, count: number, spec: DatasetSpec, rng: Rng): Float32Array {
  requireCount(count, 'the number of linear-region patches');
  const factor = downsampleFactor(images, spec);
  const size = spec.inputSize;
  const out = new Float32Array(count * PATCH_SIDE * PATCH_SIDE);
  const order = epochOrder(images.count, count, rng);
  for (let i = 0; i < count; i++) {
    const top = rng.int(size - PATCH_SIDE + 1);
    const left = rng.int(size - PATCH_SIDE + 1);
    const channel = rng.int(3);
    const scale = 1 / (255 * spec.std[channel]);
    const shift = spec.mean[channel] / spec.std[channel];
    for (let y = 0; y < PATCH_SIDE; y++) {
      for (let x = 0; x < PATCH_SIDE; x++) {
        const value = pixel(images, order[i], channel, top + y, left + x, factor);
        out[i * PATCH_SIDE * PATCH_SIDE + y * PATCH_SIDE + x] = value * scale - shift;
      }
    }
  }
  return out;
}

/** Synthetic input: `[batch, channels, size, size]` standard normal values. */
export function gaussianBatch(batch: number, channels: number, size: number, rng: Rng): Float32Array {
  requireCount(batch, 'the batch size');
  requireCount(channels, 'the channel count');
  requireCount(size, 'the image size');
  const out = new Float32Array(batch * channels * size * size);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

import { TenasInputError } from '../errors.js';
import type { NdArray } from './npy.js';

/** A set of RGB images, uint8, stored N×3×H×W (planar, row-major), with their class labels when the source has them. */
export interface ImageSet {
  count: number;
  channels: 3;
  height: number;
  width: number;
  pixels: Uint8Array;
  /**
   * One class number per image, when the source carries them (CIFAR records: the CIFAR-10 label or
   * the CIFAR-100 fine label; an image folder with one sub-folder per class). TE-NAS never uses
   * them; the proxies with a loss (snip, grasp, ...) do.
   */
  labels?: Int32Array;
  /** Where the images came from, for messages. */
  source: string;
}

export type CifarVariant = 'cifar10' | 'cifar100';

const CIFAR_SIDE = 32;
const CIFAR_PIXEL_BYTES = 3 * CIFAR_SIDE * CIFAR_SIDE;

export function cifarLabelBytes(variant: CifarVariant): number {
  return variant === 'cifar100' ? 2 : 1;
}

export function cifarRecordBytes(variant: CifarVariant): number {
  return cifarLabelBytes(variant) + CIFAR_PIXEL_BYTES;
}

/** Parses the official CIFAR binary format: per record the label byte(s), then the R, G and B 32×32 planes. */
export function parseCifarBinary(bytes: Uint8Array, variant: CifarVariant, source: string): ImageSet {
  const labelBytes = cifarLabelBytes(variant);
  const recordBytes = labelBytes + CIFAR_PIXEL_BYTES;
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    const name = variant === 'cifar100' ? 'CIFAR-100' : 'CIFAR-10';
    throw new TenasInputError(
      `${source}: ${bytes.length} bytes is not a positive multiple of the ${name} binary record size ${recordBytes} ` +
        `(${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + ${CIFAR_PIXEL_BYTES} pixel bytes); ` +
        `pass a file from cifar-${variant === 'cifar100' ? '100' : '10'}-binary or choose the matching dataset`,
    );
  }
  const count = bytes.length / recordBytes;
  requireCifarLabels(bytes, variant, count, source);
  const pixels = new Uint8Array(count * CIFAR_PIXEL_BYTES);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const start = i * recordBytes + labelBytes;
    labels[i] = bytes[start - 1]; // CIFAR-10: the label; CIFAR-100: the fine label (the second byte)
    pixels.set(bytes.subarray(start, start + CIFAR_PIXEL_BYTES), i * CIFAR_PIXEL_BYTES);
  }
  return { count, channels: 3, height: CIFAR_SIDE, width: CIFAR_SIDE, pixels, labels, source };
}

/** Label ranges per label byte: CIFAR-10 class 0–9; CIFAR-100 coarse class 0–19, then fine class 0–99. */
const LABEL_LIMITS: Record<CifarVariant, readonly { name: string; limit: number }[]> = {
  cifar10: [{ name: 'label', limit: 10 }],
  cifar100: [
    { name: 'coarse label', limit: 20 },
    { name: 'fine label', limit: 100 },
  ],
};

/** Whether the first bytes read as text (so a wrong file can be named as such). */
function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 512);
  return head.length > 0 && head.every((byte) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127));
}

/**
 * Checks every record's label byte(s): a file whose size happens to fit the record size is only
 * taken as CIFAR when its labels are valid class numbers.
 */
function requireCifarLabels(bytes: Uint8Array, variant: CifarVariant, count: number, source: string): void {
  const limits = LABEL_LIMITS[variant];
  const recordBytes = cifarRecordBytes(variant);
  for (let record = 0; record < count; record++) {
    for (const [offset, { name, limit }] of limits.entries()) {
      const label = bytes[record * recordBytes + offset];
      if (label < limit) continue;
      const dataset = variant === 'cifar100' ? 'CIFAR-100' : 'CIFAR-10';
      const text = looksLikeText(bytes) ? ' (the file looks like text)' : '';
      throw new TenasInputError(
        `${source} is not ${dataset} binary data${text}: record ${record + 1} has ${name} byte ${label}, but ${dataset} ${name}s are 0 to ${limit - 1}; ` +
          `pass a file from cifar-${variant === 'cifar100' ? '100' : '10'}-binary, a folder of JPEG/PNG images or a .npy array`,
      );
    }
  }
}

/**
 * Builds an image set from a 4-D array: uint8 in [0, 255] or float in [0, 1] (rounded to uint8), laid out
 * NCHW `[N,3,H,W]` or NHWC `[N,H,W,3]` (NCHW when both axes are 3).
 */
export function imageSetFromNpy(array: NdArray, source: string): ImageSet {
  const shapeText = `[${array.shape.join(', ')}]`;
  if (array.shape.length !== 4) {
    throw new TenasInputError(`${source}: expected a 4-D image array [N,3,H,W] or [N,H,W,3], got shape ${shapeText}`);
  }
  if (array.dtype === 'int32' || array.dtype === 'int64') {
    throw new TenasInputError(`${source} holds ${array.dtype} values; images must be uint8 (0 to 255) or float32/float64 in [0, 1], e.g. a.astype("uint8")`);
  }
  const [n, a, b, c] = array.shape;
  const channelsFirst = a === 3;
  if (!channelsFirst && c !== 3) {
    throw new TenasInputError(`${source}: expected 3 colour channels in shape [N,3,H,W] or [N,H,W,3], got ${shapeText}`);
  }
  const [height, width] = channelsFirst ? [b, c] : [a, b];
  if (n === 0 || height === 0) throw new TenasInputError(`${source}: the image array ${shapeText} is empty`);
  if (height !== width) {
    throw new TenasInputError(`${source}: images must be square, got ${height}×${width} (shape ${shapeText}); crop or resize them first`);
  }
  const values = toUint8(array, source);
  const pixels = channelsFirst ? values : nhwcToNchw(values, n, height, width);
  return { count: n, channels: 3, height, width, pixels, source };
}

function toUint8(array: NdArray, source: string): Uint8Array {
  if (array.dtype === 'uint8') return array.data as Uint8Array;
  const data = array.data;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (!(value >= 0 && value <= 1)) {
      throw new TenasInputError(
        `${source}: float images must hold values in [0, 1], found ${value} at flat index ${i}; ` +
          'divide by 255 or save the images as uint8',
      );
    }
    out[i] = Math.round(value * 255);
  }
  return out;
}

function nhwcToNchw(values: Uint8Array, count: number, height: number, width: number): Uint8Array {
  const plane = height * width;
  const out = new Uint8Array(values.length);
  for (let n = 0; n < count; n++) {
    const base = n * 3 * plane;
    for (let p = 0; p < plane; p++) {
      out[base + p] = values[base + p * 3];
      out[base + plane + p] = values[base + p * 3 + 1];
      out[base + 2 * plane + p] = values[base + p * 3 + 2];
    }
  }
  return out;
}

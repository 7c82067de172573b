import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { TenasInputError } from '../errors.js';
import type { ImageSet } from './cifar.js';

/** Node: JPEG and PNG files found in a folder and its sub-folders (ImageNet keeps one per class). */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, row-major. */
  rgba: Uint8Array;
}

const SIGNATURES = {
  png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  jpeg: [0xff, 0xd8, 0xff],
} as const;

export type ImageFormat = keyof typeof SIGNATURES;

/** The image format a file's first bytes announce, whatever its name says. */
export function imageFormatOf(bytes: Uint8Array): ImageFormat | undefined {
  const formats = Object.keys(SIGNATURES) as ImageFormat[];
  return formats.find((format) => SIGNATURES[format].every((byte, i) => bytes[i] === byte));
}

export async function findImageFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function decodeImage(bytes: Uint8Array, path: string): DecodedImage {
  const format = imageFormatOf(bytes);
  if (format === undefined) {
    throw new TenasInputError(`${path} is named like an image but starts with neither the PNG nor the JPEG signature (${bytes.length} bytes); remove it or replace it with a real image`);
  }
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 200 });
    return { width: image.width, height: image.height, rgba: image.data };
  } catch (error) {
    throw new TenasInputError(`${path} does not decode as ${format.toUpperCase()} (${(error as Error).message}); remove or re-encode it`);
  }
}

/**
 * Resamples one channel plane like PIL's bilinear resize (which torchvision's `Resize` calls): a
 * triangle filter whose support widens with the shrink factor, so downscaling averages every source
 * pixel instead of sampling four.
 */
function resizeAxis(source: Float64Array, length: number, stride: number, lines: number, lineStride: number, target: number): Float64Array {
  const scale = length / target;
  const support = Math.max(scale, 1);
  const out = new Float64Array(target * lines);
  for (let t = 0; t < target; t++) {
    const centre = (t + 0.5) * scale;
    const first = Math.max(0, Math.floor(centre - support));
    const last = Math.min(length, Math.ceil(centre + support));
    const weights: number[] = [];
    let total = 0;
    for (let i = first; i < last; i++) {
      const w = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      weights.push(w);
      total += w;
    }
    for (let line = 0; line < lines; line++) {
      let sum = 0;
      for (let i = first; i < last; i++) sum += weights[i - first] * source[line * lineStride + i * stride];
      out[line * target + t] = sum / total;
    }
  }
  return out;
}

function resizeTo(image: DecodedImage, size: number, pixels: Uint8Array, offset: number): void {
  const { width, height, rgba } = image;
  for (let channel = 0; channel < 3; channel++) {
    const plane = new Float64Array(width * height);
    for (let i = 0; i < width * height; i++) plane[i] = rgba[4 * i + channel];
    const rows = resizeAxis(plane, width, 1, height, width, size); // height × size, row-major
    const columns = resizeAxis(rows, height, size, size, 1, size); // size (x) × size (y)
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        pixels[offset + (channel * size + y) * size + x] = Math.min(255, Math.max(0, Math.round(columns[x * size + y])));
      }
    }
  }
}

function copyPlanes(image: DecodedImage, pixels: Uint8Array, offset: number): void {
  const area = image.width * image.height;
  for (let channel = 0; channel < 3; channel++) {
    for (let i = 0; i < area; i++) pixels[offset + channel * area + i] = image.rgba[4 * i + channel];
  }
}

/**
 * Decodes every JPEG/PNG of a folder. With `resizeTo` (ImageNet mode) each image is resized to that
 * square size, as the reference does with `Resize((32, 32))`; without it all images must already
 * share one size, and a mix of sizes is an error naming two files that differ.
 */
export async function loadImageFolder(folder: string, options: { resizeTo?: number } = {}): Promise<ImageSet> {
  const files = await findImageFiles(folder);
  if (files.length === 0) {
    throw new TenasInputError(`the folder ${folder} holds no .jpg, .jpeg or .png images (sub-folders included); pass a folder of images`);
  }
  let pixels: Uint8Array | undefined;
  let size: { width: number; height: number; file: string } | undefined;
  for (const [index, file] of files.entries()) {
    const image = decodeImage(new Uint8Array(await readFile(file)), file);
    if (options.resizeTo !== undefined) {
      const side = options.resizeTo;
      pixels ??= new Uint8Array(files.length * 3 * side * side);
      resizeTo(image, side, pixels, index * 3 * side * side);
      size ??= { width: side, height: side, file };
      continue;
    }
    size ??= { width: image.width, height: image.height, file };
    if (image.width !== size.width || image.height !== size.height) {
      throw new TenasInputError(
        `images of different sizes: ${relative(folder, size.file)} is ${size.width}×${size.height} but ${relative(folder, file)} is ${image.width}×${image.height}; ` +
          'resize them to one size (or use --dataset imagenet-1k, which resizes to 32×32)',
      );
    }
    pixels ??= new Uint8Array(files.length * 3 * size.width * size.height);
    copyPlanes(image, pixels, index * 3 * size.width * size.height);
  }
  return {
    count: files.length,
    channels: 3,
    height: size!.height,
    width: size!.width,
    pixels: pixels!,
    labels: classLabels(folder, files),
    source: `${folder} (${files.length} image${files.length > 1 ? 's' : ''})`,
  };
}

/**
 * Labels from class sub-folders (torchvision's `ImageFolder` rule): every image lies in a
 * first-level sub-folder, and the classes are those sub-folders' names in sorted order. A folder
 * with images at its top level has no labels.
 */
function classLabels(folder: string, files: readonly string[]): Int32Array | undefined {
  const classOf = files.map((file) => relative(folder, file).split(/[\\/]/));
  if (classOf.some((parts) => parts.length < 2)) return undefined;
  const classes = [...new Set(classOf.map((parts) => parts[0]))].sort();
  return Int32Array.from(classOf, (parts) => classes.indexOf(parts[0]));
}

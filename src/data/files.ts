import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { TenasInputError } from '../errors.js';
import { cifarRecordBytes, imageSetFromNpy, parseCifarBinary, type CifarVariant, type ImageSet } from './cifar.js';
import { datasetSpec, type DatasetName } from './datasets.js';
import { findImageFiles, imageFormatOf, loadImageFolder } from './image-folder.js';
import { parseNpy } from './npy.js';
import { downsampleFactor } from './transforms.js';

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** The CIFAR binary layout assumed for `.bin` files: CIFAR-100 records for cifar100, CIFAR-10 records otherwise. */
function cifarVariantFor(dataset: DatasetName): CifarVariant {
  return dataset === 'cifar100' ? 'cifar100' : 'cifar10';
}

function variantLabel(variant: CifarVariant): string {
  return variant === 'cifar100' ? 'CIFAR-100' : 'CIFAR-10';
}

function looksLikeNpy(bytes: Uint8Array): boolean {
  return bytes.length >= NPY_MAGIC.length && NPY_MAGIC.every((byte, i) => bytes[i] === byte);
}

async function readBytes(path: string): Promise<Uint8Array> {
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Recognises a file by its first bytes (the name only decides for `.npy` without the NumPy signature). */
function parseImageFile(bytes: Uint8Array, path: string, variant: CifarVariant): ImageSet {
  if (extname(path).toLowerCase() === '.npy' || looksLikeNpy(bytes)) return imageSetFromNpy(parseNpy(bytes, path), path);
  const image = imageFormatOf(bytes);
  if (image !== undefined) {
    throw new TenasInputError(
      `${path} is a single ${image.toUpperCase()} image; a search needs many: put the images in a folder and pass the folder ` +
        '(JPEG/PNG files, class sub-folders allowed), or pass a CIFAR binary .bin file or a .npy array',
    );
  }
  const recordBytes = cifarRecordBytes(variant);
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    throw new TenasInputError(
      `${path} (${bytes.length} bytes) is neither a .npy array, a JPEG/PNG image nor ${variantLabel(variant)} binary records of ${recordBytes} bytes ` +
        `(its size is not a positive multiple of ${recordBytes}); pass a CIFAR binary .bin file, a .npy array or a folder of JPEG/PNG images`,
    );
  }
  return parseCifarBinary(bytes, variant, path);
}

async function readCifarFolder(folder: string, variant: CifarVariant): Promise<ImageSet> {
  const names = (await readdir(folder)).filter((name) => name.toLowerCase().endsWith('.bin')).sort();
  if (names.length === 0) {
    throw new TenasInputError(`the folder ${folder} holds no .bin files and no .jpg/.png images; pass a folder of ${variantLabel(variant)} binary batches or of images, a .bin file or a .npy file`);
  }
  const parts: ImageSet[] = [];
  for (const name of names) {
    const path = join(folder, name);
    const bytes = await readBytes(path);
    if (looksLikeNpy(bytes)) throw new TenasInputError(`${path} is a .npy file named .bin; rename it to .npy and pass it on its own`);
    parts.push(parseImageFile(bytes, path, variant));
  }
  const count = parts.reduce((total, part) => total + part.count, 0);
  const pixels = new Uint8Array(parts.reduce((total, part) => total + part.pixels.length, 0));
  let offset = 0;
  for (const part of parts) {
    pixels.set(part.pixels, offset);
    offset += part.pixels.length;
  }
  const labels = parts.every((part) => part.labels) ? Int32Array.from(parts.flatMap((part) => Array.from(part.labels!))) : undefined;
  const source = `${folder} (${names.length} file${names.length > 1 ? 's' : ''}: ${names.join(', ')})`;
  return { count, channels: 3, height: parts[0].height, width: parts[0].width, pixels, labels, source };
}

/** A folder holds either CIFAR binary batches or JPEG/PNG images. */
async function readFolder(folder: string, variant: CifarVariant, dataset: DatasetName): Promise<ImageSet> {
  const hasBatches = (await readdir(folder)).some((name) => name.toLowerCase().endsWith('.bin'));
  if (hasBatches || (await findImageFiles(folder)).length === 0) return readCifarFolder(folder, variant);
  return loadImageFolder(folder, { resizeTo: dataset === 'imagenet-1k' ? datasetSpec(dataset).inputSize : undefined });
}

/**
 * Node: loads search images from a CIFAR binary file, a folder of CIFAR binary batches (`*.bin`, in sorted name
 * order), a folder of JPEG/PNG images (resized to 32×32 for imagenet-1k) or a `.npy` array, and checks
 * that they fit the dataset's input size.
 */
export async function loadImageSet(path: string, dataset: DatasetName): Promise<ImageSet> {
  const spec = datasetSpec(dataset);
  const variant = cifarVariantFor(spec.name);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    const problem = error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.code ?? error.message})`;
    throw new TenasInputError(`the image path ${path} ${problem}; pass a CIFAR binary .bin file, a folder of them, or a .npy file`);
  });
  let images: ImageSet;
  if (info.isDirectory()) {
    images = await readFolder(path, variant, spec.name);
  } else if (info.isFile()) {
    images = parseImageFile(await readBytes(path), path, variant);
  } else {
    throw new TenasInputError(`the image path ${path} (${basename(path)}) is neither a file nor a folder`);
  }
  downsampleFactor(images, spec);
  return images;
}

/** Turns the user's image files into a 32×32 `ImageSet` (centre square crop, then resize). */
import type { ImageSet } from '../../data/cifar.js';
import { TenasInputError } from '../../errors.js';

export const IMAGE_SIDE = 32;

interface Canvas2D {
  readonly context: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
}

function canvas2d(side: number): Canvas2D {
  const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(side, side) : Object.assign(document.createElement('canvas'), { width: side, height: side });
  const context = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!context) throw new TenasInputError('this browser cannot draw into a 2D canvas, so your images cannot be decoded; use the embedded CIFAR-10 images');
  return { context };
}

export interface DecodedImages {
  readonly images: ImageSet;
  /** Names of files that are not images the browser can decode. */
  readonly skipped: string[];
}

export async function decodeImageFiles(files: readonly File[]): Promise<DecodedImages> {
  const { context } = canvas2d(IMAGE_SIDE);
  const plane = IMAGE_SIDE * IMAGE_SIDE;
  const decoded: Uint8Array[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      skipped.push(file.name);
      continue;
    }
    const side = Math.min(bitmap.width, bitmap.height);
    context.clearRect(0, 0, IMAGE_SIDE, IMAGE_SIDE);
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, IMAGE_SIDE, IMAGE_SIDE);
    bitmap.close();
    const rgba = context.getImageData(0, 0, IMAGE_SIDE, IMAGE_SIDE).data;
    const planar = new Uint8Array(3 * plane);
    for (let p = 0; p < plane; p++) {
      planar[p] = rgba[4 * p];
      planar[plane + p] = rgba[4 * p + 1];
      planar[2 * plane + p] = rgba[4 * p + 2];
    }
    decoded.push(planar);
  }
  if (decoded.length === 0) {
    throw new TenasInputError(
      `none of the ${files.length} file(s) is an image this browser can decode${skipped.length ? ` (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''})` : ''}; choose PNG, JPEG, WebP or GIF files`,
    );
  }
  const pixels = new Uint8Array(decoded.length * 3 * plane);
  decoded.forEach((image, index) => pixels.set(image, index * 3 * plane));
  const images: ImageSet = { count: decoded.length, channels: 3, height: IMAGE_SIDE, width: IMAGE_SIDE, pixels, source: `${decoded.length} of your images (centre-cropped, resized to 32×32)` };
  return { images, skipped };
}

/** Draws the first images of a set as a contact sheet, so the user sees what the search samples from. */
export function drawPreview(canvas: HTMLCanvasElement, images: ImageSet, columns = 12, rows = 2): void {
  const side = images.width;
  canvas.width = columns * side;
  canvas.height = rows * side;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.clearRect(0, 0, canvas.width, canvas.height);
  const plane = side * side;
  const shown = Math.min(images.count, columns * rows);
  for (let index = 0; index < shown; index++) {
    const tile = context.createImageData(side, side);
    const base = index * 3 * plane;
    for (let p = 0; p < plane; p++) {
      tile.data[4 * p] = images.pixels[base + p];
      tile.data[4 * p + 1] = images.pixels[base + plane + p];
      tile.data[4 * p + 2] = images.pixels[base + 2 * plane + p];
      tile.data[4 * p + 3] = 255;
    }
    context.putImageData(tile, (index % columns) * side, Math.floor(index / columns) * side);
  }
}

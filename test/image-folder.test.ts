import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadImageSet } from '../src/data/files.js';
import { TenasInputError } from '../src/errors.js';

let folder: string;
afterEach(() => rmSync(folder, { recursive: true, force: true }));

function rgba(width: number, height: number, colour: (x: number, y: number) => [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([...colour(x, y), 255], (y * width + x) * 4);
    }
  }
  return data;
}

function writePng(path: string, width: number, height: number, colour: (x: number, y: number) => [number, number, number]): void {
  const png = new PNG({ width, height });
  png.data = rgba(width, height, colour);
  writeFileSync(path, PNG.sync.write(png));
}

function writeJpeg(path: string, width: number, height: number, colour: (x: number, y: number) => [number, number, number]): void {
  writeFileSync(path, jpeg.encode({ width, height, data: rgba(width, height, colour) }, 95).data);
}

describe('image folders', () => {
  it('decodes JPEG and PNG files from class sub-folders and resizes them to 32×32 for imagenet-1k', async () => {
    folder = mkdtempSync(join(tmpdir(), 'tenas-images-'));
    mkdirSync(join(folder, 'n01440764'));
    mkdirSync(join(folder, 'n01443537'));
    writePng(join(folder, 'n01440764', 'a.png'), 64, 48, () => [200, 100, 50]);
    writeJpeg(join(folder, 'n01443537', 'b.jpg'), 80, 80, (x) => (x < 40 ? [0, 0, 0] : [255, 255, 255]));
    const images = await loadImageSet(folder, 'imagenet-1k');
    expect(images.count).toBe(2);
    expect([images.height, images.width]).toEqual([32, 32]);
    expect(Array.from(images.pixels.subarray(0, 3))).toEqual([200, 200, 200]);
    const green = images.pixels[1 * 32 * 32 + 5 * 32 + 7];
    expect(green).toBe(100);
    const secondRed = images.pixels.subarray(3 * 32 * 32, 4 * 32 * 32);
    expect(secondRed[10 * 32 + 2]).toBeLessThan(20);
    expect(secondRed[10 * 32 + 29]).toBeGreaterThan(235);
    expect(Array.from(images.labels!)).toEqual([0, 1]); // the class sub-folders in sorted order
  });

  it('refuses a mix of sizes where the dataset does not resize', async () => {
    folder = mkdtempSync(join(tmpdir(), 'tenas-images-'));
    writePng(join(folder, 'a.png'), 32, 32, () => [1, 2, 3]);
    writePng(join(folder, 'b.png'), 16, 16, () => [1, 2, 3]);
    await expect(loadImageSet(folder, 'cifar10')).rejects.toThrow(/a\.png is 32×32 but b\.png is 16×16/);
  });

  it('has no labels when images lie at the top level', async () => {
    folder = mkdtempSync(join(tmpdir(), 'tenas-images-'));
    writePng(join(folder, 'a.png'), 32, 32, () => [1, 2, 3]);
    mkdirSync(join(folder, 'cat'));
    writePng(join(folder, 'cat', 'b.png'), 32, 32, () => [1, 2, 3]);
    expect((await loadImageSet(folder, 'cifar10')).labels).toBeUndefined();
  });

  it('names an image that does not decode', async () => {
    folder = mkdtempSync(join(tmpdir(), 'tenas-images-'));
    writePng(join(folder, 'a.png'), 32, 32, () => [1, 2, 3]);
    writeFileSync(join(folder, 'broken.jpg'), 'not a jpeg at all');
    const failure = loadImageSet(folder, 'imagenet-1k');
    await expect(failure).rejects.toBeInstanceOf(TenasInputError);
    await expect(failure).rejects.toThrow(/broken\.jpg is named like an image but starts with neither the PNG nor the JPEG signature/);
  });

  it('decodes by content: a PNG named .jpg is read as PNG, a corrupt one is named', async () => {
    folder = mkdtempSync(join(tmpdir(), 'tenas-images-'));
    writePng(join(folder, 'a.jpg'), 32, 32, () => [1, 2, 3]);
    expect((await loadImageSet(folder, 'cifar10')).count).toBe(1);
    const bytes = readFileSync(join(folder, 'a.jpg'));
    writeFileSync(join(folder, 'b.png'), bytes.subarray(0, 40));
    await expect(loadImageSet(folder, 'cifar10')).rejects.toThrow(/b\.png does not decode as PNG/);
  });

  it('refuses a folder without images', async () => {
    folder = mkdtempSync(join(tmpdir(), 'tenas-images-'));
    writeFileSync(join(folder, 'notes.txt'), 'nothing here');
    await expect(loadImageSet(folder, 'imagenet-1k')).rejects.toThrow(/holds no \.bin files and no \.jpg\/\.png images/);
  });
});

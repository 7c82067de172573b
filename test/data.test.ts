import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TenasInputError } from '../src/errors.js';
import { imageSetFromNpy, parseCifarBinary, type ImageSet } from '../src/data/cifar.js';
import { datasetSpec, DATASET_NAMES, type DatasetSpec } from '../src/data/datasets.js';
import { loadEmbeddedCifar, parseEmbeddedCifar } from '../src/data/embedded.js';
import { loadImageSet } from '../src/data/files.js';
import { encodeNpy, parseNpy, type NdArray } from '../src/data/npy.js';
import { Rng } from '../src/data/rng.js';
import { encodeSafetensors, parseSafetensors, type NamedTensor } from '../src/data/safetensors.js';
import { gaussianBatch, labelledBatch, ntkBatch, regionPatches, writeAugmentedImage } from '../src/data/transforms.js';
import { loadNb201Table, parseNb201Table } from '../src/spaces/nb201/table.js';
import { goldenRoot, repoRoot } from './support/golden.js';


async function golden(caseName: string, file: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path.join(goldenRoot, caseName, file)));
}

async function goldenJson(caseName: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(goldenRoot, caseName, 'expected.json'), 'utf8')) as Record<string, unknown>;
}

/** Asserts that `fn` throws a TenasInputError whose message matches `pattern`. */
function expectInputError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TenasInputError);
  expect((caught as Error).message).toMatch(pattern);
}

async function expectInputErrorAsync(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught).toBeInstanceOf(TenasInputError);
  expect((caught as Error).message).toMatch(pattern);
}

/** Byte-wise equality without vitest's slow element-by-element diff of large arrays. */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** A hand-built .npy file with the given version, header text and data bytes. */
function rawNpy(major: number, header: string, data: Uint8Array): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(ascii(header), prefix);
  out.set(data, prefix + header.length);
  return out;
}

const HEADER_F4_2x2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n";

describe('npy', () => {
  it('round-trips float32, float64 and uint8 arrays with a 64-byte aligned header', () => {
    const arrays: NdArray[] = [
      { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -7]) },
      { dtype: 'float64', shape: [4], data: Float64Array.from([Math.PI, -0, 1e300, 2]) },
      { dtype: 'uint8', shape: [1, 2, 2], data: Uint8Array.from([0, 1, 254, 255]) },
      { dtype: 'float32', shape: [], data: Float32Array.from([42]) },
    ];
    for (const array of arrays) {
      const bytes = encodeNpy(array);
      const headerLength = new DataView(bytes.buffer).getUint16(8, true);
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes[10 + headerLength - 1]).toBe(0x0a);
      const back = parseNpy(bytes);
      expect(back.dtype).toBe(array.dtype);
      expect(back.shape).toEqual(array.shape);
      expect(Array.from(back.data)).toEqual(Array.from(array.data));
    }
  });

  it('reads format versions 2.0 and 3.0', () => {
    const data = new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer);
    for (const major of [2, 3]) {
      const array = parseNpy(rawNpy(major, HEADER_F4_2x2, data));
      expect(array.shape).toEqual([2, 2]);
      expect(Array.from(array.data)).toEqual([1, 2, 3, 4]);
    }
  });

  it('reads the golden LR input and re-encodes it byte for byte', async () => {
    const bytes = await golden('nb201-thin-mask', 'input.npy');
    const input = parseNpy(bytes);
    expect(input.dtype).toBe('float32');
    expect(input.shape).toEqual([3, 1000, 1, 3, 3]);
    expect(input.data.length).toBe(27000);
    expect(sameBytes(encodeNpy(input), bytes)).toBe(true);
    const patterns = parseNpy(await golden('nb201-thin-mask', 'patterns.npy'));
    expect(patterns.dtype).toBe('uint8');
    expect(patterns.shape).toEqual([3000, 63]);
    const theta = parseNpy(await golden('nb201-ntk-full-b8', 'theta.npy'));
    expect(theta.dtype).toBe('float64');
    expect(theta.shape).toEqual([8, 8]);
    expect(theta.data[1]).toBeCloseTo(theta.data[8], 6); // symmetric
  });

  it("reads int64 ('<i8') and int32 ('<i4') labels, refusing int64 beyond 2^53", () => {
    const labels = new BigInt64Array([3n, 0n, 9n, 1n]);
    const i8 = parseNpy(rawNpy(1, HEADER_F4_2x2.replace('<f4', '<i8'), new Uint8Array(labels.buffer)));
    expect(i8.dtype).toBe('int64');
    expect(Array.from(i8.data)).toEqual([3, 0, 9, 1]);
    expect(parseNpy(encodeNpy(i8))).toEqual(i8);
    const i4 = parseNpy(rawNpy(1, HEADER_F4_2x2.replace('<f4', '<i4'), new Uint8Array(new Int32Array([-1, 2, 3, 4]).buffer)));
    expect(Array.from(i4.data)).toEqual([-1, 2, 3, 4]);
    labels[2] = 2n ** 60n;
    expectInputError(() => parseNpy(rawNpy(1, HEADER_F4_2x2.replace('<f4', '<i8'), new Uint8Array(labels.buffer)), 'y.npy'), /y\.npy holds the int64 value 1152921504606846976 at flat index 2/);
  });

  it('rejects malformed files with a message naming the problem', () => {
    const data = new Uint8Array(16);
    const good = rawNpy(1, HEADER_F4_2x2, data);
    expect(() => parseNpy(good)).not.toThrow();
    const badMagic = good.slice();
    badMagic[1] = 0x58;
    expectInputError(() => parseNpy(badMagic, 'x.npy'), /x\.npy is not a NumPy \.npy file.*magic/);
    expectInputError(() => parseNpy(new Uint8Array(3)), /magic/);
    expectInputError(() => parseNpy(rawNpy(4, HEADER_F4_2x2, data)), /version 4\.0/);
    expectInputError(() => parseNpy(rawNpy(1, HEADER_F4_2x2.replace('False', 'True'), data)), /Fortran order/);
    expectInputError(() => parseNpy(rawNpy(1, HEADER_F4_2x2.replace('<f4', '>f4'), data)), /'>f4'.*big-endian/);
    expectInputError(() => parseNpy(rawNpy(1, HEADER_F4_2x2.replace('<f4', '<i2'), data)), /dtype '<i2'.*only float32/);
    expectInputError(() => parseNpy(good.subarray(0, good.length - 1)), /truncated.*16 data bytes, found 15/);
    expectInputError(() => parseNpy(rawNpy(1, HEADER_F4_2x2, new Uint8Array(20))), /extra bytes/);
    expectInputError(() => parseNpy(good.subarray(0, 40)), /truncated inside its header/);
    expectInputError(() => parseNpy(rawNpy(1, "{'descr': '<f4', 'shape': (2, 2), }\n", data)), /malformed.*fortran_order/);
    expectInputError(() => parseNpy(rawNpy(1, HEADER_F4_2x2.replace('(2, 2)', '(2, -2)'), data)), /malformed.*shape/);
  });

  it('refuses to encode data that does not match the shape', () => {
    expectInputError(() => encodeNpy({ dtype: 'float32', shape: [3], data: new Float32Array(2) }), /3 elements.*2/);
  });
});

describe('safetensors', () => {
  it('reads the golden weights in storage order and re-encodes them byte for byte', async () => {
    const bytes = await golden('nb201-thin-mask', 'weights.safetensors');
    const tensors = parseSafetensors(bytes);
    const expected = await goldenJson('nb201-thin-mask');
    expect(tensors.length).toBe(44);
    expect(tensors.map((t) => t.name)).toEqual(expected.param_names);
    expect(tensors[0].name).toBe('arch_parameters');
    expect(tensors[0].shape).toEqual([6, 5]);
    expect(tensors[0].data.every((v) => v === 0 || v === -1000)).toBe(true);
    expect(sameBytes(encodeSafetensors(tensors), bytes)).toBe(true);
  });

  it('round-trips tensors, including empty ones, and pads the header to 8 bytes', () => {
    const tensors: NamedTensor[] = [
      { name: 'b', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      { name: 'empty', shape: [0], data: new Float32Array(0) },
      { name: 'a', shape: [3], data: Float32Array.from([-1, 0.5, 1e-8]) },
    ];
    const bytes = encodeSafetensors(tensors);
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
    expect(header.__metadata__).toEqual({ format: 'pt' });
    const back = parseSafetensors(bytes);
    expect(back.map((t) => t.name)).toEqual(['b', 'empty', 'a']);
    expect(back.map((t) => Array.from(t.data))).toEqual(tensors.map((t) => Array.from(t.data)));
    expect(back[0].shape).toEqual([2, 2]);
    expectInputError(() => encodeSafetensors([tensors[0], tensors[0]]), /'b'.*twice/);
  });

  /** A safetensors file with the given header object and data length. */
  function rawSafetensors(header: unknown, dataBytes: number): Uint8Array {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataBytes);
    new DataView(out.buffer).setUint32(0, json.length, true);
    out.set(json, 8);
    return out;
  }

  it('ignores __metadata__ and orders by data_offsets, not key order', () => {
    const tensors = parseSafetensors(
      rawSafetensors(
        {
          second: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          __metadata__: { anything: 'x' },
          first: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        },
        8,
      ),
    );
    expect(tensors.map((t) => t.name)).toEqual(['first', 'second']);
  });

  it('rejects malformed files with a message naming the problem', () => {
    const entry = (extra: Record<string, unknown>) => ({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...extra } });
    expectInputError(() => parseSafetensors(new Uint8Array(4), 'w.safetensors'), /w\.safetensors.*fewer than the 8-byte/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(0, 1000, true);
    expectInputError(() => parseSafetensors(huge), /header length \(1000 bytes\)/);
    new DataView(huge.buffer).setUint32(4, 1, true);
    expectInputError(() => parseSafetensors(huge), /header length/);
    const notJson = rawSafetensors({}, 0);
    notJson.set(ascii('{x'), 8);
    expectInputError(() => parseSafetensors(notJson), /not valid UTF-8 JSON/);
    expectInputError(() => parseSafetensors(rawSafetensors([1, 2], 0)), /not a JSON object/);
    expectInputError(() => parseSafetensors(rawSafetensors(entry({ dtype: 'F16' }), 8)), /tensor 'w' has dtype F16; only F32/);
    expectInputError(() => parseSafetensors(rawSafetensors(entry({ dtype: 'BF16' }), 8)), /'w'.*BF16/);
    expectInputError(() => parseSafetensors(rawSafetensors(entry({ shape: [2.5] }), 8)), /'w' has an invalid shape/);
    expectInputError(() => parseSafetensors(rawSafetensors(entry({ data_offsets: [0] }), 8)), /'w' has invalid data_offsets/);
    expectInputError(() => parseSafetensors(rawSafetensors(entry({}), 4)), /'w'.*outside the 4 data bytes/);
    expectInputError(() => parseSafetensors(rawSafetensors(entry({ data_offsets: [8, 0] }), 8)), /'w'.*outside/);
    expectInputError(() => parseSafetensors(rawSafetensors(entry({ shape: [3] }), 8)), /'w' has shape \[3\].*span 8 bytes/);
    const overlapping = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    expectInputError(() => parseSafetensors(rawSafetensors(overlapping, 12)), /'a' and 'b' overlap/);
  });
});

describe('CIFAR images', () => {
  it('reads the embedded CIFAR-10 test images as documented in PROVENANCE.md', async () => {
    const images = await loadEmbeddedCifar();
    expect(images.count).toBe(1000);
    expect([images.channels, images.height, images.width]).toEqual([3, 32, 32]);
    expect(Array.from(images.pixels.subarray(0, 10))).toEqual([158, 159, 165, 166, 160, 156, 162, 159, 158, 159]);
    const raw = new Uint8Array(await readFile(path.join(repoRoot, 'data/cifar10-test-1000/cifar10_test_first1000.bin')));
    const labels = Array.from({ length: 20 }, (_, i) => raw[i * 3073]);
    expect(labels).toEqual([3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]);
    expect(Array.from(images.labels!.subarray(0, 20))).toEqual(labels);
    // The last blue byte of the last image is the last byte of the file.
    expect(images.pixels[images.pixels.length - 1]).toBe(raw[raw.length - 1]);
    expect(sameBytes(parseEmbeddedCifar(raw).pixels, images.pixels)).toBe(true);
  });

  it('skips two label bytes for CIFAR-100 and rejects sizes that are not whole records', () => {
    const record = new Uint8Array(3074);
    record[0] = 7;
    record[1] = 9;
    record[2] = 200;
    const images = parseCifarBinary(record, 'cifar100', 'one.bin');
    expect(images.count).toBe(1);
    expect(images.pixels[0]).toBe(200);
    expect(Array.from(images.labels!)).toEqual([9]); // the fine label
    expectInputError(() => parseCifarBinary(record, 'cifar10', 'one.bin'), /one\.bin: 3074 bytes.*CIFAR-10 binary record size 3073/);
    expectInputError(() => parseCifarBinary(new Uint8Array(0), 'cifar100', 'e.bin'), /CIFAR-100 binary record size 3074/);
  });

  it('accepts NCHW and NHWC arrays of uint8 or float32 in [0, 1]', () => {
    // One 2×2 image: R = 0..3, G = 10..13, B = 20..23.
    const nchw = Uint8Array.from([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    const nhwc = Uint8Array.from([0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23]);
    expect(imageSetFromNpy({ dtype: 'uint8', shape: [1, 3, 2, 2], data: nchw }, 's').pixels).toEqual(nchw);
    expect(imageSetFromNpy({ dtype: 'uint8', shape: [1, 2, 2, 3], data: nhwc }, 's').pixels).toEqual(nchw);
    const floats = Float32Array.from(nchw, (v) => v / 255);
    const fromFloat = imageSetFromNpy({ dtype: 'float32', shape: [1, 3, 2, 2], data: floats }, 's');
    expect(fromFloat.pixels).toEqual(nchw);
    expect([fromFloat.count, fromFloat.height, fromFloat.width]).toEqual([1, 2, 2]);
    // 3×3×3 images are ambiguous: read as NCHW.
    const cube = imageSetFromNpy({ dtype: 'uint8', shape: [1, 3, 3, 3], data: Uint8Array.from({ length: 27 }, (_, i) => i) }, 's');
    expect(cube.pixels[1]).toBe(1);
  });

  it('rejects image arrays it cannot use', () => {
    const u8 = (shape: number[]) => ({ dtype: 'uint8' as const, shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 1)) });
    expectInputError(() => imageSetFromNpy(u8([3, 32, 32]), 'a.npy'), /a\.npy: expected a 4-D image array/);
    expectInputError(() => imageSetFromNpy(u8([1, 4, 32, 32]), 'a.npy'), /3 colour channels/);
    expectInputError(() => imageSetFromNpy(u8([1, 3, 32, 16]), 'a.npy'), /square, got 32×16/);
    expectInputError(() => imageSetFromNpy(u8([0, 3, 32, 32]), 'a.npy'), /empty/);
    const outOfRange = { dtype: 'float32' as const, shape: [1, 3, 1, 1], data: Float32Array.from([0.5, 1.5, 0]) };
    expectInputError(() => imageSetFromNpy(outOfRange, 'a.npy'), /values in \[0, 1\], found 1\.5/);
    const nan = { dtype: 'float32' as const, shape: [1, 3, 1, 1], data: Float32Array.from([0.5, Number.NaN, 0]) };
    expectInputError(() => imageSetFromNpy(nan, 'a.npy'), /found NaN/);
  });
});

describe('image files', () => {
  async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(path.join(tmpdir(), 'tenas-data-'));
    try {
      await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  function cifarRecords(count: number, firstPixel: (i: number) => number, labelBytes = 1): Uint8Array {
    const recordBytes = labelBytes + 3072;
    const bytes = new Uint8Array(count * recordBytes);
    for (let i = 0; i < count; i++) bytes[i * recordBytes + labelBytes] = firstPixel(i);
    return bytes;
  }

  it('loads a .bin file, a folder of batches in name order and a .npy file', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'single.bin'), cifarRecords(2, (i) => i + 1));
      const single = await loadImageSet(path.join(dir, 'single.bin'), 'cifar10');
      expect(single.count).toBe(2);
      expect(single.pixels[3072]).toBe(2);

      const folder = path.join(dir, 'batches');
      await mkdir(folder);
      await writeFile(path.join(folder, 'data_batch_2.bin'), cifarRecords(1, () => 20));
      await writeFile(path.join(folder, 'data_batch_1.bin'), cifarRecords(2, () => 10));
      await writeFile(path.join(folder, 'readme.txt'), 'ignored');
      const batches = await loadImageSet(folder, 'cifar10');
      expect(batches.count).toBe(3);
      expect([batches.pixels[0], batches.pixels[3072], batches.pixels[2 * 3072]]).toEqual([10, 10, 20]);
      expect(Array.from(batches.labels!)).toEqual([0, 0, 0]);

      const hundred = path.join(dir, 'c100.bin');
      await writeFile(hundred, cifarRecords(1, () => 99, 2));
      expect((await loadImageSet(hundred, 'cifar100')).pixels[0]).toBe(99);

      const npyPath = path.join(dir, 'images.npy');
      const data = new Uint8Array(2 * 16 * 16 * 3).fill(7);
      await writeFile(npyPath, encodeNpy({ dtype: 'uint8', shape: [2, 16, 16, 3], data }));
      const npy = await loadImageSet(npyPath, 'imagenet16-120');
      expect([npy.count, npy.height]).toEqual([2, 16]);
    });
  });

  it('explains missing paths, empty folders, wrong formats and sizes', async () => {
    await withTempDir(async (dir) => {
      await expectInputErrorAsync(loadImageSet(path.join(dir, 'nope.bin'), 'cifar10'), /nope\.bin does not exist/);
      await expectInputErrorAsync(loadImageSet(dir, 'cifar10'), /holds no \.bin files/);
      const odd = path.join(dir, 'odd.dat');
      await writeFile(odd, new Uint8Array(100));
      await expectInputErrorAsync(
        loadImageSet(odd, 'cifar10'),
        /odd\.dat \(100 bytes\) is neither a \.npy array, a JPEG\/PNG image nor CIFAR-10 binary records of 3073 bytes.*a folder of JPEG\/PNG images/,
      );
      await writeFile(odd, cifarRecords(1, () => 0));
      await expectInputErrorAsync(loadImageSet(odd, 'cifar100'), /nor CIFAR-100 binary records of 3074 bytes/);
      // Recognised by content: a text file whose size fits the record size, labels out of range, a lone PNG.
      const text = path.join(dir, 'notes.png');
      await writeFile(text, 'x'.repeat(3073 * 2));
      await expectInputErrorAsync(loadImageSet(text, 'cifar10'), /notes\.png is not CIFAR-10 binary data \(the file looks like text\): record 1 has label byte 120, but CIFAR-10 labels are 0 to 9/);
      const badLabel = cifarRecords(3, () => 0);
      badLabel[2 * 3073] = 10;
      await writeFile(odd, badLabel);
      await expectInputErrorAsync(loadImageSet(odd, 'cifar10'), /record 3 has label byte 10, but CIFAR-10 labels are 0 to 9; .*a folder of JPEG\/PNG images/);
      const coarse = cifarRecords(1, () => 0, 2);
      coarse[0] = 20;
      await writeFile(odd, coarse);
      await expectInputErrorAsync(loadImageSet(odd, 'cifar100'), /record 1 has coarse label byte 20, but CIFAR-100 coarse labels are 0 to 19/);
      const fine = cifarRecords(1, () => 0, 2);
      fine[1] = 100;
      await writeFile(odd, fine);
      await expectInputErrorAsync(loadImageSet(odd, 'cifar100'), /record 1 has fine label byte 100, but CIFAR-100 fine labels are 0 to 99/);
      const png = path.join(dir, 'one.bin');
      await writeFile(png, Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(3065)));
      await expectInputErrorAsync(loadImageSet(png, 'cifar10'), /one\.bin is a single PNG image; .*put the images in a folder and pass the folder/);
      const small = path.join(dir, 'small.npy');
      await writeFile(small, encodeNpy({ dtype: 'uint8', shape: [1, 3, 16, 16], data: new Uint8Array(768) }));
      await expectInputErrorAsync(loadImageSet(small, 'cifar10'), /16×16 images cannot feed the 32×32 input of cifar10/);
    });
  });
});

describe('Rng', () => {
  const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.nextU32());

  it('is reproducible for the same (seed, path)', () => {
    expect(draw(Rng.stream(7, 'ntk', 2, 3), 50)).toEqual(draw(Rng.stream(7, 'ntk', 2, 3), 50));
  });

  it('gives unrelated streams for different keys', () => {
    const keys: [number, ...(number | string)[]][] = [
      [0], [1], [2 ** 40], [-1], [1, 0], [1, '0'], [1, 'a'], [1, 'a', 0], [1, 'ab'], [1, 'ba'], [1, 0, 1], [1, 1, 0], [1, 0.5],
    ];
    const firsts = keys.map((key) => draw(Rng.stream(...key), 4).join(','));
    expect(new Set(firsts).size).toBe(keys.length);
    // Neighbouring streams are uncorrelated: about half of the bits differ.
    const a = draw(Rng.stream(5, 'init', 0), 1000);
    const b = draw(Rng.stream(5, 'init', 1), 1000);
    let differing = 0;
    for (let i = 0; i < a.length; i++) for (let x = (a[i] ^ b[i]) >>> 0; x !== 0; x >>>= 1) differing += x & 1;
    expect(differing / (32 * 1000)).toBeGreaterThan(0.48);
    expect(differing / (32 * 1000)).toBeLessThan(0.52);
  });

  it('draws uniform, integer and normal numbers with the right statistics', () => {
    const rng = Rng.stream(123, 'stats');
    const n = 200_000;
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 2);

    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    const chiSquare = counts.reduce((acc, c) => acc + (c - 10_000) ** 2 / 10_000, 0);
    expect(chiSquare).toBeLessThan(22.5); // 6 degrees of freedom, p ≈ 0.001
    expect(rng.int(1)).toBe(0);
    const big = rng.int(2 ** 40);
    expect(Number.isInteger(big) && big >= 0 && big < 2 ** 40).toBe(true);
    expectInputError(() => rng.int(0), /positive integer/);

    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s1 += z;
      s2 += z * z;
    }
    expect(Math.abs(s1 / n)).toBeLessThan(0.01);
    expect(s2 / n).toBeCloseTo(1, 1);
  });

  it('shuffles in place into a permutation', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const result = Rng.stream(1, 'shuffle').shuffle(items);
    expect(result).toBe(items);
    expect([...items].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(items).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('is fast enough for weight initialisation', () => {
    const rng = Rng.stream(9, 'speed');
    const start = performance.now();
    let sink = 0;
    for (let i = 0; i < 1_000_000; i++) sink += rng.normal();
    expect(Number.isFinite(sink)).toBe(true);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe('datasets', () => {
  it('knows the four datasets and their constants', () => {
    expect(DATASET_NAMES).toEqual(['cifar10', 'cifar100', 'imagenet16-120', 'imagenet-1k']);
    const c10 = datasetSpec('cifar10');
    expect([c10.classes, c10.inputSize, c10.cropPadding]).toEqual([10, 32, 4]);
    expect(c10.mean[0]).toBeCloseTo(125.3 / 255, 12);
    expect(datasetSpec('cifar100').classes).toBe(100);
    const in16 = datasetSpec('ImageNet16-120');
    expect([in16.name, in16.classes, in16.inputSize, in16.cropPadding]).toEqual(['imagenet16-120', 120, 16, 2]);
    const in1k = datasetSpec('imagenet-1k');
    expect([in1k.classes, in1k.inputSize, in1k.cropPadding, in1k.std[2]]).toEqual([1000, 32, 4, 0.225]);
    expectInputError(() => datasetSpec('mnist'), /unknown dataset 'mnist'; choose one of cifar10, cifar100, imagenet16-120, imagenet-1k/);
  });
});

/** Images whose every pixel (all channels) equals the image's index × step, so a pixel names its image. */
function labelledImages(count: number, side: number, step = 1): ImageSet {
  const pixels = new Uint8Array(count * 3 * side * side);
  for (let i = 0; i < count; i++) pixels.fill(i * step, i * 3 * side * side, (i + 1) * 3 * side * side);
  return { count, channels: 3, height: side, width: side, pixels, source: 'labelled test images' };
}

function denormalise(value: number, spec: DatasetSpec, channel: number): number {
  return (value * spec.std[channel] + spec.mean[channel]) * 255;
}

describe('transforms', () => {
  it('reproduces the golden NTK inputs from the listed images (flip, pad-crop, downsample, normalise)', async () => {
    const images = await loadEmbeddedCifar();
    for (const caseName of ['nb201-ntk-full-b8', 'nb201-ntk-c100-b8', 'nb201-ntk-in16-b8', 'darts-ntk-in1k-b24']) {
      const expected = await goldenJson(caseName);
      const spec = datasetSpec(expected.dataset as string);
      const input = parseNpy(await golden(caseName, 'input.npy'));
      const size = spec.inputSize;
      const imageFloats = 3 * size * size;
      const candidate = new Float32Array(imageFloats);
      (expected.image_indices as number[]).forEach((imageIndex, b) => {
        const target = input.data.subarray(b * imageFloats, (b + 1) * imageFloats);
        let best = Infinity;
        for (const flip of [false, true]) {
          for (let cropY = 0; cropY <= 2 * spec.cropPadding; cropY++) {
            for (let cropX = 0; cropX <= 2 * spec.cropPadding; cropX++) {
              writeAugmentedImage(images, imageIndex, { flip, cropY, cropX }, spec, candidate, 0);
              let error = 0;
              for (let i = 0; i < imageFloats; i++) error = Math.max(error, Math.abs(candidate[i] - target[i]));
              best = Math.min(best, error);
            }
          }
        }
        expect(best, `${caseName} sample ${b}`).toBeLessThan(1e-5);
      });
    }
  });

  it('makes NTK batches of distinct images, normalised to about zero mean and unit variance', async () => {
    const images = await loadEmbeddedCifar();
    const spec = datasetSpec('cifar10');
    const batch = ntkBatch(images, 72, spec, Rng.stream(1, 'ntk'));
    expect(batch.length).toBe(72 * 3 * 32 * 32);
    expect(sameBytes(ntkBatch(images, 72, spec, Rng.stream(1, 'ntk')), batch)).toBe(true);
    expect(sameBytes(ntkBatch(images, 72, spec, Rng.stream(2, 'ntk')), batch)).toBe(false);

    const noPadding = { ...spec, cropPadding: 0 };
    const large = ntkBatch(images, 1000, noPadding, Rng.stream(3, 'ntk'));
    const plane = 32 * 32;
    for (let channel = 0; channel < 3; channel++) {
      let s1 = 0;
      let s2 = 0;
      for (let b = 0; b < 1000; b++) {
        for (let i = 0; i < plane; i++) {
          const v = large[(b * 3 + channel) * plane + i];
          s1 += v;
          s2 += v * v;
        }
      }
      const mean = s1 / (1000 * plane);
      expect(Math.abs(mean)).toBeLessThan(0.1);
      expect(Math.sqrt(s2 / (1000 * plane) - mean * mean)).toBeCloseTo(1, 0);
    }

    const labelled = labelledImages(50, 32, 5);
    const picked = ntkBatch(labelled, 50, noPadding, Rng.stream(4, 'ntk'));
    const indices = Array.from({ length: 50 }, (_, b) => Math.round(denormalise(picked[b * 3 * plane], spec, 0)) / 5);
    expect(new Set(indices).size).toBe(50);
    // The labelled batch is the same draw, and carries the labels of the images it picked.
    const withLabels = labelledBatch({ ...labelled, labels: Int32Array.from({ length: 50 }, (_, i) => i % 10) }, 50, noPadding, Rng.stream(4, 'ntk'));
    expect(sameBytes(withLabels.input, picked)).toBe(true);
    expect(Array.from(withLabels.labels!)).toEqual(indices.map((index) => index % 10));
    expect(labelledBatch(labelled, 50, noPadding, Rng.stream(4, 'ntk')).labels).toBeUndefined();
    expectInputError(() => ntkBatch(labelled, 51, spec, Rng.stream(4)), /holds 50 images, fewer than the NTK batch size 51/);
    expectInputError(() => ntkBatch(labelled, 0, spec, Rng.stream(4)), /positive integer/);
  });

  it('box-downsamples larger images by an integer factor, rounding half up', () => {
    const spec = datasetSpec('imagenet16-120');
    const images = labelledImages(1, 32);
    // Top-left 2×2 box of the red plane: 1 + 2 + 2 + 2 = 7 → 1.75 → 2; next box 0 → 0.
    images.pixels.fill(0);
    images.pixels.set([1, 2], 0);
    images.pixels.set([2, 2], 32);
    images.pixels.set([1, 2], 2);
    images.pixels.set([0, 0], 34); // (1 + 2 + 0 + 0) / 4 = 0.75 → 1
    images.pixels.set([1, 0], 4);
    images.pixels[36] = 1; // (1 + 0 + 1 + 0) / 4 = 0.5 → 1
    const out = new Float32Array(3 * 16 * 16);
    writeAugmentedImage(images, 0, { flip: false, cropY: 2, cropX: 2 }, spec, out, 0);
    expect([0, 1, 2, 3].map((x) => Math.round(denormalise(out[x], spec, 0)) + 0)).toEqual([2, 1, 1, 0]);
    expectInputError(() => ntkBatch(labelledImages(4, 24), 2, spec, Rng.stream(0)), /24×24 images cannot feed the 16×16 input/);
  });

  it('makes linear-region patches: every image once per pass, one channel, normalised', async () => {
    const spec = datasetSpec('cifar10');
    const labelled = labelledImages(40, 32, 6);
    const patches = regionPatches(labelled, 100, spec, Rng.stream(5, 'lr'));
    expect(patches.length).toBe(100 * 9);
    const imageOf = (i: number): number => {
      const value = patches[i * 9];
      const channel = [0, 1, 2].find((c) => Math.abs(denormalise(value, spec, c) / 6 - Math.round(denormalise(value, spec, c) / 6)) < 1e-3);
      expect(channel).toBeDefined();
      return Math.round(denormalise(value, spec, channel ?? 0) / 6);
    };
    const order = Array.from({ length: 100 }, (_, i) => imageOf(i));
    for (const [start, end] of [[0, 40], [40, 80]]) expect(new Set(order.slice(start, end)).size).toBe(40);
    expect(new Set(order.slice(80)).size).toBe(20);

    const images = await loadEmbeddedCifar();
    const real = regionPatches(images, 1000, spec, Rng.stream(6, 'lr'));
    expect(real.length).toBe(9000);
    const mean = real.reduce((a, b) => a + b, 0) / real.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(sameBytes(regionPatches(images, 1000, spec, Rng.stream(6, 'lr')), real)).toBe(true);
  });

  it('matches the golden LR inputs: every patch is one channel of integer pixels, normalised', async () => {
    const spec = datasetSpec('cifar10');
    const input = parseNpy(await golden('nb201-thin-mask', 'input.npy')).data;
    for (let p = 0; p < 3000; p++) {
      const patch = input.subarray(p * 9, p * 9 + 9);
      const fits = [0, 1, 2].some((c) =>
        Array.from(patch).every((v) => {
          const pixel = denormalise(v, spec, c);
          return Math.abs(pixel - Math.round(pixel)) < 2e-3 && pixel > -0.5 && pixel < 255.5;
        }),
      );
      expect(fits, `patch ${p}`).toBe(true);
    }
  });

  it('draws Gaussian batches', () => {
    const batch = gaussianBatch(4, 3, 8, Rng.stream(1, 'gauss'));
    expect(batch.length).toBe(4 * 3 * 8 * 8);
    const mean = batch.reduce((a, b) => a + b, 0) / batch.length;
    expect(Math.abs(mean)).toBeLessThan(0.2);
    expectInputError(() => gaussianBatch(4, 0, 8, Rng.stream(1)), /channel count must be a positive integer/);
  });
});

describe('NAS-Bench-201 table', () => {
  it('looks up the best CIFAR-10 architecture', async () => {
    const table = await loadNb201Table();
    expect(table.entries.length).toBe(15625);
    const best = table.lookup('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|');
    expect(best.index).toBe(6111);
    expect(best.cifar10).toBeCloseTo(94.3733, 4);
    expect(best.cifar100).toBeCloseTo(73.22, 2);
    expect(Math.max(...table.entries.map((e) => e.cifar10))).toBe(best.cifar10);
    const allNone = table.lookup('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|');
    expect([allNone.cifar10, allNone.cifar100, allNone.imagenet16].map((v) => v.toFixed(2))).toEqual(['10.00', '1.00', '0.83']);
    expect(table.entries[857].imagenet16).toBeCloseTo(47.3111, 4);
    expect(await loadNb201Table()).toBe(table);
  });

  it('explains unknown architectures and corrupt tables', async () => {
    const table = await loadNb201Table();
    expectInputError(() => table.lookup('|conv~0|'), /'\|conv~0\|' is not in the NAS-Bench-201 table: use the form/);
    expectInputError(
      () => table.lookup('|nor_conv_3x3,skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|'),
      /several ops on an edge/,
    );
    expectInputError(() => parseNb201Table('a,b\n'), /header 'a,b'/);
    expectInputError(() => parseNb201Table('index,arch,cifar10_test,cifar100_test,imagenet16_test,u\n1,x,abc,1,2,u\n'), /line 2 has cifar10_test 'abc'/);
  });
});

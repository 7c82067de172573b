// The files the bad-input matrix feeds to the CLI: inputs of every format that are truncated,
// corrupt or mislabelled, resumable row files with one bad line, and output targets of every kind.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { encodeNpy } from '../../src/data/npy.js';
import { encodeSafetensors, parseSafetensors } from '../../src/data/safetensors.js';
import { formatRow, CSV_HEADER, type CorrelationRow, type RowFormat } from '../../src/evaluation/rows.js';
import { selectArchs } from '../../src/evaluation/selection.js';
import { goldenRoot } from './golden.js';

const CIFAR10_RECORD = 3073;
const CIFAR100_RECORD = 3074;

/** The architecture of the golden weights the NaN fixture is made from. */
export const GOLDEN_NTK_ARCH = (JSON.parse(readFileSync(path.join(goldenRoot, 'nb201-ntk-full-b8', 'expected.json'), 'utf8')) as { alive: { arch: string } }).alive.arch;

/** Settings of the rows in the row-file fixtures; the matrix's correlate runs use the same. */
export const ROW_SETTINGS = { sample: 3, seed: 0, batch: 8, patches: 100 } as const;

function png(width: number, height: number): Buffer {
  const image = new PNG({ width, height });
  image.data.fill(128);
  return PNG.sync.write(image);
}

function jpg(width: number, height: number): Uint8Array {
  return jpeg.encode({ width, height, data: Buffer.alloc(width * height * 4, 100) }, 90).data;
}

function cifar(records: number, recordBytes: number, labels: (record: number) => number[] = () => [0]): Uint8Array {
  const bytes = new Uint8Array(records * recordBytes);
  for (let record = 0; record < records; record++) bytes.set(labels(record), record * recordBytes);
  return bytes;
}

/** A .npy file with a hand-written header, for dtypes and flags the encoder does not produce. */
function rawNpy(header: string, data: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  let text = header;
  while ((prefix + text.length + 1) % 64 !== 0) text += ' ';
  text += '\n';
  const bytes = new Uint8Array(prefix + text.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(bytes.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) bytes[prefix + i] = text.charCodeAt(i);
  bytes.set(data, prefix + text.length);
  return bytes;
}

const floatImages = (shape: number[], value = 0.5) => encodeNpy({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value) });

/** Three rows as `tenas correlate --sample 3` with ROW_SETTINGS would write them (made-up scores). */
export function correlateRows(): CorrelationRow[] {
  return selectArchs({ sample: ROW_SETTINGS.sample, seed: ROW_SETTINGS.seed }).map((arch, i) => ({
    archIndex: arch.archIndex,
    arch: arch.arch,
    kappa: 100 + i,
    regions: 50 + i,
    dataset: 'cifar10',
    protocol: 'reference',
    seed: ROW_SETTINGS.seed,
    batch: ROW_SETTINGS.batch,
    repeats: 1,
    patches: ROW_SETTINGS.patches,
    backend: 'wasm',
    seconds: 0.5,
  }));
}

function rowFile(rows: readonly CorrelationRow[], format: RowFormat): string {
  return (format === 'csv' ? CSV_HEADER : '') + rows.map((row) => formatRow(row, format)).join('');
}

/** The rows with the middle one's CSV column `column` replaced by `value` (the line named in errors is 3). */
function csvWithMiddle(column: number, value: string): string {
  const lines = rowFile(correlateRows(), 'csv').split('\n');
  const fields = lines[2].split(',');
  fields[column] = value;
  lines[2] = fields.join(',');
  return lines.join('\n');
}

export interface Fixtures {
  readonly dir: string;
  /** `dir`-relative name → absolute path. */
  at(name: string): string;
  /** Stops the socket server. */
  close(): Promise<void>;
}

export async function makeFixtures(dir: string): Promise<Fixtures> {
  const at = (name: string) => path.join(dir, name);
  const write = (name: string, content: string | Uint8Array) => {
    mkdirSync(path.dirname(at(name)), { recursive: true });
    writeFileSync(at(name), content);
  };

  // --data: CIFAR binaries, images, arrays.
  write('notes.png', 'x'.repeat(CIFAR10_RECORD * 2));
  write('bad-label.bin', cifar(3, CIFAR10_RECORD, (record) => [record === 2 ? 12 : 0]));
  write('truncated.bin', cifar(2, CIFAR10_RECORD).subarray(0, CIFAR10_RECORD * 2 - 7));
  write('empty.bin', '');
  write('one-record.bin', cifar(1, CIFAR10_RECORD));
  write('c100-coarse.bin', cifar(2, CIFAR100_RECORD, (record) => (record === 1 ? [20, 0] : [0, 0])));
  write('c100-fine.bin', cifar(1, CIFAR100_RECORD, () => [3, 100]));
  write('one.png', png(32, 32));
  write('one.jpg', jpg(32, 32));
  write('image.bin', png(32, 32));
  write('corrupt-png/a.png', png(32, 32));
  write('corrupt-png/b.png', png(32, 32).subarray(0, 60));
  write('text-jpg/a.png', png(32, 32));
  write('text-jpg/notes.jpg', 'not a JPEG, just text');
  write('truncated-jpg/a.jpg', jpg(32, 32).subarray(0, 100));
  write('mixed-sizes/a.png', png(32, 32));
  write('mixed-sizes/b.png', png(16, 16));
  mkdirSync(at('empty-folder'));
  write('text-folder/readme.txt', 'no images here');
  write('npy-as-bin/images.bin', floatImages([1, 3, 32, 32]));
  write('bad-bin-folder/data_batch_1.bin', cifar(1, CIFAR10_RECORD));
  write('bad-bin-folder/data_batch_2.bin', cifar(1, CIFAR10_RECORD, () => [200]));
  write('truncated.npy', floatImages([2, 3, 32, 32]).subarray(0, 2000));
  write('int32.npy', rawNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }", new Uint8Array(48)));
  write('fortran.npy', rawNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3, 2, 2), }", new Uint8Array(48)));
  write('big-endian.npy', rawNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }", new Uint8Array(48)));
  write('version9.npy', rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4), 9));
  write('header-cut.npy', rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)).subarray(0, 30));
  write('bad-dict.npy', rawNpy("{'descr': '<f4', 'shape': 'many', }", new Uint8Array(4)));
  write('three-d.npy', floatImages([3, 32, 32]));
  write('two-channels.npy', floatImages([1, 2, 32, 32]));
  write('out-of-range.npy', floatImages([1, 3, 32, 32], 2));
  write('non-square.npy', floatImages([1, 3, 32, 16]));
  write('small.npy', encodeNpy({ dtype: 'uint8', shape: [1, 3, 16, 16], data: new Uint8Array(768) }));
  write('no-images.npy', encodeNpy({ dtype: 'uint8', shape: [0, 3, 32, 32], data: new Uint8Array(0) }));
  write('text.npy', 'plain text, not NumPy\n');

  // score --weights and --input.
  const tensor = { name: 'stem.0.weight', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) };
  write('wrong-names.safetensors', encodeSafetensors([tensor]));
  const weights = readFileSync(path.join(goldenRoot, 'nb201-ntk-full-b8', 'weights.safetensors'));
  const poisoned = parseSafetensors(weights).map((named, i) => (i === 3 ? { ...named, data: named.data.map((v, j) => (j === 1 ? Number.NaN : v)) } : named));
  write('nan.safetensors', encodeSafetensors(poisoned));
  write('truncated.safetensors', weights.subarray(0, weights.length - 1000));
  write('tiny.safetensors', Uint8Array.of(1, 2, 3));
  write('text.safetensors', 'this is not a safetensors file at all');
  const headerOf = (json: string, declared = json.length) => {
    const bytes = new Uint8Array(8 + json.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(declared), true);
    for (let i = 0; i < json.length; i++) bytes[8 + i] = json.charCodeAt(i);
    return bytes;
  };
  write('huge-header.safetensors', headerOf('{}', 2 ** 40));
  write('header-not-json.safetensors', headerOf('{"a": '));
  write('header-array.safetensors', headerOf('[1, 2]'));
  write('f16.safetensors', headerOf('{"w": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}}'));
  write('offsets-past-end.safetensors', headerOf('{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}'));
  write('input-28.npy', floatImages([8, 3, 28, 28]));
  write('input-uint8.npy', encodeNpy({ dtype: 'uint8', shape: [2, 3, 32, 32], data: new Uint8Array(2 * 3 * 32 * 32) }));
  const withNaN = new Float32Array(2 * 3 * 32 * 32);
  withNaN[5] = Number.NaN;
  write('input-nan.npy', encodeNpy({ dtype: 'float32', shape: [2, 3, 32, 32], data: withNaN }));
  write('input-ok.npy', floatImages([2, 3, 32, 32]));
  write('thin-input.npy', floatImages([3, 10, 1, 3, 3]));

  // correlate: row files to resume from (the middle row, line 3, is bad) and to merge.
  write('rows-ok.csv', rowFile(correlateRows(), 'csv'));
  write('rows-ok.jsonl', rowFile(correlateRows(), 'jsonl'));
  write('kappa-negative.csv', csvWithMiddle(2, '-5'));
  write('kappa-below-one.csv', csvWithMiddle(2, '0.5'));
  write('kappa-nan.csv', csvWithMiddle(2, 'NaN'));
  write('kappa-empty.csv', csvWithMiddle(2, ''));
  write('regions-zero.csv', csvWithMiddle(3, '0'));
  write('regions-fraction.csv', csvWithMiddle(3, '2.5'));
  write('regions-negative.csv', csvWithMiddle(3, '-3'));
  write('arch-mismatch.csv', csvWithMiddle(0, '0'));
  write('arch-index-huge.csv', csvWithMiddle(0, '99999'));
  write('arch-index-negative.csv', csvWithMiddle(0, '-1'));
  write('protocol-bogus.csv', csvWithMiddle(5, 'bogus'));
  write('seed-fraction.csv', csvWithMiddle(6, '1.5'));
  write('seconds-negative.csv', csvWithMiddle(11, '-1'));
  write('repeats-zero.csv', csvWithMiddle(8, '0'));
  write('missing-column.csv', csvWithMiddle(11, '0.5,extra'));
  write('other-header.csv', `a,b,c\n1,2,3\n`);
  const rows = correlateRows();
  write('conflict.csv', rowFile([...rows, { ...rows[1], kappa: 999 }], 'csv'));
  write('other-settings.csv', rowFile(rows.map((row) => ({ ...row, batch: 9 })), 'csv'));
  write('not-object.jsonl', `${formatRow(rows[0], 'jsonl')}[1, 2, 3]\n`);
  write('not-json.jsonl', `${formatRow(rows[0], 'jsonl')}{"arch_index": 1,\n`);
  const { kappa: _dropped, ...noKappa } = JSON.parse(formatRow(rows[1], 'jsonl')) as Record<string, unknown>;
  write('no-kappa.jsonl', `${formatRow(rows[0], 'jsonl')}${JSON.stringify(noKappa)}\n`);
  write('kappa-text.jsonl', `${formatRow(rows[0], 'jsonl')}${JSON.stringify({ ...JSON.parse(formatRow(rows[1], 'jsonl')), kappa: 'abc' })}\n`);
  write('merge-conflict.csv', rowFile([{ ...rows[0], regions: 77 }], 'csv'));
  write('rows.txt', 'arch_index\n');
  mkdirSync(at('folder.csv'));

  // Output targets.
  write('keep.json', '{"kept": true}\n');
  mkdirSync(at('out-folder'));
  write('plain-file', 'a file, not a folder\n');
  symlinkSync('loop-b.json', at('loop-a.json'));
  symlinkSync('loop-a.json', at('loop-b.json'));
  mkdirSync(at('plot-is-folder.csv.svg'));
  symlinkSync('/dev/null', at('null-link.csv'));
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(at('socket.json'), resolve));

  return {
    dir,
    at,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import { TenasInputError } from '../errors.js';

/** A dense row-major (C order) array read from or written to a NumPy `.npy` file. */
export interface NdArray {
  dtype: 'float32' | 'float64' | 'uint8' | 'int32' | 'int64';
  shape: number[];
  /** int64 arrays are read as float64 (exact up to 2⁵³; larger magnitudes are refused). */
  data: Float32Array | Float64Array | Uint8Array | Int32Array;
}

type DType = NdArray['dtype'];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const HEADER_ALIGNMENT = 64;

const DESCR_TO_DTYPE: Record<string, DType> = { '<f4': 'float32', '<f8': 'float64', '|u1': 'uint8', '<u1': 'uint8', '<i4': 'int32', '<i8': 'int64' };
const DTYPE_TO_DESCR: Record<DType, string> = { float32: '<f4', float64: '<f8', uint8: '|u1', int32: '<i4', int64: '<i8' };
const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, uint8: 1, int32: 4, int64: 8 };

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** Parses a `.npy` file (format 1.0, 2.0 or 3.0; little-endian float32/float64, int32/int64 or uint8, C order). */
export function parseNpy(bytes: Uint8Array, what = 'the .npy file'): NdArray {
  const { header, dataOffset } = readHeader(bytes, what);
  const fields = parseHeaderDict(header, what);
  const dtype = DESCR_TO_DTYPE[fields.descr];
  if (dtype === undefined) {
    const hint = fields.descr.startsWith('>') ? ' (big-endian data: save it little-endian, e.g. `a.astype("<f4")`)' : '';
    throw new TenasInputError(
      `${what} has dtype '${fields.descr}'${hint}; only float32 ('<f4'), float64 ('<f8'), int32 ('<i4'), int64 ('<i8') and uint8 ('|u1') are supported`,
    );
  }
  if (fields.fortranOrder) {
    throw new TenasInputError(`${what} is stored in Fortran order; save it in C order (np.ascontiguousarray) and retry`);
  }
  const expectedBytes = elementCount(fields.shape) * BYTES_PER_ELEMENT[dtype];
  const actualBytes = bytes.length - dataOffset;
  if (actualBytes !== expectedBytes) {
    const problem = actualBytes < expectedBytes ? 'is truncated' : 'has extra bytes after the data';
    throw new TenasInputError(
      `${what} ${problem}: shape [${fields.shape.join(', ')}] of ${fields.descr} needs ${expectedBytes} data bytes, found ${actualBytes}`,
    );
  }
  // Copying gives the typed array its own, correctly aligned buffer.
  const raw = copyBytes(bytes, dataOffset, dataOffset + expectedBytes);
  const data =
    dtype === 'float32' ? new Float32Array(raw) : dtype === 'float64' ? new Float64Array(raw) : dtype === 'int32' ? new Int32Array(raw) : dtype === 'int64' ? int64Values(raw, what) : new Uint8Array(raw);
  return { dtype, shape: fields.shape, data };
}

function int64Values(raw: ArrayBuffer, what: string): Float64Array {
  const wide = new BigInt64Array(raw);
  const values = new Float64Array(wide.length);
  for (let i = 0; i < wide.length; i++) {
    values[i] = Number(wide[i]);
    if (!Number.isSafeInteger(values[i])) throw new TenasInputError(`${what} holds the int64 value ${wide[i]} at flat index ${i}, beyond ±2^53; store smaller integers`);
  }
  return values;
}

function readHeader(bytes: Uint8Array, what: string): { header: string; dataOffset: number } {
  if (bytes.length < 10 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new TenasInputError(`${what} is not a NumPy .npy file (it does not start with the magic bytes \\x93NUMPY)`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new TenasInputError(`${what} is truncated inside its header`);
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    throw new TenasInputError(`${what} uses .npy format version ${major}.${bytes[7]}; only versions 1.0, 2.0 and 3.0 are supported`);
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.length) throw new TenasInputError(`${what} is truncated inside its header`);
  const headerBytes = bytes.subarray(headerStart, dataOffset);
  const header = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : latin1(headerBytes);
  return { header, dataOffset };
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

interface HeaderFields {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeaderDict(header: string, what: string): HeaderFields {
  const bad = (detail: string) => new TenasInputError(`${what} has a malformed .npy header (${detail}): ${header.trim()}`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!header.trim().startsWith('{')) throw bad('not a Python dict');
  if (!descr) throw bad("no 'descr'");
  if (!fortran) throw bad("no 'fortran_order'");
  if (!shape) throw bad("no 'shape'");
  const dims = shape[1]
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => (/^\d+L?$/.test(part) ? Number.parseInt(part, 10) : Number.NaN));
  if (dims.some((dim) => !Number.isSafeInteger(dim))) throw bad('shape entries must be non-negative integers');
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', shape: dims };
}

/** Encodes an array as a `.npy` file, format 1.0, header padded to 64 bytes as NumPy does. */
export function encodeNpy(array: NdArray): Uint8Array {
  const expected = elementCount(array.shape);
  if (array.data.length !== expected) {
    throw new TenasInputError(
      `cannot encode .npy: shape [${array.shape.join(', ')}] has ${expected} elements but the data has ${array.data.length}`,
    );
  }
  if (BYTES_PER_ELEMENT[array.dtype] !== array.data.BYTES_PER_ELEMENT) {
    throw new TenasInputError(`cannot encode .npy: dtype ${array.dtype} does not match the data's ${array.data.constructor.name}`);
  }
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${DTYPE_TO_DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((HEADER_ALIGNMENT - (unpadded % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT) + '\n';
  if (header.length > 0xffff) throw new TenasInputError('cannot encode .npy: the shape is too long for a version 1.0 header');
  const stored = array.dtype === 'int64' ? BigInt64Array.from(array.data, (value) => BigInt(value)) : array.data;
  const dataBytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
  const out = new Uint8Array(10 + header.length + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(dataBytes, 10 + header.length);
  return out;
}

/**
 * A copy of bytes [begin, end) in a buffer of its own. (Node's Buffer#slice returns a view of
 * the shared pool, so `bytes.slice(...).buffer` would not be the copy it looks like.)
 */
export function copyBytes(bytes: Uint8Array, begin: number, end: number): ArrayBuffer {
  const copy = new Uint8Array(end - begin);
  copy.set(bytes.subarray(begin, end));
  return copy.buffer;
}

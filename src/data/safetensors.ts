import { TenasInputError } from '../errors.js';
import { copyBytes, elementCount } from './npy.js';

/** One float32 tensor of a safetensors file, row-major. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const METADATA_KEY = '__metadata__';

interface TensorEntry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses a safetensors file holding only F32 tensors; returns them in storage (data_offsets) order. */
export function parseSafetensors(bytes: Uint8Array, what = 'the weights file'): NamedTensor[] {
  const header = readHeaderJson(bytes, what);
  const dataStart = 8 + headerLength(bytes);
  const dataLength = bytes.length - dataStart;
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, value]) => readEntry(name, value, dataLength, what))
    .sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].begin < entries[i - 1].end) {
      throw new TenasInputError(
        `${what} is corrupt: the data of tensors '${entries[i - 1].name}' and '${entries[i].name}' overlap; re-export the weights`,
      );
    }
  }
  return entries.map((entry) => ({
    name: entry.name,
    shape: entry.shape,
    data: new Float32Array(copyBytes(bytes, dataStart + entry.begin, dataStart + entry.end)),
  }));
}

function headerLength(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  return high === 0 ? low : Number.POSITIVE_INFINITY;
}

function readHeaderJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  if (bytes.length < 8) {
    throw new TenasInputError(`${what} is not a safetensors file: it has ${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const length = headerLength(bytes);
  if (length > MAX_HEADER_BYTES || 8 + length > bytes.length) {
    throw new TenasInputError(
      `${what} is not a valid safetensors file: its header length (${length === Infinity ? '≥ 2^32' : length} bytes) ` +
        `does not fit in the ${bytes.length}-byte file`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length)));
  } catch (error) {
    throw new TenasInputError(`${what} is not a valid safetensors file: its header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TenasInputError(`${what} is not a valid safetensors file: its header is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function readEntry(name: string, value: unknown, dataLength: number, what: string): TensorEntry {
  const bad = (detail: string) => new TenasInputError(`${what}: tensor '${name}' ${detail}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('has no {dtype, shape, data_offsets} entry');
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (dtype !== 'F32') {
    throw bad(`has dtype ${String(dtype)}; only F32 (float32) tensors are supported: convert the weights with tensor.float() before saving`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) throw bad('has an invalid shape (expected a list of non-negative integers)');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw bad('has invalid data_offsets (expected [begin, end])');
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) {
    throw bad(`has data_offsets [${begin}, ${end}] outside the ${dataLength} data bytes of the file (truncated file?)`);
  }
  const expectedBytes = elementCount(shape) * 4;
  if (end - begin !== expectedBytes) {
    throw bad(`has shape [${shape.join(', ')}] (${expectedBytes} bytes as F32) but data_offsets [${begin}, ${end}] span ${end - begin} bytes`);
  }
  return { name, shape: [...shape], begin, end };
}

/** Encodes tensors as a safetensors file: `__metadata__: {format: 'pt'}`, data back to back in the given order. */
export function encodeSafetensors(tensors: NamedTensor[]): Uint8Array {
  const header: Record<string, unknown> = { [METADATA_KEY]: { format: 'pt' } };
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === METADATA_KEY || Object.hasOwn(header, tensor.name)) {
      throw new TenasInputError(`cannot encode safetensors: tensor name '${tensor.name}' is reserved or used twice`);
    }
    if (elementCount(tensor.shape) !== tensor.data.length) {
      throw new TenasInputError(
        `cannot encode safetensors: tensor '${tensor.name}' has shape [${tensor.shape.join(', ')}] but ${tensor.data.length} values`,
      );
    }
    const bytes = tensor.data.byteLength;
    header[tensor.name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  let jsonBytes = new TextEncoder().encode(json);
  const padding = (8 - (jsonBytes.length % 8)) % 8;
  json += ' '.repeat(padding);
  jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  new DataView(out.buffer).setUint32(0, jsonBytes.length, true);
  out.set(jsonBytes, 8);
  let position = 8 + jsonBytes.length;
  for (const tensor of tensors) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    position += tensor.data.byteLength;
  }
  return out;
}

import exactBytes from '../../../build/tenas.wasm';
import fmaBytes from '../../../build/tenas-fma.wasm';
import { TenasInputError } from '../../errors.js';
import { activeKernelProfile } from '../profile.js';
import { profiledExports } from './profile.js';
import { enableRelaxedSimd } from './relaxed-simd.js';

/**
 * Which build of `assembly/` runs (see assembly/madd.ts): `exact` multiplies then adds, so every
 * machine gives the same bits; `fma` fuses each multiply-add into one rounding, which is faster
 * but gives other bits, the same on every machine that runs it.
 */
export type KernelBuild = 'exact' | 'fma';

/** The raw exports of `assembly/index.ts` (pointers are byte offsets into `memory`). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  pad_sample(src: number, dst: number, c: number, h: number, w: number, hp: number, wp: number, top: number, left: number): void;
  conv_forward_fast(input: number, output: number, w: number, padded: number, n: number, cin: number, hin: number, win: number, cout: number, hout: number, wout: number, k: number, pad: number, dil: number, groups: number): void;
  transpose_flip_weights(w: number, wT: number, cin: number, cout: number, k: number, groups: number): void;
  pack_output_channels(w: number, packed: number, cin: number, cout: number, k: number, groups: number): void;
  conv_backward_input_fast(dout: number, din: number, wT: number, scratch: number, n: number, cin: number, hin: number, win: number, cout: number, hout: number, wout: number, k: number, pad: number, dil: number, groups: number, accumulate: boolean, mask: number, winograd: number): void;
  winograd_fits(cin: number, cout: number, hout: number, wout: number, k: number, dil: number, groups: number): boolean;
  winograd_workspace_floats(cin: number, cout: number, hout: number, wout: number): number;
  winograd_weights(w: number, u: number, cout: number, cin: number): void;
  winograd_weight_workspace_floats(cin: number, cout: number, hout: number, wout: number): number;
  conv_backward_weight_fast(dout: number, padded: number, dw: number, n: number, cin: number, cout: number, hout: number, wout: number, k: number, dil: number, groups: number, totals: number, work: number): void;
  conv_backward_through_bn(first: number, second: number, pool: number, n: number): void;
  f64_conv_padded(acc: number, xp: number, w: number, offsets: number, taps: number, run: number, cout: number, outPerGroup: number, groupStride: number): void;
  f64_conv_padded_weight_gradient(gw: number, g: number, xp: number, offsets: number, taps: number, run: number, cout: number, outPerGroup: number, groupStride: number): void;
  f64_conv_padded_transpose(xp: number, g: number, w: number, offsets: number, taps: number, run: number, cout: number, outPerGroup: number, groupStride: number): void;
  conv_forward_generic(input: number, output: number, w: number, packed: number, n: number, cin: number, hin: number, win: number, cout: number, hout: number, wout: number, k: number, stride: number, pad: number, dil: number, groups: number): void;
  conv_backward_input_generic(dout: number, din: number, w: number, n: number, cin: number, hin: number, win: number, cout: number, hout: number, wout: number, k: number, stride: number, pad: number, dil: number, groups: number, accumulate: boolean): void;
  conv_backward_weight_generic(dout: number, input: number, dw: number, n: number, cin: number, hin: number, win: number, cout: number, hout: number, wout: number, k: number, stride: number, pad: number, dil: number, groups: number): void;
  conv_forward_stride2(input: number, output: number, w: number, padded: number, n: number, cin: number, hin: number, win: number, cout: number, hout: number, wout: number, k: number, pad: number, dil: number, groups: number): void;
  conv_backward_weight_stride2(dout: number, padded: number, dw: number, n: number, cin: number, cout: number, hout: number, wout: number, k: number, dil: number, groups: number, totals: number): void;
  conv_backward_input_stride2(dout: number, din: number, w: number, scratch: number, n: number, cin: number, hin: number, win: number, cout: number, hout: number, wout: number, k: number, pad: number, dil: number, groups: number, accumulate: boolean): void;
  avgpool3_forward(x: number, y: number, planes: number, h: number, w: number): void;
  avgpool3_backward(dy: number, dyScale: number, dx: number, planes: number, h: number, w: number, accumulate: boolean, withSkip: boolean, skipScale: number, box: number, reuseBox: boolean): void;
  bn_forward(x: number, y: number, xhat: number, invstd: number, gamma: number, beta: number, n: number, c: number, hw: number): void;
  bn_backward(dy: number, dyScale: number, xhat: number, invstd: number, gamma: number, dx: number, dgamma: number, n: number, c: number, hw: number, accumulate: boolean): void;
  bn_gradient_coefficients(dy: number, members: number, count: number, row: number, n: number, c: number, hw: number): void;
  relu_forward(x: number, y: number, len: number): void;
  relu_backward(dy: number, y: number, dx: number, len: number, accumulate: boolean): void;
  avgpool_forward(x: number, y: number, planes: number, hin: number, win: number, hout: number, wout: number, k: number, stride: number, pad: number): void;
  avgpool_backward(dy: number, dx: number, planes: number, hin: number, win: number, hout: number, wout: number, k: number, stride: number, pad: number, accumulate: boolean): void;
  maxpool_forward(x: number, y: number, argmax: number, planes: number, hin: number, win: number, hout: number, wout: number, k: number, stride: number, pad: number): void;
  maxpool_backward(dy: number, argmax: number, dx: number, inputs: number, outputs: number, accumulate: boolean): void;
  gap_forward(x: number, y: number, planes: number, hw: number): void;
  gap_backward(dy: number, dx: number, planes: number, hw: number, accumulate: boolean): void;
  linear_forward(h: number, z: number, w: number, bias: number, n: number, inF: number, outF: number): void;
  linear_backward(dz: number, h: number, w: number, dh: number, dw: number, n: number, inF: number, outF: number, accumulate: boolean): void;
  scaled_add(src: number, dst: number, len: number, scale: number, accumulate: boolean): void;
  strided_copy(src: number, dst: number, n: number, srcStride: number, dstStride: number, len: number, accumulate: boolean): void;
  fill_zero(dst: number, len: number): void;
  gram_f64(g: number, rows: number, cols: number, theta: number): void;
  gram_f32(g: number, rows: number, cols: number, theta: number): void;
  symmetric_eigenvalues(a: number, n: number, values: number): number;
  pack_signs(act: number, n: number, size: number, packed: number, words: number, bitOffset: number): void;
  count_distinct_rows(packed: number, rows: number, words: number, table: number, capacity: number): number;
  add_sign_agreements(packed: number, rows: number, words: number, bitStart: number, bitEnd: number, k: number): void;
  peak_f32x4_mul_add(iterations: number, seed: number): number;
  fused_madd_probe(): number;
  bandwidth_triad(x: number, y: number, floats: number, repeats: number): void;
}

const compiled = new Map<KernelBuild, Promise<WebAssembly.Module>>();

function compileOnce(build: KernelBuild): Promise<WebAssembly.Module> {
  let module = compiled.get(build);
  if (!module) {
    module = build === 'fma' ? compileFma() : WebAssembly.compile(exactBytes as Uint8Array<ArrayBuffer>);
    compiled.set(build, module);
  }
  return module;
}

const FMA_ALTERNATIVE = 'use --backend wasm (the default kernels, the same result on every machine)';

async function compileFma(): Promise<WebAssembly.Module> {
  const bytes = fmaBytes as Uint8Array<ArrayBuffer>;
  if (!WebAssembly.validate(bytes)) enableRelaxedSimd();
  if (!WebAssembly.validate(bytes)) {
    throw new TenasInputError(`the wasm-fma kernels need WebAssembly relaxed SIMD, which this engine does not offer (Chrome and Edge have it since version 114); ${FMA_ALTERNATIVE}`);
  }
  const module = await WebAssembly.compile(bytes);
  const probe = (await WebAssembly.instantiate(module, { env: { abort: wasmAbort } })).exports as unknown as KernelExports;
  // Relaxed multiply-add may be fused or not, as the engine and CPU choose. Running unfused would
  // give results that differ from every fused machine's, so this build refuses instead.
  if (probe.fused_madd_probe() !== 2 ** -24) {
    throw new TenasInputError(`the wasm-fma kernels need a fused multiply-add, and this CPU or WebAssembly engine computes relaxed multiply-add unfused; ${FMA_ALTERNATIVE}`);
  }
  return module;
}

/** Why the `fma` build cannot run here, or undefined when it can. */
export async function fmaKernelsUnavailable(): Promise<string | undefined> {
  try {
    await compileOnce('fma');
    return undefined;
  } catch (error) {
    if (!(error instanceof TenasInputError)) throw error;
    return error.message;
  }
}

/**
 * One instance of the kernels with its own memory and a bump allocator: `mark()`/`release()`
 * bracket the buffers of one evaluation, so memory grows to the largest evaluation and stays.
 */
export class WasmKernels {
  private top: number;

  private constructor(readonly exports: KernelExports) {
    this.top = exports.heap_base();
  }

  static async create(build: KernelBuild = 'exact'): Promise<WasmKernels> {
    const instance = await WebAssembly.instantiate(await compileOnce(build), { env: { abort: wasmAbort } });
    const exports = instance.exports as unknown as KernelExports;
    const profile = activeKernelProfile();
    return new WasmKernels(profile ? profiledExports(exports, profile) : exports);
  }

  /** Allocates `bytes` (16-byte aligned) and returns the pointer; contents are unspecified. */
  alloc(bytes: number): number {
    const pointer = (this.top + 15) & ~15;
    const end = pointer + bytes;
    const memory = this.exports.memory;
    if (end + READ_AHEAD_BYTES > memory.buffer.byteLength) {
      const pages = Math.ceil((end + READ_AHEAD_BYTES - memory.buffer.byteLength) / 65536);
      try {
        memory.grow(pages);
      } catch {
        throw new RangeError(`WebAssembly memory cannot grow to ${(end / 2 ** 20).toFixed(0)} MiB; use a smaller --batch`);
      }
    }
    this.top = end;
    return pointer;
  }

  allocF32(length: number): number {
    return this.alloc(length * 4);
  }

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  f32(pointer: number, length: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, pointer, length);
  }

  f64(pointer: number, length: number): Float64Array {
    return new Float64Array(this.exports.memory.buffer, pointer, length);
  }

  u32(pointer: number, length: number): Uint32Array {
    return new Uint32Array(this.exports.memory.buffer, pointer, length);
  }

  /** Copies `data` into fresh memory and returns its pointer. */
  upload(data: Float32Array): number {
    const pointer = this.allocF32(data.length);
    this.f32(pointer, data.length).set(data);
    return pointer;
  }
}

/**
 * The 3×3 correlation loads whole vectors past the end of a padded row and discards the lanes it
 * does not need; for the last row of a buffer those lanes lie past its end, so memory always
 * extends this far beyond the last allocation.
 */
const READ_AHEAD_BYTES = 16;

function wasmAbort(): never {
  throw new Error('WebAssembly kernel aborted');
}

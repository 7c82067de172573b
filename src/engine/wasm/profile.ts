import type { KernelProfile, ProfiledPass, ProfiledStage } from '../profile.js';
import type { KernelExports } from './module.js';
import { CONV_THROUGH_BN } from './records.js';

/** Arguments of a kernel call, by position as in `KernelExports`. */
type Args = readonly unknown[];
const n = (args: Args, index: number): number => Number(args[index]);

interface KernelModel {
  readonly stage: ProfiledStage;
  readonly pass: ProfiledPass;
  /** Floating-point operations of one call (a multiply-add counts 2); `memory` holds the records a call points to. */
  readonly flops?: (args: Args, memory: ArrayBuffer) => number;
  /** Bytes read and written by one call (for kernels bound by memory, not arithmetic). */
  readonly bytes?: (args: Args) => number;
}

// Convolution FLOPs: 2 · samples · outputs · (inputs per group) · k², from each kernel's arguments:
// the direct algorithm's count also where a product runs in the Winograd domain (assembly/winograd.ts),
// whose rate is then an effective one, as convolution libraries report it.
const convForward = (a: Args) => 2 * n(a, 4) * n(a, 8) * n(a, 9) * n(a, 10) * (n(a, 5) / n(a, 14)) * n(a, 11) ** 2;
/** conv_*_generic(a, b, w, n, cin, hin, win, cout, hout, wout, k, stride, pad, dil, groups, …). */
const convGeneric = (a: Args) => 2 * n(a, 3) * n(a, 7) * n(a, 8) * n(a, 9) * (n(a, 4) / n(a, 14)) * n(a, 10) ** 2;
/** conv_forward_generic(input, output, w, packed, n, cin, hin, win, cout, hout, wout, k, stride, pad, dil, groups). */
const convGenericForward = (a: Args) => convGeneric(a.slice(0, 3).concat(a.slice(4)));
/** conv_backward_weight_fast/stride2(dout, padded, dw, n, cin, cout, hout, wout, k, dil, groups, …). */
const convWeight = (a: Args) => 2 * n(a, 3) * n(a, 5) * n(a, 6) * n(a, 7) * (n(a, 4) / n(a, 10)) * n(a, 8) ** 2;
const floats4 = (count: number) => 4 * count;

/** One CONV_THROUGH_BN record's products over `samples`: the weight gradient when dw ≠ 0, the input gradient when din ≠ 0. */
function throughBnFlops(memory: ArrayBuffer, record: number, samples: number): number {
  const { dw, din, cin, hin, win, cout, hout, wout, k, groups } = CONV_THROUGH_BN.read(memory, record);
  const perTap = (2 * samples * k ** 2) / groups;
  return perTap * ((dw ? cout * hout * wout * cin : 0) + (din ? cin * hin * win * cout : 0));
}

const KERNEL_MODELS: Readonly<Record<string, KernelModel>> = {
  conv_forward_fast: { stage: 'conv', pass: 'forward', flops: convForward },
  conv_forward_stride2: { stage: 'conv', pass: 'forward', flops: convForward },
  conv_forward_generic: { stage: 'conv', pass: 'forward', flops: convGenericForward },
  // Stride 1: the transposed correlation over every input position (input channels × outputs per group).
  conv_backward_input_fast: { stage: 'conv', pass: 'backward-input', flops: (a) => 2 * n(a, 4) * n(a, 5) * n(a, 6) * n(a, 7) * (n(a, 8) / n(a, 14)) * n(a, 11) ** 2 },
  conv_backward_input_stride2: { stage: 'conv', pass: 'backward-input', flops: convForward },
  conv_backward_input_generic: { stage: 'conv', pass: 'backward-input', flops: convGeneric },
  conv_backward_weight_fast: { stage: 'conv', pass: 'backward-weight', flops: convWeight },
  conv_backward_weight_stride2: { stage: 'conv', pass: 'backward-weight', flops: convWeight },
  conv_backward_weight_generic: { stage: 'conv', pass: 'backward-weight', flops: convGeneric },
  // Both products of each stride-1 conv read by a BN (one or two ConvThroughBn records), with the
  // BN's input gradient formed per sample and any pool run beside them (neither's arithmetic counted).
  conv_backward_through_bn: {
    stage: 'conv',
    pass: 'backward',
    flops: (a, memory) => throughBnFlops(memory, n(a, 0), n(a, 3)) + (a[1] ? throughBnFlops(memory, n(a, 1), n(a, 3)) : 0),
  },
  transpose_flip_weights: { stage: 'setup', pass: 'backward' },
  pack_output_channels: { stage: 'setup', pass: 'forward' },
  // BN(x, y, x̂, 1/σ, γ, β, n, c, hw): x read twice, x̂ and y written.
  bn_forward: { stage: 'batchnorm', pass: 'forward', bytes: (a) => floats4(4 * n(a, 6) * n(a, 7) * n(a, 8)) },
  // dy and x̂ read twice, dx written (and read when accumulating).
  bn_backward: { stage: 'batchnorm', pass: 'backward', bytes: (a) => floats4((a[10] ? 6 : 5) * n(a, 7) * n(a, 8) * n(a, 9)) },
  // dy and each member's x̂ read once (the rest of bn_backward runs in conv_backward_through_bn).
  bn_gradient_coefficients: { stage: 'batchnorm', pass: 'backward', bytes: (a) => floats4((1 + n(a, 2)) * n(a, 4) * n(a, 5) * n(a, 6)) },
  relu_forward: { stage: 'relu', pass: 'forward', bytes: (a) => floats4(2 * n(a, 2)) },
  relu_backward: { stage: 'relu', pass: 'backward', bytes: (a) => floats4((a[4] ? 4 : 3) * n(a, 3)) },
  avgpool3_forward: { stage: 'pooling', pass: 'forward', bytes: (a) => floats4(2 * n(a, 2) * n(a, 3) * n(a, 4)) },
  avgpool3_backward: { stage: 'pooling', pass: 'backward', bytes: (a) => floats4(((a[6] ? 3 : 2) + (a[9] ? 1 : 0)) * n(a, 3) * n(a, 4) * n(a, 5)) },
  avgpool_forward: { stage: 'pooling', pass: 'forward', bytes: (a) => floats4(n(a, 2) * (n(a, 3) * n(a, 4) + n(a, 5) * n(a, 6))) },
  avgpool_backward: { stage: 'pooling', pass: 'backward', bytes: (a) => floats4(n(a, 2) * (2 * n(a, 3) * n(a, 4) + n(a, 5) * n(a, 6))) },
  // x read, y and the i32 argmax written.
  maxpool_forward: { stage: 'pooling', pass: 'forward', bytes: (a) => floats4(n(a, 3) * (n(a, 4) * n(a, 5) + 2 * n(a, 6) * n(a, 7))) },
  // dx cleared or read and written where each maximum lies; dy and the argmax read.
  maxpool_backward: { stage: 'pooling', pass: 'backward', bytes: (a) => floats4(n(a, 3) + 3 * n(a, 4)) },
  gap_forward: { stage: 'pooling', pass: 'forward', bytes: (a) => floats4(n(a, 2) * (n(a, 3) + 1)) },
  gap_backward: { stage: 'pooling', pass: 'backward', bytes: (a) => floats4(n(a, 2) * (n(a, 3) + 1)) },
  linear_forward: { stage: 'linear', pass: 'forward', flops: (a) => 2 * n(a, 4) * n(a, 5) * n(a, 6) },
  linear_backward: { stage: 'linear', pass: 'backward', flops: (a) => (a[4] ? 4 : 2) * n(a, 5) * n(a, 6) * n(a, 7) },
  scaled_add: { stage: 'sum-copy', pass: 'forward', bytes: (a) => floats4((a[4] ? 3 : 2) * n(a, 2)) },
  strided_copy: { stage: 'sum-copy', pass: 'forward', bytes: (a) => floats4((a[6] ? 3 : 2) * n(a, 2) * n(a, 5)) },
  fill_zero: { stage: 'sum-copy', pass: 'forward', bytes: (a) => floats4(n(a, 1)) },
  // Θ = G Gᵀ: the lower triangle, in float64 (whose SIMD peak is half the float32 one).
  gram_f64: { stage: 'gram', pass: 'solve', flops: (a) => n(a, 1) * (n(a, 1) + 1) * n(a, 2) },
  gram_f32: { stage: 'gram', pass: 'solve', flops: (a) => n(a, 1) * (n(a, 1) + 1) * n(a, 2) },
  symmetric_eigenvalues: { stage: 'eigen-solve', pass: 'solve' },
  pack_signs: { stage: 'patterns', pass: 'forward', bytes: (a) => floats4(n(a, 1) * n(a, 2)) },
  count_distinct_rows: { stage: 'patterns', pass: 'solve', bytes: (a) => floats4(n(a, 1) * n(a, 2)) },
};

/**
 * What `conv_backward_through_bn` (the row conv/backward) runs besides its convolutions' products,
 * by function name in a sampled profile (module/function, from the module's name section): the BN's
 * input gradient, formed inside the per-sample step, and the edge's pool. `test/bench-profile.test.ts`
 * fails when a rename or an inlining change makes these names disappear from the samples.
 */
export const FUSED_BACKWARD = {
  call: 'conv/conv_backward_through_bn',
  parts: { 'conv/through_bn_sample': 'batchnorm', 'layers/avgpool3_backward': 'pooling' },
} as const;

/** The kernel exports with every modelled kernel timed into `profile`. */
export function profiledExports(exports: KernelExports, profile: KernelProfile): KernelExports {
  const wrapped: Record<string, unknown> = { ...exports };
  for (const name of Object.keys(KERNEL_MODELS)) {
    const kernel = (exports as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
    wrapped[name] = (...args: unknown[]) => {
      const started = profile.clock();
      const result = kernel(...args);
      const seconds = profile.clock() - started;
      const model = KERNEL_MODELS[name];
      profile.add('cpu', model.stage, model.pass, seconds, { flops: model.flops?.(args, exports.memory.buffer), bytes: model.bytes?.(args) });
      return result;
    };
  }
  return wrapped as unknown as KernelExports;
}


// Convolutions over NCHW float32 tensors, forward and both backward products.
//
// Channels are few (3–64) and spatial rows are long (8–32), so the fast paths vectorise along a
// row: stride-1 convolutions read from a copy of the input with a zero halo, which turns every tap
// into an unclipped row segment; the backward products of 3×3 ones with four or more channels a
// side run in the Winograd domain instead (winograd.ts). The backward product for the input is the
// same correlation with the weights transposed and flipped (`transpose_flip_weights`). Other geometries (stride 2, rows
// not a multiple of 4, FactorizedReduce's shifted taps) take the scalar path with bounds checks.

import { bn_input_gradient } from './batchnorm';
import { avgpool3_backward } from './layers';
import { madd } from './madd';
import { store_output } from './outputs';
import { winograd_correlate_sample, winograd_fits, winograd_gradient_sample, winograd_store_weight_gradient, winograd_workspace_floats } from './winograd';

// 3×3, dilation 1: a block of up to three output channels × `vectors` × 4 columns of one row stays
// in registers while the input channels stream through, so each output is loaded and stored once
// and each input row's shifted vectors serve every channel of the block. Weights are broadcast
// from memory as they are needed: holding a channel pair's nine in registers beside the block
// spills on x86's sixteen vector registers. Each output sums, per input channel and kernel row,
// (w0·v0 + w1·v1) + w2·v2, in channel then kernel-row order.
function correlate_sample_3x3(
  src: usize, w: usize, out: usize, cin: i32, cout: i32, groups: i32, hout: i32, wout: i32, hp: i32, wp: i32, accumulate: bool, maskDelta: usize,
): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  const plane = <usize>(hp * wp) << 2;
  const rowBytes = <usize>wp << 2;
  const outRowBytes = <usize>wout << 2;
  const outPlane = <usize>hout * outRowBytes;
  const wide = (wout & 7) == 0;
  const wStep = <usize>(cing * 9) << 2;
  let o = 0;
  while (o < cout) {
    const g = o / coutg;
    const srcGroup = src + <usize>(g * cing) * plane;
    const q0 = out + <usize>o * outPlane;
    const wo = w + <usize>o * wStep;
    const left = (g + 1) * coutg - o;
    const outs = left >= 3 ? 3 : left;
    for (let y = 0; y < hout; y++) {
      const s = srcGroup + <usize>y * rowBytes;
      const q = q0 + <usize>y * outRowBytes;
      let x: usize = 0;
      if (outs == 3) {
        if (wide) for (; x < outRowBytes; x += 32) correlate_3x3_block(s + x, wo, wStep, q + x, outPlane, cing, plane, rowBytes, accumulate, maskDelta, 3, 2);
        for (; x < outRowBytes; x += 16) correlate_3x3_block(s + x, wo, wStep, q + x, outPlane, cing, plane, rowBytes, accumulate, maskDelta, 3, 1);
      } else if (outs == 2) {
        if (wide) for (; x < outRowBytes; x += 32) correlate_3x3_block(s + x, wo, wStep, q + x, outPlane, cing, plane, rowBytes, accumulate, maskDelta, 2, 2);
        for (; x < outRowBytes; x += 16) correlate_3x3_block(s + x, wo, wStep, q + x, outPlane, cing, plane, rowBytes, accumulate, maskDelta, 2, 1);
      } else {
        if (wide) for (; x < outRowBytes; x += 32) correlate_3x3_block(s + x, wo, wStep, q + x, outPlane, cing, plane, rowBytes, accumulate, maskDelta, 1, 2);
        for (; x < outRowBytes; x += 16) correlate_3x3_block(s + x, wo, wStep, q + x, outPlane, cing, plane, rowBytes, accumulate, maskDelta, 1, 1);
      }
    }
    o += outs;
  }
}

// `outs` (1–3) output channels (weights `wStep`, planes `outPlane` bytes apart) × `vectors` (1–2)
// vectors of one row; both are constants at each inlined call. The kernel rows are a loop, not
// unrolled: V8 hoists every load of a loop body to its top, so an unrolled body holds more vectors
// than there are registers and spills.
@inline function correlate_3x3_block(
  s: usize, w: usize, wStep: usize, q: usize, outPlane: usize, cing: i32, plane: usize, rowBytes: usize, accumulate: bool, maskDelta: usize, outs: i32, vectors: i32,
): void {
  const zero = f32x4.splat(0);
  const start = accumulate && maskDelta == 0;
  const qb = q + outPlane, qc = qb + outPlane;
  let a0 = start ? v128.load(q) : zero;
  let a1 = vectors > 1 && start ? v128.load(q, 16) : zero;
  let b0 = outs > 1 && start ? v128.load(qb) : zero;
  let b1 = outs > 1 && vectors > 1 && start ? v128.load(qb, 16) : zero;
  let c0 = outs > 2 && start ? v128.load(qc) : zero;
  let c1 = outs > 2 && vectors > 1 && start ? v128.load(qc, 16) : zero;
  for (let ci = 0; ci < cing; ci++) {
    let r = s + <usize>ci * plane;
    let wr = w + (<usize>(ci * 9) << 2);
    for (let kh = 0; kh < 3; kh++) {
      // Columns 0, 1, 2 of each vector from two aligned loads instead of three overlapping ones.
      const u0 = v128.load(r), u1 = v128.load(r, 16);
      const m1 = v128.shuffle<f32>(u0, u1, 1, 2, 3, 4), m2 = v128.shuffle<f32>(u0, u1, 2, 3, 4, 5);
      a0 = f32x4.add(a0, kernel_row_3(u0, m1, m2, wr));
      if (outs > 1) b0 = f32x4.add(b0, kernel_row_3(u0, m1, m2, wr + wStep));
      if (outs > 2) c0 = f32x4.add(c0, kernel_row_3(u0, m1, m2, wr + 2 * wStep));
      if (vectors > 1) {
        const u2 = v128.load(r, 32);
        const n1 = v128.shuffle<f32>(u1, u2, 1, 2, 3, 4), n2 = v128.shuffle<f32>(u1, u2, 2, 3, 4, 5);
        a1 = f32x4.add(a1, kernel_row_3(u1, n1, n2, wr));
        if (outs > 1) b1 = f32x4.add(b1, kernel_row_3(u1, n1, n2, wr + wStep));
        if (outs > 2) c1 = f32x4.add(c1, kernel_row_3(u1, n1, n2, wr + 2 * wStep));
      }
      r += rowBytes;
      wr += 12;
    }
  }
  store_output(q, a0, accumulate, maskDelta);
  if (vectors > 1) store_output(q + 16, a1, accumulate, maskDelta);
  if (outs > 1) store_output(qb, b0, accumulate, maskDelta);
  if (outs > 1 && vectors > 1) store_output(qb + 16, b1, accumulate, maskDelta);
  if (outs > 2) store_output(qc, c0, accumulate, maskDelta);
  if (outs > 2 && vectors > 1) store_output(qc + 16, c1, accumulate, maskDelta);
}

// (w0·v0 + w1·v1) + w2·v2 for one kernel row (weights at `wr`) and the row's vectors at columns 0, 1, 2.
@inline function kernel_row_3(v0: v128, v1: v128, v2: v128, wr: usize): v128 {
  const first = f32x4.mul(v128.load32_splat(wr), v0);
  return madd(madd(first, v128.load32_splat(wr, 4), v1), v128.load32_splat(wr, 8), v2);
}

// out[o, y, x] (+)= Σ_{ci, kh, kw} w[o, ci, kh, kw] · src[g·cing + ci, y + kh·dil, x + kw·dil]
// for one sample; `src` is padded (hp × wp per channel) so every tap is in range; wout % 4 == 0.
function correlate_sample(
  src: usize, w: usize, out: usize,
  cin: i32, cout: i32, groups: i32, hout: i32, wout: i32, hp: i32, wp: i32, k: i32, dil: i32,
  accumulate: bool, maskDelta: usize,
): void {
  if (k == 3 && dil == 1 && (wout & 3) == 0) {
    correlate_sample_3x3(src, w, out, cin, cout, groups, hout, wout, hp, wp, accumulate, maskDelta);
    return;
  }
  if (k == 1 && ((hout * wout) & 7) == 0) {
    correlate_sample_1x1(src, w, out, cin, cout, groups, hout * wout, accumulate, maskDelta);
    return;
  }
  const cing = cin / groups;
  const coutg = cout / groups;
  const plane = <usize>(hp * wp) << 2;
  const start = accumulate && maskDelta == 0;
  for (let o = 0; o < cout; o++) {
    const g = o / coutg;
    const srcGroup = src + <usize>(g * cing) * plane;
    const wo = w + (<usize>(o * cing * k * k) << 2);
    for (let y = 0; y < hout; y++) {
      const row = srcGroup + (<usize>(y * wp) << 2);
      const outRow = out + (<usize>((o * hout + y) * wout) << 2);
      let x = 0;
      for (; x + 16 <= wout; x += 16) correlate_block(row + (<usize>x << 2), wo, outRow + (<usize>x << 2), cing, plane, wp, k, dil, start, accumulate, maskDelta, 4);
      for (; x + 8 <= wout; x += 8) correlate_block(row + (<usize>x << 2), wo, outRow + (<usize>x << 2), cing, plane, wp, k, dil, start, accumulate, maskDelta, 2);
      for (; x < wout; x += 4) correlate_block(row + (<usize>x << 2), wo, outRow + (<usize>x << 2), cing, plane, wp, k, dil, start, accumulate, maskDelta, 1);
    }
  }
}

// `vectors` (1, 2 or 4, a constant at each inlined call) consecutive vectors of one output row,
// each output adding its taps in (input channel, kernel row, kernel column) order.
@inline function correlate_block(
  row: usize, w: usize, q: usize, cing: i32, plane: usize, wp: i32, k: i32, dil: i32,
  start: bool, accumulate: bool, maskDelta: usize, vectors: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const rowBytes = <usize>(dil * wp) << 2;
  const tapBytes = <usize>dil << 2;
  for (let ci = 0; ci < cing; ci++) {
    let r = row + <usize>ci * plane;
    let wr = w + (<usize>(ci * k * k) << 2);
    for (let kh = 0; kh < k; kh++) {
      let p = r;
      for (let kw = 0; kw < k; kw++) {
        const wv = v128.load32_splat(wr + (<usize>kw << 2));
        a0 = madd(a0, wv, v128.load(p));
        if (vectors > 1) a1 = madd(a1, wv, v128.load(p, 16));
        if (vectors > 2) {
          a2 = madd(a2, wv, v128.load(p, 32));
          a3 = madd(a3, wv, v128.load(p, 48));
        }
        p += tapBytes;
      }
      r += rowBytes;
      wr += <usize>k << 2;
    }
  }
  if (start) {
    a0 = f32x4.add(a0, v128.load(q));
    if (vectors > 1) a1 = f32x4.add(a1, v128.load(q, 16));
    if (vectors > 2) {
      a2 = f32x4.add(a2, v128.load(q, 32));
      a3 = f32x4.add(a3, v128.load(q, 48));
    }
  }
  store_output(q, a0, accumulate, maskDelta);
  if (vectors > 1) store_output(q + 16, a1, accumulate, maskDelta);
  if (vectors > 2) {
    store_output(q + 32, a2, accumulate, maskDelta);
    store_output(q + 48, a3, accumulate, maskDelta);
  }
}

// Copies one sample (c × h × w) into a zero-filled (c × hp × wp) buffer at offset (top, left).
export function pad_sample(src: usize, dst: usize, c: i32, h: i32, w: i32, hp: i32, wp: i32, top: i32, left: i32): void {
  if (lies_inside(h, w, hp, wp, top, left)) {
    pad_sample_inside(src, dst, c, h, w, hp, wp, top, left, false);
    return;
  }
  memory.fill(dst, 0, <usize>(c * hp * wp) << 2);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const r = y + top;
      if (r < 0 || r >= hp) continue;
      let x0 = 0;
      let x1 = w;
      if (left < 0) x0 = -left;
      if (x1 + left > wp) x1 = wp - left;
      if (x1 <= x0) continue;
      memory.copy(
        dst + (<usize>((ch * hp + r) * wp + x0 + left) << 2),
        src + (<usize>((ch * h + y) * w + x0) << 2),
        <usize>(x1 - x0) << 2,
      );
    }
  }
}

// Whether a sample of h × w at (top, left) lies inside an hp × wp plane, with rows of a multiple of 4
// (pad_sample_inside's case).
@inline function lies_inside(h: i32, w: i32, hp: i32, wp: i32, top: i32, left: i32): bool {
  return (w & 3) == 0 && top >= 0 && left >= 0 && top + h <= hp && left + w <= wp;
}

// pad_sample when the sample lies inside the padded plane and its rows are a multiple of 4: each
// destination float is written once (halo zeros, row copies in vectors) instead of a fill and a
// copy call per row. With `haloIsZero` (the buffer held a sample of the same geometry), only the
// rows are copied.
function pad_sample_inside(src: usize, dst: usize, c: i32, h: i32, w: i32, hp: i32, wp: i32, top: i32, left: i32, haloIsZero: bool): void {
  const rowBytes = <usize>wp << 2;
  const copyBytes = <usize>w << 2;
  const leftBytes = <usize>left << 2;
  for (let ch = 0; ch < c; ch++) {
    const plane = dst + <usize>(ch * hp) * rowBytes;
    const source = src + <usize>(ch * h) * copyBytes;
    for (let r = 0; r < hp; r++) {
      const row = plane + <usize>r * rowBytes;
      const y = r - top;
      if (y < 0 || y >= h) {
        if (!haloIsZero) zero_floats(row, wp);
        continue;
      }
      if (!haloIsZero) zero_floats(row, left);
      const from = source + <usize>y * copyBytes;
      const to = row + leftBytes;
      // A vector loop: memory.copy is a call per row, and rows are short.
      for (let i: usize = 0; i < copyBytes; i += 16) v128.store(to + i, v128.load(from + i));
      if (!haloIsZero) zero_floats(to + copyBytes, wp - left - w);
    }
  }
}

// pad_sample into a scratch buffer that, unless this is a call's `first` sample, holds a sample of
// the same geometry: its zero halo is kept and only the rows are copied.
@inline function pad_into_scratch(src: usize, scratch: usize, c: i32, h: i32, w: i32, hp: i32, wp: i32, top: i32, left: i32, first: bool): void {
  if (!first && lies_inside(h, w, hp, wp, top, left)) pad_sample_inside(src, scratch, c, h, w, hp, wp, top, left, true);
  else pad_sample(src, scratch, c, h, w, hp, wp, top, left);
}

@inline function zero_floats(dst: usize, count: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(dst + (<usize>i << 2), zero);
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), 0);
}

// Stride-1 forward: keeps each sample's padded input in `padded` (n × cin × hp × wp) for the
// weight gradient, with hp = hout + (k−1)·dil, wp = wout + (k−1)·dil; a 1×1 conv's `padded` is its
// input itself (the host passes the same pointer), which needs no copy.
export function conv_forward_fast(
  input: usize, output: usize, w: usize, padded: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, pad: i32, dil: i32, groups: i32,
): void {
  const hp = hout + (k - 1) * dil;
  const wp = wout + (k - 1) * dil;
  const inSize = <usize>(cin * hin * win) << 2;
  const padSize = <usize>(cin * hp * wp) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  for (let s = 0; s < n; s++) {
    const p = padded + <usize>s * padSize;
    if (padded != input) pad_sample(input + <usize>s * inSize, p, cin, hin, win, hp, wp, pad, pad);
    correlate_sample(p, w, output + <usize>s * outSize, cin, cout, groups, hout, wout, hp, wp, k, dil, false, 0);
  }
}

// wT[c, ol, kh, kw] = w[g·coutg + ol, c − g·cing, k−1−kh, k−1−kw] with g = c / cing.
export function transpose_flip_weights(w: usize, wT: usize, cin: i32, cout: i32, k: i32, groups: i32): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  const kk = k * k;
  for (let c = 0; c < cin; c++) {
    const g = c / cing;
    for (let ol = 0; ol < coutg; ol++) {
      const o = g * coutg + ol;
      for (let t = 0; t < kk; t++) {
        store<f32>(wT + (<usize>((c * coutg + ol) * kk + t) << 2), load<f32>(w + (<usize>((o * cing + c - g * cing) * kk + kk - 1 - t) << 2)));
      }
    }
  }
}

// Stride-1 gradient for the input: correlate the padded output gradient with wT. When `mask` is
// set (the conv reads a ReLU output that nothing else reads), the result is the gradient of the
// ReLU's input instead: it is added where mask > 0 (see store_output).
export function conv_backward_input_fast(
  dout: usize, din: usize, wT: usize, scratch: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, pad: i32, dil: i32, groups: i32,
  accumulate: bool, mask: usize, winograd: usize,
): void {
  const halo = (k - 1) * dil - pad;
  const hp = hin + (k - 1) * dil;
  const wp = win + (k - 1) * dil;
  const inSize = <usize>(cin * hin * win) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  const maskDelta: usize = mask == 0 ? 0 : mask - din;
  const padded = halo > 0 || hp != hout || wp != wout;
  const work = scratch + (<usize>(cout * hp * wp) << 2);
  for (let s = 0; s < n; s++) {
    let source = dout + <usize>s * outSize;
    if (padded) {
      pad_into_scratch(source, scratch, cout, hout, wout, hp, wp, halo, halo, s == 0);
      source = scratch;
    }
    input_gradient_sample(source, wT, winograd, work, din + <usize>s * inSize, cin, hin, win, cout, hp, wp, k, dil, groups, accumulate, maskDelta);
  }
}

// One sample's stride-1 input gradient from its padded output gradient `source`: through the
// Winograd-transformed weights where the host prepared them (`winograd` ≠ 0, see winograd.ts),
// else by direct correlation with wT.
@inline function input_gradient_sample(
  source: usize, wT: usize, winograd: usize, work: usize, din: usize, cin: i32, hin: i32, win: i32, cout: i32, hp: i32, wp: i32, k: i32, dil: i32, groups: i32, accumulate: bool, maskDelta: usize,
): void {
  if (winograd != 0) winograd_correlate_sample(source, winograd, din, cout, cin, hin, win, work, accumulate, maskDelta);
  else correlate_sample(source, wT, din, cout, cin, groups, hin, win, hp, wp, k, dil, accumulate, maskDelta);
}

// Stride-1 weight gradient: dw[o, ci, kh, kw] = Σ_s Σ_y Σ_x dout[s, o, y, x] · padded[s, c, y + kh·dil, x + kw·dil].
// Samples are the outer loop, so each sample's output-gradient and input planes are read while
// they are in cache instead of once per (o, ci) pair: in a backward pass the whole batch's
// activations do not fit in cache. Each weight's per-sample partial sums are added in float64,
// in sample order, in `totals` (one float64 per weight).
// Where winograd_fits, the sums run in the Winograd domain instead (winograd_gradient_sample, with
// `work` of winograd_weight_workspace_floats), into sixteen totals per (o, c) pair.
export function conv_backward_weight_fast(
  dout: usize, padded: usize, dw: usize, n: i32,
  cin: i32, cout: i32, hout: i32, wout: i32, k: i32, dil: i32, groups: i32, totals: usize, work: usize,
): void {
  const winograd = winograd_fits(cin, cout, hout, wout, k, dil, groups);
  const padSize = padded_sample_bytes(cin, hout, wout, k, dil);
  const outSize = <usize>(cout * hout * wout) << 2;
  clear_totals(totals, cin, cout, k, groups, winograd);
  const doutRow = <usize>wout << 2, doutPlane = <usize>(hout * wout) << 2;
  for (let s = 0; s < n; s++) {
    weight_gradient_step(dout + <usize>s * outSize, doutRow, doutPlane, padded + <usize>s * padSize, totals, work, s, n, cin, cout, hout, wout, k, dil, groups, winograd);
  }
  finish_totals(dw, totals, cin, cout, k, groups, winograd);
}

// Sample s of n's share of the stride-1 weight gradient, into totals (as clear_totals laid them out).
@inline function weight_gradient_step(
  dS: usize, doutRow: usize, doutPlane: usize, pS: usize, totals: usize, work: usize, s: i32, n: i32,
  cin: i32, cout: i32, hout: i32, wout: i32, k: i32, dil: i32, groups: i32, winograd: bool,
): void {
  if (winograd) winograd_gradient_sample(dS, doutRow, doutPlane, pS, work, totals, s, n, cin, cout, hout, wout);
  else weight_gradient_sample(dS, doutRow, doutPlane, pS, totals, cin, cout, hout, wout, k, dil, groups);
}

@inline function clear_totals(totals: usize, cin: i32, cout: i32, k: i32, groups: i32, winograd: bool): void {
  memory.fill(totals, 0, <usize>(cout * (cin / groups) * (winograd ? 16 : k * k)) << 3);
}

@inline function finish_totals(dw: usize, totals: usize, cin: i32, cout: i32, k: i32, groups: i32, winograd: bool): void {
  if (winograd) winograd_store_weight_gradient(totals, dw, cout * cin);
  else store_totals(dw, totals, cout * (cin / groups) * k * k);
}

// Bytes of one sample's input as the stride-1 forward pass keeps it for the weight gradient.
@inline function padded_sample_bytes(cin: i32, hout: i32, wout: i32, k: i32, dil: i32): usize {
  return <usize>(cin * (hout + (k - 1) * dil) * (wout + (k - 1) * dil)) << 2;
}

@inline function store_totals(dw: usize, totals: usize, count: i32): void {
  for (let i = 0; i < count; i++) store<f32>(dw + (<usize>i << 2), <f32>load<f64>(totals + (<usize>i << 3)));
}

// One sample's stride-1 weight-gradient sums, added to `totals`. Its output-gradient rows lie
// `doutRow` bytes apart and its planes `doutPlane` bytes apart (with k = 1, hout × wout floats).
function weight_gradient_sample(
  dS: usize, doutRow: usize, doutPlane: usize, pS: usize, totals: usize, cin: i32, cout: i32, hout: i32, wout: i32, k: i32, dil: i32, groups: i32,
): void {
  const hp = hout + (k - 1) * dil;
  const wp = wout + (k - 1) * dil;
  const cing = cin / groups;
  const coutg = cout / groups;
  const kk = k * k;
  const plane = <usize>(hp * wp) << 2;
  if (k == 1) {
    weight_gradient_1x1_sample(dS, pS, totals, cout, coutg, cing, plane);
    return;
  }
  for (let o = 0; o < cout; o++) {
    const g = o / coutg;
    const dPlane = dS + <usize>o * doutPlane;
    for (let ci = 0; ci < cing; ci++) {
      const pPlane = pS + <usize>(g * cing + ci) * plane;
      const tOc = totals + (<usize>((o * cing + ci) * kk) << 3);
      if (k == 3 && dil == 1) {
        weight_gradient_3x3(dPlane, doutRow, pPlane, tOc, hout, wout, wp);
      } else if (k == 3) {
        for (let kh = 0; kh < 3; kh++) {
          weight_gradient_row(dPlane, doutRow, pPlane + (<usize>(kh * dil * wp) << 2), tOc + (<usize>(kh * 3) << 3), hout, wout, wp, dil, 3);
        }
      } else if (k == 5) {
        for (let kh = 0; kh < 5; kh++) {
          weight_gradient_row(dPlane, doutRow, pPlane + (<usize>(kh * dil * wp) << 2), tOc + (<usize>(kh * 5) << 3), hout, wout, wp, dil, 5);
        }
      } else {
        for (let kh = 0; kh < k; kh++) {
          for (let kw = 0; kw < k; kw++) {
            let acc = f32x4.splat(0);
            const pRows = pPlane + (<usize>(kh * dil * wp + kw * dil) << 2);
            for (let y = 0; y < hout; y++) {
              const dr = dPlane + <usize>y * doutRow;
              const pr = pRows + (<usize>(y * wp) << 2);
              for (let x = 0; x < wout; x += 4) {
                acc = madd(acc, v128.load(dr + (<usize>x << 2)), v128.load(pr + (<usize>x << 2)));
              }
            }
            add_f64(tOc + (<usize>(kh * k + kw) << 3), horizontalSum(acc));
          }
        }
      }
    }
  }
}

// A stride-1 conv that only a train-mode BN reads, with where its backward reads and writes, as
// the host lays it out in memory (CONV_THROUGH_BN in src/engine/wasm/records.ts): dw and din are
// 0 when not wanted, mask is the folded ReLU's output (0: none), winograd the Winograd-domain
// transposed weights (0: the direct path).
@unmanaged class ConvThroughBn {
  dy: usize;
  xhat: usize;
  coefficients: usize;
  padded: usize;
  dw: usize;
  totals: usize;
  din: usize;
  wT: usize;
  scratch: usize;
  cin: i32;
  hin: i32;
  win: i32;
  cout: i32;
  hout: i32;
  wout: i32;
  k: i32;
  pad: i32;
  dil: i32;
  groups: i32;
  accumulate: i32;
  mask: usize;
  winograd: usize;
}

// avgpool3_backward's arguments for one sample, as the host lays them out (POOL_BACKWARD in src/engine/wasm/records.ts).
@unmanaged class PoolBackward {
  dy: usize;
  dyScale: f32;
  dx: usize;
  channels: i32;
  h: i32;
  w: i32;
  accumulate: i32;
  withSkip: i32;
  skipScale: f32;
  box: usize;
  reuseBox: i32;
}

// The stride-1 backward of a conv that only a train-mode BN reads, sample by sample: the BN's
// input gradient for one sample (bn_input_gradient, from the BN's per-channel `coefficients`) is
// formed straight into `scratch`, inside the zero halo the input gradient needs, and the sample's
// weight gradient (dw ≠ 0) and input gradient (din ≠ 0) read it there while it is in cache. The
// batch's BN gradient is never stored, read back or copied; the results are bn_backward's, then
// conv_backward_weight_fast's and conv_backward_input_fast's, to the bit.
//
// A second conv (`second` ≠ 0, with its own scratch and totals) reading the same input and output
// gradient runs sample by sample after the first, so the sample's output gradient and input
// gradient are still in cache for it; so does a 3×3 average pool beside them (`pool` ≠ 0), before
// the first. Each input gradient value gets the pool's term, the first conv's, then the second's,
// as when they ran one after the other.
export function conv_backward_through_bn(first: usize, second: usize, pool: usize, n: i32): void {
  const a = changetype<ConvThroughBn>(first);
  const b = changetype<ConvThroughBn>(second);
  const p = changetype<PoolBackward>(pool);
  begin_through_bn(a);
  if (second != 0) begin_through_bn(b);
  for (let s = 0; s < n; s++) {
    if (pool != 0) {
      const offset = <usize>(s * p.channels * p.h * p.w) << 2;
      const box: usize = p.box == 0 ? 0 : p.box + offset;
      avgpool3_backward(p.dy + offset, p.dyScale, p.dx + offset, p.channels, p.h, p.w, p.accumulate != 0, p.withSkip != 0, p.skipScale, box, p.reuseBox != 0);
    }
    through_bn_sample(a, s, n);
    if (second != 0) through_bn_sample(b, s, n);
  }
  finish_through_bn(a);
  if (second != 0) finish_through_bn(b);
}

@inline function winograd_sums(c: ConvThroughBn): bool {
  return winograd_fits(c.cin, c.cout, c.hout, c.wout, c.k, c.dil, c.groups);
}

function begin_through_bn(c: ConvThroughBn): void {
  const span = (c.k - 1) * c.dil;
  if (c.dw != 0) clear_totals(c.totals, c.cin, c.cout, c.k, c.groups, winograd_sums(c));
  memory.fill(c.scratch, 0, <usize>(c.cout * (c.hin + span) * (c.win + span)) << 2);
}

function through_bn_sample(c: ConvThroughBn, s: i32, n: i32): void {
  const k = c.k, dil = c.dil, cin = c.cin, cout = c.cout, hout = c.hout, wout = c.wout;
  const halo = (k - 1) * dil - c.pad;
  const hp = c.hin + (k - 1) * dil;
  const wp = c.win + (k - 1) * dil;
  const rowBytes = <usize>wp << 2;
  const planeBytes = <usize>hp * rowBytes;
  const interior = c.scratch + <usize>halo * rowBytes + (<usize>halo << 2);
  const outSize = <usize>(cout * hout * wout) << 2;
  const inputWork = c.scratch + <usize>cout * planeBytes;
  bn_input_gradient(c.dy + <usize>s * outSize, c.xhat + <usize>s * outSize, c.coefficients, interior, cout, hout, wout, rowBytes, planeBytes);
  if (c.dw != 0) {
    const weightWork = inputWork + (c.winograd == 0 ? 0 : <usize>winograd_workspace_floats(cout, cin, c.hin, c.win) << 2);
    const padSize = padded_sample_bytes(cin, hout, wout, k, dil);
    weight_gradient_step(interior, rowBytes, planeBytes, c.padded + <usize>s * padSize, c.totals, weightWork, s, n, cin, cout, hout, wout, k, dil, c.groups, winograd_sums(c));
  }
  if (c.din != 0) {
    const inSize = <usize>(cin * c.hin * c.win) << 2;
    const din = c.din + <usize>s * inSize;
    const maskDelta: usize = c.mask == 0 ? 0 : c.mask - c.din;
    input_gradient_sample(c.scratch, c.wT, c.winograd, inputWork, din, cin, c.hin, c.win, cout, hp, wp, k, dil, c.groups, c.accumulate != 0, maskDelta);
  }
}

function finish_through_bn(c: ConvThroughBn): void {
  if (c.dw != 0) finish_totals(c.dw, c.totals, c.cin, c.cout, c.k, c.groups, winograd_sums(c));
}

@inline function horizontalSum(v: v128): f64 {
  return <f64>(f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + <f64>(f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function add_f64(p: usize, v: f64): void {
  store<f64>(p, load<f64>(p) + v);
}

// The nine taps of one undilated (o, c) pair over one sample's planes (output-gradient rows
// `doutRow` bytes apart), added to `totals` (nine float64).
function weight_gradient_3x3(dout: usize, doutRow: usize, padded: usize, totals: usize, hout: i32, wout: i32, wp: i32): void {
  const row1 = <usize>wp << 2;
  const row2 = row1 << 1;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
  let a6 = f32x4.splat(0), a7 = f32x4.splat(0), a8 = f32x4.splat(0);
  for (let y = 0; y < hout; y++) {
    const dr = dout + <usize>y * doutRow;
    const p0 = padded + (<usize>(y * wp) << 2);
    const p1 = p0 + row1;
    const p2 = p0 + row2;
    if (y + 1 < hout) {
      // Rows y and y + 1 together: each loaded input vector serves both rows' taps.
      const dr1 = dr + doutRow;
      const p3 = p2 + row1;
      for (let x: usize = 0; x < (<usize>wout << 2); x += 16) {
        const d = v128.load(dr + x);
        const e = v128.load(dr1 + x);
        let u = v128.load(p0 + x), v = v128.load(p0 + x, 4), w = v128.load(p0 + x, 8);
        a0 = madd(a0, d, u); a1 = madd(a1, d, v); a2 = madd(a2, d, w);
        u = v128.load(p1 + x); v = v128.load(p1 + x, 4); w = v128.load(p1 + x, 8);
        a3 = madd(a3, d, u); a4 = madd(a4, d, v); a5 = madd(a5, d, w);
        a0 = madd(a0, e, u); a1 = madd(a1, e, v); a2 = madd(a2, e, w);
        u = v128.load(p2 + x); v = v128.load(p2 + x, 4); w = v128.load(p2 + x, 8);
        a6 = madd(a6, d, u); a7 = madd(a7, d, v); a8 = madd(a8, d, w);
        a3 = madd(a3, e, u); a4 = madd(a4, e, v); a5 = madd(a5, e, w);
        u = v128.load(p3 + x); v = v128.load(p3 + x, 4); w = v128.load(p3 + x, 8);
        a6 = madd(a6, e, u); a7 = madd(a7, e, v); a8 = madd(a8, e, w);
      }
      y++;
    } else {
      for (let x: usize = 0; x < (<usize>wout << 2); x += 16) {
        const d = v128.load(dr + x);
        a0 = madd(a0, d, v128.load(p0 + x));
        a1 = madd(a1, d, v128.load(p0 + x, 4));
        a2 = madd(a2, d, v128.load(p0 + x, 8));
        a3 = madd(a3, d, v128.load(p1 + x));
        a4 = madd(a4, d, v128.load(p1 + x, 4));
        a5 = madd(a5, d, v128.load(p1 + x, 8));
        a6 = madd(a6, d, v128.load(p2 + x));
        a7 = madd(a7, d, v128.load(p2 + x, 4));
        a8 = madd(a8, d, v128.load(p2 + x, 8));
      }
    }
  }
  add_f64(totals, horizontalSum(a0)); add_f64(totals + 8, horizontalSum(a1)); add_f64(totals + 16, horizontalSum(a2));
  add_f64(totals + 24, horizontalSum(a3)); add_f64(totals + 32, horizontalSum(a4)); add_f64(totals + 40, horizontalSum(a5));
  add_f64(totals + 48, horizontalSum(a6)); add_f64(totals + 56, horizontalSum(a7)); add_f64(totals + 64, horizontalSum(a8));
}

// The taps of one kernel row (`taps`: 3 or 5, a constant at each inlined call) of an (o, c) pair
// over one sample's planes (output-gradient rows `doutRow` bytes apart) (`padded` at the row's first input row), added to `totals` (one float64
// per tap): independent sums per loaded output-gradient vector instead of one pass per tap.
@inline function weight_gradient_row(dout: usize, doutRow: usize, padded: usize, totals: usize, hout: i32, wout: i32, wp: i32, dil: i32, taps: i32): void {
  const d1 = <usize>dil << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
  for (let y = 0; y < hout; y++) {
    const dr = dout + <usize>y * doutRow;
    const pr = padded + (<usize>(y * wp) << 2);
    for (let x: usize = 0; x < (<usize>wout << 2); x += 16) {
      const d = v128.load(dr + x);
      const p = pr + x;
      a0 = madd(a0, d, v128.load(p));
      a1 = madd(a1, d, v128.load(p + d1));
      a2 = madd(a2, d, v128.load(p + 2 * d1));
      if (taps > 3) {
        a3 = madd(a3, d, v128.load(p + 3 * d1));
        a4 = madd(a4, d, v128.load(p + 4 * d1));
      }
    }
  }
  add_f64(totals, horizontalSum(a0)); add_f64(totals + 8, horizontalSum(a1)); add_f64(totals + 16, horizontalSum(a2));
  if (taps > 3) {
    add_f64(totals + 24, horizontalSum(a3)); add_f64(totals + 32, horizontalSum(a4));
  }
}

// 1×1 weight gradients over one sample's planes (`planeBytes` each), two output channels of a
// group at a time against four input channels at a time: each loaded vector serves up to four sums.
function weight_gradient_1x1_sample(dout: usize, input: usize, totals: usize, cout: i32, coutg: i32, cing: i32, planeBytes: usize): void {
  let o = 0;
  while (o < cout) {
    const g = o / coutg;
    const paired = o + 1 < cout && (o + 1) / coutg == g;
    const d = dout + <usize>o * planeBytes;
    const t = totals + (<usize>(o * cing) << 3);
    for (let ci = 0; ci < cing; ci += 4) {
      const x = input + <usize>(g * cing + ci) * planeBytes;
      const tc = t + (<usize>ci << 3);
      const block = min(4, cing - ci);
      if (paired) weight_gradient_1x1(d, d + planeBytes, x, tc, tc + (<usize>cing << 3), planeBytes, block);
      else weight_gradient_1x1(d, 0, x, tc, 0, planeBytes, block);
    }
    o += paired ? 2 : 1;
  }
}

// The sums of output-gradient plane `dout` (and `dout2` ≠ 0) against `block` (1–4) consecutive
// input planes, added to `totals` (and `totals2`), one float64 per input channel.
function weight_gradient_1x1(dout: usize, dout2: usize, input: usize, totals: usize, totals2: usize, planeBytes: usize, block: i32): void {
  if (dout2 != 0) {
    if (block == 4) weight_gradient_1x1_block(dout, dout2, input, totals, totals2, planeBytes, 4, 2);
    else if (block == 3) weight_gradient_1x1_block(dout, dout2, input, totals, totals2, planeBytes, 3, 2);
    else if (block == 2) weight_gradient_1x1_block(dout, dout2, input, totals, totals2, planeBytes, 2, 2);
    else weight_gradient_1x1_block(dout, dout2, input, totals, totals2, planeBytes, 1, 2);
  } else if (block == 4) weight_gradient_1x1_block(dout, 0, input, totals, 0, planeBytes, 4, 1);
  else if (block == 3) weight_gradient_1x1_block(dout, 0, input, totals, 0, planeBytes, 3, 1);
  else if (block == 2) weight_gradient_1x1_block(dout, 0, input, totals, 0, planeBytes, 2, 1);
  else weight_gradient_1x1_block(dout, 0, input, totals, 0, planeBytes, 1, 1);
}

// `block` and `outputs` (1–2) are constants at each (inlined) call, so the unused accumulators fold away.
@inline function weight_gradient_1x1_block(dout: usize, dout2: usize, input: usize, totals: usize, totals2: usize, planeBytes: usize, block: i32, outputs: i32): void {
  const x1 = input + planeBytes;
  const x2 = x1 + planeBytes;
  const x3 = x2 + planeBytes;
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  let b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  for (let x: usize = 0; x < planeBytes; x += 16) {
    const v = v128.load(dout + x);
    const u = outputs > 1 ? v128.load(dout2 + x) : zero;
    const i0 = v128.load(input + x);
    a0 = madd(a0, v, i0);
    if (outputs > 1) b0 = madd(b0, u, i0);
    if (block > 1) {
      const i1 = v128.load(x1 + x);
      a1 = madd(a1, v, i1);
      if (outputs > 1) b1 = madd(b1, u, i1);
    }
    if (block > 2) {
      const i2 = v128.load(x2 + x);
      a2 = madd(a2, v, i2);
      if (outputs > 1) b2 = madd(b2, u, i2);
    }
    if (block > 3) {
      const i3 = v128.load(x3 + x);
      a3 = madd(a3, v, i3);
      if (outputs > 1) b3 = madd(b3, u, i3);
    }
  }
  add_f64(totals, horizontalSum(a0));
  if (block > 1) add_f64(totals + 8, horizontalSum(a1));
  if (block > 2) add_f64(totals + 16, horizontalSum(a2));
  if (block > 3) add_f64(totals + 24, horizontalSum(a3));
  if (outputs > 1) {
    add_f64(totals2, horizontalSum(b0));
    if (block > 1) add_f64(totals2 + 8, horizontalSum(b1));
    if (block > 2) add_f64(totals2 + 16, horizontalSum(b2));
    if (block > 3) add_f64(totals2 + 24, horizontalSum(b3));
  }
}

// 1×1 taps: out[o] (+)= Σ_c w[o, c] · src[c] over planes of `plane` floats (a multiple of 4) for up
// to four output channels of a group at once, each loaded input vector serving all of them. Each
// output sums its channels in order, as a one-channel-at-a-time loop would.
function correlate_sample_1x1(src: usize, w: usize, out: usize, cin: i32, cout: i32, groups: i32, plane: i32, accumulate: bool, maskDelta: usize): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  const planeBytes = <usize>plane << 2;
  let o = 0;
  while (o < cout) {
    const block = min(4, coutg - o % coutg);
    const srcGroup = src + <usize>((o / coutg) * cing) * planeBytes;
    const q = out + <usize>o * planeBytes;
    const wo = w + (<usize>(o * cing) << 2);
    if (block == 4) correlate_1x1_vectors(srcGroup, wo, q, cing, planeBytes, accumulate, maskDelta, 4);
    else if (block == 3) correlate_1x1_vectors(srcGroup, wo, q, cing, planeBytes, accumulate, maskDelta, 3);
    else if (block == 2) correlate_1x1_vectors(srcGroup, wo, q, cing, planeBytes, accumulate, maskDelta, 2);
    else correlate_1x1_vectors(srcGroup, wo, q, cing, planeBytes, accumulate, maskDelta, 1);
    o += block;
  }
}

// A block's planes two vectors at a time, then the last vector alone when the plane holds an odd
// number of them.
@inline function correlate_1x1_vectors(src: usize, w: usize, out: usize, cing: i32, planeBytes: usize, accumulate: bool, maskDelta: usize, block: i32): void {
  const pairs = planeBytes & ~31;
  correlate_1x1_block(src, w, out, cing, planeBytes, 0, pairs, accumulate, maskDelta, block, 2);
  if (pairs < planeBytes) correlate_1x1_block(src, w, out, cing, planeBytes, pairs, planeBytes, accumulate, maskDelta, block, 1);
}

// `block` and `vectors` (1 or 2) are constants at each (inlined) call, so the unused accumulators
// fold away. Bytes [from, to) of each output plane, `vectors` vectors at a time, so each broadcast
// weight serves both.
@inline function correlate_1x1_block(
  src: usize, w: usize, out: usize, cing: i32, planeBytes: usize, from: usize, to: usize, accumulate: bool, maskDelta: usize, block: i32, vectors: i32,
): void {
  const wRow = <usize>cing << 2;
  const start = accumulate && maskDelta == 0;
  const zero = f32x4.splat(0);
  for (let x = from; x < to; x += <usize>vectors << 4) {
    const q = out + x;
    let a0 = start ? v128.load(q) : zero;
    let a1 = block > 1 && start ? v128.load(q + planeBytes) : zero;
    let a2 = block > 2 && start ? v128.load(q + 2 * planeBytes) : zero;
    let a3 = block > 3 && start ? v128.load(q + 3 * planeBytes) : zero;
    let b0 = vectors > 1 && start ? v128.load(q, 16) : zero;
    let b1 = vectors > 1 && block > 1 && start ? v128.load(q + planeBytes, 16) : zero;
    let b2 = vectors > 1 && block > 2 && start ? v128.load(q + 2 * planeBytes, 16) : zero;
    let b3 = vectors > 1 && block > 3 && start ? v128.load(q + 3 * planeBytes, 16) : zero;
    for (let ci = 0; ci < cing; ci++) {
      const at = src + <usize>ci * planeBytes + x;
      const v = v128.load(at);
      const u = vectors > 1 ? v128.load(at, 16) : zero;
      const wc = w + (<usize>ci << 2);
      const w0 = v128.load32_splat(wc);
      a0 = madd(a0, w0, v);
      if (vectors > 1) b0 = madd(b0, w0, u);
      if (block > 1) {
        const w1 = v128.load32_splat(wc + wRow);
        a1 = madd(a1, w1, v);
        if (vectors > 1) b1 = madd(b1, w1, u);
      }
      if (block > 2) {
        const w2 = v128.load32_splat(wc + 2 * wRow);
        a2 = madd(a2, w2, v);
        if (vectors > 1) b2 = madd(b2, w2, u);
      }
      if (block > 3) {
        const w3 = v128.load32_splat(wc + 3 * wRow);
        a3 = madd(a3, w3, v);
        if (vectors > 1) b3 = madd(b3, w3, u);
      }
    }
    store_output(q, a0, accumulate, maskDelta);
    if (vectors > 1) store_output(q + 16, b0, accumulate, maskDelta);
    if (block > 1) {
      store_output(q + planeBytes, a1, accumulate, maskDelta);
      if (vectors > 1) store_output(q + planeBytes + 16, b1, accumulate, maskDelta);
    }
    if (block > 2) {
      store_output(q + 2 * planeBytes, a2, accumulate, maskDelta);
      if (vectors > 1) store_output(q + 2 * planeBytes + 16, b2, accumulate, maskDelta);
    }
    if (block > 3) {
      store_output(q + 3 * planeBytes, a3, accumulate, maskDelta);
      if (vectors > 1) store_output(q + 3 * planeBytes + 16, b3, accumulate, maskDelta);
    }
  }
}

// Forward for any geometry: input row = y·stride − pad + kh·dil (taps outside read zero).
// Outputs go four at a time where the layout allows: four outputs of a group or four depthwise
// channels (with `packed` weights, see pack_output_channels), else the same output of four samples
// (the thin nets' one- and two-channel layers), or, for a 1×1 kernel that maps each pixel alone,
// four pixels of a plane. Every output adds its taps in (input channel, kernel row, kernel column)
// order, skipping those outside the input.
export function conv_forward_generic(
  input: usize, output: usize, w: usize, packed: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, dil: i32, groups: i32,
): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  const depthwise = cing == 1 && coutg == 1;
  const blocked = packed == 0 ? 0 : depthwise ? cout & ~3 : coutg & ~3;
  if (k == 1 && stride == 1 && pad == 0 && blocked == 0 && (n & 3) == 0) {
    // The sample-lane path below would compute these same sums (and, with n a multiple of 4, in
    // vectors throughout, so the fma build fuses them alike). One channel in and out is one plane
    // of n·h·w pixels.
    const plane = hin * win;
    if (cin == 1 && cout == 1 && ((n * plane) & 3) == 0) {
      correlate_sample_1x1(input, w, output, 1, 1, 1, n * plane, false, 0);
      return;
    }
    if ((plane & 3) == 0) {
      const sampleBytes = <usize>(cin * plane) << 2;
      const outBytes = <usize>(cout * plane) << 2;
      for (let s = 0; s < n; s++) correlate_sample_1x1(input + <usize>s * sampleBytes, w, output + <usize>s * outBytes, cin, cout, groups, plane, false, 0);
      return;
    }
  }
  const inSize = <usize>(cin * hin * win) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  const inPlane = <usize>(hin * win) << 2;
  const outPlane = <usize>(hout * wout) << 2;
  const kk = k * k;
  const quads = n & ~3;
  const sampleLanes = blocked < cout;
  const quadFits = sampleLanes && cin * hin * win <= SAMPLE_QUAD_FLOATS / 4;
  for (let s = 0; s < n; s++) {
    const inS = input + <usize>s * inSize;
    const outS = output + <usize>s * outSize;
    const interleaved = quadFits && s < quads;
    if (interleaved && (s & 3) == 0) interleave_samples(inS, inSize, cin * hin * win);
    for (let o = 0; o < cout; o++) {
      const g = o / coutg;
      const ol = o - g * coutg;
      const chan = inS + <usize>(g * cing) * inPlane;
      const out = outS + <usize>o * outPlane;
      if (depthwise && o < blocked) {
        // Channels o..o + 3, each lane reading its own channel; packed[kh][kw][c].
        if ((o & 3) == 0) conv_forward_lanes(chan, inPlane, packed + (<usize>o << 2), <usize>cout << 2, true, out, outPlane, 1, hin, win, hout, wout, k, stride, pad, dil, 4);
      } else if (!depthwise && ol < blocked) {
        // Outputs ol..ol + 3 of group g, one input value broadcast to all four; packed[g][ci][kh][kw][ol].
        const weights = packed + (<usize>(g * cing * kk * coutg + ol) << 2);
        if ((ol & 3) != 0) continue;
        if (k == 1) conv_forward_pointwise_block(chan, out, weights, <usize>coutg << 2, cing, inPlane, outPlane, hin, win, hout, wout, stride, pad);
        else conv_forward_lanes(chan, 0, weights, <usize>coutg << 2, true, out, outPlane, cing, hin, win, hout, wout, k, stride, pad, dil, 4);
      } else if (s >= quads) {
        conv_forward_lanes(chan, 0, w + (<usize>(o * cing * kk) << 2), 4, false, out, 0, cing, hin, win, hout, wout, k, stride, pad, dil, 1);
      } else if ((s & 3) == 0) {
        // The same output of samples s..s + 3, one per lane (the last n % 4 samples go alone, above).
        const weights = w + (<usize>(o * cing * kk) << 2);
        if (interleaved) conv_forward_lanes(SAMPLE_QUAD + (<usize>(g * cing) * inPlane << 2), 0, weights, 4, false, out, outSize, cing, hin, win, hout, wout, k, stride, pad, dil, 4, true);
        else conv_forward_lanes(chan, inSize, weights, 4, false, out, outSize, cing, hin, win, hout, wout, k, stride, pad, dil, 4);
      }
    }
  }
}

// Four samples' inputs side by side, element i of sample s + j at float 4i + j, for the sample
// lanes of conv_forward_generic: a tap is then one vector load instead of four lane loads, and each
// input is gathered once per four samples instead of once per output and tap that reads it.
const SAMPLE_QUAD_FLOATS = 4096;
const SAMPLE_QUAD = memory.data(SAMPLE_QUAD_FLOATS << 2, 16);

// Copies element i of the four samples from `first` (`sampleBytes` apart) to SAMPLE_QUAD's vector i.
function interleave_samples(first: usize, sampleBytes: usize, elements: i32): void {
  for (let i = 0; i < elements; i++) {
    const q = first + (<usize>i << 2);
    let v = v128.load32_splat(q);
    v = v128.load32_lane(q + sampleBytes, v, 1);
    v = v128.load32_lane(q + 2 * sampleBytes, v, 2);
    v = v128.load32_lane(q + 3 * sampleBytes, v, 3);
    v128.store(SAMPLE_QUAD + (<usize>i << 4), v);
  }
}

// One output plane per lane (`lanes`: 4, or 1 for a scalar sum; a constant at each inlined call).
// Lane j reads its inputs `inLane`·j bytes after `chan` (0: every lane reads the same value), or,
// when `interleaved` (a constant), lane j of each input element's vector at `chan` (laid out as
// SAMPLE_QUAD), and writes its output `outLane`·j bytes after `out`. Input channel ci's tap t
// weighs weights[(ci·k² + t) · tapBytes]: a vector of the four lanes' weights (`laneWeights`) or one
// weight for all. Each lane adds its taps in (input channel, kernel row, kernel column) order.
@inline function conv_forward_lanes(
  chan: usize, inLane: usize, weights: usize, tapBytes: usize, laneWeights: bool, out: usize, outLane: usize,
  channels: i32, hin: i32, win: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, dil: i32, lanes: i32, interleaved: bool = false,
): void {
  const elementShift: usize = interleaved ? 4 : 2;
  const inPlane = <usize>(hin * win) << elementShift;
  for (let y = 0; y < hout; y++) {
    const top = y * stride - pad;
    const kh0 = firstTap(top, dil);
    const kh1 = endTap(top, dil, k, hin);
    for (let x = 0; x < wout; x++) {
      const left = x * stride - pad;
      const kw0 = firstTap(left, dil);
      const kw1 = endTap(left, dil, k, win);
      let acc = f32x4.splat(0);
      let sum: f32 = 0;
      for (let ci = 0; ci < channels; ci++) {
        const plane = chan + <usize>ci * inPlane;
        const wc = weights + <usize>(ci * k * k) * tapBytes;
        for (let kh = kh0; kh < kh1; kh++) {
          const iy = top + kh * dil;
          for (let kw = kw0; kw < kw1; kw++) {
            const p = plane + (<usize>(iy * win + left + kw * dil) << elementShift);
            const wp = wc + <usize>(kh * k + kw) * tapBytes;
            if (lanes == 1) {
              sum += load<f32>(wp) * load<f32>(p);
              continue;
            }
            let v: v128;
            if (interleaved) {
              v = v128.load(p);
            } else {
              v = v128.load32_splat(p);
              if (inLane != 0) {
                v = v128.load32_lane(p + inLane, v, 1);
                v = v128.load32_lane(p + 2 * inLane, v, 2);
                v = v128.load32_lane(p + 3 * inLane, v, 3);
              }
            }
            acc = madd(acc, laneWeights ? v128.load(wp) : v128.load32_splat(wp), v);
          }
        }
      }
      const q = out + (<usize>(y * wout + x) << 2);
      if (lanes == 1) {
        store<f32>(q, sum);
      } else {
        store<f32>(q, f32x4.extract_lane(acc, 0));
        store<f32>(q + outLane, f32x4.extract_lane(acc, 1));
        store<f32>(q + 2 * outLane, f32x4.extract_lane(acc, 2));
        store<f32>(q + 3 * outLane, f32x4.extract_lane(acc, 3));
      }
    }
  }
}

// The kernel taps t that land inside an input of `size` from `start` (= output · stride − pad):
// those with 0 ≤ start + t·dil < size are t = firstTap … endTap − 1; the others read zero and are
// skipped.
@inline function firstTap(start: i32, dil: i32): i32 {
  if (start >= 0) return 0;
  return dil == 1 ? -start : (dil - 1 - start) / dil;
}

@inline function endTap(start: i32, dil: i32, k: i32, size: i32): i32 {
  if (start >= size) return 0;
  return min(k, dil == 1 ? size - start : (size - 1 - start) / dil + 1);
}

// conv_forward_lanes for four outputs of a group with a 1×1 kernel: one tap per output, so the
// input channels are a tight loop over pointers.
function conv_forward_pointwise_block(
  chan: usize, out: usize, weights: usize, tapBytes: usize, channels: i32, inPlane: usize, outPlane: usize,
  hin: i32, win: i32, hout: i32, wout: i32, stride: i32, pad: i32,
): void {
  const end = weights + <usize>channels * tapBytes;
  for (let y = 0; y < hout; y++) {
    const iy = y * stride - pad;
    for (let x = 0; x < wout; x++) {
      const ix = x * stride - pad;
      let acc = f32x4.splat(0);
      if (iy >= 0 && iy < hin && ix >= 0 && ix < win) {
        let p = chan + (<usize>(iy * win + ix) << 2);
        for (let wp = weights; wp < end; wp += tapBytes) {
          acc = madd(acc, v128.load(wp), v128.load32_splat(p));
          p += inPlane;
        }
      }
      const q = out + (<usize>(y * wout + x) << 2);
      store<f32>(q, f32x4.extract_lane(acc, 0));
      store<f32>(q + outPlane, f32x4.extract_lane(acc, 1));
      store<f32>(q + 2 * outPlane, f32x4.extract_lane(acc, 2));
      store<f32>(q + 3 * outPlane, f32x4.extract_lane(acc, 3));
    }
  }
}

// Weights rearranged for the vector blocks of conv_forward_generic: packed[g][ci][kh][kw][ol] =
// w[g·coutg + ol][ci][kh][kw], each tap's weights for a group's outputs side by side; for a
// depthwise conv (one input and one output per group), packed[kh][kw][c] = w[c][0][kh][kw].
export function pack_output_channels(w: usize, packed: usize, cin: i32, cout: i32, k: i32, groups: i32): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  const kk = k * k;
  if (cing == 1 && coutg == 1) {
    for (let c = 0; c < cout; c++) {
      for (let t = 0; t < kk; t++) store<f32>(packed + (<usize>(t * cout + c) << 2), load<f32>(w + (<usize>(c * kk + t) << 2)));
    }
    return;
  }
  for (let o = 0; o < cout; o++) {
    const g = o / coutg;
    const ol = o - g * coutg;
    for (let t = 0; t < cing * kk; t++) {
      store<f32>(packed + (<usize>((g * cing * kk + t) * coutg + ol) << 2), load<f32>(w + (<usize>(o * cing * kk + t) << 2)));
    }
  }
}

export function conv_backward_input_generic(
  dout: usize, din: usize, w: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, dil: i32, groups: i32,
  accumulate: bool,
): void {
  if (!accumulate) memory.fill(din, 0, <usize>(n * cin * hin * win) << 2);
  const cing = cin / groups;
  const coutg = cout / groups;
  for (let s = 0; s < n; s++) {
    const dinS = din + (<usize>(s * cin * hin * win) << 2);
    const doutS = dout + (<usize>(s * cout * hout * wout) << 2);
    for (let o = 0; o < cout; o++) {
      const g = o / coutg;
      for (let y = 0; y < hout; y++) {
        const top = y * stride - pad;
        const kh0 = firstTap(top, dil);
        const kh1 = endTap(top, dil, k, hin);
        for (let x = 0; x < wout; x++) {
          const left = x * stride - pad;
          const kw0 = firstTap(left, dil);
          const kw1 = endTap(left, dil, k, win);
          const d = load<f32>(doutS + (<usize>((o * hout + y) * wout + x) << 2));
          if (d == 0) continue;
          for (let ci = 0; ci < cing; ci++) {
            const c = g * cing + ci;
            for (let kh = kh0; kh < kh1; kh++) {
              const iy = top + kh * dil;
              for (let kw = kw0; kw < kw1; kw++) {
                const ix = left + kw * dil;
                const p = dinS + (<usize>((c * hin + iy) * win + ix) << 2);
                store<f32>(p, load<f32>(p) + d * load<f32>(w + (<usize>(((o * cing + ci) * k + kh) * k + kw) << 2)));
              }
            }
          }
        }
      }
    }
  }
}

export function conv_backward_weight_generic(
  dout: usize, input: usize, dw: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, dil: i32, groups: i32,
): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  for (let o = 0; o < cout; o++) {
    const g = o / coutg;
    for (let ci = 0; ci < cing; ci++) {
      const c = g * cing + ci;
      for (let kh = 0; kh < k; kh++) {
        for (let kw = 0; kw < k; kw++) {
          let acc: f64 = 0;
          for (let s = 0; s < n; s++) {
            const inS = input + (<usize>(s * cin * hin * win) << 2);
            const doutS = dout + (<usize>(s * cout * hout * wout) << 2);
            let part: f32 = 0;
            for (let y = 0; y < hout; y++) {
              const iy = y * stride - pad + kh * dil;
              if (iy < 0 || iy >= hin) continue;
              for (let x = 0; x < wout; x++) {
                const ix = x * stride - pad + kw * dil;
                if (ix < 0 || ix >= win) continue;
                part += load<f32>(doutS + (<usize>((o * hout + y) * wout + x) << 2)) * load<f32>(inS + (<usize>((c * hin + iy) * win + ix) << 2));
              }
            }
            acc += <f64>part;
          }
          store<f32>(dw + (<usize>(((o * cing + ci) * k + kh) * k + kw) << 2), <f32>acc);
        }
      }
    }
  }
}

// Stride 2, by polyphase decomposition: the padded input is stored as its even and odd columns
// (`[c][phase][hp][wq]`), so tap kw of output column x reads column x + ⌊kw·dil/2⌋ of phase
// (kw·dil) & 1 — a contiguous row segment again. Padded row R / column C hold input (R − pad, C − pad);
// hp = 2(hout − 1) + (k − 1)·dil + 1 and wq = wout + ⌊(k − 1)·dil / 2⌋.

function polyphase_sample(src: usize, dst: usize, c: i32, h: i32, w: i32, hp: i32, wq: i32, pad: i32): void {
  memory.fill(dst, 0, <usize>(c * 2 * hp * wq) << 2);
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r < hp; r++) {
      const y = r - pad;
      if (y < 0 || y >= h) continue;
      const srcRow = src + (<usize>((ch * h + y) * w) << 2);
      for (let phase = 0; phase < 2; phase++) {
        const dstRow = dst + (<usize>(((ch * 2 + phase) * hp + r) * wq) << 2);
        for (let j = 0; j < wq; j++) {
          const x = 2 * j + phase - pad;
          if (x >= 0 && x < w) store<f32>(dstRow + (<usize>j << 2), load<f32>(srcRow + (<usize>x << 2)));
        }
      }
    }
  }
}

export function conv_forward_stride2(
  input: usize, output: usize, w: usize, padded: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, pad: i32, dil: i32, groups: i32,
): void {
  const hp = 2 * (hout - 1) + (k - 1) * dil + 1;
  const wq = wout + ((k - 1) * dil) / 2;
  const cing = cin / groups;
  const coutg = cout / groups;
  const kk = k * k;
  const inSize = <usize>(cin * hin * win) << 2;
  const polySize = <usize>(cin * 2 * hp * wq) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  const phasePlane = <usize>(hp * wq) << 2;
  for (let s = 0; s < n; s++) {
    const p = padded + <usize>s * polySize;
    polyphase_sample(input + <usize>s * inSize, p, cin, hin, win, hp, wq, pad);
    const outS = output + <usize>s * outSize;
    for (let o = 0; o < cout; o++) {
      const g = o / coutg;
      for (let y = 0; y < hout; y++) {
        for (let x = 0; x < wout; x += 4) {
          let acc = f32x4.splat(0);
          for (let ci = 0; ci < cing; ci++) {
            const chan = p + <usize>((g * cing + ci) * 2) * phasePlane;
            for (let kh = 0; kh < k; kh++) {
              for (let kw = 0; kw < k; kw++) {
                const tap = kw * dil;
                const row = chan + <usize>(tap & 1) * phasePlane + (<usize>((2 * y + kh * dil) * wq + x + (tap >> 1)) << 2);
                const wv = f32x4.splat(load<f32>(w + (<usize>((o * cing + ci) * kk + kh * k + kw) << 2)));
                acc = madd(acc, wv, v128.load(row));
              }
            }
          }
          v128.store(outS + (<usize>((o * hout + y) * wout + x) << 2), acc);
        }
      }
    }
  }
}

// Stride-2 weight gradient, laid out as the stride-1 one: samples outermost, each weight's
// per-sample partial sums added in float64, in sample order, in `totals` (one float64 per weight).
export function conv_backward_weight_stride2(
  dout: usize, padded: usize, dw: usize, n: i32,
  cin: i32, cout: i32, hout: i32, wout: i32, k: i32, dil: i32, groups: i32, totals: usize,
): void {
  const hp = 2 * (hout - 1) + (k - 1) * dil + 1;
  const wq = wout + ((k - 1) * dil) / 2;
  const cing = cin / groups;
  const coutg = cout / groups;
  const kk = k * k;
  const count = cout * cing * kk;
  const polySize = <usize>(cin * 2 * hp * wq) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  const phasePlane = <usize>(hp * wq) << 2;
  memory.fill(totals, 0, <usize>count << 3);
  for (let s = 0; s < n; s++) {
    const dS = dout + <usize>s * outSize;
    const pS = padded + <usize>s * polySize;
    let o = 0;
    if (k == 3 && coutg % 3 == 0) {
      // Three output channels at a time, a kernel row per pass.
      const doutPlane = <usize>(hout * wout) << 2;
      for (; o < cout; o += 3) {
        const g = o / coutg;
        for (let ci = 0; ci < cing; ci++) {
          const chan = pS + <usize>((g * cing + ci) * 2) * phasePlane;
          const tOc = totals + (<usize>((o * cing + ci) * kk) << 3);
          weight_gradient_stride2_3x3_three(dS + <usize>o * doutPlane, doutPlane, chan, tOc, <usize>(cing * kk) << 3, hout, wout, wq, phasePlane, dil);
        }
      }
    }
    for (; o < cout; o++) {
      const g = o / coutg;
      const dPlane = dS + (<usize>(o * hout * wout) << 2);
      for (let ci = 0; ci < cing; ci++) {
        const chan = pS + <usize>((g * cing + ci) * 2) * phasePlane;
        const tOc = totals + (<usize>((o * cing + ci) * kk) << 3);
        if (k == 3) {
          weight_gradient_stride2_3x3(dPlane, chan, tOc, hout, wout, wq, phasePlane, dil);
          continue;
        }
        if (k == 5) {
          for (let kh = 0; kh < 5; kh++) {
            weight_gradient_stride2_row_5(dPlane, chan + (<usize>(kh * dil * wq) << 2), tOc + (<usize>(kh * 5) << 3), hout, wout, wq, phasePlane, dil);
          }
          continue;
        }
        for (let kh = 0; kh < k; kh++) {
          for (let kw = 0; kw < k; kw++) {
            const tap = kw * dil;
            const pRows = chan + <usize>(tap & 1) * phasePlane + (<usize>(kh * dil * wq + (tap >> 1)) << 2);
            let acc = f32x4.splat(0);
            for (let y = 0; y < hout; y++) {
              const dr = dPlane + (<usize>(y * wout) << 2);
              const pr = pRows + (<usize>(2 * y * wq) << 2);
              for (let x: usize = 0; x < (<usize>wout << 2); x += 16) {
                acc = madd(acc, v128.load(dr + x), v128.load(pr + x));
              }
            }
            add_f64(tOc + (<usize>(kh * k + kw) << 3), horizontalSum(acc));
          }
        }
      }
    }
  }
  for (let i = 0; i < count; i++) store<f32>(dw + (<usize>i << 2), <f32>load<f64>(totals + (<usize>i << 3)));
}

// The nine taps of one (o, c) pair over one sample's polyphase planes (`chan`: even columns, then
// odd), added to `totals` (nine float64): tap kw reads phase (kw·dil) & 1 at column offset ⌊kw·dil/2⌋.
function weight_gradient_stride2_3x3(dout: usize, chan: usize, totals: usize, hout: i32, wout: i32, wq: i32, phasePlane: usize, dil: i32): void {
  const c1 = <usize>(dil & 1) * phasePlane + (<usize>(dil >> 1) << 2);
  const c2 = <usize>dil << 2;
  const row1 = <usize>(dil * wq) << 2;
  const row2 = row1 << 1;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
  let a6 = f32x4.splat(0), a7 = f32x4.splat(0), a8 = f32x4.splat(0);
  for (let y = 0; y < hout; y++) {
    const dr = dout + (<usize>(y * wout) << 2);
    const p0 = chan + (<usize>(2 * y * wq) << 2);
    const p1 = p0 + row1;
    const p2 = p0 + row2;
    for (let x: usize = 0; x < (<usize>wout << 2); x += 16) {
      const d = v128.load(dr + x);
      a0 = madd(a0, d, v128.load(p0 + x));
      a1 = madd(a1, d, v128.load(p0 + x + c1));
      a2 = madd(a2, d, v128.load(p0 + x + c2));
      a3 = madd(a3, d, v128.load(p1 + x));
      a4 = madd(a4, d, v128.load(p1 + x + c1));
      a5 = madd(a5, d, v128.load(p1 + x + c2));
      a6 = madd(a6, d, v128.load(p2 + x));
      a7 = madd(a7, d, v128.load(p2 + x + c1));
      a8 = madd(a8, d, v128.load(p2 + x + c2));
    }
  }
  add_f64(totals, horizontalSum(a0)); add_f64(totals + 8, horizontalSum(a1)); add_f64(totals + 16, horizontalSum(a2));
  add_f64(totals + 24, horizontalSum(a3)); add_f64(totals + 32, horizontalSum(a4)); add_f64(totals + 40, horizontalSum(a5));
  add_f64(totals + 48, horizontalSum(a6)); add_f64(totals + 56, horizontalSum(a7)); add_f64(totals + 64, horizontalSum(a8));
}

// weight_gradient_stride2_3x3 for three output channels (planes `doutPlane` bytes apart, totals
// `totalsStep` bytes apart) and one input channel, a kernel row at a time: each input vector
// loaded serves three sums instead of one. Each sum runs over the same values in the same order.
function weight_gradient_stride2_3x3_three(dout: usize, doutPlane: usize, chan: usize, totals: usize, totalsStep: usize, hout: i32, wout: i32, wq: i32, phasePlane: usize, dil: i32): void {
  const c1 = <usize>(dil & 1) * phasePlane + (<usize>(dil >> 1) << 2);
  const c2 = <usize>dil << 2;
  const row1 = <usize>(dil * wq) << 2;
  const rowStep = <usize>(2 * wq) << 2;
  const doutRow = <usize>wout << 2;
  for (let kh = 0; kh < 3; kh++) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0);
    let e0 = f32x4.splat(0), e1 = f32x4.splat(0), e2 = f32x4.splat(0);
    for (let y = 0; y < hout; y++) {
      const dr = dout + <usize>y * doutRow;
      const p = chan + <usize>kh * row1 + <usize>y * rowStep;
      for (let x: usize = 0; x < doutRow; x += 16) {
        const i0 = v128.load(p + x), i1 = v128.load(p + x + c1), i2 = v128.load(p + x + c2);
        const u = v128.load(dr + x);
        a0 = madd(a0, u, i0); a1 = madd(a1, u, i1); a2 = madd(a2, u, i2);
        const v = v128.load(dr + doutPlane + x);
        b0 = madd(b0, v, i0); b1 = madd(b1, v, i1); b2 = madd(b2, v, i2);
        const w = v128.load(dr + 2 * doutPlane + x);
        e0 = madd(e0, w, i0); e1 = madd(e1, w, i1); e2 = madd(e2, w, i2);
      }
    }
    const t = totals + <usize>(kh * 24);
    add_f64(t, horizontalSum(a0)); add_f64(t + 8, horizontalSum(a1)); add_f64(t + 16, horizontalSum(a2));
    add_f64(t + totalsStep, horizontalSum(b0)); add_f64(t + totalsStep + 8, horizontalSum(b1)); add_f64(t + totalsStep + 16, horizontalSum(b2));
    const t2 = t + 2 * totalsStep;
    add_f64(t2, horizontalSum(e0)); add_f64(t2 + 8, horizontalSum(e1)); add_f64(t2 + 16, horizontalSum(e2));
  }
}

// The five taps of one kernel row of a 5×5 (o, c) pair over one sample's polyphase planes (`chan`
// at the row's first input row), added to `totals` (five float64).
function weight_gradient_stride2_row_5(dout: usize, chan: usize, totals: usize, hout: i32, wout: i32, wq: i32, phasePlane: usize, dil: i32): void {
  const c1 = <usize>(dil & 1) * phasePlane + (<usize>(dil >> 1) << 2);
  const c2 = <usize>dil << 2;
  const c3 = c2 + c1;
  const c4 = c2 << 1;
  const rowStep = <usize>(2 * wq) << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
  for (let y = 0; y < hout; y++) {
    const dr = dout + (<usize>(y * wout) << 2);
    const pr = chan + <usize>y * rowStep;
    for (let x: usize = 0; x < (<usize>wout << 2); x += 16) {
      const d = v128.load(dr + x);
      const p = pr + x;
      a0 = madd(a0, d, v128.load(p));
      a1 = madd(a1, d, v128.load(p + c1));
      a2 = madd(a2, d, v128.load(p + c2));
      a3 = madd(a3, d, v128.load(p + c3));
      a4 = madd(a4, d, v128.load(p + c4));
    }
  }
  add_f64(totals, horizontalSum(a0)); add_f64(totals + 8, horizontalSum(a1)); add_f64(totals + 16, horizontalSum(a2));
  add_f64(totals + 24, horizontalSum(a3)); add_f64(totals + 32, horizontalSum(a4));
}

// Columns of zeros each side of a row of the output gradient in `conv_backward_input_stride2`:
// every tap of either parity then reads an unclipped row segment.
@inline function stride2_gradient_halo(k: i32, pad: i32, dil: i32): i32 {
  return ((k - 1) * dil + pad + 1) >> 1;
}

// Stride-2 gradient for the input (win = 2·wout), gathered rather than scattered:
// din[c, Y, X] (+)= Σ_o Σ_kh Σ_kw w[o, c, kh, kw] · dout[o, y, x] over the taps with
// 2y + kh·dil − pad = Y and 2x + kw·dil − pad = X, added in (o, kh, kw) order. Even and odd
// columns X = 2m + parity are gathered as separate vectors over m, both in one pass over the taps,
// and interleaved on the store. Each sample's output gradient is first copied with a zero halo on
// both sides of each row (`scratch`: cout × hout × (wout + 2·halo)); a tap landing in the halo
// adds a zero, which leaves every sum unchanged.
export function conv_backward_input_stride2(
  dout: usize, din: usize, w: usize, scratch: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, pad: i32, dil: i32, groups: i32,
  accumulate: bool,
): void {
  const halo = stride2_gradient_halo(k, pad, dil);
  const wd = wout + 2 * halo;
  const cing = cin / groups;
  const coutg = cout / groups;
  const inSize = <usize>(cin * hin * win) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  const half = <usize>(win >> 1) << 2;
  for (let s = 0; s < n; s++) {
    pad_into_scratch(dout + <usize>s * outSize, scratch, cout, hout, wout, hout, wd, 0, halo, s == 0);
    const dinS = din + <usize>s * inSize;
    for (let c = 0; c < cin; c++) {
      const g = c / cing;
      const wc = w + (<usize>((g * coutg * cing + c - g * cing) * k * k) << 2);
      const plane = scratch + (<usize>(g * coutg * hout * wd) << 2) + (<usize>halo << 2);
      for (let row = 0; row < hin; row++) {
        const target = dinS + (<usize>((c * hin + row) * win) << 2);
        if (k == 3 && pad == 1 && dil == 1) gather_row(plane, wc, target, row, half, coutg, cing, hout, wd, k, pad, dil, accumulate, true);
        else gather_row(plane, wc, target, row, half, coutg, cing, hout, wd, k, pad, dil, accumulate, false);
      }
    }
  }
}

// One input row of conv_backward_input_stride2 (`half` bytes per parity), in blocks of four, two,
// then one vector: through gather_stride2_3x3 when `unrolled` (a constant at each inlined call,
// true only for k = 3, pad = 1, dil = 1), else gather_stride2.
@inline function gather_row(
  plane: usize, wc: usize, target: usize, row: i32, half: usize,
  coutg: i32, cing: i32, hout: i32, wd: i32, k: i32, pad: i32, dil: i32, accumulate: bool, unrolled: bool,
): void {
  let m: usize = 0;
  for (; m + 64 <= half; m += 64) gather_block(plane + m, wc, target + (m << 1), row, coutg, cing, hout, wd, k, pad, dil, accumulate, unrolled, 4);
  if (m + 32 <= half) {
    gather_block(plane + m, wc, target + (m << 1), row, coutg, cing, hout, wd, k, pad, dil, accumulate, unrolled, 2);
    m += 32;
  }
  if (m < half) gather_block(plane + m, wc, target + (m << 1), row, coutg, cing, hout, wd, k, pad, dil, accumulate, unrolled, 1);
}

@inline function gather_block(
  plane: usize, wc: usize, target: usize, row: i32,
  coutg: i32, cing: i32, hout: i32, wd: i32, k: i32, pad: i32, dil: i32, accumulate: bool, unrolled: bool, vectors: i32,
): void {
  if (unrolled) gather_stride2_3x3(plane, wc, target, row, coutg, cing, hout, wd, accumulate, vectors);
  else gather_stride2(plane, wc, target, row, coutg, cing, hout, wd, k, pad, dil, accumulate, vectors);
}

// One block of `vectors` (1, 2 or 4, a constant at each inlined call) × 4 consecutive m of input row
// `row`, both parities; `plane` points at the group's first output-gradient channel, column m.
// The kernel columns reaching parity p are kw = first_p, first_p + step, … below end_p, the first
// at output-column offset (p + pad − first_p·dil) / 2 and each next one `shift` columns left.
@inline function gather_stride2(
  plane: usize, wc: usize, target: usize, row: i32,
  coutg: i32, cing: i32, hout: i32, wd: i32, k: i32, pad: i32, dil: i32, accumulate: bool, vectors: i32,
): void {
  const odd = (dil & 1) == 1;
  const step = odd ? 2 : 1;
  const shiftBytes = <usize>(odd ? dil : dil >> 1) << 2;
  const first0 = odd ? pad & 1 : 0;
  const end0 = odd || (pad & 1) == 0 ? k : 0;
  const offset0 = <usize>((pad - first0 * dil) >> 1) << 2;
  const first1 = odd ? (pad + 1) & 1 : 0;
  const end1 = odd || (pad & 1) == 1 ? k : 0;
  const offset1 = <usize>((1 + pad - first1 * dil) >> 1) << 2;
  let e0 = f32x4.splat(0), e1 = f32x4.splat(0), e2 = f32x4.splat(0), e3 = f32x4.splat(0);
  let o0 = f32x4.splat(0), o1 = f32x4.splat(0), o2 = f32x4.splat(0), o3 = f32x4.splat(0);
  const channelBytes = <usize>(hout * wd) << 2;
  const weightBytes = <usize>(cing * k * k) << 2;
  for (let o = 0; o < coutg; o++) {
    const dPlane = plane + <usize>o * channelBytes;
    const wo = wc + <usize>o * weightBytes;
    for (let kh = 0; kh < k; kh++) {
      const t = row + pad - kh * dil;
      if ((t & 1) != 0 || t < 0 || t >= 2 * hout) continue;
      const dRow = dPlane + (<usize>((t >> 1) * wd) << 2);
      const wr = wo + (<usize>(kh * k) << 2);
      let p = dRow + offset0;
      for (let kw = first0; kw < end0; kw += step) {
        const wv = v128.load32_splat(wr + (<usize>kw << 2));
        e0 = madd(e0, wv, v128.load(p));
        if (vectors > 1) e1 = madd(e1, wv, v128.load(p, 16));
        if (vectors > 2) {
          e2 = madd(e2, wv, v128.load(p, 32));
          e3 = madd(e3, wv, v128.load(p, 48));
        }
        p -= shiftBytes;
      }
      p = dRow + offset1;
      for (let kw = first1; kw < end1; kw += step) {
        const wv = v128.load32_splat(wr + (<usize>kw << 2));
        o0 = madd(o0, wv, v128.load(p));
        if (vectors > 1) o1 = madd(o1, wv, v128.load(p, 16));
        if (vectors > 2) {
          o2 = madd(o2, wv, v128.load(p, 32));
          o3 = madd(o3, wv, v128.load(p, 48));
        }
        p -= shiftBytes;
      }
    }
  }
  store_interleaved(target, e0, o0, accumulate);
  if (vectors > 1) store_interleaved(target + 32, e1, o1, accumulate);
  if (vectors > 2) {
    store_interleaved(target + 64, e2, o2, accumulate);
    store_interleaved(target + 96, e3, o3, accumulate);
  }
}

// gather_stride2 for k = 3, pad = 1, dil = 1 (the downsampling convs of ResNet blocks), with the
// taps unrolled: an even input row takes kernel row 1 from output row row / 2; an odd one kernel
// row 0 from output row (row + 1) / 2 (where it exists), then kernel row 2 from (row − 1) / 2. Even
// columns take tap 1 at column m; odd ones tap 0 at m + 1, then tap 2 at m. Each sum gets
// gather_stride2's terms in gather_stride2's order.
@inline function gather_stride2_3x3(
  plane: usize, wc: usize, target: usize, row: i32, coutg: i32, cing: i32, hout: i32, wd: i32, accumulate: bool, vectors: i32,
): void {
  const even = (row & 1) == 0;
  const upperInside = even || row + 1 < 2 * hout;
  const kernelRows = even ? 1 : upperInside ? 2 : 1;
  const firstKh = even ? 1 : upperInside ? 0 : 2;
  let e0 = f32x4.splat(0), e1 = f32x4.splat(0), e2 = f32x4.splat(0), e3 = f32x4.splat(0);
  let o0 = f32x4.splat(0), o1 = f32x4.splat(0), o2 = f32x4.splat(0), o3 = f32x4.splat(0);
  const channelBytes = <usize>(hout * wd) << 2;
  const weightBytes = <usize>(cing * 9) << 2;
  for (let o = 0; o < coutg; o++) {
    const dPlane = plane + <usize>o * channelBytes;
    const wo = wc + <usize>o * weightBytes;
    for (let i = 0; i < kernelRows; i++) {
      const kh = firstKh + 2 * i;
      const dRow = dPlane + (<usize>(((row + 1 - kh) >> 1) * wd) << 2);
      const wr = wo + <usize>(kh * 12);
      const w0 = v128.load32_splat(wr), w1 = v128.load32_splat(wr, 4), w2 = v128.load32_splat(wr, 8);
      const a0 = v128.load(dRow);
      e0 = madd(e0, w1, a0);
      o0 = madd(madd(o0, w0, v128.load(dRow, 4)), w2, a0);
      if (vectors > 1) {
        const a1 = v128.load(dRow, 16);
        e1 = madd(e1, w1, a1);
        o1 = madd(madd(o1, w0, v128.load(dRow, 20)), w2, a1);
      }
      if (vectors > 2) {
        const a2 = v128.load(dRow, 32), a3 = v128.load(dRow, 48);
        e2 = madd(e2, w1, a2);
        o2 = madd(madd(o2, w0, v128.load(dRow, 36)), w2, a2);
        e3 = madd(e3, w1, a3);
        o3 = madd(madd(o3, w0, v128.load(dRow, 52)), w2, a3);
      }
    }
  }
  store_interleaved(target, e0, o0, accumulate);
  if (vectors > 1) store_interleaved(target + 32, e1, o1, accumulate);
  if (vectors > 2) {
    store_interleaved(target + 64, e2, o2, accumulate);
    store_interleaved(target + 96, e3, o3, accumulate);
  }
}

// target[0..7] (+)= even[0], odd[0], even[1], odd[1], …
@inline function store_interleaved(target: usize, even: v128, odd: v128, accumulate: bool): void {
  let lo = v128.shuffle<f32>(even, odd, 0, 4, 1, 5);
  let hi = v128.shuffle<f32>(even, odd, 2, 6, 3, 7);
  if (accumulate) {
    lo = f32x4.add(v128.load(target), lo);
    hi = f32x4.add(v128.load(target, 16), hi);
  }
  v128.store(target, lo);
  v128.store(target, hi, 16);
}

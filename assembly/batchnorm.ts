// Train-mode BatchNorm over NCHW float32 tensors: the forward pass, the backward pass, and the
// pieces of the backward pass that a conv reading its gradient runs sample by sample
// (conv_backward_through_bn in conv.ts).

import { f32At, setF32 } from './floats';
import { madd } from './madd';

// Train-mode BatchNorm: batch mean and biased variance per channel over n·hw values (eps 1e-5).
// Keeps x̂ and 1/σ for the backward pass. Each channel's sums run in float64 in (sample, position)
// order, a chain of dependent adds; up to four channels run at once so that their chains overlap.
export function bn_forward(x: usize, y: usize, xhat: usize, invstd: usize, gamma: usize, beta: usize, n: i32, c: i32, hw: i32): void {
  for (let ch = 0; ch < c; ch += 4) {
    const channels = min(4, c - ch);
    if (channels == 4) channel_moments(x, n, c, hw, ch, 4);
    else if (channels == 3) channel_moments(x, n, c, hw, ch, 3);
    else if (channels == 2) channel_moments(x, n, c, hw, ch, 2);
    else channel_moments(x, n, c, hw, ch, 1);
    for (let k = 0; k < channels; k++) {
      const mean = load<f64>(MOMENTS + (<usize>k << 3));
      const sq = load<f64>(MOMENTS + (<usize>k << 3), 32);
      normalise_channel(x, y, xhat, invstd, gamma, beta, n, c, hw, ch + k, mean, sq);
    }
  }
}

// channel_moments's results: four means, then four Σ (x − mean)².
const MOMENTS = memory.data(64, 16);

// Mean and Σ (x − mean)² (float64, in order) of `channels` (1–4, a constant at each inlined call)
// consecutive channels from `first`, into MOMENTS.
@inline function channel_moments(x: usize, n: i32, c: i32, hw: i32, first: i32, channels: i32): void {
  const count = <f64>(n * hw);
  const plane = <usize>hw << 2;
  let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
  for (let s = 0; s < n; s++) {
    const p = x + (<usize>((s * c + first) * hw) << 2);
    for (let i: usize = 0; i < plane; i += 4) {
      s0 += <f64>load<f32>(p + i);
      if (channels > 1) s1 += <f64>load<f32>(p + plane + i);
      if (channels > 2) s2 += <f64>load<f32>(p + 2 * plane + i);
      if (channels > 3) s3 += <f64>load<f32>(p + 3 * plane + i);
    }
  }
  const m0 = s0 / count, m1 = s1 / count, m2 = s2 / count, m3 = s3 / count;
  let q0: f64 = 0, q1: f64 = 0, q2: f64 = 0, q3: f64 = 0;
  for (let s = 0; s < n; s++) {
    const p = x + (<usize>((s * c + first) * hw) << 2);
    for (let i: usize = 0; i < plane; i += 4) {
      const d0 = <f64>load<f32>(p + i) - m0;
      q0 += d0 * d0;
      if (channels > 1) {
        const d1 = <f64>load<f32>(p + plane + i) - m1;
        q1 += d1 * d1;
      }
      if (channels > 2) {
        const d2 = <f64>load<f32>(p + 2 * plane + i) - m2;
        q2 += d2 * d2;
      }
      if (channels > 3) {
        const d3 = <f64>load<f32>(p + 3 * plane + i) - m3;
        q3 += d3 * d3;
      }
    }
  }
  store<f64>(MOMENTS, m0); store<f64>(MOMENTS, m1, 8); store<f64>(MOMENTS, m2, 16); store<f64>(MOMENTS, m3, 24);
  store<f64>(MOMENTS, q0, 32); store<f64>(MOMENTS, q1, 40); store<f64>(MOMENTS, q2, 48); store<f64>(MOMENTS, q3, 56);
}

// x̂ = (x − mean)·(1/σ) and y = x̂·γ + β for one channel, in float32 (a multiply, then an add).
function normalise_channel(x: usize, y: usize, xhat: usize, invstd: usize, gamma: usize, beta: usize, n: i32, c: i32, hw: i32, ch: i32, mean: f64, sq: f64): void {
  const inv = <f32>(1.0 / Math.sqrt(sq / <f64>(n * hw) + 1e-5));
  setF32(invstd, ch, inv);
  const g = f32At(gamma, ch);
  const b = f32At(beta, ch);
  const m = <f32>mean;
  const vm = f32x4.splat(m), vinv = f32x4.splat(inv), vg = f32x4.splat(g), vb = f32x4.splat(b);
  const vectorEnd = hw & ~3;
  for (let s = 0; s < n; s++) {
    const base = (s * c + ch) * hw;
    let i = 0;
    for (; i < vectorEnd; i += 4) {
      const at = <usize>(base + i) << 2;
      const h = f32x4.mul(f32x4.sub(v128.load(x + at), vm), vinv);
      v128.store(xhat + at, h);
      v128.store(y + at, f32x4.add(f32x4.mul(h, vg), vb));
    }
    for (; i < hw; i++) {
      const h = (f32At(x, base + i) - m) * inv;
      setF32(xhat, base + i, h);
      setF32(y, base + i, h * g + b);
    }
  }
}

// dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy·x̂)); dγ = Σ dy·x̂ (written when dgamma ≠ 0). The
// incoming gradient is `dyScale · dy`, so a BN feeding a weighted sum reads the sum's gradient.
export function bn_backward(dy: usize, dyScale: f32, xhat: usize, invstd: usize, gamma: usize, dx: usize, dgamma: usize, n: i32, c: i32, hw: i32, accumulate: bool): void {
  const vectorEnd = hw & ~3;
  for (let ch = 0; ch < c; ch++) {
    const k = channel_coefficients(dy, dyScale, xhat, invstd, gamma, dgamma, n, c, hw, ch);
    const scale = f32x4.extract_lane(k, 0);
    const meanDy = f32x4.extract_lane(k, 1);
    const meanDyXhat = f32x4.extract_lane(k, 2);
    const scaleLanes = f32x4.splat(scale), meanDyLanes = f32x4.splat(meanDy), meanDyXhatLanes = f32x4.splat(meanDyXhat);
    for (let s = 0; s < n; s++) {
      const base = (s * c + ch) * hw;
      let i = 0;
      for (; i < vectorEnd; i += 4) {
        const p = <usize>(base + i) << 2;
        let r = input_gradient(v128.load(dy + p), v128.load(xhat + p), scaleLanes, meanDyLanes, meanDyXhatLanes);
        if (accumulate) r = f32x4.add(r, v128.load(dx + p));
        v128.store(dx + p, r);
      }
      for (; i < hw; i++) {
        let r = scale * (f32At(dy, base + i) - meanDy - f32At(xhat, base + i) * meanDyXhat);
        if (accumulate) r += f32At(dx, base + i);
        setF32(dx, base + i, r);
      }
    }
  }
}

// One BN of a group reading the same dy (a sum's gradient, each scaled by its own term), as the
// host lays it out (BN_GROUP_MEMBER in src/engine/wasm/records.ts); dgammaOffset is the column of its
// dγ in the cotangent's row (−1: none).
@unmanaged class BnGroupMember {
  dyScale: f32;
  xhat: usize;
  invstd: usize;
  gamma: usize;
  coefficients: usize;
  dgammaOffset: i32;
}

// For each BN of a group, bn_backward's per-channel coefficients (γ/σ · dyScale, mean dy, mean dy·x̂,
// 0) into its `coefficients` (four floats per channel), and dγ into `row`, for
// conv_backward_through_bn to form dx sample by sample. One call per group: a channel of dy
// stays in cache from one member to the next, and the first member's Σ dy serves them all (the
// others form Σ dy·x̂ alone). Each sum is formed exactly as bn_backward forms it, so the group
// changes no bit.
export function bn_gradient_coefficients(dy: usize, members: usize, count: i32, row: usize, n: i32, c: i32, hw: i32): void {
  for (let ch = 0; ch < c; ch++) {
    let sumDy: f64 = 0;
    for (let m = 0; m < count; m++) {
      const member = changetype<BnGroupMember>(members + <usize>m * offsetof<BnGroupMember>());
      if (m == 0) {
        channel_sums(dy, member.xhat, n, c, hw, ch);
        sumDy = load<f64>(CHANNEL_SUMS);
      } else {
        channel_sums_dy_xhat(dy, member.xhat, n, c, hw, ch);
      }
      const dgamma: usize = member.dgammaOffset < 0 ? 0 : row + (<usize>member.dgammaOffset << 2);
      const k = coefficients_from_sums(sumDy, load<f64>(CHANNEL_SUMS, 8), member.dyScale, member.invstd, member.gamma, dgamma, n * hw, ch);
      v128.store(member.coefficients + (<usize>ch << 4), k);
    }
  }
}

// One sample's dx (c planes of h × w, w % 4 == 0), from the channels' coefficients, written to
// `target` with rows `rowBytes` and planes `planeBytes` apart. Each plane is one loop over its
// vectors (the source rows are contiguous), the target stepping over the gap at each row's end:
// with a loop per row, V8's per-loop set-up cost as much as the row's few vectors.
export function bn_input_gradient(dy: usize, xhat: usize, coefficients: usize, target: usize, c: i32, h: i32, w: i32, rowBytes: usize, planeBytes: usize): void {
  const sourceRow = <usize>w << 2;
  const sourcePlane = <usize>h * sourceRow;
  const gap = rowBytes - sourceRow;
  for (let ch = 0; ch < c; ch++) {
    const k = v128.load(coefficients + (<usize>ch << 4));
    const scale = f32x4.splat(f32x4.extract_lane(k, 0)), meanDy = f32x4.splat(f32x4.extract_lane(k, 1)), meanDyXhat = f32x4.splat(f32x4.extract_lane(k, 2));
    const from = <usize>ch * sourcePlane;
    let to = target + <usize>ch * planeBytes;
    let rowEnd = sourceRow;
    for (let x: usize = 0; x < sourcePlane; x += 16) {
      v128.store(to, input_gradient(v128.load(dy + from + x), v128.load(xhat + from + x), scale, meanDy, meanDyXhat));
      to += 16;
      if (x + 16 == rowEnd) {
        to += gap;
        rowEnd += sourceRow;
      }
    }
  }
}

// scale · ((dy − mean dy) − x̂ · mean dy·x̂), each coefficient broadcast to four lanes once per channel.
@inline function input_gradient(dy: v128, xhat: v128, scale: v128, meanDy: v128, meanDyXhat: v128): v128 {
  return f32x4.mul(scale, f32x4.sub(f32x4.sub(dy, meanDy), f32x4.mul(xhat, meanDyXhat)));
}

// Σ dy and Σ dy·x̂ of channel `ch` over the batch (per sample in float32 vectors, the samples
// added in float64), as (γ/σ · dyScale, mean dy, mean dy·x̂, 0); writes dγ when dgamma ≠ 0.
@inline function channel_coefficients(dy: usize, dyScale: f32, xhat: usize, invstd: usize, gamma: usize, dgamma: usize, n: i32, c: i32, hw: i32, ch: i32): v128 {
  channel_sums(dy, xhat, n, c, hw, ch);
  return coefficients_from_sums(load<f64>(CHANNEL_SUMS), load<f64>(CHANNEL_SUMS, 8), dyScale, invstd, gamma, dgamma, n * hw, ch);
}

// channel_sums's results: Σ dy and Σ dy·x̂ (float64); FOUR_SAMPLE_SUMS: four samples' Σ dy, then their Σ dy·x̂ (float32).
const CHANNEL_SUMS = memory.data(16, 16);
const FOUR_SAMPLE_SUMS = memory.data(32, 16);

// Σ dy and Σ dy·x̂ of channel `ch` into CHANNEL_SUMS: each sample's plane in float32 (four lanes,
// then the lanes and the tail added in order), the samples added in float64 in order. Four
// samples run at once: their eight sums are independent, so the adds do not wait on each other.
function channel_sums(dy: usize, xhat: usize, n: i32, c: i32, hw: i32, ch: i32): void {
  batch_sums(dy, xhat, n, c, hw, ch, true);
}

// channel_sums's Σ dy·x̂ alone (CHANNEL_SUMS + 8), formed the same way, for a BN whose group has Σ dy.
function channel_sums_dy_xhat(dy: usize, xhat: usize, n: i32, c: i32, hw: i32, ch: i32): void {
  batch_sums(dy, xhat, n, c, hw, ch, false);
}

// `withDy` is a constant at each inlined call.
@inline function batch_sums(dy: usize, xhat: usize, n: i32, c: i32, hw: i32, ch: i32, withDy: bool): void {
  const sampleBytes = <usize>(c * hw) << 2;
  const channel = <usize>(ch * hw) << 2;
  let sumDy: f64 = 0;
  let sumDyXhat: f64 = 0;
  let s = 0;
  for (; s + 4 <= n; s += 4) {
    const offset = channel + <usize>s * sampleBytes;
    four_plane_sums(dy + offset, xhat + offset, hw, sampleBytes, withDy);
    for (let j: usize = 0; j < 16; j += 4) {
      if (withDy) sumDy += <f64>load<f32>(FOUR_SAMPLE_SUMS + j);
      sumDyXhat += <f64>load<f32>(FOUR_SAMPLE_SUMS + j, 16);
    }
  }
  for (; s < n; s++) {
    const offset = channel + <usize>s * sampleBytes;
    plane_sums(dy + offset, xhat + offset, hw, withDy);
    if (withDy) sumDy += <f64>load<f32>(FOUR_SAMPLE_SUMS);
    sumDyXhat += <f64>load<f32>(FOUR_SAMPLE_SUMS, 16);
  }
  if (withDy) store<f64>(CHANNEL_SUMS, sumDy);
  store<f64>(CHANNEL_SUMS, sumDyXhat, 8);
}

// Σ dy (when `withDy`) and Σ dy·x̂ over one plane of hw values, in float32 (four lanes, then the
// tail), into the first sample's place in FOUR_SAMPLE_SUMS.
@inline function plane_sums(dy: usize, xhat: usize, hw: i32, withDy: bool): void {
  const vectorEnd = hw & ~3;
  let a = f32x4.splat(0);
  let b = f32x4.splat(0);
  for (let i = 0; i < vectorEnd; i += 4) {
    const d = v128.load(dy + (<usize>i << 2));
    if (withDy) a = f32x4.add(a, d);
    b = madd(b, d, v128.load(xhat + (<usize>i << 2)));
  }
  store_lane_sums(a, b, dy, xhat, vectorEnd, hw, 0, withDy);
}

// plane_sums of four planes `stride` bytes apart, into FOUR_SAMPLE_SUMS.
@inline function four_plane_sums(dy: usize, xhat: usize, hw: i32, stride: usize, withDy: bool): void {
  const vectorEnd = hw & ~3;
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  let b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  const stride2 = stride << 1;
  const stride3 = stride2 + stride;
  for (let i = 0; i < vectorEnd; i += 4) {
    const p = <usize>i << 2;
    const d0 = v128.load(dy + p), d1 = v128.load(dy + stride + p), d2 = v128.load(dy + stride2 + p), d3 = v128.load(dy + stride3 + p);
    if (withDy) {
      a0 = f32x4.add(a0, d0);
      a1 = f32x4.add(a1, d1);
      a2 = f32x4.add(a2, d2);
      a3 = f32x4.add(a3, d3);
    }
    b0 = madd(b0, d0, v128.load(xhat + p));
    b1 = madd(b1, d1, v128.load(xhat + stride + p));
    b2 = madd(b2, d2, v128.load(xhat + stride2 + p));
    b3 = madd(b3, d3, v128.load(xhat + stride3 + p));
  }
  store_lane_sums(a0, b0, dy, xhat, vectorEnd, hw, 0, withDy);
  store_lane_sums(a1, b1, dy + stride, xhat + stride, vectorEnd, hw, 4, withDy);
  store_lane_sums(a2, b2, dy + stride2, xhat + stride2, vectorEnd, hw, 8, withDy);
  store_lane_sums(a3, b3, dy + stride3, xhat + stride3, vectorEnd, hw, 12, withDy);
}

// One plane's sums as plane_sums forms them (lanes in order, then the tail from `from`), into FOUR_SAMPLE_SUMS at `at` and `at` + 16.
@inline function store_lane_sums(a: v128, b: v128, dy: usize, xhat: usize, from: i32, hw: i32, at: usize, withDy: bool): void {
  let tailA: f32 = 0;
  let tailB: f32 = 0;
  for (let i = from; i < hw; i++) {
    const d = f32At(dy, i);
    if (withDy) tailA += d;
    tailB += d * f32At(xhat, i);
  }
  if (withDy) store<f32>(FOUR_SAMPLE_SUMS + at, f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3) + tailA);
  store<f32>(FOUR_SAMPLE_SUMS + at, f32x4.extract_lane(b, 0) + f32x4.extract_lane(b, 1) + f32x4.extract_lane(b, 2) + f32x4.extract_lane(b, 3) + tailB, 16);
}

// (γ/σ · dyScale, mean dy, mean dy·x̂, 0) from a channel's sums over `count` values; writes dγ when
// dgamma ≠ 0. dy stays unscaled in the means: the scale is folded into the first coefficient.
@inline function coefficients_from_sums(sumDy: f64, sumDyXhat: f64, dyScale: f32, invstd: usize, gamma: usize, dgamma: usize, count: i32, ch: i32): v128 {
  if (dgamma != 0) setF32(dgamma, ch, <f32>(sumDyXhat * <f64>dyScale));
  return f32x4(f32At(gamma, ch) * f32At(invstd, ch) * dyScale, <f32>(sumDy / <f64>count), <f32>(sumDyXhat / <f64>count), 0);
}

// Element-wise, pooling and dense layers over NCHW float32 tensors, forward and
// backward. `accumulate` selects `dst += result` (another consumer already wrote the gradient)
// over `dst = result`.

import { f32At, setF32 } from './floats';

export function relu_forward(x: usize, y: usize, len: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) v128.store(y + (<usize>i << 2), f32x4.max(v128.load(x + (<usize>i << 2)), zero));
  for (; i < len; i++) {
    const v = f32At(x, i);
    setF32(y, i, v > 0 ? v : 0);
  }
}

// dx (+)= dy where y > 0.
export function relu_backward(dy: usize, y: usize, dx: usize, len: i32, accumulate: bool): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const p = <usize>i << 2;
    let r = v128.and(v128.load(dy + p), f32x4.gt(v128.load(y + p), zero));
    if (accumulate) r = f32x4.add(r, v128.load(dx + p));
    v128.store(dx + p, r);
  }
  for (; i < len; i++) {
    let r: f32 = f32At(y, i) > 0 ? f32At(dy, i) : 0;
    if (accumulate) r += f32At(dx, i);
    setF32(dx, i, r);
  }
}

// Pooling windows of size k, stride s, padding p over planes of hin × win; windows are clipped
// to the input, so padding never counts in an average nor wins a maximum.
@inline function windowStart(o: i32, stride: i32, pad: i32): i32 {
  return max(o * stride - pad, 0);
}

@inline function windowEnd(o: i32, stride: i32, pad: i32, k: i32, size: i32): i32 {
  return min(o * stride - pad + k, size);
}

export function avgpool_forward(x: usize, y: usize, planes: i32, hin: i32, win: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32): void {
  const quads = planes & ~3;
  for (let p = 0; p < quads; p += 4) pool_forward_planes(x, y, 0, p, hin, win, hout, wout, k, stride, pad, 4, false);
  for (let p = quads; p < planes; p++) pool_forward_planes(x, y, 0, p, hin, win, hout, wout, k, stride, pad, 1, false);
}

// The forward pools run four planes at once, lane j on plane p + j (`lanes` 4), and the last
// planes one at a time (`lanes` 1): the planes' windows are the same, so each lane adds or compares
// its plane's values in the order of a one-plane loop, with no branch on the data. Planes are small
// (the thin nets' are 1×1 to 3×3), so lanes along a row would leave most of a vector empty.
// `maximum` (like `lanes`, a constant at each inlined call) picks the max pool, which also writes
// the input index of each output's first maximum to `argmax` (strictly greater replaces, so NaN
// never wins); else the average.
@inline function pool_forward_planes(x: usize, y: usize, argmax: usize, p: i32, hin: i32, win: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, lanes: i32, maximum: bool): void {
  const plane = hin * win;
  const first = x + (<usize>(p * plane) << 2);
  const indices = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(p * plane), 1, (p + 1) * plane), 2, (p + 2) * plane), 3, (p + 3) * plane);
  for (let oy = 0; oy < hout; oy++) {
    const y0 = windowStart(oy, stride, pad);
    const y1 = windowEnd(oy, stride, pad, k, hin);
    for (let ox = 0; ox < wout; ox++) {
      const x0 = windowStart(ox, stride, pad);
      const x1 = windowEnd(ox, stride, pad, k, win);
      let value = maximum ? gather_planes(first, y0 * win + x0, plane, lanes) : f32x4.splat(0);
      let best = i32x4.add(indices, i32x4.splat(y0 * win + x0));
      for (let iy = y0; iy < y1; iy++) {
        for (let ix = x0; ix < x1; ix++) {
          const v = gather_planes(first, iy * win + ix, plane, lanes);
          if (maximum) {
            const greater = f32x4.gt(v, value);
            value = v128.bitselect(v, value, greater);
            best = v128.bitselect(i32x4.add(indices, i32x4.splat(iy * win + ix)), best, greater);
          } else {
            value = f32x4.add(value, v);
          }
        }
      }
      const out = (p * hout + oy) * wout + ox;
      if (maximum) {
        store_planes(y, out, hout * wout, value, lanes);
        store_planes(argmax, out, hout * wout, best, lanes);
      } else {
        store_planes(y, out, hout * wout, f32x4.div(value, f32x4.splat(<f32>((y1 - y0) * (x1 - x0)))), lanes);
      }
    }
  }
}

// Element `at` of `lanes` consecutive planes (`plane` floats each) from `first`, one per lane.
@inline function gather_planes(first: usize, at: i32, plane: i32, lanes: i32): v128 {
  const q = first + (<usize>at << 2);
  let v = v128.load32_splat(q);
  if (lanes == 1) return v;
  const step = <usize>plane << 2;
  v = v128.load32_lane(q + step, v, 1);
  v = v128.load32_lane(q + 2 * step, v, 2);
  return v128.load32_lane(q + 3 * step, v, 3);
}

// The first `lanes` lanes of `v` to element `at` + j·`plane` of `dst`.
@inline function store_planes(dst: usize, at: i32, plane: i32, v: v128, lanes: i32): void {
  const q = dst + (<usize>at << 2);
  v128.store32_lane(q, v, 0);
  if (lanes == 1) return;
  const step = <usize>plane << 2;
  v128.store32_lane(q + step, v, 1);
  v128.store32_lane(q + 2 * step, v, 2);
  v128.store32_lane(q + 3 * step, v, 3);
}

export function avgpool_backward(dy: usize, dx: usize, planes: i32, hin: i32, win: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, accumulate: bool): void {
  if (k == 2 && stride == 2 && pad == 0 && hin == 2 * hout && win == 2 * wout && (wout & 3) == 0) {
    avgpool2_backward(dy, dx, planes, hout, wout, accumulate);
    return;
  }
  if (!accumulate) memory.fill(dx, 0, <usize>(planes * hin * win) << 2);
  for (let p = 0; p < planes; p++) {
    const xin = p * hin * win;
    for (let oy = 0; oy < hout; oy++) {
      const y0 = windowStart(oy, stride, pad);
      const y1 = windowEnd(oy, stride, pad, k, hin);
      for (let ox = 0; ox < wout; ox++) {
        const x0 = windowStart(ox, stride, pad);
        const x1 = windowEnd(ox, stride, pad, k, win);
        const share = f32At(dy, (p * hout + oy) * wout + ox) / <f32>((y1 - y0) * (x1 - x0));
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) setF32(dx, xin + iy * win + ix, f32At(dx, xin + iy * win + ix) + share);
        }
      }
    }
  }
}

// avgpool_backward of 2×2 windows at stride 2 that tile the input (NB201's residual shortcut): each
// input gets one quarter of one output's gradient, four outputs at a time. Without `accumulate` the
// quarter is added to a zero, as the general path does, so a −0 comes out as +0 there too.
function avgpool2_backward(dy: usize, dx: usize, planes: i32, hout: i32, wout: i32, accumulate: bool): void {
  const quarter = f32x4.splat(0.25);
  const zero = f32x4.splat(0);
  const inRow = <usize>(2 * wout) << 2;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < hout; oy++) {
      const source = dy + (<usize>((p * hout + oy) * wout) << 2);
      const top = dx + <usize>(2 * (p * hout + oy)) * inRow;
      const bottom = top + inRow;
      for (let ox: usize = 0; ox < (<usize>wout << 2); ox += 16) {
        const share = f32x4.mul(v128.load(source + ox), quarter); // exactly dy / 4
        const left = v128.shuffle<f32>(share, share, 0, 0, 1, 1);
        const right = v128.shuffle<f32>(share, share, 2, 2, 3, 3);
        const at = ox << 1;
        v128.store(top + at, f32x4.add(accumulate ? v128.load(top + at) : zero, left));
        v128.store(top + at, f32x4.add(accumulate ? v128.load(top + at, 16) : zero, right), 16);
        v128.store(bottom + at, f32x4.add(accumulate ? v128.load(bottom + at) : zero, left));
        v128.store(bottom + at, f32x4.add(accumulate ? v128.load(bottom + at, 16) : zero, right), 16);
      }
    }
  }
}

// Max pooling's gradient goes to the first maximum in scan order. The forward pass records the
// input index of each output's maximum in `argmax` (an i32 per output, over the whole batch), so
// the backward passes only route the gradient.
export function maxpool_forward(x: usize, y: usize, argmax: usize, planes: i32, hin: i32, win: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32): void {
  const quads = planes & ~3;
  for (let p = 0; p < quads; p += 4) pool_forward_planes(x, y, argmax, p, hin, win, hout, wout, k, stride, pad, 4, true);
  for (let p = quads; p < planes; p++) pool_forward_planes(x, y, argmax, p, hin, win, hout, wout, k, stride, pad, 1, true);
}

// dx (+)= dy routed to each output's maximum, in output order.
export function maxpool_backward(dy: usize, argmax: usize, dx: usize, inputs: i32, outputs: i32, accumulate: bool): void {
  if (!accumulate) memory.fill(dx, 0, <usize>inputs << 2);
  for (let i = 0; i < outputs; i++) {
    const q = load<i32>(argmax + (<usize>i << 2));
    setF32(dx, q, f32At(dx, q) + f32At(dy, i));
  }
}

export function gap_forward(x: usize, y: usize, planes: i32, hw: i32): void {
  for (let p = 0; p < planes; p++) {
    let sum: f32 = 0;
    for (let i = 0; i < hw; i++) sum += f32At(x, p * hw + i);
    setF32(y, p, sum / <f32>hw);
  }
}

export function gap_backward(dy: usize, dx: usize, planes: i32, hw: i32, accumulate: bool): void {
  for (let p = 0; p < planes; p++) {
    const share = f32At(dy, p) / <f32>hw;
    for (let i = 0; i < hw; i++) setF32(dx, p * hw + i, accumulate ? f32At(dx, p * hw + i) + share : share);
  }
}

// z[s, o] = Σ_f W[o, f] · h[s, f] + b[o]
export function linear_forward(h: usize, z: usize, w: usize, bias: usize, n: i32, inF: i32, outF: i32): void {
  for (let s = 0; s < n; s++) {
    for (let o = 0; o < outF; o++) {
      let acc: f32 = 0;
      for (let f = 0; f < inF; f++) acc += f32At(w, o * inF + f) * f32At(h, s * inF + f);
      setF32(z, s * outF + o, acc + f32At(bias, o));
    }
  }
}

// dh[s, f] (+)= Σ_o dz[s, o] · W[o, f]; dW[o, f] = Σ_s dz[s, o] · h[s, f] (written when dw ≠ 0).
export function linear_backward(dz: usize, h: usize, w: usize, dh: usize, dw: usize, n: i32, inF: i32, outF: i32, accumulate: bool): void {
  for (let s = 0; s < n; s++) {
    for (let f = 0; f < inF; f++) {
      let acc: f32 = 0;
      for (let o = 0; o < outF; o++) acc += f32At(dz, s * outF + o) * f32At(w, o * inF + f);
      setF32(dh, s * inF + f, accumulate ? f32At(dh, s * inF + f) + acc : acc);
    }
  }
  if (dw == 0) return;
  for (let o = 0; o < outF; o++) {
    for (let f = 0; f < inF; f++) {
      let acc: f32 = 0;
      for (let s = 0; s < n; s++) acc += f32At(dz, s * outF + o) * f32At(h, s * inF + f);
      setF32(dw, o * inF + f, acc);
    }
  }
}

// dst (+)= scale · src over len floats.
export function scaled_add(src: usize, dst: usize, len: i32, scale: f32, accumulate: bool): void {
  const vs = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const p = <usize>i << 2;
    let r = f32x4.mul(v128.load(src + p), vs);
    if (accumulate) r = f32x4.add(r, v128.load(dst + p));
    v128.store(dst + p, r);
  }
  for (; i < len; i++) setF32(dst, i, accumulate ? f32At(dst, i) + f32At(src, i) * scale : f32At(src, i) * scale);
}

// For each of n samples, copies `len` floats from src + s·srcStride to dst + s·dstStride (strides in
// floats); concatenation along channels and its backward are this with different strides.
export function strided_copy(src: usize, dst: usize, n: i32, srcStride: i32, dstStride: i32, len: i32, accumulate: bool): void {
  for (let s = 0; s < n; s++) {
    const a = src + (<usize>(s * srcStride) << 2);
    const b = dst + (<usize>(s * dstStride) << 2);
    if (!accumulate) {
      memory.copy(b, a, <usize>len << 2);
    } else {
      scaled_add(a, b, len, 1, true);
    }
  }
}

// Strided subsampling of x·0 keeps no data, but zero layers still need their output filled.
export function fill_zero(dst: usize, len: i32): void {
  memory.fill(dst, 0, <usize>len << 2);
}

// 3×3 average pooling, stride 1, padding 1 (count_include_pad = False) as separable box sums over
// rows of width w % 4 == 0. The divisor is (rows in window) × (columns in window).
const BOX_ROW = memory.data(4 * 4104, 16);

@inline function windowCount(index: i32, size: i32): f32 {
  return <f32>(min(index + 1, size - 1) - max(index - 1, 0) + 1);
}

// BOX_ROW[1 + x] = Σ_{r ∈ {y−1, y, y+1} ∩ [0, h)} plane[r, x] · rowScale(r), BOX_ROW[0] = BOX_ROW[w + 1] = 0.
function verticalSum(plane: usize, y: i32, h: i32, w: i32, divideByRows: bool): void {
  store<f32>(BOX_ROW, 0);
  store<f32>(BOX_ROW + (<usize>(w + 1) << 2), 0);
  const r0 = max(y - 1, 0);
  const r1 = min(y + 1, h - 1);
  for (let x = 0; x < w; x += 4) {
    let sum = f32x4.splat(0);
    for (let r = r0; r <= r1; r++) {
      let v = v128.load(plane + (<usize>(r * w + x) << 2));
      if (divideByRows) v = f32x4.div(v, f32x4.splat(windowCount(r, h)));
      sum = f32x4.add(sum, v);
    }
    v128.store(BOX_ROW + (<usize>(x + 1) << 2), sum);
  }
}

@inline function columnCounts(x: i32, w: i32): v128 {
  let counts = f32x4.splat(3);
  if (x == 0) counts = f32x4.replace_lane(counts, 0, 2);
  if (x + 4 == w) counts = f32x4.replace_lane(counts, 3, 2);
  return counts;
}

export function avgpool3_forward(x: usize, y: usize, planes: i32, h: i32, w: i32): void {
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    for (let r = 0; r < h; r++) {
      verticalSum(plane, r, h, w, false);
      const rows = f32x4.splat(windowCount(r, h));
      for (let c = 0; c < w; c += 4) {
        const q = BOX_ROW + (<usize>c << 2);
        const sum = f32x4.add(f32x4.add(v128.load(q), v128.load(q, 4)), v128.load(q, 8));
        v128.store(y + (<usize>((p * h + r) * w + c) << 2), f32x4.div(sum, f32x4.mul(rows, columnCounts(c, w))));
      }
    }
  }
}

// Rows of dy divided by their row count, ring-indexed by row % 3: each row is divided once, not
// once per window that covers it.
const DIVIDED_ROWS = memory.data(3 * 4 * 4104, 16);

@inline function dividedRow(r: i32): usize {
  return DIVIDED_ROWS + (<usize>((r % 3) * 4104) << 2);
}

function divideRow(plane: usize, r: i32, h: i32, w: i32): void {
  const count = f32x4.splat(windowCount(r, h));
  const src = plane + (<usize>(r * w) << 2);
  const dst = dividedRow(r);
  for (let x: usize = 0; x < (<usize>w << 2); x += 16) v128.store(dst + x, f32x4.div(v128.load(src + x), count));
}

// dx[r, c] = Σ over the windows covering (r, c) of dy / count: the box sum of dy / count. The
// column neighbours come from lane shuffles of the vertical sums held in registers (reading them
// back from a row buffer just written stalls on store forwarding). Each row of dy is divided by its
// row count once, into a ring of three rows. With `withSkip`, an identity term of the same sum
// (skipScale · dy) is added too, in the order its own pass would have added it, so the bits do not
// change. The flags, the number of rows in a window and the column counts of a vector are constants
// in each loop (inlined variants), so the loops test nothing per vector.
//
// The box sums before the scale depend on dy alone, so pools reading one sum's gradient share them:
// with `box` ≠ 0 the first keeps them there (laid out as dy) and the others (`reuseBox`) only scale them.
export function avgpool3_backward(
  dy: usize, dyScale: f32, dx: usize, planes: i32, h: i32, w: i32, accumulate: bool, withSkip: bool, skipScale: f32, box: usize, reuseBox: bool,
): void {
  if (reuseBox) pool_backward_variant(dy, dyScale, dx, planes, h, w, accumulate, withSkip, skipScale, box, REUSE_BOX);
  else if (box != 0) pool_backward_variant(dy, dyScale, dx, planes, h, w, accumulate, withSkip, skipScale, box, KEEP_BOX);
  else pool_backward_variant(dy, dyScale, dx, planes, h, w, accumulate, withSkip, skipScale, 0, NO_BOX);
}

// What a pool does with the box sums (`boxMode` below).
const NO_BOX = 0;
const KEEP_BOX = 1;
const REUSE_BOX = 2;

// One inlined variant per flag pair; `boxMode` is a constant at each inlined call.
@inline function pool_backward_variant(
  dy: usize, dyScale: f32, dx: usize, planes: i32, h: i32, w: i32, accumulate: bool, withSkip: bool, skipScale: f32, box: usize, boxMode: i32,
): void {
  if (withSkip) {
    if (accumulate) pool_backward_planes(dy, dyScale, dx, planes, h, w, true, true, skipScale, box, boxMode);
    else pool_backward_planes(dy, dyScale, dx, planes, h, w, false, true, skipScale, box, boxMode);
  } else if (accumulate) {
    pool_backward_planes(dy, dyScale, dx, planes, h, w, true, false, skipScale, box, boxMode);
  } else {
    pool_backward_planes(dy, dyScale, dx, planes, h, w, false, false, skipScale, box, boxMode);
  }
}

@inline function pool_backward_planes(
  dy: usize, dyScale: f32, dx: usize, planes: i32, h: i32, w: i32, accumulate: bool, withSkip: bool, skipScale: f32, box: usize, boxMode: i32,
): void {
  const scale = f32x4.splat(dyScale);
  const skip = f32x4.splat(skipScale);
  if (boxMode == REUSE_BOX) {
    // dx (+)= box·dyScale [+ skipScale·dy] from the box sums another pool kept.
    const bytes = <usize>(planes * h * w) << 2;
    for (let x: usize = 0; x < bytes; x += 16) store_scaled(dx + x, dy + x, v128.load(box + x), scale, skip, accumulate, withSkip);
    return;
  }
  const keep = boxMode == KEEP_BOX;
  const rowBytes = <usize>w << 2;
  const boxDelta = box - dx;
  for (let p = 0; p < planes; p++) {
    const plane = dy + <usize>(p * h) * rowBytes;
    const out = dx + <usize>(p * h) * rowBytes;
    divideRow(plane, 0, h, w);
    if (h == 1) {
      pool_backward_row(dividedRow(0), 0, 0, 1, out, plane, boxDelta, w, scale, skip, accumulate, withSkip, keep);
      continue;
    }
    divideRow(plane, 1, h, w);
    pool_backward_row(dividedRow(0), dividedRow(1), 0, 2, out, plane, boxDelta, w, scale, skip, accumulate, withSkip, keep);
    for (let r = 1; r + 1 < h; r++) {
      divideRow(plane, r + 1, h, w);
      const row = <usize>r * rowBytes;
      pool_backward_row(dividedRow(r - 1), dividedRow(r), dividedRow(r + 1), 3, out + row, plane + row, boxDelta, w, scale, skip, accumulate, withSkip, keep);
    }
    const last = <usize>(h - 1) * rowBytes;
    pool_backward_row(dividedRow(h - 2), dividedRow(h - 1), 0, 2, out + last, plane + last, boxDelta, w, scale, skip, accumulate, withSkip, keep);
  }
}

// One output row from the `rows` (1–3, a constant at each inlined call) divided rows of its windows.
// The first and last vectors have a column count of 2 in their outer lane; the others divide by 3.
@inline function pool_backward_row(
  first: usize, second: usize, third: usize, rows: i32, target: usize, dyRow: usize, boxDelta: usize, w: i32, scale: v128, skip: v128,
  accumulate: bool, withSkip: bool, keep: bool,
): void {
  const zero = f32x4.splat(0);
  const three = f32x4.splat(3);
  const edge = f32x4.replace_lane(three, 0, 2);
  if (w == 4) {
    const current = columnSum(first, second, third, 0, rows, f32x4.replace_lane(edge, 3, 2));
    store_pooled(target, dyRow, boxDelta, zero, current, zero, scale, skip, accumulate, withSkip, keep);
    return;
  }
  let previous = zero;
  let current = columnSum(first, second, third, 0, rows, edge);
  const lastBytes = <usize>(w - 4) << 2;
  let x: usize = 0;
  for (; x + 16 < lastBytes; x += 16) {
    const next = columnSum(first, second, third, x + 16, rows, three);
    store_pooled(target + x, dyRow + x, boxDelta, previous, current, next, scale, skip, accumulate, withSkip, keep);
    previous = current;
    current = next;
  }
  const next = columnSum(first, second, third, lastBytes, rows, f32x4.replace_lane(three, 3, 2));
  store_pooled(target + x, dyRow + x, boxDelta, previous, current, next, scale, skip, accumulate, withSkip, keep);
  store_pooled(target + lastBytes, dyRow + lastBytes, boxDelta, current, next, zero, scale, skip, accumulate, withSkip, keep);
}

// (0 + first [+ second [+ third]])[offset..] over the divided rows of a window, divided by the
// column counts (they do not depend on the row).
@inline function columnSum(first: usize, second: usize, third: usize, offset: usize, rows: i32, counts: v128): v128 {
  let sum = f32x4.add(f32x4.splat(0), v128.load(first + offset));
  if (rows > 1) sum = f32x4.add(sum, v128.load(second + offset));
  if (rows > 2) sum = f32x4.add(sum, v128.load(third + offset));
  return f32x4.div(sum, counts);
}

// target (+)= (left + current + right)·scale [+ skip·dy] for the vector `current` between its
// neighbours; with `keep`, the box sum before the scale is kept at target + boxDelta.
@inline function store_pooled(
  target: usize, dyAt: usize, boxDelta: usize, previous: v128, current: v128, next: v128, scale: v128, skip: v128, accumulate: bool, withSkip: bool, keep: bool,
): void {
  const left = v128.shuffle<f32>(previous, current, 3, 4, 5, 6);
  const right = v128.shuffle<f32>(current, next, 1, 2, 3, 4);
  const sum = f32x4.add(f32x4.add(left, current), right);
  if (keep) v128.store(target + boxDelta, sum);
  store_scaled(target, dyAt, sum, scale, skip, accumulate, withSkip);
}

// target (+)= box·scale [+ skip·dy], in the order a pool that found the box sums itself adds them.
@inline function store_scaled(target: usize, dyAt: usize, box: v128, scale: v128, skip: v128, accumulate: bool, withSkip: bool): void {
  let sum = f32x4.mul(box, scale);
  if (withSkip) {
    let term = f32x4.mul(v128.load(dyAt), skip);
    if (accumulate) term = f32x4.add(term, v128.load(target));
    sum = f32x4.add(sum, term);
  } else if (accumulate) {
    sum = f32x4.add(sum, v128.load(target));
  }
  v128.store(target, sum);
}

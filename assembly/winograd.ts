// Winograd F(2×2, 3×3) for stride-1, undilated, ungrouped 3×3 convolutions whose output rows are
// a multiple of 8 wide: each 2×2 output tile is read from a 4×4 input window, and the 36
// multiplies a tile costs per channel pair fall to 16 (transforms after Lavin and Gray, 2016:
// Bᵀ·d·B for the window, G·g·Gᵀ for the kernel, Aᵀ·m·A back to the tile).
//
// Lanes are four consecutive tiles of a tile row, so every product is a plain vector multiply.
// Transformed tensors are laid out [ξ][channel][tile] (ξ: the 16 positions of the 4×4 domain).

import { madd } from './madd';
import { store_output } from './outputs';

// Whether a correlation of `cin` padded input planes into `cout` output planes of hout × wout takes
// this path. Below four channels a side the transforms cost as much as the multiplies they save
// (measured on the NTK's backward pass: 1.0× at 3 channels, 1.5× at 6, 1.8× at 12).
export function winograd_fits(cin: i32, cout: i32, hout: i32, wout: i32, k: i32, dil: i32, groups: i32): bool {
  return k == 3 && dil == 1 && groups == 1 && hout > 0 && (hout & 1) == 0 && wout > 0 && (wout & 7) == 0 && cin >= 4 && cout >= 4;
}

// Floats of the per-sample workspace winograd_correlate_sample needs: the input's transform and
// the product's, 16 per tile per channel.
export function winograd_workspace_floats(cin: i32, cout: i32, hout: i32, wout: i32): i32 {
  return 16 * (cin + cout) * ((hout >> 1) * (wout >> 1));
}

// u[ξ][o][c] = (G·w[o][c]·Gᵀ)[ξ] for w = (o, c, 3, 3), G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
export function winograd_weights(w: usize, u: usize, cout: i32, cin: i32): void {
  const pairs = <usize>(cout * cin);
  for (let p: usize = 0; p < pairs; p++) {
    const g = w + p * 36;
    const q = u + (p << 2);
    const step = pairs << 2;
    for (let j = 0; j < 3; j++) {
      const g0 = load<f32>(g + (<usize>j << 2)), g1 = load<f32>(g + (<usize>(3 + j) << 2)), g2 = load<f32>(g + (<usize>(6 + j) << 2));
      // Column j of G·g, rows 0–3, kept in the rows' ξ slots 4i + j until the second pass.
      store<f32>(q + <usize>j * step, g0);
      store<f32>(q + <usize>(4 + j) * step, 0.5 * (g0 + g1 + g2));
      store<f32>(q + <usize>(8 + j) * step, 0.5 * (g0 - g1 + g2));
      store<f32>(q + <usize>(12 + j) * step, g2);
    }
    for (let i = 0; i < 4; i++) {
      const row = q + <usize>(4 * i) * step;
      const r0 = load<f32>(row), r1 = load<f32>(row + step), r2 = load<f32>(row + 2 * step);
      store<f32>(row + step, 0.5 * (r0 + r1 + r2));
      store<f32>(row + 2 * step, 0.5 * (r0 - r1 + r2));
      store<f32>(row + 3 * step, r2);
    }
  }
}

// v[ξ][c][t] = (Bᵀ·d·B)[ξ] for the 4×4 window d of tile t = (ty, tx) at (2ty, 2tx) of each padded
// plane ((hout + 2) × (wout + 2)) of `src`.
// Rows of v (one per ξ and channel) are `row` floats long; this sample's tiles start at `first`.
function input_transform(src: usize, v: usize, channels: i32, hout: i32, wout: i32, row: usize, first: usize): void {
  const rowBytes = <usize>(wout + 2) << 2;
  const plane = <usize>(hout + 2) * rowBytes;
  const xi = (row * <usize>channels) << 2;
  for (let c = 0; c < channels; c++) {
    const p = src + <usize>c * plane;
    let out = v + ((row * <usize>c + first) << 2);
    for (let ty = 0; ty < (hout >> 1); ty++) {
      const top = p + <usize>(2 * ty) * rowBytes;
      for (let x: usize = 0; x < (<usize>wout << 2); x += 32) {
        // Each window row i as h_i = d_i·B (four vectors, one per column), then Bᵀ down the rows:
        // ξ row 0 = h0 − h2, 1 = h1 + h2, 2 = h2 − h1, 3 = h1 − h3.
        const r0 = top + x, r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
        const h0 = window_column(r0, 0), h1 = window_column(r0, 1), h2 = window_column(r0, 2), h3 = window_column(r0, 3);
        const k0 = window_column(r2, 0), k1 = window_column(r2, 1), k2 = window_column(r2, 2), k3 = window_column(r2, 3);
        v128.store(out, f32x4.sub(h0, k0)); v128.store(out + xi, f32x4.sub(h1, k1));
        v128.store(out + 2 * xi, f32x4.sub(h2, k2)); v128.store(out + 3 * xi, f32x4.sub(h3, k3));
        const m0 = window_column(r1, 0), m1 = window_column(r1, 1), m2 = window_column(r1, 2), m3 = window_column(r1, 3);
        v128.store(out + 4 * xi, f32x4.add(m0, k0)); v128.store(out + 5 * xi, f32x4.add(m1, k1));
        v128.store(out + 6 * xi, f32x4.add(m2, k2)); v128.store(out + 7 * xi, f32x4.add(m3, k3));
        v128.store(out + 8 * xi, f32x4.sub(k0, m0)); v128.store(out + 9 * xi, f32x4.sub(k1, m1));
        v128.store(out + 10 * xi, f32x4.sub(k2, m2)); v128.store(out + 11 * xi, f32x4.sub(k3, m3));
        const n0 = window_column(r3, 0), n1 = window_column(r3, 1), n2 = window_column(r3, 2), n3 = window_column(r3, 3);
        v128.store(out + 12 * xi, f32x4.sub(m0, n0)); v128.store(out + 13 * xi, f32x4.sub(m1, n1));
        v128.store(out + 14 * xi, f32x4.sub(m2, n2)); v128.store(out + 15 * xi, f32x4.sub(m3, n3));
        out += 16;
      }
    }
  }
}

// Column j of d·B for one window row of four consecutive tiles (row at `r`, tile 0 at column 0):
// d_0 − d_2, d_1 + d_2, d_2 − d_1, d_1 − d_3 with d_i the row's columns 2t + i. The four columns of a
// row are asked for in turn with no store between, so V8 loads and shuffles the row once.
@inline function window_column(r: usize, j: i32): v128 {
  const a = v128.load(r), b = v128.load(r, 16), s = v128.load(r, 8), t = v128.load(r, 24);
  const d1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7), d2 = v128.shuffle<f32>(s, t, 0, 2, 4, 6);
  if (j == 0) return f32x4.sub(v128.shuffle<f32>(a, b, 0, 2, 4, 6), d2);
  if (j == 1) return f32x4.add(d1, d2);
  if (j == 2) return f32x4.sub(d2, d1);
  return f32x4.sub(d1, v128.shuffle<f32>(s, t, 1, 3, 5, 7));
}

// m[ξ][o][t] = Σ_c u[ξ][o][c] · v[ξ][c][t], two output channels by up to four tile vectors at once
// (three by four hold more vectors than x86's sixteen registers).
function transformed_product(u: usize, v: usize, m: usize, cin: i32, cout: i32, tiles: i32): void {
  const vectors = tiles >> 2;
  const pairs = <usize>(cout * cin);
  const vPlane = <usize>tiles << 2;
  for (let xi = 0; xi < 16; xi++) {
    const uXi = u + ((<usize>xi * pairs) << 2);
    const vXi = v + <usize>(xi * cin) * vPlane;
    const mXi = m + <usize>(xi * cout) * vPlane;
    let o = 0;
    while (o < cout) {
      const uo = uXi + (<usize>(o * cin) << 2);
      const mo = mXi + <usize>o * vPlane;
      if (o + 1 < cout) product_row_of_tiles(uo, vXi, mo, cin, vPlane, vectors, 2);
      else product_row_of_tiles(uo, vXi, mo, cin, vPlane, vectors, 1);
      o += o + 1 < cout ? 2 : 1;
    }
  }
}

// All tile vectors of `outs` (a constant at each inlined call) output channels, four at a time.
@inline function product_row_of_tiles(u: usize, v: usize, m: usize, cin: i32, vPlane: usize, vectors: i32, outs: i32): void {
  let t = 0;
  for (; t + 4 <= vectors; t += 4) input_product_block(u, v + (<usize>t << 4), m + (<usize>t << 4), cin, vPlane, outs, 4);
  for (; t < vectors; t++) input_product_block(u, v + (<usize>t << 4), m + (<usize>t << 4), cin, vPlane, outs, 1);
}

// `outs` (1 or 2) output channels × `vectors` (1 or 4) tile vectors; constants at each inlined call.
@inline function input_product_block(u: usize, v: usize, m: usize, cin: i32, vPlane: usize, outs: i32, vectors: i32): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  let b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  const uRow = <usize>cin << 2;
  for (let c = 0; c < cin; c++) {
    const vc = v + <usize>c * vPlane;
    const uc = u + (<usize>c << 2);
    const x0 = v128.load(vc);
    const wa = v128.load32_splat(uc);
    a0 = madd(a0, wa, x0);
    if (outs > 1) {
      const wb = v128.load32_splat(uc + uRow);
      b0 = madd(b0, wb, x0);
      if (vectors > 1) {
        const x1 = v128.load(vc, 16), x2 = v128.load(vc, 32), x3 = v128.load(vc, 48);
        a1 = madd(a1, wa, x1); b1 = madd(b1, wb, x1);
        a2 = madd(a2, wa, x2); b2 = madd(b2, wb, x2);
        a3 = madd(a3, wa, x3); b3 = madd(b3, wb, x3);
      }
    } else if (vectors > 1) {
      a1 = madd(a1, wa, v128.load(vc, 16));
      a2 = madd(a2, wa, v128.load(vc, 32));
      a3 = madd(a3, wa, v128.load(vc, 48));
    }
  }
  v128.store(m, a0);
  if (vectors > 1) { v128.store(m, a1, 16); v128.store(m, a2, 32); v128.store(m, a3, 48); }
  if (outs > 1) {
    const mb = m + vPlane;
    v128.store(mb, b0);
    if (vectors > 1) { v128.store(mb, b1, 16); v128.store(mb, b2, 32); v128.store(mb, b3, 48); }
  }
}

// out[o] (+)= Aᵀ·m·A per tile, Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]; with a mask (`maskDelta` ≠ 0,
// see store_output) only where the mask is positive.
function output_transform(m: usize, out: usize, cout: i32, hout: i32, wout: i32, accumulate: bool, maskDelta: usize): void {
  const tiles = <usize>((hout >> 1) * (wout >> 1));
  const xi = (tiles * <usize>cout) << 2;
  const rowBytes = <usize>wout << 2;
  for (let o = 0; o < cout; o++) {
    let mt = m + (tiles * <usize>o << 2);
    const plane = out + <usize>(o * hout) * rowBytes;
    for (let ty = 0; ty < (hout >> 1); ty++) {
      const q0 = plane + <usize>(2 * ty) * rowBytes;
      const q1 = q0 + rowBytes;
      for (let x: usize = 0; x < rowBytes; x += 32) {
        // Rows of m reduced along j: e_i = m_i0 + m_i1 + m_i2, f_i = m_i1 − m_i2 − m_i3.
        let p0 = v128.load(mt), p1 = v128.load(mt + xi), p2 = v128.load(mt + 2 * xi), p3 = v128.load(mt + 3 * xi);
        const e0 = f32x4.add(f32x4.add(p0, p1), p2), f0 = f32x4.sub(f32x4.sub(p1, p2), p3);
        p0 = v128.load(mt + 4 * xi); p1 = v128.load(mt + 5 * xi); p2 = v128.load(mt + 6 * xi); p3 = v128.load(mt + 7 * xi);
        const e1 = f32x4.add(f32x4.add(p0, p1), p2), f1 = f32x4.sub(f32x4.sub(p1, p2), p3);
        p0 = v128.load(mt + 8 * xi); p1 = v128.load(mt + 9 * xi); p2 = v128.load(mt + 10 * xi); p3 = v128.load(mt + 11 * xi);
        const e2 = f32x4.add(f32x4.add(p0, p1), p2), f2 = f32x4.sub(f32x4.sub(p1, p2), p3);
        p0 = v128.load(mt + 12 * xi); p1 = v128.load(mt + 13 * xi); p2 = v128.load(mt + 14 * xi); p3 = v128.load(mt + 15 * xi);
        const e3 = f32x4.add(f32x4.add(p0, p1), p2), f3 = f32x4.sub(f32x4.sub(p1, p2), p3);
        const y00 = f32x4.add(f32x4.add(e0, e1), e2), y01 = f32x4.add(f32x4.add(f0, f1), f2);
        const y10 = f32x4.sub(f32x4.sub(e1, e2), e3), y11 = f32x4.sub(f32x4.sub(f1, f2), f3);
        store_tile_row(q0 + x, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5), accumulate, maskDelta);
        store_tile_row(q0 + x + 16, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), accumulate, maskDelta);
        store_tile_row(q1 + x, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5), accumulate, maskDelta);
        store_tile_row(q1 + x + 16, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), accumulate, maskDelta);
        mt += 16;
      }
    }
  }
}

// store_output with an accumulating sum that did not start from `out`.
@inline function store_tile_row(q: usize, value: v128, accumulate: bool, maskDelta: usize): void {
  store_output(q, accumulate && maskDelta == 0 ? f32x4.add(value, v128.load(q)) : value, accumulate, maskDelta);
}

// One sample's correlation out[o] (+)= Σ_c w[o, c] ⋆ src[c] (src padded by one on every side),
// through the transformed weights `u` (winograd_weights) and `work` (winograd_workspace_floats).
export function winograd_correlate_sample(src: usize, u: usize, out: usize, cin: i32, cout: i32, hout: i32, wout: i32, work: usize, accumulate: bool, maskDelta: usize): void {
  const tiles = (hout >> 1) * (wout >> 1);
  const v = work;
  const m = work + (<usize>(16 * cin * tiles) << 2);
  input_transform(src, v, cin, hout, wout, <usize>tiles, 0);
  transformed_product(u, v, m, cin, cout, tiles);
  output_transform(m, out, cout, hout, wout, accumulate, maskDelta);
}

// The weight gradient of a conv that fits (winograd_fits(cin, cout, hout, wout, …)), from the
// gradient of the Winograd form: dL/dg = Gᵀ·(Σ_tiles (A·δ·Aᵀ) ⊙ (Bᵀ·d·B))·G, δ a 2×2 tile of the
// output gradient, d the 4×4 window of the padded input. The products of a group of samples
// (winograd_group_samples, so each sum spans at least 64 tiles) are summed in float32 lanes, then
// added to float64 totals[o][c][ξ]; winograd_store_weight_gradient turns those into dw.

export function winograd_group_samples(hout: i32, wout: i32): i32 {
  const tiles = (hout >> 1) * (wout >> 1);
  return tiles >= 64 ? 1 : (64 + tiles - 1) / tiles;
}

export function winograd_weight_workspace_floats(cin: i32, cout: i32, hout: i32, wout: i32): i32 {
  return winograd_group_samples(hout, wout) * 16 * (cin + cout) * ((hout >> 1) * (wout >> 1));
}

// Sample s of n: its transforms go to slot s mod group, and a full group (or the batch's last
// sample) is multiplied into `totals`.
export function winograd_gradient_sample(
  dout: usize, doutRow: usize, doutPlane: usize, padded: usize, work: usize, totals: usize, s: i32, n: i32, cin: i32, cout: i32, hout: i32, wout: i32,
): void {
  const group = winograd_group_samples(hout, wout);
  const slot = s % group;
  winograd_gradient_transforms(dout, doutRow, doutPlane, padded, work, slot, group, cin, cout, hout, wout);
  if (slot == group - 1 || s == n - 1) winograd_gradient_product(work, slot + 1, group, totals, cin, cout, hout, wout);
}

// Transforms of one sample into slot `slot` of the group workspace `work`: Bᵀ·d·B of its padded
// input `padded`, and A·δ·Aᵀ of its output gradient `dout` (rows `doutRow`, planes `doutPlane` bytes apart).
function winograd_gradient_transforms(
  dout: usize, doutRow: usize, doutPlane: usize, padded: usize, work: usize, slot: i32, group: i32, cin: i32, cout: i32, hout: i32, wout: i32,
): void {
  const tiles = (hout >> 1) * (wout >> 1);
  const row = <usize>(group * tiles);
  const first = <usize>(slot * tiles);
  input_transform(padded, work, cin, hout, wout, row, first);
  const d = work + ((16 * <usize>cin * row) << 2);
  const xi = (row * <usize>cout) << 2;
  for (let o = 0; o < cout; o++) {
    const plane = dout + <usize>o * doutPlane;
    let out = d + ((row * <usize>o + first) << 2);
    for (let ty = 0; ty < (hout >> 1); ty++) {
      const r0 = plane + <usize>(2 * ty) * doutRow, r1 = r0 + doutRow;
      for (let x: usize = 0; x < (<usize>wout << 2); x += 32) {
        // δ·Aᵀ per tile row i: (δ_i0, δ_i0 + δ_i1, δ_i0 − δ_i1, −δ_i1); then A down the rows:
        // ξ row 0 = row 0, 1 = row 0 + row 1, 2 = row 0 − row 1, 3 = −row 1.
        const a = v128.load(r0 + x), b = v128.load(r0 + x, 16), e = v128.load(r1 + x), f = v128.load(r1 + x, 16);
        const p0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), p1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        const q0 = v128.shuffle<f32>(e, f, 0, 2, 4, 6), q1 = v128.shuffle<f32>(e, f, 1, 3, 5, 7);
        const p2 = f32x4.add(p0, p1), p3 = f32x4.sub(p0, p1), q2 = f32x4.add(q0, q1), q3 = f32x4.sub(q0, q1);
        v128.store(out, p0); v128.store(out + xi, p2); v128.store(out + 2 * xi, p3); v128.store(out + 3 * xi, f32x4.neg(p1));
        v128.store(out + 4 * xi, f32x4.add(p0, q0)); v128.store(out + 5 * xi, f32x4.add(p2, q2));
        v128.store(out + 6 * xi, f32x4.add(p3, q3)); v128.store(out + 7 * xi, f32x4.neg(f32x4.add(p1, q1)));
        v128.store(out + 8 * xi, f32x4.sub(p0, q0)); v128.store(out + 9 * xi, f32x4.sub(p2, q2));
        v128.store(out + 10 * xi, f32x4.sub(p3, q3)); v128.store(out + 11 * xi, f32x4.sub(q1, p1));
        v128.store(out + 12 * xi, f32x4.neg(q0)); v128.store(out + 13 * xi, f32x4.neg(q2));
        v128.store(out + 14 * xi, f32x4.neg(q3)); v128.store(out + 15 * xi, q1);
        out += 16;
      }
    }
  }
}

// totals[o][c][ξ] += Σ over the first `filled` slots' tiles of (A·δ·Aᵀ)[ξ][o] · (Bᵀ·d·B)[ξ][c]:
// blocks of two output channels × three input channels of one ξ, so each loaded vector serves two
// or three sums, and the block's six sums and five loaded vectors fit x86's registers (two ξ at
// once held sixteen and spilled).
function winograd_gradient_product(work: usize, filled: i32, group: i32, totals: usize, cin: i32, cout: i32, hout: i32, wout: i32): void {
  const tiles = (hout >> 1) * (wout >> 1);
  const row = <usize>(group * tiles) << 2;
  const d = work + 16 * <usize>cin * row;
  const bytes = <usize>(filled * tiles) << 2;
  const vXi = <usize>cin * row, dXi = <usize>cout * row;
  const oStep = <usize>(cin << 4) << 3;
  let o = 0;
  while (o < cout) {
    const outs = o + 1 < cout ? 2 : 1;
    let c = 0;
    while (c < cin) {
      const ins = c + 2 < cin ? 3 : c + 1 < cin ? 2 : 1;
      for (let xi = 0; xi < 16; xi++) {
        const v = work + <usize>xi * vXi + <usize>c * row;
        const dd = d + <usize>xi * dXi + <usize>o * row;
        const t = totals + (<usize>(((o * cin + c) << 4) + xi) << 3);
        if (outs == 2) {
          if (ins == 3) gradient_product_block(v, dd, row, bytes, t, oStep, 2, 3);
          else if (ins == 2) gradient_product_block(v, dd, row, bytes, t, oStep, 2, 2);
          else gradient_product_block(v, dd, row, bytes, t, oStep, 2, 1);
        } else if (ins == 3) gradient_product_block(v, dd, row, bytes, t, oStep, 1, 3);
        else if (ins == 2) gradient_product_block(v, dd, row, bytes, t, oStep, 1, 2);
        else gradient_product_block(v, dd, row, bytes, t, oStep, 1, 1);
      }
      c += ins;
    }
    o += outs;
  }
}

// Sums for (o + a, c + b, ξ), a < outs, b < ins; outs and ins are constants at each inlined call.
@inline function gradient_product_block(v: usize, d: usize, row: usize, bytes: usize, totals: usize, oStep: usize, outs: i32, ins: i32): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, b0 = zero, b1 = zero, b2 = zero;
  for (let x: usize = 0; x < bytes; x += 16) {
    const d0 = v128.load(d + x), v0 = v128.load(v + x);
    a0 = madd(a0, d0, v0);
    if (outs > 1) {
      const e0 = v128.load(d + row + x);
      b0 = madd(b0, e0, v0);
      if (ins > 1) {
        const v1 = v128.load(v + row + x);
        a1 = madd(a1, d0, v1); b1 = madd(b1, e0, v1);
      }
      if (ins > 2) {
        const v2 = v128.load(v + 2 * row + x);
        a2 = madd(a2, d0, v2); b2 = madd(b2, e0, v2);
      }
    } else {
      if (ins > 1) a1 = madd(a1, d0, v128.load(v + row + x));
      if (ins > 2) a2 = madd(a2, d0, v128.load(v + 2 * row + x));
    }
  }
  // (c + b, ξ) of one output channel lies at totals + 128·b.
  add_lane_sums(totals, a0, a1, a2, ins);
  if (outs > 1) add_lane_sums(totals + oStep, b0, b1, b2, ins);
}

// Each sum's four lanes added as (l0 + l2) + (l1 + l3), then in float64 to its total (`count` of
// them, 128 bytes apart).
@inline function add_lane_sums(totals: usize, a0: v128, a1: v128, a2: v128, count: i32): void {
  const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 1, 4, 5), v128.shuffle<f32>(a0, a1, 2, 3, 6, 7));
  const s22 = f32x4.add(v128.shuffle<f32>(a2, a2, 0, 1, 4, 5), v128.shuffle<f32>(a2, a2, 2, 3, 6, 7));
  const sums = f32x4.add(v128.shuffle<f32>(s01, s22, 0, 2, 4, 6), v128.shuffle<f32>(s01, s22, 1, 3, 5, 7));
  store<f64>(totals, load<f64>(totals) + <f64>f32x4.extract_lane(sums, 0));
  if (count > 1) store<f64>(totals, load<f64>(totals, 128) + <f64>f32x4.extract_lane(sums, 1), 128);
  if (count > 2) store<f64>(totals, load<f64>(totals, 256) + <f64>f32x4.extract_lane(sums, 2), 256);
}

// dw[o][c] = Gᵀ·m·G for the sixteen float64 totals m of each (o, c) pair.
export function winograd_store_weight_gradient(totals: usize, dw: usize, pairs: i32): void {
  for (let p = 0; p < pairs; p++) {
    const m = totals + (<usize>p << 7);
    const out = dw + <usize>p * 36;
    for (let k = 0; k < 3; k++) {
      // Row k of Gᵀ·m: t_j = m_0j + ½(m_1j + m_2j), ½(m_1j − m_2j), ½(m_1j + m_2j) + m_3j.
      let t0 = 0.0, t1 = 0.0, t2 = 0.0, t3 = 0.0;
      for (let j = 0; j < 4; j++) {
        const m0 = load<f64>(m + (<usize>j << 3)), m1 = load<f64>(m + (<usize>(4 + j) << 3));
        const m2 = load<f64>(m + (<usize>(8 + j) << 3)), m3 = load<f64>(m + (<usize>(12 + j) << 3));
        const t = k == 0 ? m0 + 0.5 * (m1 + m2) : k == 1 ? 0.5 * (m1 - m2) : 0.5 * (m1 + m2) + m3;
        if (j == 0) t0 = t; else if (j == 1) t1 = t; else if (j == 2) t2 = t; else t3 = t;
      }
      const row = out + <usize>(k * 12);
      store<f32>(row, <f32>(t0 + 0.5 * (t1 + t2)));
      store<f32>(row + 4, <f32>(0.5 * (t1 - t2)));
      store<f32>(row + 8, <f32>(0.5 * (t1 + t2) + t3));
    }
  }
}

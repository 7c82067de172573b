import type { ConvLayer, TensorShape } from '../../graph/ir.js';

/**
 * Float64 kernels of the host executor (`executor.ts`), NCHW. Every kernel accumulates into its
 * output (`+=`), so the tangent rules of bilinear layers are sums of two calls of the same kernel.
 * The loops are written for V8: typed arrays, the innermost loop runs along a contiguous row with
 * its bounds worked out beforehand (no per-element branch), and no closure per element.
 */

export interface ConvGeometry {
  readonly batch: number;
  readonly input: TensorShape;
  readonly output: TensorShape;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
}

export function convGeometry(layer: ConvLayer, input: TensorShape, batch: number): ConvGeometry {
  const { kernel, stride, padding, dilation, groups } = layer;
  return { batch, input, output: layer.shape, kernel, stride, padding, dilation, groups };
}

/** Per tap k, the outputs o in [lo[k], hi[k]) whose input o·stride − padding + k·dilation is inside [0, size). */
function tapRanges(kernel: number, size: number, outSize: number, stride: number, padding: number, dilation: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(kernel);
  const hi = new Int32Array(kernel);
  for (let k = 0; k < kernel; k++) {
    const shift = padding - k * dilation;
    lo[k] = Math.max(0, Math.ceil(shift / stride));
    hi[k] = Math.max(lo[k], Math.min(outSize, Math.floor((size - 1 + shift) / stride) + 1));
  }
  return { lo, hi };
}

/**
 * The three products of a conv, y = W ∗ x: `forward` adds W ∗ x to y, `inputGradient` adds Wᵀ ∗ gy
 * to gx, `weightGradient` adds x ⋆ gy to gW. One loop nest serves all three: for each (n, co, ci,
 * ky, kx) it walks the output rows where the tap is inside the input.
 */
type ConvProduct = 'forward' | 'inputGradient' | 'weightGradient';

function convLoops(product: ConvProduct, g: ConvGeometry, x: Float64Array, w: Float64Array, y: Float64Array): void {
  const { batch, kernel: K, stride: S, padding: P, dilation: D, groups } = g;
  const { channels: Ci, height: Hi, width: Wi } = g.input;
  const { channels: Co, height: Ho, width: Wo } = g.output;
  const inPerGroup = Ci / groups;
  const outPerGroup = Co / groups;
  const planeIn = Hi * Wi;
  const planeOut = Ho * Wo;
  const rows = tapRanges(K, Hi, Ho, S, P, D);
  const cols = tapRanges(K, Wi, Wo, S, P, D);
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < Co; co++) {
      const group = (co / outPerGroup) | 0;
      const yPlane = (n * Co + co) * planeOut;
      for (let cig = 0; cig < inPerGroup; cig++) {
        const xPlane = (n * Ci + group * inPerGroup + cig) * planeIn;
        const wBase = (co * inPerGroup + cig) * K * K;
        for (let ky = 0; ky < K; ky++) {
          const oy0 = rows.lo[ky];
          const oy1 = rows.hi[ky];
          for (let kx = 0; kx < K; kx++) {
            const ox0 = cols.lo[kx];
            const ox1 = cols.hi[kx];
            if (ox0 >= ox1) continue;
            const wi = wBase + ky * K + kx;
            const wv = w[wi];
            let acc = 0;
            for (let oy = oy0; oy < oy1; oy++) {
              const yRow = yPlane + oy * Wo;
              const xRow = xPlane + (oy * S - P + ky * D) * Wi - P + kx * D;
              if (product === 'weightGradient') {
                if (S === 1) for (let ox = ox0; ox < ox1; ox++) acc += y[yRow + ox] * x[xRow + ox];
                else for (let ox = ox0; ox < ox1; ox++) acc += y[yRow + ox] * x[xRow + ox * S];
              } else if (product === 'forward') {
                if (wv === 0) break;
                if (S === 1) for (let ox = ox0; ox < ox1; ox++) y[yRow + ox] += wv * x[xRow + ox];
                else for (let ox = ox0; ox < ox1; ox++) y[yRow + ox] += wv * x[xRow + ox * S];
              } else {
                if (wv === 0) break;
                if (S === 1) for (let ox = ox0; ox < ox1; ox++) x[xRow + ox] += wv * y[yRow + ox];
                else for (let ox = ox0; ox < ox1; ox++) x[xRow + ox * S] += wv * y[yRow + ox];
              }
            }
            if (product === 'weightGradient') w[wi] += acc;
          }
        }
      }
    }
  }
}

/**
 * Stride-1 convs with taps inside the padding (every conv of the NB201 cells and most of DARTS's)
 * take a faster route: each input plane is copied once into a zero-padded plane of width
 * Wp = W + 2·padding, and the output is computed over rows of that width (the extra columns are
 * discarded). Every (input channel, tap) pair is then one fixed offset into the padded planes, so
 * the conv is a sum of shifted contiguous runs whose weights sit in registers, eight at a time.
 */
interface PaddedLayout {
  /** Padded row width, rows per padded plane (one spare row for the discarded columns' overreach). */
  readonly width: number;
  readonly plane: number;
  /** Output values per padded-width output plane. */
  readonly run: number;
  /** Offset of each (input channel of the group, ky, kx) tap into the padded planes. */
  readonly offsets: Int32Array;
}

function paddedLayout(inPerGroup: number, inWidth: number, outHeight: number, kernel: number, dilation: number, padding: number): PaddedLayout {
  const width = inWidth + 2 * padding;
  const plane = (outHeight + (kernel - 1) * dilation + 1) * width;
  const offsets = new Int32Array(inPerGroup * kernel * kernel);
  let t = 0;
  for (let c = 0; c < inPerGroup; c++) for (let ky = 0; ky < kernel; ky++) for (let kx = 0; kx < kernel; kx++) offsets[t++] = c * plane + ky * dilation * width + kx * dilation;
  return { width, plane, run: outHeight * width, offsets };
}

/** Copies `planes` planes of H × W starting at x[from] into `into`, each shifted by `padding` rows and columns. */
function padPlanes(x: Float64Array, from: number, planes: number, height: number, width: number, padding: number, layout: PaddedLayout, into: Float64Array): void {
  for (let p = 0; p < planes; p++) {
    for (let row = 0; row < height; row++) {
      const source = from + (p * height + row) * width;
      into.set(x.subarray(source, source + width), p * layout.plane + (row + padding) * layout.width + padding);
    }
  }
}

/** acc[i] += Σ_t w[wo + t]·xp[xo + offsets[t] + i] for i < run. */
function accumulateTaps(acc: Float64Array, xp: Float64Array, xo: number, run: number, w: Float64Array, wo: number, offsets: Int32Array): void {
  const taps = offsets.length;
  let t = 0;
  for (; t + 8 <= taps; t += 8) {
    const w0 = w[wo + t], w1 = w[wo + t + 1], w2 = w[wo + t + 2], w3 = w[wo + t + 3];
    const w4 = w[wo + t + 4], w5 = w[wo + t + 5], w6 = w[wo + t + 6], w7 = w[wo + t + 7];
    const o0 = xo + offsets[t], o1 = xo + offsets[t + 1], o2 = xo + offsets[t + 2], o3 = xo + offsets[t + 3];
    const o4 = xo + offsets[t + 4], o5 = xo + offsets[t + 5], o6 = xo + offsets[t + 6], o7 = xo + offsets[t + 7];
    for (let i = 0; i < run; i++) {
      acc[i] += w0 * xp[o0 + i] + w1 * xp[o1 + i] + w2 * xp[o2 + i] + w3 * xp[o3 + i] + w4 * xp[o4 + i] + w5 * xp[o5 + i] + w6 * xp[o6 + i] + w7 * xp[o7 + i];
    }
  }
  for (; t < taps; t++) {
    const wt = w[wo + t];
    const o = xo + offsets[t];
    for (let i = 0; i < run; i++) acc[i] += wt * xp[o + i];
  }
}

/** gw[wo + t] += Σ_i g[go + i]·xp[xo + offsets[t] + i] for i < run. */
function dotTaps(gw: Float64Array, wo: number, g: Float64Array, go: number, xp: Float64Array, xo: number, run: number, offsets: Int32Array): void {
  const taps = offsets.length;
  let t = 0;
  for (; t + 8 <= taps; t += 8) {
    const o0 = xo + offsets[t], o1 = xo + offsets[t + 1], o2 = xo + offsets[t + 2], o3 = xo + offsets[t + 3];
    const o4 = xo + offsets[t + 4], o5 = xo + offsets[t + 5], o6 = xo + offsets[t + 6], o7 = xo + offsets[t + 7];
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    for (let i = 0; i < run; i++) {
      const v = g[go + i];
      a0 += v * xp[o0 + i];
      a1 += v * xp[o1 + i];
      a2 += v * xp[o2 + i];
      a3 += v * xp[o3 + i];
      a4 += v * xp[o4 + i];
      a5 += v * xp[o5 + i];
      a6 += v * xp[o6 + i];
      a7 += v * xp[o7 + i];
    }
    gw[wo + t] += a0;
    gw[wo + t + 1] += a1;
    gw[wo + t + 2] += a2;
    gw[wo + t + 3] += a3;
    gw[wo + t + 4] += a4;
    gw[wo + t + 5] += a5;
    gw[wo + t + 6] += a6;
    gw[wo + t + 7] += a7;
  }
  for (; t < taps; t++) {
    const o = xo + offsets[t];
    let a = 0;
    for (let i = 0; i < run; i++) a += g[go + i] * xp[o + i];
    gw[wo + t] += a;
  }
}

/** Whether a conv takes the padded stride-1 route, for its forward and (padding (K−1)·D − P) its input gradient. */
function isPaddedStride1(g: ConvGeometry): boolean {
  const reach = (g.kernel - 1) * g.dilation;
  return g.stride === 1 && g.padding >= 0 && reach - g.padding >= 0 && g.output.height === g.input.height + 2 * g.padding - reach && g.output.width === g.input.width + 2 * g.padding - reach;
}

/** y += W ∗ x over the padded layout (stride 1). */
function paddedForward(g: ConvGeometry, x: Float64Array, w: Float64Array, y: Float64Array): void {
  const { batch, kernel, dilation, padding, groups } = g;
  const { channels: Ci, height: Hi, width: Wi } = g.input;
  const { channels: Co, height: Ho, width: Wo } = g.output;
  const inPerGroup = Ci / groups;
  const outPerGroup = Co / groups;
  const layout = paddedLayout(inPerGroup, Wi, Ho, kernel, dilation, padding);
  const { width, plane, run, offsets } = layout;
  const xp = new Float64Array(Ci * plane);
  const acc = new Float64Array(run);
  for (let n = 0; n < batch; n++) {
    padPlanes(x, n * Ci * Hi * Wi, Ci, Hi, Wi, padding, layout, xp);
    for (let co = 0; co < Co; co++) {
      acc.fill(0);
      accumulateTaps(acc, xp, ((co / outPerGroup) | 0) * inPerGroup * plane, run, w, co * offsets.length, offsets);
      const yPlane = (n * Co + co) * Ho * Wo;
      for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) y[yPlane + oy * Wo + ox] += acc[oy * width + ox];
    }
  }
}

/** y += W ∗ x. */
export function convForward(g: ConvGeometry, x: Float64Array, w: Float64Array, y: Float64Array): void {
  if (isPaddedStride1(g)) paddedForward(g, x, w, y);
  else convLoops('forward', g, x, w, y);
}

/** gx += Wᵀ ∗ gy: for stride 1, the forward conv of gy with the flipped, transposed kernel. */
export function convInputGradient(g: ConvGeometry, gy: Float64Array, w: Float64Array, gx: Float64Array): void {
  if (!isPaddedStride1(g)) {
    convLoops('inputGradient', g, gx, w, gy);
    return;
  }
  const { kernel: K, groups } = g;
  const inPerGroup = g.input.channels / groups;
  const outPerGroup = g.output.channels / groups;
  const taps = K * K;
  const flipped = new Float64Array(w.length);
  for (let co = 0; co < g.output.channels; co++) {
    const group = (co / outPerGroup) | 0;
    for (let cig = 0; cig < inPerGroup; cig++) {
      const ci = group * inPerGroup + cig;
      const from = (co * inPerGroup + cig) * taps;
      const to = (ci * outPerGroup + (co - group * outPerGroup)) * taps;
      for (let t = 0; t < taps; t++) flipped[to + t] = w[from + taps - 1 - t];
    }
  }
  const transposed: ConvGeometry = { ...g, input: g.output, output: g.input, padding: (K - 1) * g.dilation - g.padding };
  paddedForward(transposed, gy, flipped, gx);
}

/** gW += x ⋆ gy (summed over the batch). */
export function convWeightGradient(g: ConvGeometry, x: Float64Array, gy: Float64Array, gw: Float64Array): void {
  if (!isPaddedStride1(g)) {
    convLoops('weightGradient', g, x, gw, gy);
    return;
  }
  const { batch, kernel, dilation, padding, groups } = g;
  const { channels: Ci, height: Hi, width: Wi } = g.input;
  const { channels: Co, height: Ho, width: Wo } = g.output;
  const inPerGroup = Ci / groups;
  const outPerGroup = Co / groups;
  const layout = paddedLayout(inPerGroup, Wi, Ho, kernel, dilation, padding);
  const { width, plane, run, offsets } = layout;
  const xp = new Float64Array(Ci * plane);
  // gy over rows of the padded width, zero in the discarded columns.
  const gyWide = new Float64Array(Co * run);
  for (let n = 0; n < batch; n++) {
    padPlanes(x, n * Ci * Hi * Wi, Ci, Hi, Wi, padding, layout, xp);
    for (let co = 0; co < Co; co++) {
      for (let oy = 0; oy < Ho; oy++) {
        const from = ((n * Co + co) * Ho + oy) * Wo;
        gyWide.set(gy.subarray(from, from + Wo), co * run + oy * width);
      }
    }
    for (let co = 0; co < Co; co++) dotTaps(gw, co * offsets.length, gyWide, co * run, xp, ((co / outPerGroup) | 0) * inPerGroup * plane, run, offsets);
  }
}

/** y[n, o] += Σ_i W[o, i]·x[n, i]. */
export function linearForward(batch: number, inFeatures: number, outFeatures: number, x: Float64Array, w: Float64Array, y: Float64Array): void {
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outFeatures; o++) {
      let acc = 0;
      const wRow = o * inFeatures;
      const xRow = n * inFeatures;
      for (let i = 0; i < inFeatures; i++) acc += w[wRow + i] * x[xRow + i];
      y[n * outFeatures + o] += acc;
    }
  }
}

/** gx[n, i] += Σ_o W[o, i]·gy[n, o]. */
export function linearInputGradient(batch: number, inFeatures: number, outFeatures: number, gy: Float64Array, w: Float64Array, gx: Float64Array): void {
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outFeatures; o++) {
      const gv = gy[n * outFeatures + o];
      const wRow = o * inFeatures;
      const xRow = n * inFeatures;
      for (let i = 0; i < inFeatures; i++) gx[xRow + i] += gv * w[wRow + i];
    }
  }
}

/** gW[o, i] += Σ_n gy[n, o]·x[n, i]. */
export function linearWeightGradient(batch: number, inFeatures: number, outFeatures: number, x: Float64Array, gy: Float64Array, gw: Float64Array): void {
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outFeatures; o++) {
      const gv = gy[n * outFeatures + o];
      const wRow = o * inFeatures;
      const xRow = n * inFeatures;
      for (let i = 0; i < inFeatures; i++) gw[wRow + i] += gv * x[xRow + i];
    }
  }
}

export interface PoolGeometry {
  readonly planes: number;
  readonly input: TensorShape;
  readonly output: TensorShape;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
}

/**
 * Average pooling without the padding in the count (`count_include_pad=False`): y += pool(x), or
 * with `transpose`, x += poolᵀ(y) (its gradient).
 */
export function avgPool(g: PoolGeometry, x: Float64Array, y: Float64Array, transpose: boolean): void {
  const { planes, kernel: K, stride: S, padding: P } = g;
  const { height: Hi, width: Wi } = g.input;
  const { height: Ho, width: Wo } = g.output;
  for (let p = 0; p < planes; p++) {
    const xPlane = p * Hi * Wi;
    const yPlane = p * Ho * Wo;
    for (let oy = 0; oy < Ho; oy++) {
      const iy0 = Math.max(0, oy * S - P);
      const iy1 = Math.min(Hi, oy * S - P + K);
      for (let ox = 0; ox < Wo; ox++) {
        const ix0 = Math.max(0, ox * S - P);
        const ix1 = Math.min(Wi, ox * S - P + K);
        const scale = 1 / ((iy1 - iy0) * (ix1 - ix0));
        const yi = yPlane + oy * Wo + ox;
        if (transpose) {
          const share = y[yi] * scale;
          for (let iy = iy0; iy < iy1; iy++) for (let ix = ix0; ix < ix1; ix++) x[xPlane + iy * Wi + ix] += share;
        } else {
          let acc = 0;
          for (let iy = iy0; iy < iy1; iy++) for (let ix = ix0; ix < ix1; ix++) acc += x[xPlane + iy * Wi + ix];
          y[yi] += acc * scale;
        }
      }
    }
  }
}

/** Max pooling (padding never wins): y = max, and the index in x of each output's maximum (first on ties). */
export function maxPool(g: PoolGeometry, x: Float64Array, y: Float64Array, argmax: Int32Array): void {
  const { planes, kernel: K, stride: S, padding: P } = g;
  const { height: Hi, width: Wi } = g.input;
  const { height: Ho, width: Wo } = g.output;
  for (let p = 0; p < planes; p++) {
    const xPlane = p * Hi * Wi;
    const yPlane = p * Ho * Wo;
    for (let oy = 0; oy < Ho; oy++) {
      const iy0 = Math.max(0, oy * S - P);
      const iy1 = Math.min(Hi, oy * S - P + K);
      for (let ox = 0; ox < Wo; ox++) {
        const ix0 = Math.max(0, ox * S - P);
        const ix1 = Math.min(Wi, ox * S - P + K);
        let best = -Infinity;
        let at = xPlane + iy0 * Wi + ix0;
        for (let iy = iy0; iy < iy1; iy++) {
          for (let ix = ix0; ix < ix1; ix++) {
            const v = x[xPlane + iy * Wi + ix];
            if (v > best) {
              best = v;
              at = xPlane + iy * Wi + ix;
            }
          }
        }
        y[yPlane + oy * Wo + ox] = best;
        argmax[yPlane + oy * Wo + ox] = at;
      }
    }
  }
}

/** y[i] += x[index[i]] (`scatter`: x[index[i]] += y[i]), the linear map a max pooling applies at its maxima. */
export function gatherAt(index: Int32Array, x: Float64Array, y: Float64Array, scatter: boolean): void {
  if (scatter) for (let i = 0; i < index.length; i++) x[index[i]] += y[i];
  else for (let i = 0; i < index.length; i++) y[i] += x[index[i]];
}

/** y += scale·x. */
export function axpy(scale: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += scale * x[i];
}

/** y += x where gate > 0 (ReLU's Jacobian, gated by its output). */
export function gated(gate: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) if (gate[i] > 0) y[i] += x[i];
}

export const BATCH_NORM_EPS = 1e-5;

/** The layout of a BN input: `batch` samples of `channels` planes of `plane` values. */
export interface NormGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly plane: number;
}

/** Training-mode BatchNorm (batch mean, biased variance): y = γ·x̂ + β; keeps x̂ and 1/σ per channel. */
export function batchNormForward(g: NormGeometry, x: Float64Array, gamma: Float64Array, beta: Float64Array, y: Float64Array, xhat: Float64Array, invStd: Float64Array): void {
  const { batch, channels: C, plane } = g;
  const count = batch * plane;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < batch; n++) for (let i = (n * C + c) * plane, end = i + plane; i < end; i++) sum += x[i];
    const mean = sum / count;
    let squares = 0;
    for (let n = 0; n < batch; n++) {
      for (let i = (n * C + c) * plane, end = i + plane; i < end; i++) {
        const d = x[i] - mean;
        squares += d * d;
      }
    }
    const s = 1 / Math.sqrt(squares / count + BATCH_NORM_EPS);
    invStd[c] = s;
    const gc = gamma[c];
    const bc = beta[c];
    for (let n = 0; n < batch; n++) {
      for (let i = (n * C + c) * plane, end = i + plane; i < end; i++) {
        const h = (x[i] - mean) * s;
        xhat[i] = h;
        y[i] = gc * h + bc;
      }
    }
  }
}

/** Per channel c: the means over the batch and the plane of u and of u·x̂. */
function channelMeans(g: NormGeometry, c: number, u: Float64Array, xhat: Float64Array): [number, number] {
  const { batch, channels: C, plane } = g;
  let m1 = 0;
  let m2 = 0;
  for (let n = 0; n < batch; n++) {
    for (let i = (n * C + c) * plane, end = i + plane; i < end; i++) {
      m1 += u[i];
      m2 += u[i] * xhat[i];
    }
  }
  const count = batch * plane;
  return [m1 / count, m2 / count];
}

/**
 * out += s·(u − mean(u) − x̂·mean(u·x̂)) per channel: the Jacobian of x ↦ x̂ applied to u, which is
 * both the tangent of x̂ (u = ẋ) and the input gradient (u = γ·gy).
 */
export function normalisedJacobian(g: NormGeometry, u: Float64Array, xhat: Float64Array, invStd: Float64Array, out: Float64Array, gamma?: Float64Array): void {
  const { batch, channels: C, plane } = g;
  for (let c = 0; c < C; c++) {
    const scale = gamma ? gamma[c] : 1;
    const [m1, m2] = channelMeans(g, c, u, xhat);
    const s = invStd[c] * scale;
    for (let n = 0; n < batch; n++) for (let i = (n * C + c) * plane, end = i + plane; i < end; i++) out[i] += s * (u[i] - m1 - xhat[i] * m2);
  }
}

/** d(1/σ) per channel along ẋ: −(1/σ)²·mean(x̂·ẋ). */
export function invStdTangent(g: NormGeometry, xDot: Float64Array, xhat: Float64Array, invStd: Float64Array): Float64Array {
  const out = new Float64Array(g.channels);
  for (let c = 0; c < g.channels; c++) out[c] = -invStd[c] * invStd[c] * channelMeans(g, c, xDot, xhat)[1];
  return out;
}

/**
 * The tangent of BN's input gradient gx = s·(a − mean(a) − x̂·mean(a·x̂)), a = γ·gy, along (ẋ, γ̇,
 * ġy): ġx += ṡ·(a − m₁ − x̂·m₂) + s·(ȧ − ṁ₁ − x̂̇·m₂ − x̂·ṁ₂) with ȧ = γ·ġy + γ̇·gy,
 * ṁ₁ = mean(ȧ), ṁ₂ = mean(ȧ·x̂ + a·x̂̇). Absent tangents are zero.
 */
export function batchNormInputGradientTangent(
  g: NormGeometry,
  state: { xhat: Float64Array; invStd: Float64Array; gamma: Float64Array },
  tangent: { xhatDot?: Float64Array; invStdDot?: Float64Array; gammaDot?: Float64Array },
  gy: Float64Array,
  gyDot: Float64Array | undefined,
  out: Float64Array,
): void {
  const { batch, channels: C, plane } = g;
  const { xhat, invStd, gamma } = state;
  const { xhatDot, invStdDot, gammaDot } = tangent;
  const count = batch * plane;
  for (let c = 0; c < C; c++) {
    const gc = gamma[c];
    const gcDot = gammaDot ? gammaDot[c] : 0;
    let m1 = 0;
    let m2 = 0;
    let m1Dot = 0;
    let m2Dot = 0;
    for (let n = 0; n < batch; n++) {
      for (let i = (n * C + c) * plane, end = i + plane; i < end; i++) {
        const a = gc * gy[i];
        const aDot = (gyDot ? gc * gyDot[i] : 0) + gcDot * gy[i];
        m1 += a;
        m2 += a * xhat[i];
        m1Dot += aDot;
        m2Dot += aDot * xhat[i] + (xhatDot ? a * xhatDot[i] : 0);
      }
    }
    m1 /= count;
    m2 /= count;
    m1Dot /= count;
    m2Dot /= count;
    const s = invStd[c];
    const sDot = invStdDot ? invStdDot[c] : 0;
    for (let n = 0; n < batch; n++) {
      for (let i = (n * C + c) * plane, end = i + plane; i < end; i++) {
        const a = gc * gy[i];
        const aDot = (gyDot ? gc * gyDot[i] : 0) + gcDot * gy[i];
        const h = xhat[i];
        const hDot = xhatDot ? xhatDot[i] : 0;
        out[i] += sDot * (a - m1 - h * m2) + s * (aDot - m1Dot - hDot * m2 - h * m2Dot);
      }
    }
  }
}

/** Per channel: dγ += Σ u·v, dβ += Σ u (with v = x̂ these are BN's parameter gradients for u = gy). */
export function channelSums(g: NormGeometry, u: Float64Array, v: Float64Array, weighted: Float64Array, plain?: Float64Array): void {
  const { batch, channels: C, plane } = g;
  for (let c = 0; c < C; c++) {
    let sw = 0;
    let sp = 0;
    for (let n = 0; n < batch; n++) {
      for (let i = (n * C + c) * plane, end = i + plane; i < end; i++) {
        sw += u[i] * v[i];
        sp += u[i];
      }
    }
    weighted[c] += sw;
    if (plain) plain[c] += sp;
  }
}

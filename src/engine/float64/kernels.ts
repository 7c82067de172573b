import type { TensorShape } from '../../graph/ir.js';

/**
 * Float64 kernels of the host executor (`executor.ts`) besides its convs (`conv.ts`), NCHW. Every
 * kernel accumulates into its output (`+=`), so the tangent rules of linear and bilinear layers are
 * sums of calls of the same kernel.
 * The loops are written for V8: typed arrays, the innermost loop runs along a contiguous row with
 * its bounds worked out beforehand (no per-element branch), and no closure per element.
 */

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
 * Calls `visit` for every output of every plane with the flat indices of the output (`yi`) and of
 * its plane's first input (`xPlane`), and its input window clipped to the input: rows iy0..iy1 − 1,
 * columns ix0..ix1 − 1. The windows are computed once per call.
 */
function forEachWindow(g: PoolGeometry, visit: (yi: number, xPlane: number, iy0: number, iy1: number, ix0: number, ix1: number) => void): void {
  const { kernel: K, stride: S, padding: P } = g;
  const { height: Hi, width: Wi } = g.input;
  const { height: Ho, width: Wo } = g.output;
  const windows = new Int32Array(4 * Ho * Wo);
  for (let oy = 0; oy < Ho; oy++) {
    for (let ox = 0; ox < Wo; ox++) {
      const at = 4 * (oy * Wo + ox);
      windows[at] = Math.max(0, oy * S - P);
      windows[at + 1] = Math.min(Hi, oy * S - P + K);
      windows[at + 2] = Math.max(0, ox * S - P);
      windows[at + 3] = Math.min(Wi, ox * S - P + K);
    }
  }
  const outPlane = Ho * Wo;
  for (let p = 0; p < g.planes; p++) {
    for (let o = 0; o < outPlane; o++) visit(p * outPlane + o, p * Hi * Wi, windows[4 * o], windows[4 * o + 1], windows[4 * o + 2], windows[4 * o + 3]);
  }
}

/**
 * Average pooling without the padding in the count (`count_include_pad=False`): y += pool(x), or
 * with `transpose`, x += poolᵀ(y) (its gradient).
 */
export function avgPool(g: PoolGeometry, x: Float64Array, y: Float64Array, transpose: boolean): void {
  const Wi = g.input.width;
  forEachWindow(g, (yi, xPlane, iy0, iy1, ix0, ix1) => {
    const scale = 1 / ((iy1 - iy0) * (ix1 - ix0));
    if (transpose) {
      const share = y[yi] * scale;
      for (let iy = iy0; iy < iy1; iy++) for (let ix = ix0; ix < ix1; ix++) x[xPlane + iy * Wi + ix] += share;
    } else {
      let acc = 0;
      for (let iy = iy0; iy < iy1; iy++) for (let ix = ix0; ix < ix1; ix++) acc += x[xPlane + iy * Wi + ix];
      y[yi] += acc * scale;
    }
  });
}

/** Max pooling (padding never wins): y = max, and the index in x of each output's maximum (first on ties). */
export function maxPool(g: PoolGeometry, x: Float64Array, y: Float64Array, argmax: Int32Array): void {
  const Wi = g.input.width;
  forEachWindow(g, (yi, xPlane, iy0, iy1, ix0, ix1) => {
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
    y[yi] = best;
    argmax[yi] = at;
  });
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

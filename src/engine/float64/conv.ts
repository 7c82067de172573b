import type { ConvLayer, TensorShape } from '../../graph/ir.js';
import type { WasmKernels } from '../wasm/module.js';

/**
 * The float64 executor's convolutions, NCHW, accumulating into their outputs. Each sample's input
 * planes are first copied into a zero-padded, polyphase layout: padded coordinates (r, c) =
 * (iy + padding, ix + padding) go to phase (r mod S, c mod S) at (⌊r/S⌋, ⌊c/S⌋), S the stride.
 * In that layout every (input channel, ky, kx) tap of an output row is one contiguous run at a fixed
 * offset, whatever the stride, dilation, padding (negative too: FactorizedReduce's shifted taps)
 * or groups, and the outputs are computed over rows of the phase width (the extra columns are
 * discarded). The WebAssembly kernels of `assembly/conv64.ts` stream those runs with f64x2 SIMD.
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

interface PhaseLayout {
  /** Width and rows of one phase plane (one spare row for the discarded columns' overreach). */
  readonly width: number;
  readonly phasePlane: number;
  /** Values per input channel: stride² phase planes. */
  readonly plane: number;
  /** Padded rows and columns that taps can reach. */
  readonly reachRows: number;
  readonly reachCols: number;
  /** Output values per output plane in the phase width. */
  readonly run: number;
  /** Offset of each (input channel of the group, ky, kx) tap. */
  readonly offsets: Int32Array;
}

function phaseLayout(g: ConvGeometry): PhaseLayout {
  const { kernel: K, stride: S, dilation: D } = g;
  const { height: Ho, width: Wo } = g.output;
  const reach = (K - 1) * D;
  const reachRows = (Ho - 1) * S + reach + 1;
  const reachCols = (Wo - 1) * S + reach + 1;
  const width = Math.ceil(reachCols / S);
  const phasePlane = (Ho + Math.floor(reach / S) + 1) * width;
  const plane = S * S * phasePlane;
  const inPerGroup = g.input.channels / g.groups;
  const offsets = new Int32Array(inPerGroup * K * K);
  let t = 0;
  for (let c = 0; c < inPerGroup; c++) {
    for (let ky = 0; ky < K; ky++) {
      for (let kx = 0; kx < K; kx++) {
        const [ry, rx] = [ky * D, kx * D];
        offsets[t++] = c * plane + ((ry % S) * S + (rx % S)) * phasePlane + Math.floor(ry / S) * width + Math.floor(rx / S);
      }
    }
  }
  return { width, phasePlane, plane, reachRows, reachCols, run: Ho * width, offsets };
}

/**
 * Moves one sample's input planes between NCHW (x from `from`) and the phase layout: `into` the
 * layout (`gather`), or the layout's values added back onto x (`scatter`, for the input gradient).
 * Positions outside the input stay zero in the layout.
 */
function phaseCopy(g: ConvGeometry, layout: PhaseLayout, x: Float64Array, from: number, phases: Float64Array, scatter: boolean): void {
  const { channels: C, height: H, width: W } = g.input;
  const { stride: S, padding: P } = g;
  const { width, phasePlane, plane, reachRows, reachCols } = layout;
  const ix0 = Math.max(0, -P);
  const ix1 = Math.min(W, reachCols - P);
  for (let c = 0; c < C; c++) {
    for (let iy = Math.max(0, -P); iy < Math.min(H, reachRows - P); iy++) {
      const r = iy + P;
      const rowBase = c * plane + (r % S) * S * phasePlane + Math.floor(r / S) * width;
      const source = from + (c * H + iy) * W;
      if (S === 1) {
        const target = rowBase + P;
        if (scatter) for (let ix = ix0; ix < ix1; ix++) x[source + ix] += phases[target + ix];
        else phases.set(x.subarray(source + ix0, source + ix1), target + ix0);
      } else {
        for (let ix = ix0; ix < ix1; ix++) {
          const col = ix + P;
          const at = rowBase + (col % S) * phasePlane + Math.floor(col / S);
          if (scatter) x[source + ix] += phases[at];
          else phases[at] = x[source + ix];
        }
      }
    }
  }
}

/** Buffers of one conv call in the kernels' memory, released by `done`. */
function workspace(wasm: WasmKernels, sizes: { f64: number[]; offsets: Int32Array }) {
  const mark = wasm.mark();
  const pointers = sizes.f64.map((length) => wasm.alloc(length * 8));
  const offsetsAt = wasm.alloc(sizes.offsets.length * 4);
  new Int32Array(wasm.exports.memory.buffer, offsetsAt, sizes.offsets.length).set(sizes.offsets);
  const views = pointers.map((pointer, k) => wasm.f64(pointer, sizes.f64[k]).fill(0));
  return { pointers, views, offsetsAt, done: () => wasm.release(mark) };
}

/** Copies output plane rows between NCHW (from sample n) and the phase width (`wide`). */
function outputRows(g: ConvGeometry, layout: PhaseLayout, n: number, y: Float64Array, wide: Float64Array, toNchw: boolean): void {
  const { channels: Co, height: Ho, width: Wo } = g.output;
  for (let co = 0; co < Co; co++) {
    for (let oy = 0; oy < Ho; oy++) {
      const nchw = ((n * Co + co) * Ho + oy) * Wo;
      const phase = co * layout.run + oy * layout.width;
      if (toNchw) for (let ox = 0; ox < Wo; ox++) y[nchw + ox] += wide[phase + ox];
      else wide.set(y.subarray(nchw, nchw + Wo), phase);
    }
  }
}

const groupStride = (g: ConvGeometry, layout: PhaseLayout) => (g.input.channels / g.groups) * layout.plane;

/** y += W ∗ x. */
export function convForward(wasm: WasmKernels, g: ConvGeometry, x: Float64Array, w: Float64Array, y: Float64Array): void {
  const layout = phaseLayout(g);
  const { channels: Ci, height: Hi, width: Wi } = g.input;
  const Co = g.output.channels;
  const space = workspace(wasm, { f64: [Ci * layout.plane, w.length, Co * layout.run], offsets: layout.offsets });
  const [phasesAt, wAt, accAt] = space.pointers;
  const [phases, weights, acc] = space.views;
  weights.set(w);
  for (let n = 0; n < g.batch; n++) {
    phaseCopy(g, layout, x, n * Ci * Hi * Wi, phases, false);
    wasm.exports.f64_conv_padded(accAt, phasesAt, wAt, space.offsetsAt, layout.offsets.length, layout.run, Co, Co / g.groups, groupStride(g, layout));
    outputRows(g, layout, n, y, acc, true);
  }
  space.done();
}

/** gW += x ⋆ gy (summed over the batch). */
export function convWeightGradient(wasm: WasmKernels, g: ConvGeometry, x: Float64Array, gy: Float64Array, gw: Float64Array): void {
  const layout = phaseLayout(g);
  const { channels: Ci, height: Hi, width: Wi } = g.input;
  const Co = g.output.channels;
  // gy in the phase width stays zero in the discarded columns.
  const space = workspace(wasm, { f64: [Ci * layout.plane, Co * layout.run, gw.length], offsets: layout.offsets });
  const [phasesAt, gyAt, gwAt] = space.pointers;
  const [phases, gyWide, sums] = space.views;
  for (let n = 0; n < g.batch; n++) {
    phaseCopy(g, layout, x, n * Ci * Hi * Wi, phases, false);
    outputRows(g, layout, n, gy, gyWide, false);
    wasm.exports.f64_conv_padded_weight_gradient(gwAt, gyAt, phasesAt, space.offsetsAt, layout.offsets.length, layout.run, Co, Co / g.groups, groupStride(g, layout));
  }
  for (let i = 0; i < gw.length; i++) gw[i] += sums[i];
  space.done();
}

/**
 * gx += Wᵀ ∗ gy. A stride-1 conv whose output covers its whole padded input is the forward conv of
 * gy with the flipped, transposed kernel (padding (K−1)·D − P); any other conv scatters each tap's
 * run back into the phase layout.
 */
export function convInputGradient(wasm: WasmKernels, g: ConvGeometry, gy: Float64Array, w: Float64Array, gx: Float64Array): void {
  const { kernel: K, dilation: D, padding: P, groups } = g;
  const reach = (K - 1) * D;
  if (g.stride === 1 && g.output.height === g.input.height + 2 * P - reach && g.output.width === g.input.width + 2 * P - reach) {
    const inPerGroup = g.input.channels / groups;
    const outPerGroup = g.output.channels / groups;
    const taps = K * K;
    const flipped = new Float64Array(w.length);
    for (let co = 0; co < g.output.channels; co++) {
      const group = (co / outPerGroup) | 0;
      for (let cig = 0; cig < inPerGroup; cig++) {
        const from = (co * inPerGroup + cig) * taps;
        const to = ((group * inPerGroup + cig) * outPerGroup + (co - group * outPerGroup)) * taps;
        for (let t = 0; t < taps; t++) flipped[to + t] = w[from + taps - 1 - t];
      }
    }
    convForward(wasm, { ...g, input: g.output, output: g.input, padding: reach - P }, gy, flipped, gx);
    return;
  }
  const layout = phaseLayout(g);
  const { channels: Ci, height: Hi, width: Wi } = g.input;
  const Co = g.output.channels;
  const space = workspace(wasm, { f64: [Ci * layout.plane, w.length, Co * layout.run], offsets: layout.offsets });
  const [phasesAt, wAt, gyAt] = space.pointers;
  const [phases, weights, gyWide] = space.views;
  weights.set(w);
  for (let n = 0; n < g.batch; n++) {
    phases.fill(0);
    outputRows(g, layout, n, gy, gyWide, false);
    wasm.exports.f64_conv_padded_transpose(phasesAt, gyAt, wAt, space.offsetsAt, layout.offsets.length, layout.run, Co, Co / g.groups, groupStride(g, layout));
    phaseCopy(g, layout, gx, n * Ci * Hi * Wi, phases, true);
  }
  space.done();
}

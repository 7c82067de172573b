import { tensorSize, type Layer, type LayerId, type LayerKind, type LayerOf } from '../../graph/ir.js';
import type { BackwardStep, WasmNetworkExecution } from './executor.js';
import { CONV_THROUGH_BN, POOL_BACKWARD } from './records.js';

/** How one layer kind runs on the WebAssembly kernels. */
interface WasmLayer<L extends Layer> {
  forward(run: WasmNetworkExecution, layer: L, id: LayerId): void;
  /** Writes the input gradients the flow asks for and the layer's weight gradients (into the cotangent's row). */
  backward(run: WasmNetworkExecution, layer: L, id: LayerId, step: BackwardStep): void;
}

const nothing = () => {};

/** Which kernels run a layer kind, forward and backward: one entry per kind (a missing kind does not compile). */
export const WASM_LAYERS: { readonly [K in LayerKind]: WasmLayer<LayerOf<K>> } = {
  input: { forward: nothing, backward: nothing },

  conv: {
    forward(run, layer, id) {
      const k = run.k;
      const { channels, height, width } = layer.shape;
      const inShape = run.network.layers[layer.input].shape;
      const input = run.buffers[layer.input].output;
      const out = run.buffers[id].output;
      const w = run.weightPointers[layer.weight];
      const path = run.buffers[id].convPath;
      if (path !== 'generic') {
        const kernel = path === 'stride1' ? k.conv_forward_fast : k.conv_forward_stride2;
        kernel(input, out, w, run.buffers[id].padded, run.batch, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.padding, layer.dilation, layer.groups);
      } else {
        k.conv_forward_generic(input, out, w, run.buffers[id].packedWeights, run.batch, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups);
      }
    },
    backward(run, layer, id, step) {
      const { dy, accumulate, wants, weightGradient, plan } = step;
      const k = run.k;
      const n = run.batch;
      const { channels, height, width } = layer.shape;
      const inShape = run.network.layers[layer.input].shape;
      const input = run.buffers[layer.input];
      const b = run.buffers[id];
      const dw = weightGradient(layer.weight);
      if (b.convPath === 'stride1') {
        if (plan.partnered.has(id)) return; // it ran beside a higher conv (BackwardPlan.convPartner)
        const into = foldedInputGradient(run, id, step);
        const { din, add, mask } = into;
        if (plan.convThroughBn.has(id)) {
          const partner = plan.convPartner.get(id);
          // Both fold a ReLU of the same input, so the first's output masks the second too.
          const second = partner === undefined ? 0 : writeConvThroughBn(run, partner, step, { ...foldedInputGradient(run, partner, step), mask }, run.partnerScratch, run.partnerTotals);
          const pool = plan.poolBeside.get(id);
          const poolRecord = pool === undefined ? 0 : writePoolBackward(run, pool, step);
          if (dw || din || second || poolRecord) k.conv_backward_through_bn(writeConvThroughBn(run, id, step, into, run.scratch, run.weightTotals), second, poolRecord, n);
          return;
        }
        if (dw) k.conv_backward_weight_fast(dy, b.padded, dw, n, inShape.channels, channels, height, width, layer.kernel, layer.dilation, layer.groups, run.weightTotals, run.scratch);
        if (din) k.conv_backward_input_fast(dy, din, b.transposedWeights, run.scratch, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.padding, layer.dilation, layer.groups, add, mask, b.winogradWeights);
      } else if (b.convPath === 'stride2') {
        if (dw) k.conv_backward_weight_stride2(dy, b.padded, dw, n, inShape.channels, channels, height, width, layer.kernel, layer.dilation, layer.groups, run.weightTotals);
        if (wants(layer.input)) {
          k.conv_backward_input_stride2(dy, input.gradient, run.weightPointers[layer.weight], run.scratch, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.padding, layer.dilation, layer.groups, accumulate(layer.input));
        }
      } else {
        const w = run.weightPointers[layer.weight];
        if (dw) k.conv_backward_weight_generic(dy, input.output, dw, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups);
        if (wants(layer.input)) {
          k.conv_backward_input_generic(dy, input.gradient, w, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups, accumulate(layer.input));
        }
      }
    },
  },

  batchnorm: {
    forward(run, layer, id) {
      const { channels, height, width } = layer.shape;
      const b = run.buffers[id];
      run.k.bn_forward(run.buffers[layer.input].output, b.output, b.normalised, b.inverseStd, run.weightPointers[layer.gamma], run.weightPointers[layer.beta], run.batch, channels, height * width);
    },
    backward(run, layer, id, { dy, dyScale, accumulate, wants, weightGradient, plan, row }) {
      const { channels, height, width } = layer.shape;
      const b = run.buffers[id];
      const gamma = run.weightPointers[layer.gamma];
      if (plan.convThroughBn.get(layer.input) === id) {
        // The conv this BN reads forms the input gradient from these, sample by sample.
        const members = plan.coefficientGroups.get(id); // none: an earlier BN of its group found them
        if (members) run.k.bn_gradient_coefficients(dy, run.coefficientTables.get(id)!, members.length, row, run.batch, channels, height * width);
        return;
      }
      const dx = wants(layer.input) ? run.buffers[layer.input].gradient : run.scratchGradient(layer.input);
      run.k.bn_backward(dy, dyScale, b.normalised, b.inverseStd, gamma, dx, weightGradient(layer.gamma), run.batch, channels, height * width, wants(layer.input) && accumulate(layer.input));
    },
  },

  relu: {
    forward(run, layer, id) {
      run.k.relu_forward(run.buffers[layer.input].output, run.buffers[id].output, run.batch * tensorSize(layer.shape));
    },
    backward(run, layer, id, { dy, accumulate, wants }) {
      if (run.buffers[id].gradient === 0) return; // folded into the conv that reads it
      if (wants(layer.input)) run.k.relu_backward(dy, run.buffers[id].output, run.buffers[layer.input].gradient, run.batch * tensorSize(layer.shape), accumulate(layer.input));
    },
  },

  avgpool: {
    forward(run, layer, id) {
      const { channels, height, width } = layer.shape;
      const inShape = run.network.layers[layer.input].shape;
      const input = run.buffers[layer.input].output;
      const out = run.buffers[id].output;
      if (isAvgPool3(layer, inShape)) run.k.avgpool3_forward(input, out, run.batch * channels, height, width);
      else run.k.avgpool_forward(input, out, run.batch * channels, inShape.height, inShape.width, height, width, layer.kernel, layer.stride, layer.padding);
    },
    backward(run, layer, id, step) {
      const { dy, dyScale, accumulate, wants, plan } = step;
      if (!wants(layer.input) || plan.poolsInConvs.has(id)) return; // or it runs inside a conv's backward
      const { channels, height, width } = layer.shape;
      const inShape = run.network.layers[layer.input].shape;
      const dx = run.buffers[layer.input].gradient;
      if (isAvgPool3(layer, inShape)) {
        const { add, withSkip, skipScale } = poolAccumulation(run, id, step);
        const { box, reuseBox } = sharedBoxSums(run, id, plan);
        run.k.avgpool3_backward(dy, dyScale, dx, run.batch * channels, height, width, add, withSkip, skipScale, box, reuseBox);
      } else run.k.avgpool_backward(dy, dx, run.batch * channels, inShape.height, inShape.width, height, width, layer.kernel, layer.stride, layer.padding, accumulate(layer.input));
    },
  },

  maxpool: {
    forward(run, layer, id) {
      const { channels, height, width } = layer.shape;
      const inShape = run.network.layers[layer.input].shape;
      run.k.maxpool_forward(run.buffers[layer.input].output, run.buffers[id].output, run.buffers[id].argmax, run.batch * channels, inShape.height, inShape.width, height, width, layer.kernel, layer.stride, layer.padding);
    },
    backward(run, layer, id, { dy, accumulate, wants }) {
      if (!wants(layer.input)) return;
      const inputs = run.batch * tensorSize(run.network.layers[layer.input].shape);
      run.k.maxpool_backward(dy, run.buffers[id].argmax, run.buffers[layer.input].gradient, inputs, run.batch * tensorSize(layer.shape), accumulate(layer.input));
    },
  },

  sum: {
    forward(run, layer, id) {
      layer.terms.forEach((term, index) => {
        run.k.scaled_add(run.buffers[term.input].output, run.buffers[id].output, run.batch * tensorSize(layer.shape), term.scale, index > 0);
      });
    },
    backward(run, layer, id, { dy, accumulate, wants, plan }) {
      for (const term of layer.terms) {
        if (plan.alias.get(term.input)?.sum === id) continue; // the term reads this gradient itself
        if (plan.skipsInPools.get(id)?.has(term.input)) continue; // a pool beside it adds it
        if (wants(term.input)) run.k.scaled_add(dy, run.buffers[term.input].gradient, run.batch * tensorSize(layer.shape), term.scale, accumulate(term.input));
      }
    },
  },

  zero: {
    forward(run, layer, id) {
      run.k.fill_zero(run.buffers[id].output, run.batch * tensorSize(layer.shape));
    },
    backward: nothing,
  },

  concat: {
    forward(run, layer, id) {
      let offset = 0;
      for (const input of layer.inputs) {
        const size = tensorSize(run.network.layers[input].shape);
        run.k.strided_copy(run.buffers[input].output, run.buffers[id].output + offset * 4, run.batch, size, tensorSize(layer.shape), size, false);
        offset += size;
      }
    },
    backward(run, layer, _id, { dy, accumulate, wants }) {
      let offset = 0;
      for (const input of layer.inputs) {
        const size = tensorSize(run.network.layers[input].shape);
        if (wants(input)) run.k.strided_copy(dy + offset * 4, run.buffers[input].gradient, run.batch, tensorSize(layer.shape), size, size, accumulate(input));
        offset += size;
      }
    },
  },

  gap: {
    forward(run, layer, id) {
      const inShape = run.network.layers[layer.input].shape;
      run.k.gap_forward(run.buffers[layer.input].output, run.buffers[id].output, run.batch * layer.shape.channels, inShape.height * inShape.width);
    },
    backward(run, layer, _id, { dy, accumulate, wants }) {
      if (!wants(layer.input)) return;
      const inShape = run.network.layers[layer.input].shape;
      run.k.gap_backward(dy, run.buffers[layer.input].gradient, run.batch * layer.shape.channels, inShape.height * inShape.width, accumulate(layer.input));
    },
  },

  linear: {
    forward(run, layer, id) {
      const inFeatures = tensorSize(run.network.layers[layer.input].shape);
      run.k.linear_forward(run.buffers[layer.input].output, run.buffers[id].output, run.weightPointers[layer.weight], run.weightPointers[layer.bias], run.batch, inFeatures, layer.shape.channels);
    },
    backward(run, layer, _id, { dy, accumulate, wants, weightGradient }) {
      const inFeatures = tensorSize(run.network.layers[layer.input].shape);
      const dh = wants(layer.input) ? run.buffers[layer.input].gradient : run.scratchGradient(layer.input);
      run.k.linear_backward(dy, run.buffers[layer.input].output, run.weightPointers[layer.weight], dh, weightGradient(layer.weight), run.batch, inFeatures, layer.shape.channels, wants(layer.input) && accumulate(layer.input));
    },
  },
};

/** Where a stride-1 conv's input gradient goes (din 0: nowhere), whether it adds there, and the mask of a folded ReLU (0: none). */
interface InputGradientTarget {
  readonly din: number;
  readonly add: boolean;
  readonly mask: number;
}

/** Where a stride-1 conv's input gradient goes: into the input of the ReLU it folds (masked by its output), or into its own input. */
function foldedInputGradient(run: WasmNetworkExecution, id: LayerId, { plan, wants, accumulate, accumulateFrom }: BackwardStep): InputGradientTarget {
  const layer = run.network.layers[id] as LayerOf<'conv'>;
  const relu = plan.foldedRelu.get(id);
  const target = relu === undefined ? layer.input : (run.network.layers[relu] as LayerOf<'relu'>).input;
  const din = wants(target) ? run.buffers[target].gradient : 0;
  const add = din !== 0 && (relu === undefined ? accumulate(target) : accumulateFrom(relu, target));
  return { din, add, mask: relu === undefined ? 0 : run.buffers[relu].output };
}

/** Fills the conv's CONV_THROUGH_BN record for this cotangent, its input gradient going `into`, and returns its pointer. */
function writeConvThroughBn(run: WasmNetworkExecution, id: LayerId, step: BackwardStep, into: InputGradientTarget, scratch: number, totals: number): number {
  const layer = run.network.layers[id] as LayerOf<'conv'>;
  const inShape = run.network.layers[layer.input].shape;
  const b = run.buffers[id];
  const bn = step.plan.convThroughBn.get(id)!;
  const norm = run.buffers[bn];
  CONV_THROUGH_BN.write(run.k.memory.buffer, b.throughBnRecord, {
    dy: step.outputGradient(bn),
    xhat: norm.normalised,
    coefficients: norm.gradientCoefficients,
    // A 1×1 conv's weight gradient reads its input straight from the ReLU output that masks its input
    // gradient: the same values, and, for the second conv of a pair, the first's, still in cache.
    padded: layer.kernel === 1 && into.mask !== 0 ? into.mask : b.padded,
    dw: step.weightGradient(layer.weight),
    totals,
    din: into.din,
    wT: b.transposedWeights,
    scratch,
    cin: inShape.channels,
    hin: inShape.height,
    win: inShape.width,
    cout: layer.shape.channels,
    hout: layer.shape.height,
    wout: layer.shape.width,
    k: layer.kernel,
    pad: layer.padding,
    dil: layer.dilation,
    groups: layer.groups,
    accumulate: into.add ? 1 : 0,
    mask: into.din === 0 ? 0 : into.mask,
    winograd: b.winogradWeights,
  });
  return b.throughBnRecord;
}

/** Whether a 3×3 pool's backward adds to its input's gradient, and the identity term it adds with it (BackwardPlan.skipInPool). */
function poolAccumulation(run: WasmNetworkExecution, id: LayerId, { plan, accumulateFrom }: BackwardStep): { add: boolean; withSkip: boolean; skipScale: number } {
  const skip = plan.skipInPool.get(id);
  if (skip) return { add: accumulateFrom(skip.sum, skip.input), withSkip: true, skipScale: skip.scale };
  return { add: accumulateFrom(id, (run.network.layers[id] as LayerOf<'avgpool'>).input), withSkip: false, skipScale: 0 };
}

/** Where a 3×3 pool keeps or finds its sum's box sums (BackwardPlan.sharedBoxSums); box 0: it shares none. */
function sharedBoxSums(run: WasmNetworkExecution, id: LayerId, plan: BackwardStep['plan']): { box: number; reuseBox: boolean } {
  const shared = plan.sharedBoxSums.get(id);
  return shared ? { box: run.boxSums[shared.slot].pointer, reuseBox: shared.reuse } : { box: 0, reuseBox: false };
}

/** Fills the pool's POOL_BACKWARD record (one sample's planes) for this cotangent and returns its pointer. */
function writePoolBackward(run: WasmNetworkExecution, id: LayerId, step: BackwardStep): number {
  const layer = run.network.layers[id] as LayerOf<'avgpool'>;
  const record = run.buffers[id].poolRecord;
  const { add, withSkip, skipScale } = poolAccumulation(run, id, step);
  const { box, reuseBox } = sharedBoxSums(run, id, step.plan);
  POOL_BACKWARD.write(run.k.memory.buffer, record, {
    dy: step.outputGradient(id),
    dyScale: step.plan.alias.get(id)!.scale,
    dx: run.buffers[layer.input].gradient,
    channels: layer.shape.channels,
    h: layer.shape.height,
    w: layer.shape.width,
    accumulate: add ? 1 : 0,
    withSkip: withSkip ? 1 : 0,
    skipScale,
    box,
    reuseBox: reuseBox ? 1 : 0,
  });
  return record;
}

/** The 3×3, stride-1, padding-1 average pool over rows of a multiple of 4 has a vectorised kernel. */
export function isAvgPool3(layer: Layer, input: Layer['shape']): boolean {
  return layer.kind === 'avgpool' && layer.kernel === 3 && layer.stride === 1 && layer.padding === 1 && input.width % 4 === 0;
}

export function wasmLayer(layer: Layer): WasmLayer<Layer> {
  return WASM_LAYERS[layer.kind] as WasmLayer<Layer>;
}

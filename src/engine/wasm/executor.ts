import { layerInputs, ntkColumns, tensorSize, type ConvLayer, type Layer, type LayerId, type Network } from '../../graph/ir.js';
import { gradientFlow, type GradientFlow } from '../../graph/gradient-flow.js';
import type { Weights } from '../../graph/weights.js';
import type { WasmKernels } from './module.js';

/** Pointers of one layer's buffers in WebAssembly memory (0 = not allocated). */
interface LayerBuffers {
  output: number;
  gradient: number;
  convPath: ConvPath;
  /** Conv (vector paths): each sample's input with a zero halo or in polyphase form, kept for the weight gradient. */
  padded: number;
  /** Conv (fast path): transposed and flipped weights for the input gradient. */
  transposedWeights: number;
  /** BatchNorm: x̂ and 1/σ. */
  normalised: number;
  inverseStd: number;
}

type ConvPath = 'stride1' | 'stride2' | 'generic';

/**
 * Which kernels run a conv: the vectorised stride-1 and stride-2 (polyphase) paths need rows of a
 * multiple of 4; everything else (the 3×3 thin nets, odd sizes) takes the scalar path.
 */
function convPath(layer: ConvLayer, input: Layer['shape']): ConvPath {
  const vectorRows = layer.shape.width % 4 === 0 && input.width % 4 === 0;
  if (vectorRows && layer.stride === 1 && layer.padding >= 0 && (layer.kernel - 1) * layer.dilation >= layer.padding) return 'stride1';
  if (vectorRows && layer.stride === 2) return 'stride2';
  return 'generic';
}

/** Floats per sample of a conv's stored input: zero halo (stride 1) or polyphase (stride 2). */
function storedInputFloats(layer: ConvLayer, input: Layer['shape'], path: ConvPath): number {
  const span = (layer.kernel - 1) * layer.dilation;
  if (path === 'stride1') return input.channels * (layer.shape.height + span) * (layer.shape.width + span);
  if (path === 'stride2') return input.channels * 2 * (2 * (layer.shape.height - 1) + span + 1) * (layer.shape.width + Math.floor(span / 2));
  return 0;
}

/** Floats of the per-sample scratch its input-gradient kernel needs. */
function inputGradientScratchFloats(layer: ConvLayer, input: Layer['shape'], path: ConvPath): number {
  const span = (layer.kernel - 1) * layer.dilation;
  if (path === 'stride1') return layer.shape.channels * (input.height + span) * (input.width + span);
  if (path === 'stride2') return storedInputFloats(layer, input, path);
  return 0;
}

function isAvgPool3(layer: Layer, input: Layer['shape']): boolean {
  return layer.kind === 'avgpool' && layer.kernel === 3 && layer.stride === 1 && layer.padding === 1 && input.width % 4 === 0;
}

/**
 * Fusions that save a pass over the batch per cotangent: a ReLU read only by a stride-1 conv is
 * folded into that conv's input gradient (masked by the ReLU output), and a BN or 3×3 average pool
 * read only by a weighted sum reads the sum's gradient, scaled, instead of a copy of its own.
 */
interface BackwardPlan {
  readonly flow: GradientFlow;
  /** conv id → the ReLU it reads and folds. */
  readonly foldedRelu: Map<LayerId, LayerId>;
  /** layer id → the sum whose gradient it reads, and the term's scale. */
  readonly alias: Map<LayerId, { sum: LayerId; scale: number }>;
}

function planBackward(network: Network, paths: ConvPath[]): BackwardPlan {
  const flow = gradientFlow(network);
  const consumers = network.layers.map(() => [] as LayerId[]);
  network.layers.forEach((layer, id) => layerInputs(layer).forEach((input) => consumers[input].push(id)));
  const foldedRelu = new Map<LayerId, LayerId>();
  const alias = new Map<LayerId, { sum: LayerId; scale: number }>();
  network.layers.forEach((layer, id) => {
    if (layer.kind === 'conv' && paths[id] === 'stride1') {
      const input = network.layers[layer.input];
      if (input.kind === 'relu' && consumers[layer.input].length === 1) foldedRelu.set(id, layer.input);
    }
    const readers = consumers[id];
    const reader = network.layers[readers[0]];
    const scalable = layer.kind === 'batchnorm' || (layer.kind === 'avgpool' && isAvgPool3(layer, network.layers[layer.input].shape));
    if (scalable && readers.length === 1 && reader.kind === 'sum') {
      const terms = reader.terms.filter((term) => term.input === id);
      if (terms.length === 1) alias.set(id, { sum: readers[0], scale: terms[0].scale });
    }
  });
  return { flow, foldedRelu, alias };
}

/**
 * Runs one network description on the WebAssembly kernels: a forward pass over a batch and, for
 * the NTK, one backward pass per cotangent (sample i's summed logits) through the full batch, with
 * each weight gradient written straight into row i of G.
 */
export class WasmNetworkExecution {
  private readonly buffers: LayerBuffers[];
  private readonly weightPointers: number[];
  private scratch = 0;
  private staging = 0;

  constructor(
    private readonly kernels: WasmKernels,
    private readonly network: Network,
    weights: Weights,
    private readonly batch: number,
  ) {
    this.weightPointers = weights.map((tensor) => kernels.upload(tensor));
    this.buffers = network.layers.map((layer) => ({
      output: kernels.allocF32(batch * tensorSize(layer.shape)),
      gradient: 0,
      convPath: 'generic' as ConvPath,
      padded: 0,
      transposedWeights: 0,
      normalised: layer.kind === 'batchnorm' ? kernels.allocF32(batch * tensorSize(layer.shape)) : 0,
      inverseStd: layer.kind === 'batchnorm' ? kernels.allocF32(layer.shape.channels) : 0,
    }));
    network.layers.forEach((layer, id) => {
      if (layer.kind !== 'conv') return;
      const input = network.layers[layer.input].shape;
      const path = convPath(layer, input);
      this.buffers[id].convPath = path;
      if (path !== 'generic') this.buffers[id].padded = kernels.allocF32(batch * storedInputFloats(layer, input, path));
    });
  }

  private get k() {
    return this.kernels.exports;
  }

  /** Forward pass; returns a pointer to the output (logits) of the last layer. */
  forward(input: Float32Array): number {
    const first = this.buffers[0];
    this.kernels.f32(first.output, input.length).set(input);
    this.network.layers.forEach((layer, id) => this.forwardLayer(layer, id));
    return this.buffers[this.buffers.length - 1].output;
  }

  logits(): Float32Array {
    const last = this.network.layers[this.network.layers.length - 1];
    return this.kernels.f32(this.buffers[this.buffers.length - 1].output, this.batch * tensorSize(last.shape)).slice();
  }

  /** Each executed ReLU's output, in execution order (the linear-region features). */
  reluLayers(): { pointer: number; size: number }[] {
    return this.network.layers.flatMap((layer, id) =>
      layer.kind === 'relu' ? [{ pointer: this.buffers[id].output, size: tensorSize(layer.shape) }] : [],
    );
  }

  /**
   * G (batch × gradientDim, float32) for the forward pass just run: row i is the gradient of
   * Σ_c logits[i, c] with respect to every NTK column parameter.
   */
  ntkGradients(): { pointer: number; dimension: number } {
    const { columns, dimension } = ntkColumns(this.network);
    const plan = planBackward(this.network, this.buffers.map((b) => b.convPath));
    const columnOffset = new Map(columns.map((column) => [column.param, column.offset]));
    const g = this.kernels.allocF32(this.batch * dimension);
    this.k.fill_zero(g, this.batch * dimension);
    this.allocateBackward(plan);

    const last = this.network.layers.length - 1;
    const classes = this.network.layers[last].shape.channels;
    for (let sample = 0; sample < this.batch; sample++) {
      const seed = this.kernels.f32(this.buffers[last].gradient, this.batch * classes);
      seed.fill(0);
      seed.fill(1, sample * classes, (sample + 1) * classes);
      const row = g + sample * dimension * 4;
      const columnPointer = (param: number): number => {
        const offset = columnOffset.get(param);
        return offset === undefined ? 0 : row + offset * 4;
      };
      for (let id = last; id >= 0; id--) {
        if (plan.flow.carries[id]) this.backwardLayer(this.network.layers[id], id, plan, columnPointer);
      }
    }
    return { pointer: g, dimension };
  }

  private allocateBackward(plan: BackwardPlan): void {
    let scratchFloats = 0;
    let stagingFloats = 0;
    const folded = new Set(plan.foldedRelu.values());
    this.network.layers.forEach((layer, id) => {
      const ownsGradient = plan.flow.carries[id] && !folded.has(id) && !plan.alias.has(id);
      if (ownsGradient && this.buffers[id].gradient === 0) {
        this.buffers[id].gradient = this.kernels.allocF32(this.batch * tensorSize(layer.shape));
      }
      if (layer.kind !== 'conv' || this.buffers[id].convPath === 'generic') return;
      const input = this.network.layers[layer.input].shape;
      scratchFloats = Math.max(scratchFloats, inputGradientScratchFloats(layer, input, this.buffers[id].convPath));
      if (plan.foldedRelu.has(id)) stagingFloats = Math.max(stagingFloats, tensorSize(input));
      if (this.buffers[id].convPath !== 'stride1') return;
      const w = this.network.params[layer.weight];
      const transposed = this.kernels.allocF32(w.size);
      this.k.transpose_flip_weights(this.weightPointers[layer.weight], transposed, input.channels, layer.shape.channels, layer.kernel, layer.groups);
      this.buffers[id].transposedWeights = transposed;
    });
    if (this.scratch === 0 && scratchFloats > 0) this.scratch = this.kernels.allocF32(scratchFloats);
    if (this.staging === 0 && stagingFloats > 0) this.staging = this.kernels.allocF32(stagingFloats);
  }

  private forwardLayer(layer: Layer, id: LayerId): void {
    const k = this.k;
    const n = this.batch;
    const out = this.buffers[id].output;
    const { channels, height, width } = layer.shape;
    switch (layer.kind) {
      case 'input':
        return;
      case 'conv': {
        const inShape = this.network.layers[layer.input].shape;
        const input = this.buffers[layer.input].output;
        const w = this.weightPointers[layer.weight];
        const path = this.buffers[id].convPath;
        if (path !== 'generic') {
          const run = path === 'stride1' ? k.conv_forward_fast : k.conv_forward_stride2;
          run(input, out, w, this.buffers[id].padded, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.padding, layer.dilation, layer.groups);
        } else {
          k.conv_forward_generic(input, out, w, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups);
        }
        return;
      }
      case 'batchnorm': {
        const b = this.buffers[id];
        k.bn_forward(this.buffers[layer.input].output, out, b.normalised, b.inverseStd, this.weightPointers[layer.gamma], this.weightPointers[layer.beta], n, channels, height * width);
        return;
      }
      case 'relu':
        k.relu_forward(this.buffers[layer.input].output, out, n * tensorSize(layer.shape));
        return;
      case 'avgpool':
      case 'maxpool': {
        const inShape = this.network.layers[layer.input].shape;
        if (isAvgPool3(layer, inShape)) {
          k.avgpool3_forward(this.buffers[layer.input].output, out, n * channels, height, width);
          return;
        }
        const run = layer.kind === 'avgpool' ? k.avgpool_forward : k.maxpool_forward;
        run(this.buffers[layer.input].output, out, n * channels, inShape.height, inShape.width, height, width, layer.kernel, layer.stride, layer.padding);
        return;
      }
      case 'sum':
        layer.terms.forEach((term, index) => {
          k.scaled_add(this.buffers[term.input].output, out, n * tensorSize(layer.shape), term.scale, index > 0);
        });
        return;
      case 'zero':
        k.fill_zero(out, n * tensorSize(layer.shape));
        return;
      case 'concat': {
        let offset = 0;
        for (const input of layer.inputs) {
          const size = tensorSize(this.network.layers[input].shape);
          k.strided_copy(this.buffers[input].output, out + offset * 4, n, size, tensorSize(layer.shape), size, false);
          offset += size;
        }
        return;
      }
      case 'gap': {
        const inShape = this.network.layers[layer.input].shape;
        k.gap_forward(this.buffers[layer.input].output, out, n * channels, inShape.height * inShape.width);
        return;
      }
      case 'linear': {
        const inFeatures = tensorSize(this.network.layers[layer.input].shape);
        k.linear_forward(this.buffers[layer.input].output, out, this.weightPointers[layer.weight], this.weightPointers[layer.bias], n, inFeatures, channels);
        return;
      }
    }
  }

  private backwardLayer(layer: Layer, id: LayerId, plan: BackwardPlan, columnPointer: (param: number) => number): void {
    const k = this.k;
    const n = this.batch;
    const { flow } = plan;
    const aliased = plan.alias.get(id);
    const dy = aliased ? this.buffers[aliased.sum].gradient : this.buffers[id].gradient;
    const dyScale = aliased ? aliased.scale : 1;
    const { channels, height, width } = layer.shape;
    const accumulateFrom = (consumer: LayerId, input: LayerId): boolean => !flow.writes.get(consumer)?.has(input);
    const accumulate = (input: LayerId): boolean => accumulateFrom(id, input);
    const wants = (input: LayerId): boolean => flow.carries[input];
    switch (layer.kind) {
      case 'input':
      case 'zero':
        return;
      case 'conv': {
        const inShape = this.network.layers[layer.input].shape;
        const input = this.buffers[layer.input];
        const b = this.buffers[id];
        const dw = columnPointer(layer.weight);
        if (b.convPath === 'stride1') {
          if (dw) k.conv_backward_weight_fast(dy, b.padded, dw, n, inShape.channels, channels, height, width, layer.kernel, layer.dilation, layer.groups);
          const relu = plan.foldedRelu.get(id);
          if (relu !== undefined) {
            const reluInput = (this.network.layers[relu] as { input: LayerId }).input;
            if (wants(reluInput)) {
              k.conv_backward_input_fast(dy, this.buffers[reluInput].gradient, b.transposedWeights, this.scratch, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.padding, layer.dilation, layer.groups, accumulateFrom(relu, reluInput), this.buffers[relu].output, this.staging);
            }
          } else if (wants(layer.input)) {
            k.conv_backward_input_fast(dy, input.gradient, b.transposedWeights, this.scratch, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.padding, layer.dilation, layer.groups, accumulate(layer.input), 0, 0);
          }
        } else if (b.convPath === 'stride2') {
          if (dw) k.conv_backward_weight_stride2(dy, b.padded, dw, n, inShape.channels, channels, height, width, layer.kernel, layer.dilation, layer.groups);
          if (wants(layer.input)) {
            k.conv_backward_input_stride2(dy, input.gradient, this.weightPointers[layer.weight], this.scratch, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.padding, layer.dilation, layer.groups, accumulate(layer.input));
          }
        } else {
          const w = this.weightPointers[layer.weight];
          if (dw) k.conv_backward_weight_generic(dy, input.output, dw, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups);
          if (wants(layer.input)) {
            k.conv_backward_input_generic(dy, input.gradient, w, n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups, accumulate(layer.input));
          }
        }
        return;
      }
      case 'batchnorm': {
        const b = this.buffers[id];
        const dx = wants(layer.input) ? this.buffers[layer.input].gradient : this.scratchGradient(layer);
        k.bn_backward(dy, dyScale, b.normalised, b.inverseStd, this.weightPointers[layer.gamma], dx, columnPointer(layer.gamma), n, channels, height * width, wants(layer.input) && accumulate(layer.input));
        return;
      }
      case 'relu':
        if (this.buffers[id].gradient === 0) return; // folded into the conv that reads it
        if (wants(layer.input)) k.relu_backward(dy, this.buffers[id].output, this.buffers[layer.input].gradient, n * tensorSize(layer.shape), accumulate(layer.input));
        return;
      case 'avgpool': {
        if (!wants(layer.input)) return;
        const inShape = this.network.layers[layer.input].shape;
        if (isAvgPool3(layer, inShape)) {
          k.avgpool3_backward(dy, dyScale, this.buffers[layer.input].gradient, n * channels, height, width, accumulate(layer.input));
          return;
        }
        k.avgpool_backward(dy, this.buffers[layer.input].gradient, n * channels, inShape.height, inShape.width, height, width, layer.kernel, layer.stride, layer.padding, accumulate(layer.input));
        return;
      }
      case 'maxpool': {
        if (!wants(layer.input)) return;
        const inShape = this.network.layers[layer.input].shape;
        const input = this.buffers[layer.input];
        k.maxpool_backward(dy, input.output, input.gradient, n * channels, inShape.height, inShape.width, height, width, layer.kernel, layer.stride, layer.padding, accumulate(layer.input));
        return;
      }
      case 'sum':
        for (const term of layer.terms) {
          if (plan.alias.get(term.input)?.sum === id) continue; // the term reads this gradient itself
          if (wants(term.input)) k.scaled_add(dy, this.buffers[term.input].gradient, n * tensorSize(layer.shape), term.scale, accumulate(term.input));
        }
        return;
      case 'concat': {
        let offset = 0;
        for (const input of layer.inputs) {
          const size = tensorSize(this.network.layers[input].shape);
          if (wants(input)) k.strided_copy(dy + offset * 4, this.buffers[input].gradient, n, tensorSize(layer.shape), size, size, accumulate(input));
          offset += size;
        }
        return;
      }
      case 'gap': {
        if (!wants(layer.input)) return;
        const inShape = this.network.layers[layer.input].shape;
        k.gap_backward(dy, this.buffers[layer.input].gradient, n * channels, inShape.height * inShape.width, accumulate(layer.input));
        return;
      }
      case 'linear': {
        const inFeatures = tensorSize(this.network.layers[layer.input].shape);
        const dh = wants(layer.input) ? this.buffers[layer.input].gradient : this.scratchGradient(layer);
        k.linear_backward(dy, this.buffers[layer.input].output, this.weightPointers[layer.weight], dh, columnPointer(layer.weight), n, inFeatures, channels, wants(layer.input) && accumulate(layer.input));
        return;
      }
    }
  }

  private scratchBySize = new Map<number, number>();

  /** A throw-away input-gradient buffer for layers whose input needs none (e.g. the stem's BN input is a conv that does). */
  private scratchGradient(layer: Layer): number {
    const floats = this.batch * tensorSize(this.network.layers[layerInputs(layer)[0]].shape);
    let pointer = this.scratchBySize.get(floats);
    if (pointer === undefined) {
      pointer = this.kernels.allocF32(floats);
      this.scratchBySize.set(floats, pointer);
    }
    return pointer;
  }
}

/// <reference types="@webgpu/types" />
import { gradientFlow, type GradientFlow } from '../../graph/gradient-flow.js';
import { ntkColumns, tensorSize, type Layer, type LayerId, type Network } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import type { BufferPool } from './buffers.js';
import { DispatchRecorder, floatBits, KERNELS } from './kernels.js';

const STORAGE = (): GPUBufferUsageFlags => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Most gradient fields alive at once during a backward pass (each sized for the largest layer). */
export function peakLiveGradients(network: Network, flow: GradientFlow = gradientFlow(network)): number {
  const last = network.layers.length - 1;
  const live = new Set<LayerId>([last]);
  let peak = 1;
  for (let id = last; id >= 0; id--) {
    if (!flow.carries[id]) continue;
    for (const input of flow.writes.get(id) ?? []) live.add(input);
    peak = Math.max(peak, live.size);
    live.delete(id);
  }
  return peak;
}

/** Floats of the largest per-sample tensor whose gradient a backward pass carries. */
export function largestCarriedLayer(network: Network, flow: GradientFlow = gradientFlow(network)): number {
  return network.layers.reduce((most, layer, id) => (flow.carries[id] ? Math.max(most, tensorSize(layer.shape)) : most), 1);
}

export interface ChunkLimits {
  readonly maxBindingBytes: number;
  readonly memoryBudgetBytes: number;
  readonly maxChunk: number;
}

/** Floats per gradient field of the backward scratch: conv weight partial sums and BN (Σ∂y, Σ∂y·x̂) pairs. */
export function backwardScratchFloats(network: Network): number {
  return network.layers.reduce((most, layer) => {
    if (layer.kind === 'conv') return Math.max(most, network.params[layer.weight].size);
    if (layer.kind === 'batchnorm') return Math.max(most, 2 * layer.shape.channels);
    return most;
  }, 1);
}

/**
 * Cotangents per backward chunk: every gradient slot (chunk × batch × largest layer) and the
 * scratch must each fit one binding, and all of them together the memory budget.
 */
export function chooseChunk(network: Network, batch: number, limits: ChunkLimits): number {
  const flow = gradientFlow(network);
  const fieldBytes = batch * largestCarriedLayer(network, flow) * 4;
  const scratchBytes = batch * backwardScratchFloats(network) * 4;
  const byBinding = Math.floor(limits.maxBindingBytes / Math.max(fieldBytes, scratchBytes));
  const byBudget = Math.floor(limits.memoryBudgetBytes / (fieldBytes * peakLiveGradients(network, flow) + scratchBytes));
  return Math.max(1, Math.min(batch, limits.maxChunk, byBinding, byBudget));
}

interface GpuResources {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
}

/**
 * Records one network evaluation on the device: the forward pass over a batch (keeping what the
 * backward needs), the NTK backward in chunks of cotangents, activation-pattern packing. Nothing
 * runs until the caller encodes `recorder` and submits.
 */
export class WebGpuNetworkExecution {
  readonly recorder = new DispatchRecorder();
  private readonly acquired: GPUBuffer[] = [];
  private readonly outputs: GPUBuffer[];
  private readonly normalised = new Map<LayerId, GPUBuffer>();
  /** BatchNorm: (mean, 1/σ) per channel. */
  private readonly statistics = new Map<LayerId, GPUBuffer>();
  /** Per-(sample, channel) partial sums of the BatchNorm forward. */
  private readonly forwardScratch: GPUBuffer;
  /** Backward scratch (partial sums per gradient field) and per-(cotangent, channel) BN means. */
  private backwardScratch: GPUBuffer | undefined;
  private gradientStats: GPUBuffer | undefined;
  private readonly weightBuffers: (GPUBuffer | undefined)[];
  /** Stand-ins for writable bindings a dispatch declares but does not use (two, so they never alias). */
  private readonly dummies: [GPUBuffer, GPUBuffer];

  constructor(
    private readonly gpu: GpuResources,
    private readonly network: Network,
    weights: Weights,
    private readonly batch: number,
  ) {
    this.outputs = network.layers.map((layer) => this.storage(batch * tensorSize(layer.shape)));
    let widestBatchNorm = 1;
    network.layers.forEach((layer, id) => {
      if (layer.kind !== 'batchnorm') return;
      this.normalised.set(id, this.storage(batch * tensorSize(layer.shape)));
      this.statistics.set(id, this.storage(2 * layer.shape.channels));
      widestBatchNorm = Math.max(widestBatchNorm, layer.shape.channels);
    });
    this.forwardScratch = this.storage(batch * widestBatchNorm);
    const used = new Set<number>();
    for (const layer of network.layers) {
      if (layer.kind === 'conv') used.add(layer.weight);
      if (layer.kind === 'batchnorm') used.add(layer.gamma).add(layer.beta);
      if (layer.kind === 'linear') used.add(layer.weight).add(layer.bias);
    }
    this.weightBuffers = weights.map((tensor, param) => {
      if (!used.has(param)) return undefined;
      const buffer = this.storage(tensor.length);
      gpu.device.queue.writeBuffer(buffer, 0, tensor as Float32Array<ArrayBuffer>);
      return buffer;
    });
    this.dummies = [this.storage(64), this.storage(64)];
  }

  /** A pooled storage buffer of `floats` float32 values, released by `release()`. */
  storage(floats: number): GPUBuffer {
    const buffer = this.gpu.pool.acquire(Math.max(floats, 1) * 4, STORAGE());
    this.acquired.push(buffer);
    return buffer;
  }

  release(): void {
    this.gpu.pool.release(this.acquired);
    this.acquired.length = 0;
  }

  get logitsBuffer(): GPUBuffer {
    return this.outputs[this.outputs.length - 1];
  }

  get logitsFloats(): number {
    return this.batch * tensorSize(this.network.layers[this.network.layers.length - 1].shape);
  }

  reluLayers(): { id: LayerId; size: number }[] {
    return this.network.layers.flatMap((layer, id) => (layer.kind === 'relu' ? [{ id, size: tensorSize(layer.shape) }] : []));
  }

  /** Copies `rows` rows of `rowLength` floats between buffers (strides and offsets in floats). */
  copy(from: GPUBuffer, to: GPUBuffer, rows: number, rowLength: number, shape: { srcStride?: number; dstStride?: number; srcOffset?: number; dstOffset?: number; accumulate?: boolean } = {}): void {
    const { srcStride = rowLength, dstStride = rowLength, srcOffset = 0, dstOffset = 0, accumulate = false } = shape;
    const params = [0, 0, accumulate ? 1 : 0, 0, rows, rowLength, srcStride, dstStride, srcOffset, dstOffset, 0, 0];
    this.recorder.flat(KERNELS.stridedCopy, params, { 1: from, 2: to }, rows * rowLength);
  }

  /** Forward pass over the batch held in `inputs` from float `inputOffset` on. */
  recordForward(inputs: GPUBuffer, inputOffset = 0): void {
    const inputFloats = this.batch * tensorSize(this.network.input);
    this.copy(inputs, this.outputs[0], 1, inputFloats, { srcOffset: inputOffset });
    this.network.layers.forEach((layer, id) => this.recordLayerForward(layer, id));
  }

  /** Sets each ReLU output's sign bits in rows firstRow.. of `packed` (rows of `words` u32). */
  recordPatterns(packed: GPUBuffer, words: number, firstRow: number): void {
    let bitOffset = 0;
    for (const relu of this.reluLayers()) {
      const count = this.batch * relu.size;
      this.recorder.flat(KERNELS.packSigns, [count, relu.size, words, bitOffset, firstRow], { 1: this.outputs[relu.id], 2: packed }, count);
      bitOffset += relu.size;
    }
  }

  private recordLayerForward(layer: Layer, id: LayerId): void {
    const n = this.batch;
    const out = this.outputs[id];
    const size = tensorSize(layer.shape);
    const { channels, height, width } = layer.shape;
    const r = this.recorder;
    switch (layer.kind) {
      case 'input':
        return;
      case 'conv': {
        const inShape = this.network.layers[layer.input].shape;
        const blocks = Math.ceil(channels / layer.groups / 4) * layer.groups;
        const params = [n, inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups, 0, n, 0, 0];
        r.flat(KERNELS.convForward, params, { 1: this.outputs[layer.input], 2: this.weight(layer.weight), 3: out }, n * blocks * height * width);
        return;
      }
      case 'batchnorm': {
        const stats = this.statistics.get(id)!;
        const x = this.outputs[layer.input];
        const params = [n, n, channels, height * width, 0, 0, 0, 0];
        r.flat(KERNELS.bnRowSums, params, { 1: x, 4: this.forwardScratch }, n * channels);
        r.flat(KERNELS.bnMean, params, { 1: this.forwardScratch, 6: stats }, channels);
        r.flat(KERNELS.bnRowSquareSums, params, { 1: x, 4: this.forwardScratch, 6: stats }, n * channels);
        r.flat(KERNELS.bnInverseStd, params, { 1: this.forwardScratch, 6: stats }, channels);
        r.flat(KERNELS.bnNormalise, params, { 1: x, 2: this.weight(layer.gamma), 3: this.weight(layer.beta), 4: out, 5: this.normalised.get(id)!, 6: stats }, n * size);
        return;
      }
      case 'relu':
        r.flat(KERNELS.reluForward, [n * size, n * size, 0, 0], { 1: this.outputs[layer.input], 2: out }, n * size);
        return;
      case 'avgpool':
      case 'maxpool': {
        const inShape = this.network.layers[layer.input].shape;
        const params = [n * channels, n * channels, inShape.height, inShape.width, height, width, layer.kernel, layer.stride, layer.padding, 0];
        r.flat(layer.kind === 'avgpool' ? KERNELS.avgpoolForward : KERNELS.maxpoolForward, params, { 1: this.outputs[layer.input], 2: out }, n * size);
        return;
      }
      case 'sum':
        layer.terms.forEach((term, index) => {
          r.flat(KERNELS.scaledAdd, [n * size, 0, index > 0 ? 1 : 0, floatBits(term.scale)], { 1: this.outputs[term.input], 2: out }, n * size);
        });
        return;
      case 'zero':
        r.flat(KERNELS.fillZero, [n * size], { 2: out }, n * size);
        return;
      case 'concat': {
        let offset = 0;
        for (const input of layer.inputs) {
          const part = tensorSize(this.network.layers[input].shape);
          this.copy(this.outputs[input], out, n, part, { dstStride: size, dstOffset: offset });
          offset += part;
        }
        return;
      }
      case 'gap': {
        const inShape = this.network.layers[layer.input].shape;
        const hw = inShape.height * inShape.width;
        r.flat(KERNELS.gapForward, [n * channels, 0, 0, 0, 0, hw], { 1: this.outputs[layer.input], 2: out }, n * channels);
        return;
      }
      case 'linear': {
        const inFeatures = tensorSize(this.network.layers[layer.input].shape);
        r.flat(
          KERNELS.linearForward,
          [n, inFeatures, channels, 0, n, 0, 0, 0],
          { 1: this.outputs[layer.input], 2: this.weight(layer.weight), 3: this.weight(layer.bias), 4: out },
          n * channels,
        );
        return;
      }
    }
  }

  private weight(param: number): GPUBuffer {
    const buffer = this.weightBuffers[param];
    if (!buffer) throw new Error(`parameter ${this.network.params[param].name} was not uploaded`);
    return buffer;
  }

  /**
   * The NTK backward for every cotangent, `chunk` at a time, after `recordForward`: returns G
   * (batch × dimension floats) on the device.
   */
  recordNtkGradients(chunk: number): { gradients: GPUBuffer; dimension: number } {
    const { columns, dimension } = ntkColumns(this.network);
    const columnOffset = new Map(columns.map((column) => [column.param, column.offset]));
    const flow = gradientFlow(this.network);
    const n = this.batch;
    const gradients = this.storage(n * dimension);
    this.recorder.flat(KERNELS.fillZero, [n * dimension], { 2: gradients }, n * dimension);
    const slotFloats = chunk * n * largestCarriedLayer(this.network, flow);
    this.backwardScratch = this.storage(chunk * n * backwardScratchFloats(this.network));
    const widest = this.network.layers.reduce((most, layer) => (layer.kind === 'batchnorm' ? Math.max(most, layer.shape.channels) : most), 1);
    this.gradientStats = this.storage(chunk * 2 * widest);
    const slots: GPUBuffer[] = [];
    const freeSlots: GPUBuffer[] = [];
    const last = this.network.layers.length - 1;
    for (let first = 0; first < n; first += chunk) {
      const count = Math.min(chunk, n - first);
      const fieldOf = new Map<LayerId, GPUBuffer>();
      const take = (id: LayerId): void => {
        let slot = freeSlots.pop();
        if (!slot) slots.push((slot = this.storage(slotFloats)));
        fieldOf.set(id, slot);
      };
      take(last);
      const classes = this.network.classes;
      this.recorder.flat(KERNELS.seedCotangents, [count * n * classes, 0, 0, 0, 0, classes, 0, 0, 0, 0, n, first], { 2: fieldOf.get(last)! }, count * n * classes);
      for (let id = last; id >= 0; id--) {
        if (!flow.carries[id]) continue;
        for (const input of flow.writes.get(id) ?? []) take(input);
        const column = (param: number): number | undefined => {
          const offset = columnOffset.get(param);
          return offset === undefined ? undefined : first * dimension + offset;
        };
        this.recordLayerBackward(this.network.layers[id], id, flow, fieldOf, count, column, gradients, dimension);
        freeSlots.push(fieldOf.get(id)!);
        fieldOf.delete(id);
      }
    }
    return { gradients, dimension };
  }

  private recordLayerBackward(
    layer: Layer,
    id: LayerId,
    flow: GradientFlow,
    fieldOf: Map<LayerId, GPUBuffer>,
    cotangents: number,
    gradientRow: (param: number) => number | undefined,
    gradients: GPUBuffer,
    dimension: number,
  ): void {
    const r = this.recorder;
    const batch = this.batch;
    const fields = cotangents * batch;
    const dy = fieldOf.get(id)!;
    const size = tensorSize(layer.shape);
    const { channels, height, width } = layer.shape;
    const accumulate = (input: LayerId): number => (flow.writes.get(id)?.has(input) ? 0 : 1);
    const wants = (input: LayerId): boolean => flow.carries[input];
    switch (layer.kind) {
      case 'input':
      case 'zero':
        return;
      case 'conv': {
        const inShape = this.network.layers[layer.input].shape;
        const geometry = [inShape.channels, inShape.height, inShape.width, channels, height, width, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups];
        const row = gradientRow(layer.weight);
        if (row !== undefined) {
          const weightCount = this.network.params[layer.weight].size;
          const scratch = this.backwardScratch!;
          r.flat(KERNELS.convWeightPartials, [fields, ...geometry, 0, batch, 0, 0], { 1: dy, 3: scratch, 4: this.outputs[layer.input] }, fields * weightCount);
          r.flat(KERNELS.sumCotangentRows, [cotangents, batch, weightCount, row, dimension], { 1: scratch, 2: gradients }, cotangents * weightCount);
        }
        if (wants(layer.input)) {
          const dx = fieldOf.get(layer.input)!;
          r.flat(KERNELS.convBackwardInput, [fields, ...geometry, accumulate(layer.input), batch, 0, 0], { 1: dy, 2: this.weight(layer.weight), 3: dx }, fields * tensorSize(inShape));
        }
        return;
      }
      case 'batchnorm': {
        const row = gradientRow(layer.gamma);
        const params = [fields, batch, channels, height * width, accumulate(layer.input), row !== undefined ? 1 : 0, row ?? 0, dimension];
        const scratch = this.backwardScratch!;
        const means = this.gradientStats!;
        r.flat(KERNELS.bnGradientRowSums, params, { 1: dy, 4: scratch, 5: this.normalised.get(id)! }, fields * channels);
        r.flat(KERNELS.bnGradientStats, params, { 1: scratch, 6: means, 7: row !== undefined ? gradients : this.dummies[0] }, cotangents * channels);
        if (wants(layer.input)) {
          const bindings = { 1: dy, 2: this.weight(layer.gamma), 3: this.statistics.get(id)!, 4: fieldOf.get(layer.input)!, 5: this.normalised.get(id)!, 6: means };
          r.flat(KERNELS.bnInputGradient, params, bindings, fields * size);
        }
        return;
      }
      case 'relu':
        if (wants(layer.input)) {
          r.flat(KERNELS.reluBackward, [fields * size, batch * size, accumulate(layer.input), 0], { 1: dy, 2: fieldOf.get(layer.input)!, 3: this.outputs[id] }, fields * size);
        }
        return;
      case 'avgpool':
      case 'maxpool': {
        if (!wants(layer.input)) return;
        const inShape = this.network.layers[layer.input].shape;
        const params = [fields * channels, batch * channels, inShape.height, inShape.width, height, width, layer.kernel, layer.stride, layer.padding, accumulate(layer.input)];
        const bindings: Record<number, GPUBuffer> = { 1: dy, 2: fieldOf.get(layer.input)! };
        if (layer.kind === 'maxpool') bindings[3] = this.outputs[layer.input];
        r.flat(layer.kind === 'avgpool' ? KERNELS.avgpoolBackward : KERNELS.maxpoolBackward, params, bindings, fields * tensorSize(inShape));
        return;
      }
      case 'sum':
        for (const term of layer.terms) {
          if (!wants(term.input)) continue;
          r.flat(KERNELS.scaledAdd, [fields * size, 0, accumulate(term.input), floatBits(term.scale)], { 1: dy, 2: fieldOf.get(term.input)! }, fields * size);
        }
        return;
      case 'concat': {
        let offset = 0;
        for (const input of layer.inputs) {
          const part = tensorSize(this.network.layers[input].shape);
          if (wants(input)) this.copy(dy, fieldOf.get(input)!, fields, part, { srcStride: size, srcOffset: offset, accumulate: accumulate(input) === 1 });
          offset += part;
        }
        return;
      }
      case 'gap': {
        if (!wants(layer.input)) return;
        const inShape = this.network.layers[layer.input].shape;
        const hw = inShape.height * inShape.width;
        r.flat(KERNELS.gapBackward, [fields * channels * hw, 0, accumulate(layer.input), 0, 0, hw], { 1: dy, 2: fieldOf.get(layer.input)! }, fields * channels * hw);
        return;
      }
      case 'linear': {
        const inFeatures = tensorSize(this.network.layers[layer.input].shape);
        const row = gradientRow(layer.weight);
        if (row !== undefined) {
          r.flat(
            KERNELS.linearBackwardWeight,
            [fields, inFeatures, channels, 0, batch, cotangents, row, dimension],
            { 1: dy, 4: gradients, 5: this.outputs[layer.input] },
            cotangents * channels * inFeatures,
          );
        }
        if (wants(layer.input)) {
          r.flat(
            KERNELS.linearBackwardInput,
            [fields, inFeatures, channels, accumulate(layer.input), batch, cotangents, 0, 0],
            { 1: dy, 2: this.weight(layer.weight), 4: fieldOf.get(layer.input)! },
            fields * inFeatures,
          );
        }
        return;
      }
    }
  }
}

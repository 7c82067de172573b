/// <reference types="@webgpu/types" />
import { gradientFlow, type GradientFlow } from '../../graph/gradient-flow.js';
import { layerParams, ntkColumns, tensorSize, type LayerId, type Network } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import { cotangentCount, outputSize, type Cotangents } from '../backend.js';
import type { BufferPool } from './buffers.js';
import { DispatchRecorder, KERNELS } from './kernels.js';
import { gpuLayer } from './layers.js';

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
export function chooseChunk(network: Network, batch: number, limits: ChunkLimits, flow: GradientFlow = gradientFlow(network)): number {
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
 * Records one network evaluation on the device: forward passes over a batch (keeping what the
 * backward needs), reverse passes in chunks of cotangents, sign packing of captured layers. Each
 * layer kind's kernels are in `layers.ts`. Nothing runs until the caller encodes `recorder` and submits.
 */
export class WebGpuNetworkExecution {
  readonly recorder = new DispatchRecorder();
  private readonly acquired: GPUBuffer[] = [];
  readonly outputs: GPUBuffer[];
  readonly normalised = new Map<LayerId, GPUBuffer>();
  /** BatchNorm: (mean, 1/σ) per channel. */
  readonly statistics = new Map<LayerId, GPUBuffer>();
  /** Per-(sample, channel) partial sums of the BatchNorm forward. */
  readonly forwardScratch: GPUBuffer;
  /** Backward scratch (partial sums per gradient field) and per-(cotangent, channel) BN means, sized per chunk. */
  private scratch: { partials: GPUBuffer; means: GPUBuffer } | undefined;
  private readonly weightBuffers: (GPUBuffer | undefined)[];
  /** Stand-ins for writable bindings a dispatch declares but does not use (two, so they never alias). */
  readonly dummies: [GPUBuffer, GPUBuffer];

  constructor(
    private readonly gpu: GpuResources,
    readonly network: Network,
    weights: Weights,
    readonly batch: number,
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
    const used = new Set(network.layers.flatMap(layerParams));
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

  /** A storage buffer holding `data`. */
  upload(data: Float32Array): GPUBuffer {
    const buffer = this.storage(data.length);
    this.gpu.device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
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

  /** Copies `rows` rows of `rowLength` floats between buffers (strides and offsets in floats). */
  copy(from: GPUBuffer, to: GPUBuffer, rows: number, rowLength: number, shape: { srcStride?: number; dstStride?: number; srcOffset?: number; dstOffset?: number; accumulate?: boolean } = {}): void {
    const { srcStride = rowLength, dstStride = rowLength, srcOffset = 0, dstOffset = 0, accumulate = false } = shape;
    this.recorder.flat(KERNELS.stridedCopy, { accumulate, rows, rowLength, srcStride, dstStride, srcOffset, dstOffset }, { 1: from, 2: to }, rows * rowLength);
  }

  /** Forward pass over the batch held in `inputs` from float `inputOffset` on. */
  recordForward(inputs: GPUBuffer, inputOffset = 0): void {
    const inputFloats = this.batch * tensorSize(this.network.input);
    this.copy(inputs, this.outputs[0], 1, inputFloats, { srcOffset: inputOffset });
    this.network.layers.forEach((layer, id) => gpuLayer(layer).forward(this, layer, id));
  }

  /** Sets the sign bits of `layers`' outputs in rows firstRow.. of `packed` (rows of `words` u32). */
  recordSigns(layers: readonly LayerId[], packed: GPUBuffer, words: number, firstRow: number): void {
    let bitOffset = 0;
    for (const id of layers) {
      const size = tensorSize(this.network.layers[id].shape);
      const count = this.batch * size;
      this.recorder.flat(KERNELS.packSigns, { count, size, words, bitOffset, firstRow }, { 1: this.outputs[id], 2: packed }, count);
      bitOffset += size;
    }
  }

  weight(param: number): GPUBuffer {
    const buffer = this.weightBuffers[param];
    if (!buffer) throw new Error(`parameter ${this.network.params[param].name} was not uploaded`);
    return buffer;
  }

  backwardScratch(): GPUBuffer {
    if (!this.scratch) throw new Error('backward scratch used outside recordBackward');
    return this.scratch.partials;
  }

  gradientStats(): GPUBuffer {
    if (!this.scratch) throw new Error('backward scratch used outside recordBackward');
    return this.scratch.means;
  }

  /**
   * After `recordForward`: one reverse pass per cotangent, `chunk` at a time. Returns G
   * (count × dimension floats) on the device, each cotangent's weight gradients summed into its
   * row there, with `withInputGradient` the input gradients (count × batch × input size), and the
   * output gradient of each layer of `captured` (count × batch × layer size each; zero where none flows).
   */
  recordBackward(
    cotangents: Cotangents,
    chunk: number,
    flow: GradientFlow,
    withInputGradient: boolean,
    captured: readonly LayerId[] = [],
  ): { gradients: GPUBuffer; dimension: number; inputGradients?: GPUBuffer; layerGradients: GPUBuffer[] } {
    const { columns, dimension } = ntkColumns(this.network);
    const columnOffset = new Map(columns.map((column) => [column.param, column.offset]));
    const n = this.batch;
    const count = cotangentCount(cotangents, n);
    const gradients = this.storage(count * dimension);
    this.recorder.flat(KERNELS.fillZero, { count: count * dimension }, { 2: gradients }, count * dimension);
    const inputFloats = n * tensorSize(this.network.input);
    const inputGradients = withInputGradient ? this.storage(count * inputFloats) : undefined;
    if (inputGradients) this.recorder.flat(KERNELS.fillZero, { count: count * inputFloats }, { 2: inputGradients }, count * inputFloats);
    const capturedFloats = captured.map((id) => n * tensorSize(this.network.layers[id].shape));
    const layerGradients = capturedFloats.map((floats) => {
      const buffer = this.storage(count * floats);
      this.recorder.flat(KERNELS.fillZero, { count: count * floats }, { 2: buffer }, count * floats);
      return buffer;
    });
    const given = cotangents.kind === 'given' ? this.upload(cotangents.data) : undefined;
    const slotFloats = chunk * n * largestCarriedLayer(this.network, flow);
    const widest = this.network.layers.reduce((most, layer) => (layer.kind === 'batchnorm' ? Math.max(most, layer.shape.channels) : most), 1);
    this.scratch = { partials: this.storage(chunk * n * backwardScratchFloats(this.network)), means: this.storage(chunk * 2 * widest) };
    const slots: GPUBuffer[] = [];
    const freeSlots: GPUBuffer[] = [];
    const last = this.network.layers.length - 1;
    const classes = outputSize(this.network);
    for (let first = 0; first < count; first += chunk) {
      const chunkCount = Math.min(chunk, count - first);
      const fieldOf = new Map<LayerId, GPUBuffer>();
      const take = (id: LayerId): void => {
        let slot = freeSlots.pop();
        if (!slot) slots.push((slot = this.storage(slotFloats)));
        fieldOf.set(id, slot);
      };
      take(last);
      const seedFloats = chunkCount * n * classes;
      if (given) this.copy(given, fieldOf.get(last)!, 1, seedFloats, { srcOffset: first * n * classes });
      else this.recorder.flat(KERNELS.seedCotangents, { count: seedFloats, rowLength: classes, batch: n, firstCotangent: first }, { 2: fieldOf.get(last)! }, seedFloats);
      for (let id = last; id >= 0; id--) {
        if (!flow.carries[id]) continue;
        for (const input of flow.writes.get(id) ?? []) take(input);
        captured.forEach((capturedId, index) => {
          if (capturedId === id) this.copy(fieldOf.get(id)!, layerGradients[index], 1, chunkCount * capturedFloats[index], { dstOffset: first * capturedFloats[index] });
        });
        const layer = this.network.layers[id];
        gpuLayer(layer).backward(this, layer, id, {
          dy: fieldOf.get(id)!,
          cotangents: chunkCount,
          accumulate: (input) => !flow.writes.get(id)?.has(input),
          wants: (input) => flow.carries[input],
          field: (input) => fieldOf.get(input)!,
          gradientRow: (param) => {
            const offset = columnOffset.get(param);
            return offset === undefined ? undefined : first * dimension + offset;
          },
          gradients,
          dimension,
        });
        if (id === 0 && inputGradients) this.copy(fieldOf.get(0)!, inputGradients, 1, chunkCount * inputFloats, { dstOffset: first * inputFloats });
        freeSlots.push(fieldOf.get(id)!);
        fieldOf.delete(id);
      }
    }
    return { gradients, dimension, inputGradients, layerGradients };
  }
}

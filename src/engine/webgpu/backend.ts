/// <reference types="@webgpu/types" />
import { gradientFlow, type GradientFlow } from '../../graph/gradient-flow.js';
import { ntkColumns, tensorSize, type Network } from '../../graph/ir.js';
import {
  checkForwardRequest,
  checkVjpRequest,
  batchNormLayers,
  cotangentCount,
  executedNetwork,
  reduceGradientRows,
  variancesFromInverseStd,
  type Backend,
  type ForwardRequest,
  type ForwardResult,
  type VjpRequest,
  type VjpResult,
} from '../backend.js';
import { activeKernelProfile } from '../profile.js';
import { WasmBackend } from '../wasm/backend.js';
import { BufferPool } from './buffers.js';
import { acquireGpu, type AdapterFacts, type GpuContext } from './device.js';
import { chooseChunk, WebGpuNetworkExecution } from './executor.js';
import { KERNELS } from './kernels.js';
import { PipelineCache } from './pipelines.js';
import { DispatchTimestamps, recordDispatchTimes } from './timestamps.js';

export interface WebGpuBackendOptions {
  /** Upper bound on cotangents per backward chunk (tests force small chunks with it). */
  readonly maxChunk?: number;
  /** Bytes all gradient fields of a chunk may take together (default 512 MiB). */
  readonly memoryBudgetBytes?: number;
  /** Test hooks: `afterSubmit` runs after an evaluation's work is submitted, before its read-back. */
  readonly testHooks?: { afterSubmit?(device: GPUDevice, attempt: number): void };
}

/** What the last evaluation cost: the NTK of one network should be a handful of submits and one read-back. */
export interface WebGpuEvaluationStats {
  readonly kind: 'forward' | 'vjp';
  readonly dispatches: number;
  readonly submits: number;
  readonly readbacks: number;
  readonly chunk: number;
  readonly chunks: number;
  readonly attempts: number;
  readonly fellBackToWasm: boolean;
}

interface DeviceState {
  readonly gpu: GpuContext;
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  lost: boolean;
}

interface ReadbackPart {
  readonly buffer: GPUBuffer;
  readonly floats: number;
}

const DEFAULT_MEMORY_BUDGET = 512 * 2 ** 20;

/**
 * The WebGPU backend: each evaluation is recorded as one compute pass (forward, every backward
 * chunk), submitted once and read back once. A lost device is recreated and the evaluation retried
 * once; if that fails too, the evaluation runs on WebAssembly.
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly info: Record<string, string>;
  lastStats: WebGpuEvaluationStats | undefined;
  private state: DeviceState | undefined;
  private wasm: WasmBackend | undefined;
  private disposed = false;

  private constructor(
    private readonly options: WebGpuBackendOptions,
    facts: AdapterFacts,
  ) {
    this.info = {
      adapter: `${facts.vendor || 'unknown vendor'} ${facts.architecture || ''}`.trim(),
      vendor: facts.vendor,
      architecture: facts.architecture,
      description: facts.description,
      isFallbackAdapter: String(facts.isFallbackAdapter),
    };
  }

  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const gpu = await acquireGpu();
    const backend = new WebGpuBackend(options, gpu.facts);
    backend.adopt(gpu);
    return backend;
  }

  /** Facts of the current adapter, for reports. */
  get facts(): Readonly<Record<string, string>> {
    return this.info;
  }

  /** The live device (tests use it to simulate a loss). */
  get device(): GPUDevice | undefined {
    return this.state?.gpu.device;
  }

  private adopt(gpu: GpuContext): DeviceState {
    const state: DeviceState = { gpu, pipelines: new PipelineCache(gpu.device), pool: new BufferPool(gpu.device), lost: false };
    gpu.device.lost.then(() => {
      state.lost = true;
    });
    this.state = state;
    return state;
  }

  private async liveState(): Promise<DeviceState> {
    if (this.disposed) throw new Error('the WebGPU backend was disposed');
    if (this.state && !this.state.lost) return this.state;
    this.state?.pool.destroy();
    return this.adopt(await acquireGpu());
  }

  async forward(request: ForwardRequest): Promise<ForwardResult> {
    const network = executedNetwork(request);
    checkForwardRequest(request, network);
    const { batch, inputs, capture } = request;
    const sampleFloats = tensorSize(network.input);
    return this.evaluate(
      'forward',
      async (state, attempt): Promise<ForwardResult> => {
        const run = new WebGpuNetworkExecution({ device: state.gpu.device, pool: state.pool }, network, request.weights, batch);
        try {
          const all = new Float32Array(inputs.length * batch * sampleFloats);
          inputs.forEach((input, index) => all.set(input, index * batch * sampleFloats));
          const uploaded = run.upload(all);
          const layers = capture?.layers ?? [];
          const sizes = layers.map((id) => batch * tensorSize(network.layers[id].shape));
          const capturedFloats = sizes.reduce((total, size) => total + size, 0);
          const features = capturedFloats / batch;
          const words = Math.max(1, Math.ceil(features / 32));
          const rows = inputs.length * batch;
          const packed = capture?.as === 'signs' ? run.storage(rows * words) : undefined;
          if (packed) run.recorder.flat(KERNELS.fillZero, { count: rows * words }, { 2: packed }, rows * words);
          // One buffer per captured layer, so that many large layers never need one oversized binding.
          const values = capture?.as === 'values' ? sizes.map((size) => run.storage(inputs.length * size)) : undefined;
          // Each BN's (mean, 1/σ) pairs, copied after each batch's forward (the next one overwrites them).
          const normLayers = request.batchNormVariances ? batchNormLayers(network) : [];
          const statFloats = normLayers.reduce((total, id) => total + 2 * network.layers[id].shape.channels, 0);
          const statistics = normLayers.length > 0 ? run.storage(inputs.length * statFloats) : undefined;
          const single = inputs.length === 1;
          const logitsAll = single ? run.logitsBuffer : run.storage(inputs.length * run.logitsFloats);
          inputs.forEach((_, index) => {
            run.recordForward(uploaded, index * batch * sampleFloats);
            if (packed) run.recordSigns(layers, packed, words, index * batch);
            if (values) layers.forEach((id, l) => run.copy(run.outputs[id], values[l], 1, sizes[l], { dstOffset: index * sizes[l] }));
            if (!single) run.copy(run.logitsBuffer, logitsAll, 1, run.logitsFloats, { dstOffset: index * run.logitsFloats });
            if (statistics) {
              let offset = index * statFloats;
              for (const id of normLayers) {
                const floats = 2 * network.layers[id].shape.channels;
                run.copy(run.statistics.get(id)!, statistics, 1, floats, { dstOffset: offset });
                offset += floats;
              }
            }
          });
          const parts = [{ buffer: logitsAll, floats: inputs.length * run.logitsFloats }];
          if (packed) parts.push({ buffer: packed, floats: rows * words });
          if (values) values.forEach((buffer, l) => parts.push({ buffer, floats: inputs.length * sizes[l] }));
          if (statistics) parts.push({ buffer: statistics, floats: inputs.length * statFloats });
          const [logitsData, ...rest] = await this.submitAndRead(state, run, parts, attempt);
          this.record('forward', run, 1, 1, attempt);
          const logits = inputs.map((_, index) => logitsData.slice(index * run.logitsFloats, (index + 1) * run.logitsFloats));
          const variances = statistics ? { batchNormVariances: inputs.map((_, index) => splitVariances(rest[rest.length - 1], index * statFloats, normLayers.map((id) => network.layers[id].shape.channels))) } : {};
          if (packed) {
            const bits = new Uint32Array(rest[0].buffer, rest[0].byteOffset, rest[0].length);
            return { logits, signs: { packed: bits, rows, words, features, firings: layers.length }, ...variances };
          }
          if (values) {
            const activations = inputs.map((_, index) => sizes.map((size, l) => rest[l].slice(index * size, (index + 1) * size)));
            return { logits, activations, ...variances };
          }
          return { logits, ...variances };
        } finally {
          run.release();
        }
      },
      (wasm) => wasm.forward(request),
    );
  }

  async vjp(request: VjpRequest): Promise<VjpResult> {
    const network = executedNetwork(request);
    checkVjpRequest(request, network);
    const { batch } = request;
    const withInputGradient = request.inputGradient === true;
    return this.evaluate(
      'vjp',
      async (state, attempt) => {
        const run = new WebGpuNetworkExecution({ device: state.gpu.device, pool: state.pool }, network, request.weights, batch);
        try {
          run.recordForward(run.upload(request.input));
          const count = cotangentCount(request.cotangents, batch);
          const captured = request.captureGradients ?? [];
          const flow = gradientFlow(network, { toInput: withInputGradient, toLayers: captured });
          const chunk = Math.min(count, this.chunkFor(state, network, batch, flow));
          const { gradients, dimension, inputGradients, layerGradients } = run.recordBackward(request.cotangents, chunk, flow, withInputGradient, captured);
          const inputFloats = count * batch * tensorSize(network.input);
          const parts = [
            { buffer: gradients, floats: count * dimension },
            { buffer: run.logitsBuffer, floats: run.logitsFloats },
            ...layerGradients.map((buffer, index) => ({ buffer, floats: count * batch * tensorSize(network.layers[captured[index]].shape) })),
          ];
          if (inputGradients) parts.push({ buffer: inputGradients, floats: inputFloats });
          const [data, logits, ...rest] = await this.submitAndRead(state, run, parts, attempt);
          this.record('vjp', run, chunk, Math.ceil(count / chunk), attempt);
          return {
            logits,
            gradients: reduceGradientRows({ data, rows: count, columns: dimension }, network, request.reduce),
            columns: ntkColumns(network).columns,
            ...(inputGradients ? { inputGradients: rest[captured.length] } : {}),
            ...(request.captureGradients ? { layerGradients: rest.slice(0, captured.length) } : {}),
          };
        } finally {
          run.release();
        }
      },
      (wasm) => wasm.vjp(request),
    );
  }

  dispose(): void {
    this.disposed = true;
    const state = this.state;
    this.state = undefined;
    if (state) {
      state.pool.destroy();
      state.gpu.device.destroy();
    }
    this.wasm?.dispose();
  }

  private chunkFor(state: DeviceState, network: Network, batch: number, flow: GradientFlow): number {
    const limits = state.gpu.device.limits;
    const chunkLimits = {
      maxBindingBytes: Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize),
      memoryBudgetBytes: this.options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET,
      maxChunk: this.options.maxChunk ?? Number.POSITIVE_INFINITY,
    };
    return chooseChunk(network, batch, chunkLimits, flow);
  }

  private record(kind: WebGpuEvaluationStats['kind'], run: WebGpuNetworkExecution, chunk: number, chunks: number, attempt: number): void {
    this.lastStats = { kind, dispatches: run.recorder.count, submits: 1, readbacks: 1, chunk, chunks, attempts: attempt + 1, fellBackToWasm: false };
  }

  /** Encodes everything recorded, submits it as one command buffer and maps one read-back buffer. */
  private async submitAndRead(state: DeviceState, run: WebGpuNetworkExecution, parts: ReadbackPart[], attempt: number): Promise<Float32Array[]> {
    const device = state.gpu.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const profile = activeKernelProfile();
    const timestamps = profile && device.features.has('timestamp-query') ? new DispatchTimestamps(device, run.recorder.count) : undefined;
    const uniforms = await run.recorder.encode(device, state.pipelines, state.pool, encoder, timestamps);
    timestamps?.resolve(encoder);
    const totalFloats = parts.reduce((total, part) => total + part.floats, 0);
    const readback = state.pool.acquire(totalFloats * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    let offset = 0;
    for (const part of parts) {
      encoder.copyBufferToBuffer(part.buffer, 0, readback, offset * 4, part.floats * 4);
      offset += part.floats;
    }
    device.queue.submit([encoder.finish()]);
    const validation = device.popErrorScope();
    const memory = device.popErrorScope();
    this.options.testHooks?.afterSubmit?.(device, attempt);
    try {
      const errors = await Promise.all([validation, memory]);
      const error = errors.find((e) => e !== null);
      if (error) throw new Error(`WebGPU error: ${error.message}`);
      await readback.mapAsync(GPUMapMode.READ, 0, totalFloats * 4);
      const all = new Float32Array(readback.getMappedRange(0, totalFloats * 4).slice(0));
      readback.unmap();
      if (profile && timestamps) recordDispatchTimes(profile, run.recorder.recorded(), await timestamps.seconds());
      let start = 0;
      return parts.map((part) => {
        const view = all.subarray(start, start + part.floats);
        start += part.floats;
        return view;
      });
    } finally {
      if (!state.lost) state.pool.release(uniforms ? [readback, uniforms] : [readback]);
    }
  }

  private async evaluate<T>(kind: WebGpuEvaluationStats['kind'], run: (state: DeviceState, attempt: number) => Promise<T>, onWasm: (wasm: WasmBackend) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      const state = await this.liveState();
      try {
        return await run(state, attempt);
      } catch (error) {
        if (!(await wasLost(state))) throw error;
        lastError = error;
      }
    }
    console.warn(`tenas: the WebGPU device was lost twice (${(lastError as Error)?.message ?? lastError}); this ${kind} evaluation runs on WebAssembly`);
    this.wasm ??= await WasmBackend.create();
    const result = await onWasm(this.wasm);
    this.lastStats = { kind, dispatches: 0, submits: 0, readbacks: 0, chunk: 0, chunks: 0, attempts: 2, fellBackToWasm: true };
    return result;
  }
}

/** Per BN layer, the variances behind the interleaved (mean, 1/σ) pairs read back from `offset` on. */
function splitVariances(data: Float32Array, offset: number, channels: readonly number[]): Float64Array[] {
  return channels.map((count) => {
    const pairs = data.subarray(offset, (offset += 2 * count));
    return variancesFromInverseStd(Array.from({ length: count }, (_, channel) => pairs[2 * channel + 1]));
  });
}

/** Whether the device is lost (the loss is reported asynchronously, shortly after the failure). */
async function wasLost(state: DeviceState): Promise<boolean> {
  if (state.lost) return true;
  await Promise.race([state.gpu.device.lost, new Promise((resolve) => setTimeout(resolve, 200))]);
  return state.lost;
}

/// <reference types="@webgpu/types" />
import { tensorSize, type Network } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import type { Backend, GradientMatrix, PatternMatrix } from '../backend.js';
import { WasmBackend } from '../wasm/backend.js';
import { BufferPool } from './buffers.js';
import { acquireGpu, type AdapterFacts, type GpuContext } from './device.js';
import { chooseChunk, WebGpuNetworkExecution } from './executor.js';
import { KERNELS } from './kernels.js';
import { PipelineCache } from './pipelines.js';

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
  readonly kind: 'forward' | 'ntk' | 'patterns';
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

  async forward(network: Network, weights: Weights, input: Float32Array, batch: number): Promise<Float32Array> {
    return this.evaluate(
      'forward',
      async (state, attempt) => {
        const run = new WebGpuNetworkExecution({ device: state.gpu.device, pool: state.pool }, network, weights, batch);
        try {
          const inputs = this.upload(state, run, input);
          run.recordForward(inputs);
          const [logits] = await this.submitAndRead(state, run, [{ buffer: run.logitsBuffer, floats: run.logitsFloats }], attempt);
          this.record('forward', run, 1, 1, attempt);
          return logits;
        } finally {
          run.release();
        }
      },
      (wasm) => wasm.forward(network, weights, input, batch),
    );
  }

  async ntkGradients(network: Network, weights: Weights, input: Float32Array, batch: number): Promise<{ gradients: GradientMatrix; logits: Float32Array }> {
    return this.evaluate(
      'ntk',
      async (state, attempt) => {
        const run = new WebGpuNetworkExecution({ device: state.gpu.device, pool: state.pool }, network, weights, batch);
        try {
          const inputs = this.upload(state, run, input);
          run.recordForward(inputs);
          const chunk = this.chunkFor(state, network, batch);
          const { gradients, dimension } = run.recordNtkGradients(chunk);
          const [data, logits] = await this.submitAndRead(
            state,
            run,
            [
              { buffer: gradients, floats: batch * dimension },
              { buffer: run.logitsBuffer, floats: run.logitsFloats },
            ],
            attempt,
          );
          this.record('ntk', run, chunk, Math.ceil(batch / chunk), attempt);
          return { gradients: { data, rows: batch, columns: dimension }, logits };
        } finally {
          run.release();
        }
      },
      (wasm) => wasm.ntkGradients(network, weights, input, batch),
    );
  }

  async activationPatterns(network: Network, weights: Weights, batches: Float32Array[], batchSize: number): Promise<{ patterns: PatternMatrix; logits: Float32Array[] }> {
    const sampleFloats = tensorSize(network.input);
    for (const input of batches) if (input.length !== batchSize * sampleFloats) throw new RangeError('patch batch has the wrong size');
    return this.evaluate(
      'patterns',
      async (state, attempt) => {
        const run = new WebGpuNetworkExecution({ device: state.gpu.device, pool: state.pool }, network, weights, batchSize);
        try {
          const features = run.reluLayers().reduce((total, relu) => total + relu.size, 0);
          const words = Math.max(1, Math.ceil(features / 32));
          const rows = batches.length * batchSize;
          const all = new Float32Array(rows * sampleFloats);
          batches.forEach((input, index) => all.set(input, index * batchSize * sampleFloats));
          const inputs = this.upload(state, run, all);
          const packed = run.storage(rows * words);
          run.recorder.flat(KERNELS.fillZero, [rows * words], { 2: packed }, rows * words);
          const logitsAll = run.storage(batches.length * run.logitsFloats);
          batches.forEach((_, index) => {
            run.recordForward(inputs, index * batchSize * sampleFloats);
            run.recordPatterns(packed, words, index * batchSize);
            run.copy(run.logitsBuffer, logitsAll, 1, run.logitsFloats, { dstOffset: index * run.logitsFloats });
          });
          const [bits, logits] = await this.submitAndRead(
            state,
            run,
            [
              { buffer: packed, floats: rows * words },
              { buffer: logitsAll, floats: batches.length * run.logitsFloats },
            ],
            attempt,
          );
          this.record('patterns', run, 1, 1, attempt);
          const packedWords = new Uint32Array(bits.buffer, bits.byteOffset, bits.length);
          const patterns = { packed: packedWords, rows, words, features, firings: run.reluLayers().length };
          return { patterns, logits: batches.map((_, index) => logits.slice(index * run.logitsFloats, (index + 1) * run.logitsFloats)) };
        } finally {
          run.release();
        }
      },
      (wasm) => wasm.activationPatterns(network, weights, batches, batchSize),
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

  private chunkFor(state: DeviceState, network: Network, batch: number): number {
    const limits = state.gpu.device.limits;
    return chooseChunk(network, batch, {
      maxBindingBytes: Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize),
      memoryBudgetBytes: this.options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET,
      maxChunk: this.options.maxChunk ?? Number.POSITIVE_INFINITY,
    });
  }

  private upload(state: DeviceState, run: WebGpuNetworkExecution, data: Float32Array): GPUBuffer {
    const buffer = run.storage(data.length);
    state.gpu.device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    return buffer;
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
    const uniforms = await run.recorder.encode(device, state.pipelines, state.pool, encoder);
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

/** Whether the device is lost (the loss is reported asynchronously, shortly after the failure). */
async function wasLost(state: DeviceState): Promise<boolean> {
  if (state.lost) return true;
  await Promise.race([state.gpu.device.lost, new Promise((resolve) => setTimeout(resolve, 200))]);
  return state.lost;
}

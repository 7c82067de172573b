import { ntkColumns, tensorSize } from '../../graph/ir.js';
import {
  checkForwardRequest,
  checkVjpRequest,
  batchNormLayers,
  executedNetwork,
  reduceGradientRows,
  variancesFromInverseStd,
  type Backend,
  type ForwardRequest,
  type ForwardResult,
  type VjpRequest,
  type VjpResult,
} from '../backend.js';
import { WasmNetworkExecution } from './executor.js';
import { WasmKernels, type KernelBuild } from './module.js';

/** The kernel build each WebAssembly backend runs (see `KernelBuild`). */
export const WASM_KERNEL_BUILDS = { wasm: 'exact', 'wasm-fma': 'fma' } as const satisfies Record<string, KernelBuild>;

type WasmBackendName = keyof typeof WASM_KERNEL_BUILDS;

/** The CPU backend: AssemblyScript kernels with 128-bit SIMD, one instance per thread. */
export class WasmBackend implements Backend {
  readonly info: Record<string, string>;

  private constructor(
    private readonly kernels: WasmKernels,
    readonly name: WasmBackendName,
  ) {
    const fused = WASM_KERNEL_BUILDS[name] === 'fma' ? ', fused multiply-add (relaxed SIMD)' : '';
    this.info = { kernels: `AssemblyScript, 128-bit SIMD${fused}`, threads: '1 per worker' };
  }

  static async create(name: WasmBackendName = 'wasm'): Promise<WasmBackend> {
    return new WasmBackend(await WasmKernels.create(WASM_KERNEL_BUILDS[name]), name);
  }

  async forward(request: ForwardRequest): Promise<ForwardResult> {
    const network = executedNetwork(request);
    checkForwardRequest(request, network);
    const { batch, inputs, capture } = request;
    return this.withMemory(() => {
      const run = new WasmNetworkExecution(this.kernels, network, request.weights, batch);
      const captured = (capture?.layers ?? []).map((id) => ({ id, size: tensorSize(network.layers[id].shape) }));
      const features = captured.reduce((total, layer) => total + layer.size, 0);
      const words = Math.max(1, Math.ceil(features / 32));
      const rows = inputs.length * batch;
      const packed = capture?.as === 'signs' ? this.kernels.alloc(rows * words * 4) : 0;
      if (packed) this.kernels.exports.fill_zero(packed, rows * words);
      const activations: Float32Array[][] = [];
      const normLayers = request.batchNormVariances ? batchNormLayers(network) : [];
      const batchNormVariances: Float64Array[][] = [];
      const logits = inputs.map((input, index) => {
        run.forward(input);
        if (request.batchNormVariances) {
          batchNormVariances.push(normLayers.map((id) => variancesFromInverseStd(this.kernels.f32(run.buffers[id].inverseStd, network.layers[id].shape.channels))));
        }
        if (capture?.as === 'values') activations.push(captured.map((layer) => this.kernels.f32(run.output(layer.id), batch * layer.size).slice()));
        if (packed) {
          let bitOffset = 0;
          for (const layer of captured) {
            this.kernels.exports.pack_signs(run.output(layer.id), batch, layer.size, packed + index * batch * words * 4, words, bitOffset);
            bitOffset += layer.size;
          }
        }
        return run.logits();
      });
      const variances = request.batchNormVariances ? { batchNormVariances } : {};
      if (capture?.as === 'values') return { logits, activations, ...variances };
      if (packed) return { logits, signs: { packed: this.kernels.u32(packed, rows * words).slice(), rows, words, features, firings: captured.length }, ...variances };
      return { logits, ...variances };
    });
  }

  async vjp(request: VjpRequest): Promise<VjpResult> {
    const network = executedNetwork(request);
    checkVjpRequest(request, network);
    const { batch } = request;
    return this.withMemory(() => {
      const run = new WasmNetworkExecution(this.kernels, network, request.weights, batch);
      run.forward(request.input);
      const logits = run.logits();
      const { rows, dimension, count, inputGradients, layerGradients } = run.backward(request.cotangents, request.inputGradient === true, request.captureGradients);
      const gradients = { data: this.kernels.f32(rows, count * dimension).slice(), rows: count, columns: dimension };
      const inputFloats = count * batch * tensorSize(network.input);
      return {
        logits,
        gradients: reduceGradientRows(gradients, network, request.reduce),
        columns: ntkColumns(network).columns,
        ...(inputGradients ? { inputGradients: this.kernels.f32(inputGradients, inputFloats).slice() } : {}),
        ...(request.captureGradients ? { layerGradients } : {}),
      };
    });
  }

  dispose(): void {}

  private withMemory<T>(work: () => T): T {
    const mark = this.kernels.mark();
    try {
      return work();
    } finally {
      this.kernels.release(mark);
    }
  }
}

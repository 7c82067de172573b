import { tensorSize, type Network } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import type { Backend, GradientMatrix, PatternMatrix } from '../backend.js';
import { WasmNetworkExecution } from './executor.js';
import { WasmKernels } from './module.js';

/** The CPU backend: AssemblyScript kernels with 128-bit SIMD, one instance per thread. */
export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly info = { kernels: 'AssemblyScript, 128-bit SIMD', threads: '1 per worker' };

  private constructor(private readonly kernels: WasmKernels) {}

  static async create(): Promise<WasmBackend> {
    return new WasmBackend(await WasmKernels.create());
  }

  async forward(network: Network, weights: Weights, input: Float32Array, batch: number): Promise<Float32Array> {
    return this.withMemory(() => {
      const run = new WasmNetworkExecution(this.kernels, network, weights, batch);
      run.forward(input);
      return run.logits();
    });
  }

  async ntkGradients(network: Network, weights: Weights, input: Float32Array, batch: number): Promise<{ gradients: GradientMatrix; logits: Float32Array }> {
    return this.withMemory(() => {
      const run = new WasmNetworkExecution(this.kernels, network, weights, batch);
      run.forward(input);
      const logits = run.logits();
      const { pointer, dimension } = run.ntkGradients();
      const data = this.kernels.f32(pointer, batch * dimension).slice();
      return { gradients: { data, rows: batch, columns: dimension }, logits };
    });
  }

  async activationPatterns(network: Network, weights: Weights, batches: Float32Array[], batchSize: number): Promise<{ patterns: PatternMatrix; logits: Float32Array[] }> {
    return this.withMemory(() => {
      const run = new WasmNetworkExecution(this.kernels, network, weights, batchSize);
      const relus = run.reluLayers();
      const features = relus.reduce((total, relu) => total + relu.size, 0);
      const words = Math.max(1, Math.ceil(features / 32));
      const rows = batches.length * batchSize;
      const packed = this.kernels.alloc(rows * words * 4);
      this.kernels.exports.fill_zero(packed, rows * words);
      const logits = batches.map((input, index) => {
        if (input.length !== batchSize * tensorSize(network.input)) throw new RangeError('patch batch has the wrong size');
        run.forward(input);
        let bitOffset = 0;
        for (const relu of relus) {
          this.kernels.exports.pack_signs(relu.pointer, batchSize, relu.size, packed + index * batchSize * words * 4, words, bitOffset);
          bitOffset += relu.size;
        }
        return run.logits();
      });
      const patterns = { packed: this.kernels.u32(packed, rows * words).slice(), rows, words, features, firings: relus.length };
      return { patterns, logits };
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

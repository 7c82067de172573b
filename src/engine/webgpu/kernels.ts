/// <reference types="@webgpu/types" />
import batchnormSource from '../../../shaders/batchnorm.wgsl';
import convSource from '../../../shaders/conv.wgsl';
import elementwiseSource from '../../../shaders/elementwise.wgsl';
import linearSource from '../../../shaders/linear.wgsl';
import patternsSource from '../../../shaders/patterns.wgsl';
import poolSource from '../../../shaders/pool.wgsl';
import reduceSource from '../../../shaders/reduce.wgsl';
import type { BufferPool } from './buffers.js';
import type { KernelRef, PipelineCache } from './pipelines.js';

export interface Kernel extends KernelRef {
  /** Invocations per workgroup along x, for kernels dispatched over a flat index space. */
  readonly workgroupSize: number;
}

const kernel = (source: string, entryPoint: string, workgroupSize: number): Kernel => ({ source, entryPoint, workgroupSize });

export const KERNELS = {
  reluForward: kernel(elementwiseSource, 'relu_forward', 256),
  reluBackward: kernel(elementwiseSource, 'relu_backward', 256),
  scaledAdd: kernel(elementwiseSource, 'scaled_add', 256),
  fillZero: kernel(elementwiseSource, 'fill_zero', 256),
  stridedCopy: kernel(elementwiseSource, 'strided_copy', 256),
  gapForward: kernel(elementwiseSource, 'gap_forward', 256),
  gapBackward: kernel(elementwiseSource, 'gap_backward', 256),
  seedCotangents: kernel(elementwiseSource, 'seed_cotangents', 256),
  convForward: kernel(convSource, 'conv_forward', 64),
  convBackwardInput: kernel(convSource, 'conv_backward_input', 64),
  convWeightPartials: kernel(convSource, 'conv_weight_partials', 64),
  sumCotangentRows: kernel(reduceSource, 'sum_cotangent_rows', 256),
  bnRowSums: kernel(batchnormSource, 'bn_row_sums', 256),
  bnRowSquareSums: kernel(batchnormSource, 'bn_row_square_sums', 256),
  bnMean: kernel(batchnormSource, 'bn_mean', 256),
  bnInverseStd: kernel(batchnormSource, 'bn_inverse_std', 256),
  bnNormalise: kernel(batchnormSource, 'bn_normalise', 256),
  bnGradientRowSums: kernel(batchnormSource, 'bn_gradient_row_sums', 256),
  bnGradientStats: kernel(batchnormSource, 'bn_gradient_stats', 256),
  bnInputGradient: kernel(batchnormSource, 'bn_input_gradient', 256),
  avgpoolForward: kernel(poolSource, 'avgpool_forward', 256),
  avgpoolBackward: kernel(poolSource, 'avgpool_backward', 256),
  maxpoolForward: kernel(poolSource, 'maxpool_forward', 256),
  maxpoolBackward: kernel(poolSource, 'maxpool_backward', 256),
  linearForward: kernel(linearSource, 'linear_forward', 256),
  linearBackwardInput: kernel(linearSource, 'linear_backward_input', 256),
  linearBackwardWeight: kernel(linearSource, 'linear_backward_weight', 256),
  packSigns: kernel(patternsSource, 'pack_signs', 256),
} satisfies Record<string, Kernel>;

/** The raw bits of a float32, for float fields of a u32 parameter block. */
export function floatBits(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return view.getUint32(0, true);
}

const MAX_WORKGROUPS_PER_DIMENSION = 65_535;
const PARAM_STRIDE = 256;

interface Dispatch {
  readonly kernel: Kernel;
  readonly params: readonly number[];
  readonly bindings: ReadonlyArray<readonly [number, GPUBuffer]>;
  readonly workgroups: readonly [number, number];
}

/**
 * Collects the dispatches of one evaluation, then encodes them into a single compute pass with one
 * uniform buffer holding every dispatch's parameter block (256-byte slots).
 */
export class DispatchRecorder {
  private readonly dispatches: Dispatch[] = [];

  get count(): number {
    return this.dispatches.length;
  }

  /** A dispatch over a grid of workgroups (kernels that own one workgroup per reduction). */
  grid(kernel: Kernel, params: readonly number[], bindings: Record<number, GPUBuffer>, x: number, y = 1): void {
    if (x === 0 || y === 0) return;
    this.dispatches.push({ kernel, params, bindings: Object.entries(bindings).map(([b, buffer]) => [Number(b), buffer] as const), workgroups: [x, y] });
  }

  /** A dispatch of `invocations` threads over a flat index (folded into 2-D past 65,535 workgroups). */
  flat(kernel: Kernel, params: readonly number[], bindings: Record<number, GPUBuffer>, invocations: number): void {
    const groups = Math.ceil(invocations / kernel.workgroupSize);
    const x = Math.min(groups, MAX_WORKGROUPS_PER_DIMENSION);
    this.grid(kernel, params, bindings, x, Math.ceil(groups / Math.max(x, 1)));
  }

  kernels(): Kernel[] {
    return [...new Set(this.dispatches.map((d) => d.kernel))];
  }

  /** Development aid: runs each dispatch on its own and returns milliseconds per entry point. */
  async profile(device: GPUDevice, pipelines: PipelineCache, pool: BufferPool): Promise<Map<string, number>> {
    await pipelines.prepare(this.kernels());
    const uniforms = pool.acquire(this.dispatches.length * PARAM_STRIDE, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const blocks = new Uint32Array((this.dispatches.length * PARAM_STRIDE) / 4);
    this.dispatches.forEach((dispatch, index) => blocks.set(dispatch.params, (index * PARAM_STRIDE) / 4));
    device.queue.writeBuffer(uniforms, 0, blocks);
    const times = new Map<string, number>();
    for (const [index, dispatch] of this.dispatches.entries()) {
      const encoder = device.createCommandEncoder();
      const pipeline = pipelines.get(dispatch.kernel);
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: index * PARAM_STRIDE, size: 64 } }];
      for (const [binding, buffer] of dispatch.bindings) entries.push({ binding, resource: { buffer } });
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
      pass.dispatchWorkgroups(dispatch.workgroups[0], dispatch.workgroups[1]);
      pass.end();
      const start = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      const key = dispatch.kernel.entryPoint + (dispatch.kernel.constants ? JSON.stringify(dispatch.kernel.constants) : '');
      times.set(key, (times.get(key) ?? 0) + performance.now() - start);
    }
    return times;
  }

  /** Encodes everything recorded; returns the uniform buffer, to release once the work completed. */
  async encode(device: GPUDevice, pipelines: PipelineCache, pool: BufferPool, encoder: GPUCommandEncoder): Promise<GPUBuffer | undefined> {
    if (this.dispatches.length === 0) return undefined;
    await pipelines.prepare(this.kernels());
    const uniforms = pool.acquire(this.dispatches.length * PARAM_STRIDE, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const blocks = new Uint32Array((this.dispatches.length * PARAM_STRIDE) / 4);
    this.dispatches.forEach((dispatch, index) => blocks.set(dispatch.params, (index * PARAM_STRIDE) / 4));
    device.queue.writeBuffer(uniforms, 0, blocks);
    const pass = encoder.beginComputePass();
    this.dispatches.forEach((dispatch, index) => {
      const pipeline = pipelines.get(dispatch.kernel);
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: index * PARAM_STRIDE, size: 64 } }];
      for (const [binding, buffer] of dispatch.bindings) entries.push({ binding, resource: { buffer } });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
      pass.dispatchWorkgroups(dispatch.workgroups[0], dispatch.workgroups[1]);
    });
    pass.end();
    return uniforms;
  }
}

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
import type { DispatchTimestamps } from './timestamps.js';

/**
 * A WGSL file and the fields of its `Params` uniform struct, in declaration order (test/ops.test.ts
 * checks them against the WGSL). Dispatches name their parameters; the writer lays them out.
 */
interface Shader<F extends string> {
  readonly name: string;
  readonly source: string;
  readonly fields: readonly F[];
}

const shader = <const F extends string>(name: string, source: string, fields: readonly F[]): Shader<F> => ({ name, source, fields });

export const SHADERS = {
  elementwise: shader('elementwise', elementwiseSource, ['count', 'forwardCount', 'accumulate', 'scaleBits', 'rows', 'rowLength', 'srcStride', 'dstStride', 'srcOffset', 'dstOffset', 'batch', 'firstCotangent']),
  conv: shader('conv', convSource, ['samples', 'inChannels', 'inHeight', 'inWidth', 'outChannels', 'outHeight', 'outWidth', 'kernel', 'stride', 'padding', 'dilation', 'groups', 'accumulate', 'batch', 'gradientRow', 'gradientStride']),
  reduce: shader('reduce', reduceSource, ['cotangents', 'batch', 'width', 'gradientRow', 'gradientStride']),
  batchnorm: shader('batchnorm', batchnormSource, ['samples', 'batch', 'channels', 'plane', 'accumulate', 'writeGamma', 'gradientRow', 'gradientStride']),
  pool: shader('pool', poolSource, ['planes', 'forwardPlanes', 'inHeight', 'inWidth', 'outHeight', 'outWidth', 'kernel', 'stride', 'padding', 'accumulate']),
  linear: shader('linear', linearSource, ['samples', 'inFeatures', 'outFeatures', 'accumulate', 'batch', 'cotangents', 'gradientRow', 'gradientStride']),
  patterns: shader('patterns', patternsSource, ['count', 'size', 'words', 'bitOffset', 'firstRow']),
};

export interface Kernel<F extends string = string> extends KernelRef {
  readonly fields: readonly F[];
  /** Invocations per workgroup along x, for kernels dispatched over a flat index space. */
  readonly workgroupSize: number;
}

const kernel = <F extends string>(from: Shader<F>, entryPoint: string, workgroupSize: number): Kernel<F> => ({
  key: `${from.name}.${entryPoint}`,
  source: from.source,
  entryPoint,
  fields: from.fields,
  workgroupSize,
});

/** A dispatch's parameters by field name; fields left out are 0 (booleans are 0/1, negative i32 fields wrap). */
export type KernelParams<F extends string> = { readonly [K in F]?: number | boolean };

const { elementwise, conv, reduce, batchnorm, pool, linear, patterns } = SHADERS;

export const KERNELS = {
  reluForward: kernel(elementwise, 'relu_forward', 256),
  reluBackward: kernel(elementwise, 'relu_backward', 256),
  scaledAdd: kernel(elementwise, 'scaled_add', 256),
  fillZero: kernel(elementwise, 'fill_zero', 256),
  stridedCopy: kernel(elementwise, 'strided_copy', 256),
  gapForward: kernel(elementwise, 'gap_forward', 256),
  gapBackward: kernel(elementwise, 'gap_backward', 256),
  seedCotangents: kernel(elementwise, 'seed_cotangents', 256),
  convForward: kernel(conv, 'conv_forward', 64),
  convBackwardInput: kernel(conv, 'conv_backward_input', 64),
  convWeightPartials: kernel(conv, 'conv_weight_partials', 64),
  sumCotangentRows: kernel(reduce, 'sum_cotangent_rows', 256),
  bnRowSums: kernel(batchnorm, 'bn_row_sums', 256),
  bnRowSquareSums: kernel(batchnorm, 'bn_row_square_sums', 256),
  bnMean: kernel(batchnorm, 'bn_mean', 256),
  bnInverseStd: kernel(batchnorm, 'bn_inverse_std', 256),
  bnNormalise: kernel(batchnorm, 'bn_normalise', 256),
  bnGradientRowSums: kernel(batchnorm, 'bn_gradient_row_sums', 256),
  bnGradientStats: kernel(batchnorm, 'bn_gradient_stats', 256),
  bnInputGradient: kernel(batchnorm, 'bn_input_gradient', 256),
  avgpoolForward: kernel(pool, 'avgpool_forward', 256),
  avgpoolBackward: kernel(pool, 'avgpool_backward', 256),
  maxpoolForward: kernel(pool, 'maxpool_forward', 256),
  maxpoolBackward: kernel(pool, 'maxpool_backward', 256),
  linearForward: kernel(linear, 'linear_forward', 256),
  linearBackwardInput: kernel(linear, 'linear_backward_input', 256),
  linearBackwardWeight: kernel(linear, 'linear_backward_weight', 256),
  packSigns: kernel(patterns, 'pack_signs', 256),
};

/** The uniform block of one dispatch: each named value at its field's position. */
function paramsBlock<F extends string>(kernel: Kernel<F>, params: KernelParams<F>): number[] {
  return kernel.fields.map((field): number => {
    const value: number | boolean | undefined = params[field];
    return typeof value === 'boolean' ? Number(value) : (value ?? 0);
  });
}

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
  grid<F extends string>(kernel: Kernel<F>, params: KernelParams<F>, bindings: Record<number, GPUBuffer>, x: number, y = 1): void {
    if (x === 0 || y === 0) return;
    this.dispatches.push({ kernel, params: paramsBlock(kernel, params), bindings: Object.entries(bindings).map(([b, buffer]) => [Number(b), buffer] as const), workgroups: [x, y] });
  }

  /** A dispatch of `invocations` threads over a flat index (folded into 2-D past 65,535 workgroups). */
  flat<F extends string>(kernel: Kernel<F>, params: KernelParams<F>, bindings: Record<number, GPUBuffer>, invocations: number): void {
    const groups = Math.ceil(invocations / kernel.workgroupSize);
    const x = Math.min(groups, MAX_WORKGROUPS_PER_DIMENSION);
    this.grid(kernel, params, bindings, x, Math.ceil(groups / Math.max(x, 1)));
  }

  kernels(): Kernel[] {
    return [...new Set(this.dispatches.map((d) => d.kernel))];
  }

  /** The dispatches recorded, in order: each kernel with its parameter block. */
  recorded(): readonly Pick<Dispatch, 'kernel' | 'params'>[] {
    return this.dispatches;
  }

  /**
   * Encodes everything recorded, in one compute pass, or one pass per dispatch when each is timed;
   * returns the uniform buffer, to release once the work completed.
   */
  async encode(device: GPUDevice, pipelines: PipelineCache, pool: BufferPool, encoder: GPUCommandEncoder, timestamps?: DispatchTimestamps): Promise<GPUBuffer | undefined> {
    if (this.dispatches.length === 0) return undefined;
    await pipelines.prepare(this.kernels());
    const uniforms = pool.acquire(this.dispatches.length * PARAM_STRIDE, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const blocks = new Uint32Array((this.dispatches.length * PARAM_STRIDE) / 4);
    this.dispatches.forEach((dispatch, index) => blocks.set(dispatch.params, (index * PARAM_STRIDE) / 4));
    device.queue.writeBuffer(uniforms, 0, blocks);
    const pass = timestamps ? undefined : encoder.beginComputePass();
    this.dispatches.forEach((dispatch, index) => {
      const pipeline = pipelines.get(dispatch.kernel);
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: index * PARAM_STRIDE, size: 64 } }];
      for (const [binding, buffer] of dispatch.bindings) entries.push({ binding, resource: { buffer } });
      const target = pass ?? encoder.beginComputePass(timestamps?.pass(index));
      target.setPipeline(pipeline);
      target.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
      target.dispatchWorkgroups(dispatch.workgroups[0], dispatch.workgroups[1]);
      if (!pass) target.end();
    });
    pass?.end();
    return uniforms;
  }
}

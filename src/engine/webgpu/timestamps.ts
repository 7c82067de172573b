/// <reference types="@webgpu/types" />
import type { KernelProfile, ProfiledPass, ProfiledStage } from '../profile.js';
import type { Kernel } from './kernels.js';

/** Queries per query set (the WebGPU limit): two per dispatch. */
const QUERIES_PER_SET = 4096;
const DISPATCHES_PER_SET = QUERIES_PER_SET / 2;

type Fields = Readonly<Record<string, number>>;

interface DispatchModel {
  readonly stage: ProfiledStage;
  readonly pass: ProfiledPass;
  /** Floating-point operations of one dispatch (a multiply-add counts 2), from its parameters. */
  readonly flops?: (fields: Fields) => number;
}

// Every conv entry point runs `samples` (cotangents × batch in the backward) planes of outputs,
// each output summing (inputs per group) × k² products.
const convFlops = (f: Fields) => 2 * f.samples * f.outChannels * f.outHeight * f.outWidth * (f.inChannels / f.groups) * f.kernel ** 2;
const linearFlops = (f: Fields) => 2 * f.samples * f.inFeatures * f.outFeatures;

/** Entry point (`shader.entry`) → the profile row its GPU time goes to. */
const DISPATCH_MODELS: Readonly<Record<string, DispatchModel>> = {
  'conv.conv_forward': { stage: 'conv', pass: 'forward', flops: convFlops },
  'conv.conv_backward_input': { stage: 'conv', pass: 'backward-input', flops: convFlops },
  'conv.conv_weight_partials': { stage: 'conv', pass: 'backward-weight', flops: convFlops },
  'reduce.sum_cotangent_rows': { stage: 'conv', pass: 'backward-weight' },
  'batchnorm.bn_row_sums': { stage: 'batchnorm', pass: 'forward' },
  'batchnorm.bn_row_square_sums': { stage: 'batchnorm', pass: 'forward' },
  'batchnorm.bn_mean': { stage: 'batchnorm', pass: 'forward' },
  'batchnorm.bn_inverse_std': { stage: 'batchnorm', pass: 'forward' },
  'batchnorm.bn_normalise': { stage: 'batchnorm', pass: 'forward' },
  'batchnorm.bn_gradient_row_sums': { stage: 'batchnorm', pass: 'backward' },
  'batchnorm.bn_gradient_stats': { stage: 'batchnorm', pass: 'backward' },
  'batchnorm.bn_input_gradient': { stage: 'batchnorm', pass: 'backward' },
  'elementwise.relu_forward': { stage: 'relu', pass: 'forward' },
  'elementwise.relu_backward': { stage: 'relu', pass: 'backward' },
  'elementwise.scaled_add': { stage: 'sum-copy', pass: 'forward' },
  'elementwise.fill_zero': { stage: 'sum-copy', pass: 'forward' },
  'elementwise.strided_copy': { stage: 'sum-copy', pass: 'forward' },
  'elementwise.seed_cotangents': { stage: 'setup', pass: 'backward' },
  'elementwise.gap_forward': { stage: 'pooling', pass: 'forward' },
  'elementwise.gap_backward': { stage: 'pooling', pass: 'backward' },
  'pool.avgpool_forward': { stage: 'pooling', pass: 'forward' },
  'pool.avgpool_backward': { stage: 'pooling', pass: 'backward' },
  'pool.maxpool_forward': { stage: 'pooling', pass: 'forward' },
  'pool.maxpool_backward': { stage: 'pooling', pass: 'backward' },
  'linear.linear_forward': { stage: 'linear', pass: 'forward', flops: linearFlops },
  'linear.linear_backward_input': { stage: 'linear', pass: 'backward', flops: linearFlops },
  'linear.linear_backward_weight': { stage: 'linear', pass: 'backward', flops: linearFlops },
  'patterns.pack_signs': { stage: 'patterns', pass: 'forward' },
};

/** Whether an entry point has a profile row (test/bench-profile.test.ts checks every one of `KERNELS`). */
export function profiledEntryPoint(key: string): boolean {
  return key in DISPATCH_MODELS;
}

/**
 * GPU time of each dispatch of one submission, from timestamp queries written at the beginning and
 * end of a compute pass per dispatch (a profiled submission gives each dispatch its own pass; an
 * unprofiled one runs them all in one). Resolved into a buffer with the submission's other work and
 * read back after it.
 */
export class DispatchTimestamps {
  private readonly sets: GPUQuerySet[] = [];
  private readonly resolved: GPUBuffer;
  private readonly readback: GPUBuffer;

  constructor(
    device: GPUDevice,
    private readonly dispatches: number,
  ) {
    for (let first = 0; first < dispatches; first += DISPATCHES_PER_SET) {
      this.sets.push(device.createQuerySet({ type: 'timestamp', count: 2 * Math.min(DISPATCHES_PER_SET, dispatches - first) }));
    }
    const bytes = Math.max(8, 16 * dispatches);
    this.resolved = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** The pass descriptor of dispatch `index`: its start and end timestamps. */
  pass(index: number): GPUComputePassDescriptor {
    const slot = index % DISPATCHES_PER_SET;
    return { timestampWrites: { querySet: this.sets[Math.floor(index / DISPATCHES_PER_SET)], beginningOfPassWriteIndex: 2 * slot, endOfPassWriteIndex: 2 * slot + 1 } };
  }

  /** Encodes the resolve and the copy to the read-back buffer, after every dispatch. */
  resolve(encoder: GPUCommandEncoder): void {
    this.sets.forEach((set, index) => encoder.resolveQuerySet(set, 0, set.count, this.resolved, index * QUERIES_PER_SET * 8));
    encoder.copyBufferToBuffer(this.resolved, 0, this.readback, 0, 16 * this.dispatches);
  }

  /** After the submission completed: seconds per dispatch (0 where the GPU wrote no later end than start). */
  async seconds(): Promise<Float64Array> {
    try {
      await this.readback.mapAsync(GPUMapMode.READ, 0, 16 * this.dispatches);
      const stamps = new BigUint64Array(this.readback.getMappedRange(0, 16 * this.dispatches).slice(0));
      this.readback.unmap();
      return Float64Array.from({ length: this.dispatches }, (_, i) => (stamps[2 * i + 1] > stamps[2 * i] ? Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e9 : 0));
    } finally {
      this.sets.forEach((set) => set.destroy());
      this.resolved.destroy();
      this.readback.destroy();
    }
  }
}

/** Adds each dispatch's GPU time and work to the profile's rows. */
export function recordDispatchTimes(profile: KernelProfile, dispatches: readonly { kernel: Kernel; params: readonly number[] }[], seconds: Float64Array): void {
  dispatches.forEach(({ kernel, params }, index) => {
    const model = DISPATCH_MODELS[kernel.key];
    if (!model) return;
    const fields = Object.fromEntries(kernel.fields.map((field, i) => [field, params[i]]));
    profile.add('gpu', model.stage, model.pass, seconds[index], { flops: model.flops?.(fields) });
  });
}

/// <reference types="@webgpu/types" />

export type PipelineConstants = Readonly<Record<string, number>>;

export interface KernelRef {
  /** Names the kernel (`shader.entryPoint`): with the constants, the pipeline's cache key. */
  readonly key: string;
  readonly source: string;
  readonly entryPoint: string;
  readonly constants?: PipelineConstants;
}

/**
 * Every shader variant is compiled once per device: a pipeline is keyed by the kernel's name and
 * override constants (compiling costs ≈ 0.4 s on a software adapter).
 */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pending = new Map<string, Promise<GPUComputePipeline>>();

  constructor(private readonly device: GPUDevice) {}

  private key(kernel: KernelRef): string {
    const constants = kernel.constants ? JSON.stringify(Object.entries(kernel.constants).sort()) : '';
    return `${kernel.key}\u0000${constants}`;
  }

  private module(source: string): GPUShaderModule {
    let module = this.modules.get(source);
    if (!module) {
      module = this.device.createShaderModule({ code: source });
      this.modules.set(source, module);
    }
    return module;
  }

  private descriptor(kernel: KernelRef): GPUComputePipelineDescriptor {
    return {
      layout: 'auto',
      compute: { module: this.module(kernel.source), entryPoint: kernel.entryPoint, constants: kernel.constants ? { ...kernel.constants } : undefined },
    };
  }

  /** Compiles the kernels not yet cached, concurrently. */
  async prepare(kernels: Iterable<KernelRef>): Promise<void> {
    const waits: Promise<GPUComputePipeline>[] = [];
    for (const kernel of kernels) {
      const key = this.key(kernel);
      if (this.pipelines.has(key)) continue;
      let compile = this.pending.get(key);
      if (!compile) {
        compile = this.device.createComputePipelineAsync(this.descriptor(kernel)).then((pipeline) => {
          this.pipelines.set(key, pipeline);
          this.pending.delete(key);
          return pipeline;
        });
        this.pending.set(key, compile);
      }
      waits.push(compile);
    }
    await Promise.all(waits);
  }

  get(kernel: KernelRef): GPUComputePipeline {
    const key = this.key(kernel);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline(this.descriptor(kernel));
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  get size(): number {
    return this.pipelines.size;
  }
}

/// <reference types="@webgpu/types" />

/**
 * Reuses storage and read-back buffers between evaluations, kept per (rounded size, usage). Buffers go back to the pool only after the
 * submission that used them has completed (the caller releases after its read-back resolves).
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly all = new Set<GPUBuffer>();

  constructor(private readonly device: GPUDevice) {}

  /** Powers of two up to 1 MiB, then multiples of 64 KiB (so a size within a device limit stays within it). */
  static roundedSize(bytes: number): number {
    if (bytes <= 1 << 20) return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
    return Math.ceil(bytes / 65_536) * 65_536;
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = BufferPool.roundedSize(bytes);
    const key = `${size}:${usage}`;
    const reused = this.free.get(key)?.pop();
    if (reused) return reused;
    const buffer = this.device.createBuffer({ size, usage });
    this.all.add(buffer);
    return buffer;
  }

  release(buffers: Iterable<GPUBuffer>): void {
    for (const buffer of buffers) {
      if (!this.all.has(buffer)) continue;
      const key = `${buffer.size}:${buffer.usage}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(buffer);
    }
  }

  /** Bytes held (in use or free). */
  get bytes(): number {
    let total = 0;
    for (const buffer of this.all) total += buffer.size;
    return total;
  }

  destroy(): void {
    for (const buffer of this.all) buffer.destroy();
    this.all.clear();
    this.free.clear();
  }
}

// Microbenchmarks of this machine's limits for the kernels' instructions, so that a profile can say
// what fraction of the peak each kernel reaches.

// f32x4 multiply-then-add throughput (the kernels' inner instruction pair; no fused multiply-add):
// twelve independent chains hide the latency of the dependent mul → add, as the kernels' register
// blocks do. Each iteration is 12 × 8 = 96 floating-point operations.
export function peak_f32x4_mul_add(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(0.9999999);
  const c = f32x4.splat(1e-7);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iterations; i++) {
    a0 = f32x4.add(f32x4.mul(a0, m), c); a1 = f32x4.add(f32x4.mul(a1, m), c);
    a2 = f32x4.add(f32x4.mul(a2, m), c); a3 = f32x4.add(f32x4.mul(a3, m), c);
    a4 = f32x4.add(f32x4.mul(a4, m), c); a5 = f32x4.add(f32x4.mul(a5, m), c);
    a6 = f32x4.add(f32x4.mul(a6, m), c); a7 = f32x4.add(f32x4.mul(a7, m), c);
    a8 = f32x4.add(f32x4.mul(a8, m), c); a9 = f32x4.add(f32x4.mul(a9, m), c);
    a10 = f32x4.add(f32x4.mul(a10, m), c); a11 = f32x4.add(f32x4.mul(a11, m), c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const t = f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 3);
}

// Streaming triad y = y·m + x over `floats` floats (a multiple of 16), `repeats` times: 12 bytes
// moved per float per repeat. Over a buffer larger than the caches it measures memory bandwidth.
export function bandwidth_triad(x: usize, y: usize, floats: i32, repeats: i32): void {
  const m = f32x4.splat(0.5);
  const end = <usize>floats << 2;
  for (let r = 0; r < repeats; r++) {
    for (let i: usize = 0; i < end; i += 64) {
      v128.store(y + i, f32x4.add(f32x4.mul(v128.load(y + i), m), v128.load(x + i)));
      v128.store(y + i, f32x4.add(f32x4.mul(v128.load(y + i, 16), m), v128.load(x + i, 16)), 16);
      v128.store(y + i, f32x4.add(f32x4.mul(v128.load(y + i, 32), m), v128.load(x + i, 32)), 32);
      v128.store(y + i, f32x4.add(f32x4.mul(v128.load(y + i, 48), m), v128.load(x + i, 48)), 48);
    }
  }
}

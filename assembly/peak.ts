// Microbenchmarks of this machine's limits for the kernels' instructions, so that a profile can say
// what fraction of the peak each kernel reaches.

import { madd } from './madd';

// f32x4 multiply-add throughput (the kernels' inner operation, `madd`: multiply then add in the
// default build, fused in the `fma` build): twelve independent chains hide its latency, as the
// kernels' register blocks do. Each iteration is 12 × 8 = 96 floating-point operations.
export function peak_f32x4_mul_add(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(0.9999999);
  const c = f32x4.splat(1e-7);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(c, a0, m); a1 = madd(c, a1, m);
    a2 = madd(c, a2, m); a3 = madd(c, a3, m);
    a4 = madd(c, a4, m); a5 = madd(c, a5, m);
    a6 = madd(c, a6, m); a7 = madd(c, a7, m);
    a8 = madd(c, a8, m); a9 = madd(c, a9, m);
    a10 = madd(c, a10, m); a11 = madd(c, a11, m);
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

// a + b·c on four lanes, the kernels' inner operation.
//
// The default build multiplies, then adds: two roundings, the same on every machine. The `fma`
// build (`--enable relaxed-simd`, build/tenas-fma.wasm) uses relaxed SIMD's multiply-add, which
// the engine may fuse into one rounding. The host runs that build only where it does fuse
// (`fused_madd_probe`), so each build gives one result on every machine that runs it.
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(b, c, a);
  return f32x4.add(a, f32x4.mul(b, c));
}

// x·x − (1 + 2⁻¹¹) for x = 1 + 2⁻¹²: x² = 1 + 2⁻¹¹ + 2⁻²⁴ rounds to 1 + 2⁻¹¹ (a tie, to even), so
// a multiply then add gives 0 and a fused multiply-add 2⁻²⁴.
export function fused_madd_probe(): f32 {
  const x = f32x4.splat(1 + 1.0 / 4096);
  return f32x4.extract_lane(madd(f32x4.splat(-(1 + 1.0 / 2048)), x, x), 0);
}

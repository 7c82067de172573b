// Scalar float32 access by element index, for the kernels' scalar paths and tails.

@inline export function f32At(base: usize, index: i32): f32 {
  return load<f32>(base + (<usize>index << 2));
}

@inline export function setF32(base: usize, index: i32, value: f32): void {
  store<f32>(base + (<usize>index << 2), value);
}

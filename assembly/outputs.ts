// How a convolution's result reaches its output plane.

// Stores a correlation's result. With a mask (`maskDelta` ≠ 0: the mask lies that many bytes
// after the output, in the same layout), out (+)= value where mask > 0: the gradient of a ReLU's
// input, whose output the mask is. Without one, a sum that accumulates started from `out`.
@inline export function store_output(q: usize, value: v128, accumulate: bool, maskDelta: usize): void {
  if (maskDelta != 0) {
    value = v128.and(value, f32x4.gt(v128.load(q + maskDelta), f32x4.splat(0)));
    if (accumulate) value = f32x4.add(value, v128.load(q));
  }
  v128.store(q, value);
}

// Element-wise kernels over flat float32 tensors. Gradient tensors hold a chunk of cotangents as
// (cotangent, sample) rows, so element i of a gradient pairs with element i % forwardCount of the
// forward activation it came from. Floats in the parameter block travel as u32 bits.

struct Params {
  count: u32,
  forwardCount: u32,
  accumulate: u32,
  scaleBits: u32,
  rows: u32,
  rowLength: u32,
  srcStride: u32,
  dstStride: u32,
  srcOffset: u32,
  dstOffset: u32,
  batch: u32,
  firstCotangent: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read_write> destination: array<f32>;
@group(0) @binding(3) var<storage, read> activation: array<f32>;

fn flatIndex(group: vec3<u32>, groups: vec3<u32>, local: u32) -> u32 {
  return (group.y * groups.x + group.x) * 256u + local;
}

fn merge(index: u32, value: f32) {
  if (params.accumulate != 0u) {
    destination[index] = destination[index] + value;
  } else {
    destination[index] = value;
  }
}

@compute @workgroup_size(256)
fn relu_forward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.count) { return; }
  destination[i] = max(source[i], 0.0);
}

// dx (+)= dy where the forward output y > 0.
@compute @workgroup_size(256)
fn relu_backward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.count) { return; }
  let alive = activation[i % params.forwardCount] > 0.0;
  merge(i, select(0.0, source[i], alive));
}

@compute @workgroup_size(256)
fn scaled_add(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.count) { return; }
  merge(i, bitcast<f32>(params.scaleBits) * source[i]);
}

@compute @workgroup_size(256)
fn fill_zero(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.count) { return; }
  destination[i] = 0.0;
}

// `rows` rows of `rowLength` floats from source[srcOffset + r·srcStride] to destination[dstOffset + r·dstStride]:
// concatenation along channels, its backward, and batch staging are all this copy.
@compute @workgroup_size(256)
fn strided_copy(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.rows * params.rowLength) { return; }
  let row = i / params.rowLength;
  let column = i - row * params.rowLength;
  merge(params.dstOffset + row * params.dstStride + column, source[params.srcOffset + row * params.srcStride + column]);
}

// Global average pooling: count = planes, rowLength = H·W.
@compute @workgroup_size(256)
fn gap_forward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let plane = flatIndex(group, groups, local);
  if (plane >= params.count) { return; }
  var sum = 0.0;
  let base = plane * params.rowLength;
  for (var i = 0u; i < params.rowLength; i++) {
    sum += source[base + i];
  }
  destination[plane] = sum / f32(params.rowLength);
}

// count = planes · H·W of the input gradient.
@compute @workgroup_size(256)
fn gap_backward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.count) { return; }
  merge(i, source[i / params.rowLength] / f32(params.rowLength));
}

// The logits' gradient of a chunk: row (k, j) is 1 on every class when j is the k-th cotangent's
// sample (firstCotangent + k), else 0. count = chunk · batch · classes, rowLength = classes.
@compute @workgroup_size(256)
fn seed_cotangents(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.count) { return; }
  let row = i / params.rowLength;
  let cotangent = row / params.batch;
  let sample = row - cotangent * params.batch;
  destination[i] = select(0.0, 1.0, sample == params.firstCotangent + cotangent);
}

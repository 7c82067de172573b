// Average (count_include_pad = False) and max pooling over planes of NCHW tensors, forward and
// backward. The backward kernels gather: each input cell sums over the windows that cover it, so
// no two invocations write the same cell. `planes` counts planes of this dispatch; the max-pool
// backward reads forward plane (plane mod forwardPlanes).

struct Params {
  planes: u32,
  forwardPlanes: u32,
  inHeight: u32,
  inWidth: u32,
  outHeight: u32,
  outWidth: u32,
  kernel: u32,
  stride: u32,
  padding: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read_write> destination: array<f32>;
@group(0) @binding(3) var<storage, read> activation: array<f32>;

fn flatIndex(group: vec3<u32>, groups: vec3<u32>, local: u32) -> u32 {
  return (group.y * groups.x + group.x) * 256u + local;
}

// Window (oy, ox) clipped to the input: (y0, y1, x0, x1), end exclusive.
fn window(oy: u32, ox: u32) -> vec4<i32> {
  let top = i32(oy * params.stride) - i32(params.padding);
  let left = i32(ox * params.stride) - i32(params.padding);
  let k = i32(params.kernel);
  return vec4<i32>(max(top, 0), min(top + k, i32(params.inHeight)), max(left, 0), min(left + k, i32(params.inWidth)));
}

// Index within the plane of the first maximum of window w (scan order), as in the WebAssembly kernel.
fn argmax(planeBase: u32, w: vec4<i32>) -> u32 {
  var best = u32(w.x) * params.inWidth + u32(w.z);
  var bestValue = activation[planeBase + best];
  for (var y = w.x; y < w.y; y++) {
    for (var x = w.z; x < w.w; x++) {
      let q = u32(y) * params.inWidth + u32(x);
      let v = activation[planeBase + q];
      if (v > bestValue) {
        bestValue = v;
        best = q;
      }
    }
  }
  return best;
}

fn merge(index: u32, value: f32) {
  if (params.accumulate != 0u) {
    destination[index] = destination[index] + value;
  } else {
    destination[index] = value;
  }
}

@compute @workgroup_size(256)
fn avgpool_forward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  let outPlane = params.outHeight * params.outWidth;
  if (i >= params.planes * outPlane) { return; }
  let plane = i / outPlane;
  let position = i - plane * outPlane;
  let w = window(position / params.outWidth, position % params.outWidth);
  let base = plane * params.inHeight * params.inWidth;
  var sum = 0.0;
  for (var y = w.x; y < w.y; y++) {
    for (var x = w.z; x < w.w; x++) { sum += source[base + u32(y) * params.inWidth + u32(x)]; }
  }
  destination[i] = sum / f32((w.y - w.x) * (w.w - w.z));
}

@compute @workgroup_size(256)
fn maxpool_forward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  let outPlane = params.outHeight * params.outWidth;
  if (i >= params.planes * outPlane) { return; }
  let plane = i / outPlane;
  let position = i - plane * outPlane;
  let w = window(position / params.outWidth, position % params.outWidth);
  let base = plane * params.inHeight * params.inWidth;
  var best = source[base + u32(w.x) * params.inWidth + u32(w.z)];
  for (var y = w.x; y < w.y; y++) {
    for (var x = w.z; x < w.w; x++) { best = max(best, source[base + u32(y) * params.inWidth + u32(x)]); }
  }
  destination[i] = best;
}

// Output rows (or columns) whose window covers input row iy: [first, last].
fn coveringRange(index: u32, outSize: u32) -> vec2<i32> {
  let reach = i32(index + params.padding);
  let stride = i32(params.stride);
  let low = reach - i32(params.kernel) + 1;
  var first = 0;
  if (low > 0) { first = (low + stride - 1) / stride; }
  let last = min(reach / stride, i32(outSize) - 1);
  return vec2<i32>(first, last);
}

@compute @workgroup_size(256)
fn avgpool_backward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  let inPlane = params.inHeight * params.inWidth;
  if (i >= params.planes * inPlane) { return; }
  let plane = i / inPlane;
  let position = i - plane * inPlane;
  let rows = coveringRange(position / params.inWidth, params.outHeight);
  let columns = coveringRange(position % params.inWidth, params.outWidth);
  let base = plane * params.outHeight * params.outWidth;
  var sum = 0.0;
  for (var oy = rows.x; oy <= rows.y; oy++) {
    for (var ox = columns.x; ox <= columns.y; ox++) {
      let w = window(u32(oy), u32(ox));
      sum += source[base + u32(oy) * params.outWidth + u32(ox)] / f32((w.y - w.x) * (w.w - w.z));
    }
  }
  merge(i, sum);
}

@compute @workgroup_size(256)
fn maxpool_backward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  let inPlane = params.inHeight * params.inWidth;
  if (i >= params.planes * inPlane) { return; }
  let plane = i / inPlane;
  let position = i - plane * inPlane;
  let rows = coveringRange(position / params.inWidth, params.outHeight);
  let columns = coveringRange(position % params.inWidth, params.outWidth);
  let base = plane * params.outHeight * params.outWidth;
  let forwardBase = (plane % params.forwardPlanes) * inPlane;
  var sum = 0.0;
  for (var oy = rows.x; oy <= rows.y; oy++) {
    for (var ox = columns.x; ox <= columns.y; ox++) {
      if (argmax(forwardBase, window(u32(oy), u32(ox))) == position) {
        sum += source[base + u32(oy) * params.outWidth + u32(ox)];
      }
    }
  }
  merge(i, sum);
}

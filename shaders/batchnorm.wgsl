// Train-mode BatchNorm: per-channel statistics over batch × H × W (biased variance, eps 1e-5).
// Reductions run in two stages without workgroup barriers (costly on software adapters): one
// invocation per (row, channel) sums a plane, then one per channel (forward) or per (cotangent,
// channel) (backward) sums the batch rows. `stats` holds (mean, 1/σ) per channel.

struct Params {
  samples: u32,
  batch: u32,
  channels: u32,
  plane: u32,
  accumulate: u32,
  writeGamma: u32,
  gradientRow: u32,
  gradientStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> forwardStats: array<f32>;
@group(0) @binding(4) var<storage, read_write> destination: array<f32>;
@group(0) @binding(5) var<storage, read_write> normalised: array<f32>;
@group(0) @binding(5) var<storage, read> normalisedIn: array<f32>;
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
@group(0) @binding(7) var<storage, read_write> gradients: array<f32>;

fn flatIndex(group: vec3<u32>, groups: vec3<u32>, local: u32) -> u32 {
  return (group.y * groups.x + group.x) * 256u + local;
}

// Σ over the plane of row n, channel c (forward: rows are samples).
@compute @workgroup_size(256)
fn bn_row_sums(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.samples * params.channels) { return; }
  let base = i * params.plane;
  var sum = 0.0;
  for (var q = 0u; q < params.plane; q++) { sum += source[base + q]; }
  destination[i] = sum;
}

@compute @workgroup_size(256)
fn bn_row_square_sums(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.samples * params.channels) { return; }
  let mean = stats[2u * (i % params.channels)];
  let base = i * params.plane;
  var sum = 0.0;
  for (var q = 0u; q < params.plane; q++) {
    let d = source[base + q] - mean;
    sum += d * d;
  }
  destination[i] = sum;
}

fn channelTotal(channel: u32) -> f32 {
  var sum = 0.0;
  for (var j = 0u; j < params.batch; j++) { sum += source[j * params.channels + channel]; }
  return sum;
}

@compute @workgroup_size(256)
fn bn_mean(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let channel = flatIndex(group, groups, local);
  if (channel >= params.channels) { return; }
  stats[2u * channel] = channelTotal(channel) / f32(params.batch * params.plane);
}

@compute @workgroup_size(256)
fn bn_inverse_std(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let channel = flatIndex(group, groups, local);
  if (channel >= params.channels) { return; }
  stats[2u * channel + 1u] = 1.0 / sqrt(channelTotal(channel) / f32(params.batch * params.plane) + 1e-5);
}

@compute @workgroup_size(256)
fn bn_normalise(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.samples * params.channels * params.plane) { return; }
  let channel = (i / params.plane) % params.channels;
  let h = (source[i] - stats[2u * channel]) * stats[2u * channel + 1u];
  normalised[i] = h;
  destination[i] = h * gamma[channel] + beta[channel];
}

// Backward stage 1, per (gradient field n, channel): (Σ ∂y, Σ ∂y·x̂) over the plane.
@compute @workgroup_size(256)
fn bn_gradient_row_sums(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.samples * params.channels) { return; }
  let base = i * params.plane;
  let forwardBase = (i % (params.batch * params.channels)) * params.plane;
  var sumDy = 0.0;
  var sumDyXhat = 0.0;
  for (var q = 0u; q < params.plane; q++) {
    let d = source[base + q];
    sumDy += d;
    sumDyXhat += d * normalisedIn[forwardBase + q];
  }
  destination[2u * i] = sumDy;
  destination[2u * i + 1u] = sumDyXhat;
}

// Stage 2, per (cotangent k, channel): ∂γ = Σ ∂y·x̂ into G; stats = (mean ∂y, mean ∂y·x̂).
@compute @workgroup_size(256)
fn bn_gradient_stats(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  let cotangents = params.samples / params.batch;
  if (i >= cotangents * params.channels) { return; }
  let k = i / params.channels;
  let channel = i - k * params.channels;
  var sumDy = 0.0;
  var sumDyXhat = 0.0;
  for (var j = 0u; j < params.batch; j++) {
    let row = (k * params.batch + j) * params.channels + channel;
    sumDy += source[2u * row];
    sumDyXhat += source[2u * row + 1u];
  }
  if (params.writeGamma != 0u) { gradients[params.gradientRow + k * params.gradientStride + channel] = sumDyXhat; }
  let count = f32(params.batch * params.plane);
  stats[2u * i] = sumDy / count;
  stats[2u * i + 1u] = sumDyXhat / count;
}

// Stage 3: ∂x (+)= γ/σ · (∂y − mean(∂y) − x̂·mean(∂y·x̂)); `stats` holds the stage-2 means.
@compute @workgroup_size(256)
fn bn_input_gradient(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  let tensor = params.channels * params.plane;
  if (i >= params.samples * tensor) { return; }
  let n = i / tensor;
  let channel = (i - n * tensor) / params.plane;
  let k = n / params.batch;
  let means = 2u * (k * params.channels + channel);
  let scale = gamma[channel] * forwardStats[2u * channel + 1u];
  var r = scale * (source[i] - stats[means] - normalisedIn[i % (params.batch * tensor)] * stats[means + 1u]);
  if (params.accumulate != 0u) { r += destination[i]; }
  destination[i] = r;
}

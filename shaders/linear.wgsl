// The classifier z[s, o] = Σ_f W[o, f] · h[s, f] + b[o], its input gradient over a chunk of
// gradient fields, and each cotangent's ∂W = Σ_j ∂z[k·batch + j, o] · h[j, f] into its row of G.

struct Params {
  samples: u32,
  inFeatures: u32,
  outFeatures: u32,
  accumulate: u32,
  batch: u32,
  cotangents: u32,
  gradientRow: u32,
  gradientStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> destination: array<f32>;
@group(0) @binding(5) var<storage, read> activation: array<f32>;

fn flatIndex(group: vec3<u32>, groups: vec3<u32>, local: u32) -> u32 {
  return (group.y * groups.x + group.x) * 256u + local;
}

@compute @workgroup_size(256)
fn linear_forward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.samples * params.outFeatures) { return; }
  let s = i / params.outFeatures;
  let o = i - s * params.outFeatures;
  var acc = 0.0;
  for (var f = 0u; f < params.inFeatures; f++) {
    acc += weights[o * params.inFeatures + f] * source[s * params.inFeatures + f];
  }
  destination[i] = acc + bias[o];
}

// ∂h[n, f] (+)= Σ_o ∂z[n, o] · W[o, f]; `source` is ∂z.
@compute @workgroup_size(256)
fn linear_backward_input(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  if (i >= params.samples * params.inFeatures) { return; }
  let n = i / params.inFeatures;
  let f = i - n * params.inFeatures;
  var acc = 0.0;
  for (var o = 0u; o < params.outFeatures; o++) {
    acc += source[n * params.outFeatures + o] * weights[o * params.inFeatures + f];
  }
  if (params.accumulate != 0u) { acc += destination[i]; }
  destination[i] = acc;
}

// One invocation per (cotangent k, o, f); `source` is ∂z, `activation` the forward input h.
@compute @workgroup_size(256)
fn linear_backward_weight(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = flatIndex(group, groups, local);
  let size = params.outFeatures * params.inFeatures;
  if (i >= params.cotangents * size) { return; }
  let k = i / size;
  let r = i - k * size;
  let o = r / params.inFeatures;
  let f = r - o * params.inFeatures;
  var acc = 0.0;
  for (var j = 0u; j < params.batch; j++) {
    acc += source[(k * params.batch + j) * params.outFeatures + o] * activation[j * params.inFeatures + f];
  }
  destination[params.gradientRow + k * params.gradientStride + r] = acc;
}

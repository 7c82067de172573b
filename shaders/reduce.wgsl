// Sums the `batch` rows of each cotangent's gradient fields: G[gradientRow + k·gradientStride + w] =
// Σ_j partial[(k·batch + j)·width + w], one invocation per (k, w).

struct Params {
  cotangents: u32,
  batch: u32,
  width: u32,
  gradientRow: u32,
  gradientStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> gradients: array<f32>;

@compute @workgroup_size(256)
fn sum_cotangent_rows(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = (group.y * groups.x + group.x) * 256u + local;
  if (i >= params.cotangents * params.width) { return; }
  let k = i / params.width;
  let w = i - k * params.width;
  var sum = 0.0;
  for (var j = 0u; j < params.batch; j++) {
    sum += partial[(k * params.batch + j) * params.width + w];
  }
  gradients[params.gradientRow + k * params.gradientStride + w] = sum;
}

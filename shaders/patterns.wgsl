// Activation patterns: sets bit (bitOffset + t) of row (firstRow + s) when a ReLU output is > 0.
// Rows hold `words` u32 words; one ReLU layer per dispatch, so bits of neighbouring layers may
// share a word: hence atomicOr.

struct Params {
  count: u32,
  size: u32,
  words: u32,
  bitOffset: u32,
  firstRow: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> activation: array<f32>;
@group(0) @binding(2) var<storage, read_write> packed: array<atomic<u32>>;

@compute @workgroup_size(256)
fn pack_signs(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = (group.y * groups.x + group.x) * 256u + local;
  if (i >= params.count || activation[i] <= 0.0) { return; }
  let sample = i / params.size;
  let bit = params.bitOffset + (i - sample * params.size);
  atomicOr(&packed[(params.firstRow + sample) * params.words + bit / 32u], 1u << (bit % 32u));
}

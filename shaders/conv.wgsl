// 2-D convolution over NCHW tensors, any kernel / stride / padding (possibly negative) / dilation /
// groups: input row = out·stride − padding + tap·dilation; taps outside the input read zero.
// The forward runs over `samples` forward samples; the input gradient over a chunk of cotangents ×
// batch gradient fields; the weight gradient keeps cotangents apart and writes each one's ∂W into
// its row of G.

struct Params {
  samples: u32,
  inChannels: u32,
  inHeight: u32,
  inWidth: u32,
  outChannels: u32,
  outHeight: u32,
  outWidth: u32,
  kernel: u32,
  stride: u32,
  padding: i32,
  dilation: u32,
  groups: u32,
  accumulate: u32,
  batch: u32,
  gradientRow: u32,
  gradientStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> destination: array<f32>;
@group(0) @binding(4) var<storage, read> activation: array<f32>;

// Output channels computed per invocation of the forward: they share every input load.
const OUT_BLOCK: u32 = 4u;

fn flatIndex(group: vec3<u32>, groups: vec3<u32>, local: u32) -> u32 {
  return (group.y * groups.x + group.x) * 64u + local;
}

// One invocation per (sample, block of OUT_BLOCK output channels of one group, y, x).
@compute @workgroup_size(64)
fn conv_forward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let p = params;
  let outPerGroup = p.outChannels / p.groups;
  let inPerGroup = p.inChannels / p.groups;
  let blocksPerGroup = (outPerGroup + OUT_BLOCK - 1u) / OUT_BLOCK;
  let plane = p.outHeight * p.outWidth;
  let i = flatIndex(group, groups, local);
  if (i >= p.samples * p.groups * blocksPerGroup * plane) { return; }
  let position = i % plane;
  let blockIndex = (i / plane) % (p.groups * blocksPerGroup);
  let sample = i / (plane * p.groups * blocksPerGroup);
  let g = blockIndex / blocksPerGroup;
  let firstOut = g * outPerGroup + (blockIndex % blocksPerGroup) * OUT_BLOCK;
  let lastOut = min(firstOut + OUT_BLOCK, (g + 1u) * outPerGroup);
  let oy = position / p.outWidth;
  let ox = position % p.outWidth;
  let kk = p.kernel * p.kernel;
  var acc = vec4<f32>(0.0);
  for (var ci = 0u; ci < inPerGroup; ci++) {
    let channelBase = (sample * p.inChannels + g * inPerGroup + ci) * p.inHeight;
    for (var kh = 0u; kh < p.kernel; kh++) {
      let iy = i32(oy * p.stride) - p.padding + i32(kh * p.dilation);
      if (iy < 0 || iy >= i32(p.inHeight)) { continue; }
      let rowBase = (channelBase + u32(iy)) * p.inWidth;
      for (var kw = 0u; kw < p.kernel; kw++) {
        let ix = i32(ox * p.stride) - p.padding + i32(kw * p.dilation);
        if (ix < 0 || ix >= i32(p.inWidth)) { continue; }
        let value = source[rowBase + u32(ix)];
        let tap = ci * kk + kh * p.kernel + kw;
        let stridePerOut = inPerGroup * kk;
        var w = vec4<f32>(0.0);
        for (var b = 0u; b < OUT_BLOCK; b++) {
          if (firstOut + b < lastOut) { w[b] = weights[(firstOut + b) * stridePerOut + tap]; }
        }
        acc += w * value;
      }
    }
  }
  for (var b = 0u; b < OUT_BLOCK; b++) {
    let o = firstOut + b;
    if (o < lastOut) { destination[(sample * p.outChannels + o) * plane + position] = acc[b]; }
  }
}

// ∂input[s, c, iy, ix] (+)= Σ_{o in c's group, taps} w[o, c mod group, kh, kw] · ∂out[s, o, oy, ox]
// over the (oy, ox) whose tap lands on (iy, ix). `source` is ∂out; `samples` counts gradient fields.
@compute @workgroup_size(64)
fn conv_backward_input(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let p = params;
  let i = flatIndex(group, groups, local);
  let inPlane = p.inHeight * p.inWidth;
  if (i >= p.samples * p.inChannels * inPlane) { return; }
  let position = i % inPlane;
  let c = (i / inPlane) % p.inChannels;
  let sample = i / (inPlane * p.inChannels);
  let iy = i32(position / p.inWidth);
  let ix = i32(position % p.inWidth);
  let outPerGroup = p.outChannels / p.groups;
  let inPerGroup = p.inChannels / p.groups;
  let g = c / inPerGroup;
  let ci = c - g * inPerGroup;
  let stride = i32(p.stride);
  let kk = p.kernel * p.kernel;
  var acc = 0.0;
  for (var kh = 0u; kh < p.kernel; kh++) {
    let ty = iy + p.padding - i32(kh * p.dilation);
    if (ty < 0 || ty % stride != 0) { continue; }
    let oy = u32(ty / stride);
    if (oy >= p.outHeight) { continue; }
    for (var kw = 0u; kw < p.kernel; kw++) {
      let tx = ix + p.padding - i32(kw * p.dilation);
      if (tx < 0 || tx % stride != 0) { continue; }
      let ox = u32(tx / stride);
      if (ox >= p.outWidth) { continue; }
      for (var ol = 0u; ol < outPerGroup; ol++) {
        let o = g * outPerGroup + ol;
        acc += weights[(o * inPerGroup + ci) * kk + kh * p.kernel + kw] * source[((sample * p.outChannels + o) * p.outHeight + oy) * p.outWidth + ox];
      }
    }
  }
  if (p.accumulate != 0u) {
    destination[i] = destination[i] + acc;
  } else {
    destination[i] = acc;
  }
}

// Weight gradient, stage 1: one invocation per (gradient field n = k·batch + j, weight w = (o, ci, kh, kw)):
// partial[n, w] = Σ_(y,x) ∂out[n, o, y, x] · input[j, c, tap(y, x)], over the output rows and columns
// whose tap lands inside the input (so the inner loop has no bounds checks). Stage 2
// (`sum_cotangent_rows` in reduce.wgsl) sums the batch rows of each cotangent into G. No workgroup
// barriers: they are costly on software adapters, and the (field, weight) space is large anyway.
@compute @workgroup_size(64)
fn conv_weight_partials(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let p = params;
  let i = flatIndex(group, groups, local);
  let inPerGroup = p.inChannels / p.groups;
  let outPerGroup = p.outChannels / p.groups;
  let kk = p.kernel * p.kernel;
  let weightCount = p.outChannels * inPerGroup * kk;
  if (i >= p.samples * weightCount) { return; }
  let n = i / weightCount;
  let w = i - n * weightCount;
  let j = n % p.batch;
  let tap = w % kk;
  let pair = w / kk;
  let o = pair / inPerGroup;
  let c = (o / outPerGroup) * inPerGroup + pair % inPerGroup;
  let kh = tap / p.kernel;
  let kw = tap % p.kernel;
  let rows = validRange(i32(kh * p.dilation) - p.padding, p.inHeight, p.outHeight);
  let columns = validRange(i32(kw * p.dilation) - p.padding, p.inWidth, p.outWidth);
  let dyBase = (n * p.outChannels + o) * p.outHeight * p.outWidth;
  let xBase = i32((j * p.inChannels + c) * p.inHeight * p.inWidth);
  let shiftY = i32(kh * p.dilation) - p.padding;
  let shiftX = i32(kw * p.dilation) - p.padding;
  var acc = 0.0;
  for (var oy = rows.x; oy < rows.y; oy++) {
    let dyRow = dyBase + u32(oy) * p.outWidth;
    let xRow = xBase + (oy * i32(p.stride) + shiftY) * i32(p.inWidth) + shiftX;
    for (var ox = columns.x; ox < columns.y; ox++) {
      acc += source[dyRow + u32(ox)] * activation[u32(xRow + ox * i32(p.stride))];
    }
  }
  destination[i] = acc;
}

// Outputs o in [first, last) whose input index o·stride + shift lies in [0, inSize).
fn validRange(shift: i32, inSize: u32, outSize: u32) -> vec2<i32> {
  let stride = i32(params.stride);
  var first = 0;
  if (shift < 0) { first = (-shift + stride - 1) / stride; }
  let last = min(i32(outSize), (i32(inSize) - 1 - shift) / stride + 1);
  return vec2<i32>(first, max(first, last));
}

// Float64 kernels of the host executor's convolutions (src/engine/float64/conv.ts). The host lays
// out each sample's input planes zero-padded and split by stride phase (`xp`), so that every
// (input channel, tap) pair of an output channel is one fixed offset (`offsets`, in elements); the
// three products below then stream contiguous runs of `run` values, two per f64x2 lane.

@inline function offsetAt(xp: usize, xo: i32, offsets: usize, t: i32): usize {
  return xp + (<usize>(xo + load<i32>(offsets + (<usize>t << 2))) << 3);
}

// out[i] = Σ_t w[wo + t]·xp[xo + offsets[t] + i] for i < run: one output channel, eight taps at a time.
@inline function conv_channel(out: usize, xp: usize, xo: i32, wo: usize, offsets: usize, taps: i32, run: i32): void {
  const bytes = <usize>run << 3;
  const vectorBytes = <usize>(run & ~1) << 3;
  memory.fill(out, 0, bytes);
  let t = 0;
  for (; t + 8 <= taps; t += 8) {
    const wt = wo + (<usize>t << 3);
    const s0 = load<f64>(wt), s1 = load<f64>(wt, 8), s2 = load<f64>(wt, 16), s3 = load<f64>(wt, 24);
    const s4 = load<f64>(wt, 32), s5 = load<f64>(wt, 40), s6 = load<f64>(wt, 48), s7 = load<f64>(wt, 56);
    const w0 = f64x2.splat(s0), w1 = f64x2.splat(s1), w2 = f64x2.splat(s2), w3 = f64x2.splat(s3);
    const w4 = f64x2.splat(s4), w5 = f64x2.splat(s5), w6 = f64x2.splat(s6), w7 = f64x2.splat(s7);
    const o0 = offsetAt(xp, xo, offsets, t), o1 = offsetAt(xp, xo, offsets, t + 1);
    const o2 = offsetAt(xp, xo, offsets, t + 2), o3 = offsetAt(xp, xo, offsets, t + 3);
    const o4 = offsetAt(xp, xo, offsets, t + 4), o5 = offsetAt(xp, xo, offsets, t + 5);
    const o6 = offsetAt(xp, xo, offsets, t + 6), o7 = offsetAt(xp, xo, offsets, t + 7);
    let i: usize = 0;
    for (; i < vectorBytes; i += 16) {
      const low = f64x2.add(f64x2.add(f64x2.mul(w0, v128.load(o0 + i)), f64x2.mul(w1, v128.load(o1 + i))), f64x2.add(f64x2.mul(w2, v128.load(o2 + i)), f64x2.mul(w3, v128.load(o3 + i))));
      const high = f64x2.add(f64x2.add(f64x2.mul(w4, v128.load(o4 + i)), f64x2.mul(w5, v128.load(o5 + i))), f64x2.add(f64x2.mul(w6, v128.load(o6 + i)), f64x2.mul(w7, v128.load(o7 + i))));
      v128.store(out + i, f64x2.add(v128.load(out + i), f64x2.add(low, high)));
    }
    for (; i < bytes; i += 8) {
      const low = s0 * load<f64>(o0 + i) + s1 * load<f64>(o1 + i) + s2 * load<f64>(o2 + i) + s3 * load<f64>(o3 + i);
      store<f64>(out + i, load<f64>(out + i) + low + s4 * load<f64>(o4 + i) + s5 * load<f64>(o5 + i) + s6 * load<f64>(o6 + i) + s7 * load<f64>(o7 + i));
    }
  }
  for (; t < taps; t++) {
    const s = load<f64>(wo + (<usize>t << 3));
    const ws = f64x2.splat(s);
    const o = offsetAt(xp, xo, offsets, t);
    let i: usize = 0;
    for (; i < vectorBytes; i += 16) v128.store(out + i, f64x2.add(v128.load(out + i), f64x2.mul(ws, v128.load(o + i))));
    for (; i < bytes; i += 8) store<f64>(out + i, load<f64>(out + i) + s * load<f64>(o + i));
  }
}

// The same for two output channels of one group (weights at wa and wb): each input run is loaded
// once for both, four taps at a time.
@inline function conv_channel_pair(outA: usize, outB: usize, xp: usize, xo: i32, wa: usize, wb: usize, offsets: usize, taps: i32, run: i32): void {
  const bytes = <usize>run << 3;
  const vectorBytes = <usize>(run & ~1) << 3;
  memory.fill(outA, 0, bytes);
  memory.fill(outB, 0, bytes);
  let t = 0;
  for (; t + 4 <= taps; t += 4) {
    const ta = wa + (<usize>t << 3);
    const tb = wb + (<usize>t << 3);
    const r0 = load<f64>(ta), r1 = load<f64>(ta, 8), r2 = load<f64>(ta, 16), r3 = load<f64>(ta, 24);
    const q0 = load<f64>(tb), q1 = load<f64>(tb, 8), q2 = load<f64>(tb, 16), q3 = load<f64>(tb, 24);
    const a0 = f64x2.splat(r0), a1 = f64x2.splat(r1), a2 = f64x2.splat(r2), a3 = f64x2.splat(r3);
    const b0 = f64x2.splat(q0), b1 = f64x2.splat(q1), b2 = f64x2.splat(q2), b3 = f64x2.splat(q3);
    const o0 = offsetAt(xp, xo, offsets, t), o1 = offsetAt(xp, xo, offsets, t + 1);
    const o2 = offsetAt(xp, xo, offsets, t + 2), o3 = offsetAt(xp, xo, offsets, t + 3);
    let i: usize = 0;
    for (; i < vectorBytes; i += 16) {
      const x0 = v128.load(o0 + i), x1 = v128.load(o1 + i), x2 = v128.load(o2 + i), x3 = v128.load(o3 + i);
      v128.store(outA + i, f64x2.add(v128.load(outA + i), f64x2.add(f64x2.add(f64x2.mul(a0, x0), f64x2.mul(a1, x1)), f64x2.add(f64x2.mul(a2, x2), f64x2.mul(a3, x3)))));
      v128.store(outB + i, f64x2.add(v128.load(outB + i), f64x2.add(f64x2.add(f64x2.mul(b0, x0), f64x2.mul(b1, x1)), f64x2.add(f64x2.mul(b2, x2), f64x2.mul(b3, x3)))));
    }
    for (; i < bytes; i += 8) {
      const x0 = load<f64>(o0 + i), x1 = load<f64>(o1 + i), x2 = load<f64>(o2 + i), x3 = load<f64>(o3 + i);
      store<f64>(outA + i, load<f64>(outA + i) + r0 * x0 + r1 * x1 + r2 * x2 + r3 * x3);
      store<f64>(outB + i, load<f64>(outB + i) + q0 * x0 + q1 * x1 + q2 * x2 + q3 * x3);
    }
  }
  for (; t < taps; t++) {
    const r = load<f64>(wa + (<usize>t << 3));
    const q = load<f64>(wb + (<usize>t << 3));
    const a = f64x2.splat(r);
    const b = f64x2.splat(q);
    const o = offsetAt(xp, xo, offsets, t);
    let i: usize = 0;
    for (; i < vectorBytes; i += 16) {
      const x = v128.load(o + i);
      v128.store(outA + i, f64x2.add(v128.load(outA + i), f64x2.mul(a, x)));
      v128.store(outB + i, f64x2.add(v128.load(outB + i), f64x2.mul(b, x)));
    }
    for (; i < bytes; i += 8) {
      const x = load<f64>(o + i);
      store<f64>(outA + i, load<f64>(outA + i) + r * x);
      store<f64>(outB + i, load<f64>(outB + i) + q * x);
    }
  }
}

// acc[co·run + i] = Σ_t w[co·taps + t]·xp[group(co)·groupStride + offsets[t] + i] for every output
// channel co, i < run; channels of the same group go in pairs.
export function f64_conv_padded(acc: usize, xp: usize, w: usize, offsets: usize, taps: i32, run: i32, cout: i32, outPerGroup: i32, groupStride: i32): void {
  const bytes = <usize>run << 3;
  let co = 0;
  while (co < cout) {
    const group = co / outPerGroup;
    const xo = group * groupStride;
    const wo = w + (<usize>(co * taps) << 3);
    const out = acc + <usize>co * bytes;
    if (co + 1 < cout && (co + 1) / outPerGroup == group) {
      conv_channel_pair(out, out + bytes, xp, xo, wo, wo + (<usize>taps << 3), offsets, taps, run);
      co += 2;
    } else {
      conv_channel(out, xp, xo, wo, offsets, taps, run);
      co += 1;
    }
  }
}

// gw[co·taps + t] += Σ_i g[co·run + i]·xp[group(co)·groupStride + offsets[t] + i] for every output
// channel co and tap t.
export function f64_conv_padded_weight_gradient(gw: usize, g: usize, xp: usize, offsets: usize, taps: i32, run: i32, cout: i32, outPerGroup: i32, groupStride: i32): void {
  const bytes = <usize>run << 3;
  const vectorBytes = <usize>(run & ~1) << 3;
  for (let co = 0; co < cout; co++) {
    const gRow = g + <usize>co * bytes;
    const xo = (co / outPerGroup) * groupStride;
    const wo = gw + (<usize>(co * taps) << 3);
    let t = 0;
    for (; t + 4 <= taps; t += 4) {
      const o0 = offsetAt(xp, xo, offsets, t), o1 = offsetAt(xp, xo, offsets, t + 1);
      const o2 = offsetAt(xp, xo, offsets, t + 2), o3 = offsetAt(xp, xo, offsets, t + 3);
      let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
      let i: usize = 0;
      for (; i < vectorBytes; i += 16) {
        const v = v128.load(gRow + i);
        a0 = f64x2.add(a0, f64x2.mul(v, v128.load(o0 + i)));
        a1 = f64x2.add(a1, f64x2.mul(v, v128.load(o1 + i)));
        a2 = f64x2.add(a2, f64x2.mul(v, v128.load(o2 + i)));
        a3 = f64x2.add(a3, f64x2.mul(v, v128.load(o3 + i)));
      }
      let s0 = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
      let s1 = f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1);
      let s2 = f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1);
      let s3 = f64x2.extract_lane(a3, 0) + f64x2.extract_lane(a3, 1);
      for (; i < bytes; i += 8) {
        const v = load<f64>(gRow + i);
        s0 += v * load<f64>(o0 + i);
        s1 += v * load<f64>(o1 + i);
        s2 += v * load<f64>(o2 + i);
        s3 += v * load<f64>(o3 + i);
      }
      store<f64>(wo + (<usize>t << 3), load<f64>(wo + (<usize>t << 3)) + s0);
      store<f64>(wo + (<usize>(t + 1) << 3), load<f64>(wo + (<usize>(t + 1) << 3)) + s1);
      store<f64>(wo + (<usize>(t + 2) << 3), load<f64>(wo + (<usize>(t + 2) << 3)) + s2);
      store<f64>(wo + (<usize>(t + 3) << 3), load<f64>(wo + (<usize>(t + 3) << 3)) + s3);
    }
    for (; t < taps; t++) {
      const o = offsetAt(xp, xo, offsets, t);
      let a = f64x2.splat(0);
      let i: usize = 0;
      for (; i < vectorBytes; i += 16) a = f64x2.add(a, f64x2.mul(v128.load(gRow + i), v128.load(o + i)));
      let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
      for (; i < bytes; i += 8) s += load<f64>(gRow + i) * load<f64>(o + i);
      store<f64>(wo + (<usize>t << 3), load<f64>(wo + (<usize>t << 3)) + s);
    }
  }
}

// The transpose of `f64_conv_padded`: xp[group(co)·groupStride + offsets[t] + i] += w[co·taps + t]·g[co·run + i]
// for every output channel co, tap t and i < run (the input gradient in the phase layout).
export function f64_conv_padded_transpose(xp: usize, g: usize, w: usize, offsets: usize, taps: i32, run: i32, cout: i32, outPerGroup: i32, groupStride: i32): void {
  const bytes = <usize>run << 3;
  const vectorBytes = <usize>(run & ~1) << 3;
  for (let co = 0; co < cout; co++) {
    const gRow = g + <usize>co * bytes;
    const xo = (co / outPerGroup) * groupStride;
    const wo = w + (<usize>(co * taps) << 3);
    for (let t = 0; t < taps; t++) {
      const s = load<f64>(wo + (<usize>t << 3));
      const ws = f64x2.splat(s);
      const o = offsetAt(xp, xo, offsets, t);
      let i: usize = 0;
      for (; i < vectorBytes; i += 16) v128.store(o + i, f64x2.add(v128.load(o + i), f64x2.mul(ws, v128.load(gRow + i))));
      for (; i < bytes; i += 8) store<f64>(o + i, load<f64>(o + i) + s * load<f64>(gRow + i));
    }
  }
}

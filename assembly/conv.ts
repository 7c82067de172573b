// Convolutions over NCHW float32 tensors, forward and both backward products.
//
// Channels are tiny (1–12) and spatial rows are long (8–32), so the fast paths vectorise along a
// row: stride-1 convolutions read from a copy of the input with a zero halo, which turns every tap
// into an unclipped row segment. The backward product for the input is the same correlation with
// the weights transposed and flipped (`transpose_flip_weights`). Other geometries (stride 2, rows
// not a multiple of 4, FactorizedReduce's shifted taps) take the scalar path with bounds checks.

// out[o, y, x] (+)= Σ_{ci, kh, kw} w[o, ci, kh, kw] · src[g·cing + ci, y + kh·dil, x + kw·dil]
// for one sample; `src` is padded (hp × wp per channel) so every tap is in range; wout % 4 == 0.
function correlate_sample(
  src: usize, w: usize, out: usize,
  cin: i32, cout: i32, groups: i32, hout: i32, wout: i32, hp: i32, wp: i32, k: i32, dil: i32,
  accumulate: bool,
): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  const kk = k * k;
  const plane = <usize>(hp * wp) << 2;
  for (let o = 0; o < cout; o++) {
    const g = o / coutg;
    const srcGroup = src + <usize>(g * cing) * plane;
    const wo = w + (<usize>(o * cing * kk) << 2);
    for (let y = 0; y < hout; y++) {
      const outRow = out + (<usize>((o * hout + y) * wout) << 2);
      let x = 0;
      for (; x + 16 <= wout; x += 16) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let ci = 0; ci < cing; ci++) {
          const chan = srcGroup + <usize>ci * plane;
          const wc = wo + (<usize>(ci * kk) << 2);
          for (let kh = 0; kh < k; kh++) {
            const row = chan + (<usize>((y + kh * dil) * wp + x) << 2);
            const wr = wc + (<usize>(kh * k) << 2);
            for (let kw = 0; kw < k; kw++) {
              const wv = f32x4.splat(load<f32>(wr + (<usize>kw << 2)));
              const p = row + (<usize>(kw * dil) << 2);
              a0 = f32x4.add(a0, f32x4.mul(wv, v128.load(p)));
              a1 = f32x4.add(a1, f32x4.mul(wv, v128.load(p, 16)));
              a2 = f32x4.add(a2, f32x4.mul(wv, v128.load(p, 32)));
              a3 = f32x4.add(a3, f32x4.mul(wv, v128.load(p, 48)));
            }
          }
        }
        const q = outRow + (<usize>x << 2);
        if (accumulate) {
          a0 = f32x4.add(a0, v128.load(q));
          a1 = f32x4.add(a1, v128.load(q, 16));
          a2 = f32x4.add(a2, v128.load(q, 32));
          a3 = f32x4.add(a3, v128.load(q, 48));
        }
        v128.store(q, a0);
        v128.store(q, a1, 16);
        v128.store(q, a2, 32);
        v128.store(q, a3, 48);
      }
      for (; x < wout; x += 4) {
        let a0 = f32x4.splat(0);
        for (let ci = 0; ci < cing; ci++) {
          const chan = srcGroup + <usize>ci * plane;
          const wc = wo + (<usize>(ci * kk) << 2);
          for (let kh = 0; kh < k; kh++) {
            const row = chan + (<usize>((y + kh * dil) * wp + x) << 2);
            const wr = wc + (<usize>(kh * k) << 2);
            for (let kw = 0; kw < k; kw++) {
              const wv = f32x4.splat(load<f32>(wr + (<usize>kw << 2)));
              a0 = f32x4.add(a0, f32x4.mul(wv, v128.load(row + (<usize>(kw * dil) << 2))));
            }
          }
        }
        const q = outRow + (<usize>x << 2);
        if (accumulate) a0 = f32x4.add(a0, v128.load(q));
        v128.store(q, a0);
      }
    }
  }
}

// Copies one sample (c × h × w) into a zero-filled (c × hp × wp) buffer at offset (top, left).
export function pad_sample(src: usize, dst: usize, c: i32, h: i32, w: i32, hp: i32, wp: i32, top: i32, left: i32): void {
  memory.fill(dst, 0, <usize>(c * hp * wp) << 2);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const r = y + top;
      if (r < 0 || r >= hp) continue;
      let x0 = 0;
      let x1 = w;
      if (left < 0) x0 = -left;
      if (x1 + left > wp) x1 = wp - left;
      if (x1 <= x0) continue;
      memory.copy(
        dst + (<usize>((ch * hp + r) * wp + x0 + left) << 2),
        src + (<usize>((ch * h + y) * w + x0) << 2),
        <usize>(x1 - x0) << 2,
      );
    }
  }
}

// Stride-1 forward: keeps each sample's padded input in `padded` (n × cin × hp × wp) for the
// weight gradient, with hp = hout + (k−1)·dil, wp = wout + (k−1)·dil.
export function conv_forward_fast(
  input: usize, output: usize, w: usize, padded: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, pad: i32, dil: i32, groups: i32,
): void {
  const hp = hout + (k - 1) * dil;
  const wp = wout + (k - 1) * dil;
  const inSize = <usize>(cin * hin * win) << 2;
  const padSize = <usize>(cin * hp * wp) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  for (let s = 0; s < n; s++) {
    const p = padded + <usize>s * padSize;
    pad_sample(input + <usize>s * inSize, p, cin, hin, win, hp, wp, pad, pad);
    correlate_sample(p, w, output + <usize>s * outSize, cin, cout, groups, hout, wout, hp, wp, k, dil, false);
  }
}

// wT[c, ol, kh, kw] = w[g·coutg + ol, c − g·cing, k−1−kh, k−1−kw] with g = c / cing.
export function transpose_flip_weights(w: usize, wT: usize, cin: i32, cout: i32, k: i32, groups: i32): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  const kk = k * k;
  for (let c = 0; c < cin; c++) {
    const g = c / cing;
    for (let ol = 0; ol < coutg; ol++) {
      const o = g * coutg + ol;
      for (let t = 0; t < kk; t++) {
        store<f32>(wT + (<usize>((c * coutg + ol) * kk + t) << 2), load<f32>(w + (<usize>((o * cing + c - g * cing) * kk + kk - 1 - t) << 2)));
      }
    }
  }
}

// Stride-1 gradient for the input: correlate the padded output gradient with wT.
export function conv_backward_input_fast(
  dout: usize, din: usize, wT: usize, scratch: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, pad: i32, dil: i32, groups: i32,
  accumulate: bool,
): void {
  const halo = (k - 1) * dil - pad;
  const hp = hin + (k - 1) * dil;
  const wp = win + (k - 1) * dil;
  const inSize = <usize>(cin * hin * win) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  for (let s = 0; s < n; s++) {
    pad_sample(dout + <usize>s * outSize, scratch, cout, hout, wout, hp, wp, halo, halo);
    correlate_sample(scratch, wT, din + <usize>s * inSize, cout, cin, groups, hin, win, hp, wp, k, dil, accumulate);
  }
}

// Stride-1 weight gradient: dw[o, ci, kh, kw] = Σ_s Σ_y Σ_x dout[s, o, y, x] · padded[s, c, y + kh·dil, x + kw·dil].
export function conv_backward_weight_fast(
  dout: usize, padded: usize, dw: usize, n: i32,
  cin: i32, cout: i32, hout: i32, wout: i32, k: i32, dil: i32, groups: i32,
): void {
  const hp = hout + (k - 1) * dil;
  const wp = wout + (k - 1) * dil;
  const cing = cin / groups;
  const coutg = cout / groups;
  const padSize = <usize>(cin * hp * wp) << 2;
  const outSize = <usize>(cout * hout * wout) << 2;
  const plane = <usize>(hp * wp) << 2;
  for (let o = 0; o < cout; o++) {
    const g = o / coutg;
    for (let ci = 0; ci < cing; ci++) {
      const c = g * cing + ci;
      for (let kh = 0; kh < k; kh++) {
        for (let kw = 0; kw < k; kw++) {
          let acc = f32x4.splat(0);
          let accD: f64 = 0;
          for (let s = 0; s < n; s++) {
            const dRows = dout + <usize>s * outSize + (<usize>(o * hout * wout) << 2);
            const pRows = padded + <usize>s * padSize + <usize>c * plane + (<usize>(kh * dil * wp + kw * dil) << 2);
            for (let y = 0; y < hout; y++) {
              const dr = dRows + (<usize>(y * wout) << 2);
              const pr = pRows + (<usize>(y * wp) << 2);
              for (let x = 0; x < wout; x += 4) {
                acc = f32x4.add(acc, f32x4.mul(v128.load(dr + (<usize>x << 2)), v128.load(pr + (<usize>x << 2))));
              }
            }
            // Flush per sample so long sums keep float32 partials short.
            accD += <f64>(f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + <f64>(f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
            acc = f32x4.splat(0);
          }
          store<f32>(dw + (<usize>(((o * cing + ci) * k + kh) * k + kw) << 2), <f32>accD);
        }
      }
    }
  }
}

// Scalar forward for any geometry: input row = y·stride − pad + kh·dil (taps outside read zero).
export function conv_forward_generic(
  input: usize, output: usize, w: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, dil: i32, groups: i32,
): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  for (let s = 0; s < n; s++) {
    const inS = input + (<usize>(s * cin * hin * win) << 2);
    const outS = output + (<usize>(s * cout * hout * wout) << 2);
    for (let o = 0; o < cout; o++) {
      const g = o / coutg;
      for (let y = 0; y < hout; y++) {
        for (let x = 0; x < wout; x++) {
          let acc: f32 = 0;
          for (let ci = 0; ci < cing; ci++) {
            const c = g * cing + ci;
            for (let kh = 0; kh < k; kh++) {
              const iy = y * stride - pad + kh * dil;
              if (iy < 0 || iy >= hin) continue;
              for (let kw = 0; kw < k; kw++) {
                const ix = x * stride - pad + kw * dil;
                if (ix < 0 || ix >= win) continue;
                acc += load<f32>(w + (<usize>(((o * cing + ci) * k + kh) * k + kw) << 2)) * load<f32>(inS + (<usize>((c * hin + iy) * win + ix) << 2));
              }
            }
          }
          store<f32>(outS + (<usize>((o * hout + y) * wout + x) << 2), acc);
        }
      }
    }
  }
}

export function conv_backward_input_generic(
  dout: usize, din: usize, w: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, dil: i32, groups: i32,
  accumulate: bool,
): void {
  if (!accumulate) memory.fill(din, 0, <usize>(n * cin * hin * win) << 2);
  const cing = cin / groups;
  const coutg = cout / groups;
  for (let s = 0; s < n; s++) {
    const dinS = din + (<usize>(s * cin * hin * win) << 2);
    const doutS = dout + (<usize>(s * cout * hout * wout) << 2);
    for (let o = 0; o < cout; o++) {
      const g = o / coutg;
      for (let y = 0; y < hout; y++) {
        for (let x = 0; x < wout; x++) {
          const d = load<f32>(doutS + (<usize>((o * hout + y) * wout + x) << 2));
          if (d == 0) continue;
          for (let ci = 0; ci < cing; ci++) {
            const c = g * cing + ci;
            for (let kh = 0; kh < k; kh++) {
              const iy = y * stride - pad + kh * dil;
              if (iy < 0 || iy >= hin) continue;
              for (let kw = 0; kw < k; kw++) {
                const ix = x * stride - pad + kw * dil;
                if (ix < 0 || ix >= win) continue;
                const p = dinS + (<usize>((c * hin + iy) * win + ix) << 2);
                store<f32>(p, load<f32>(p) + d * load<f32>(w + (<usize>(((o * cing + ci) * k + kh) * k + kw) << 2)));
              }
            }
          }
        }
      }
    }
  }
}

export function conv_backward_weight_generic(
  dout: usize, input: usize, dw: usize, n: i32,
  cin: i32, hin: i32, win: i32, cout: i32, hout: i32, wout: i32, k: i32, stride: i32, pad: i32, dil: i32, groups: i32,
): void {
  const cing = cin / groups;
  const coutg = cout / groups;
  for (let o = 0; o < cout; o++) {
    const g = o / coutg;
    for (let ci = 0; ci < cing; ci++) {
      const c = g * cing + ci;
      for (let kh = 0; kh < k; kh++) {
        for (let kw = 0; kw < k; kw++) {
          let acc: f64 = 0;
          for (let s = 0; s < n; s++) {
            const inS = input + (<usize>(s * cin * hin * win) << 2);
            const doutS = dout + (<usize>(s * cout * hout * wout) << 2);
            let part: f32 = 0;
            for (let y = 0; y < hout; y++) {
              const iy = y * stride - pad + kh * dil;
              if (iy < 0 || iy >= hin) continue;
              for (let x = 0; x < wout; x++) {
                const ix = x * stride - pad + kw * dil;
                if (ix < 0 || ix >= win) continue;
                part += load<f32>(doutS + (<usize>((o * hout + y) * wout + x) << 2)) * load<f32>(inS + (<usize>((c * hin + iy) * win + ix) << 2));
              }
            }
            acc += <f64>part;
          }
          store<f32>(dw + (<usize>(((o * cing + ci) * k + kh) * k + kw) << 2), <f32>acc);
        }
      }
    }
  }
}

// Float64 linear algebra for the NTK: the Gram matrix of float32 gradient rows and the eigenvalues
// of a small symmetric matrix (cyclic Jacobi, accurate to ~1e-15 relative for B ≤ a few hundred).

// theta[i, j] = Σ_p G[i, p] · G[j, p], products and sums in float64.
export function gram_f64(g: usize, rows: i32, cols: i32, theta: usize): void {
  for (let i = 0; i < rows; i++) {
    const gi = g + (<usize>(i * cols) << 2);
    // Two entries at once, (i, j) and (i, j + 1): four independent float64 add chains instead of
    // two. A lone last entry (j = i) is paired with itself.
    for (let j = 0; j <= i; j += 2) {
      const gj = g + (<usize>(j * cols) << 2);
      const gk = j < i ? gj + (<usize>cols << 2) : gj;
      let lo = f64x2.splat(0), hi = f64x2.splat(0), lo2 = f64x2.splat(0), hi2 = f64x2.splat(0);
      let p = 0;
      for (; p < (cols & ~3); p += 4) {
        const a = v128.load(gi + (<usize>p << 2));
        const aLo = f64x2.promote_low_f32x4(a), aHi = f64x2.promote_low_f32x4(i32x4.shuffle(a, a, 2, 3, 0, 1));
        const b = v128.load(gj + (<usize>p << 2));
        const c = v128.load(gk + (<usize>p << 2));
        lo = f64x2.add(lo, f64x2.mul(aLo, f64x2.promote_low_f32x4(b)));
        hi = f64x2.add(hi, f64x2.mul(aHi, f64x2.promote_low_f32x4(i32x4.shuffle(b, b, 2, 3, 0, 1))));
        lo2 = f64x2.add(lo2, f64x2.mul(aLo, f64x2.promote_low_f32x4(c)));
        hi2 = f64x2.add(hi2, f64x2.mul(aHi, f64x2.promote_low_f32x4(i32x4.shuffle(c, c, 2, 3, 0, 1))));
      }
      store_gram_entry(gi, gj, p, cols, lo, hi, theta, rows, i, j);
      if (j < i) store_gram_entry(gi, gk, p, cols, lo2, hi2, theta, rows, i, j + 1);
    }
  }
}

// Θ[i, j] = Θ[j, i]: the four lanes of `lo` and `hi` added in order, then the scalar tail from `p`.
@inline function store_gram_entry(gi: usize, gj: usize, p: i32, cols: i32, lo: v128, hi: v128, theta: usize, rows: i32, i: i32, j: i32): void {
  let sum = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
  for (; p < cols; p++) sum += <f64>load<f32>(gi + (<usize>p << 2)) * <f64>load<f32>(gj + (<usize>p << 2));
  store<f64>(theta + (<usize>(i * rows + j) << 3), sum);
  store<f64>(theta + (<usize>(j * rows + i) << 3), sum);
}

// The float32 path of the released code: Θ summed in float32.
export function gram_f32(g: usize, rows: i32, cols: i32, theta: usize): void {
  for (let i = 0; i < rows; i++) {
    const gi = g + (<usize>(i * cols) << 2);
    for (let j = 0; j <= i; j++) {
      const gj = g + (<usize>(j * cols) << 2);
      let sum: f32 = 0;
      for (let p = 0; p < cols; p++) sum += load<f32>(gi + (<usize>p << 2)) * load<f32>(gj + (<usize>p << 2));
      store<f64>(theta + (<usize>(i * rows + j) << 3), <f64>sum);
      store<f64>(theta + (<usize>(j * rows + i) << 3), <f64>sum);
    }
  }
}

@inline function at(a: usize, n: i32, i: i32, j: i32): usize {
  return a + (<usize>(i * n + j) << 3);
}

// Eigenvalues of the symmetric n × n matrix `a` (overwritten), ascending, into `values`.
// Returns the number of sweeps used, or −1 if it did not converge.
export function symmetric_eigenvalues(a: usize, n: i32, values: usize): i32 {
  let sweeps = 0;
  for (; sweeps < 100; sweeps++) {
    let off: f64 = 0;
    let diag: f64 = 0;
    for (let i = 0; i < n; i++) {
      diag += load<f64>(at(a, n, i, i)) * load<f64>(at(a, n, i, i));
      for (let j = i + 1; j < n; j++) off += load<f64>(at(a, n, i, j)) * load<f64>(at(a, n, i, j));
    }
    if (off <= 1e-30 * diag) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = load<f64>(at(a, n, p, q));
        const app = load<f64>(at(a, n, p, p));
        const aqq = load<f64>(at(a, n, q, q));
        // Below the rounding level of the diagonal a rotation changes nothing: drop the entry.
        if (Math.abs(apq) <= 1e-18 * Math.sqrt(Math.abs(app * aqq))) {
          store<f64>(at(a, n, p, q), 0);
          store<f64>(at(a, n, q, p), 0);
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1.0 : -1.0) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = load<f64>(at(a, n, k, p));
          const akq = load<f64>(at(a, n, k, q));
          store<f64>(at(a, n, k, p), c * akp - s * akq);
          store<f64>(at(a, n, k, q), s * akp + c * akq);
        }
        for (let k = 0; k < n; k++) {
          const apk = load<f64>(at(a, n, p, k));
          const aqk = load<f64>(at(a, n, q, k));
          store<f64>(at(a, n, p, k), c * apk - s * aqk);
          store<f64>(at(a, n, q, k), s * apk + c * aqk);
        }
        store<f64>(at(a, n, p, q), 0);
        store<f64>(at(a, n, q, p), 0);
      }
    }
  }
  for (let i = 0; i < n; i++) store<f64>(values + (<usize>i << 3), load<f64>(at(a, n, i, i)));
  // Insertion sort: n ≤ a few hundred.
  for (let i = 1; i < n; i++) {
    const v = load<f64>(values + (<usize>i << 3));
    let j = i - 1;
    while (j >= 0 && load<f64>(values + (<usize>j << 3)) > v) {
      store<f64>(values + (<usize>(j + 1) << 3), load<f64>(values + (<usize>j << 3)));
      j--;
    }
    store<f64>(values + (<usize>(j + 1) << 3), v);
  }
  return sweeps < 100 ? sweeps : -1;
}

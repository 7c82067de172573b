import type { GradientMatrix, PatternMatrix } from '../engine/backend.js';
import { WasmKernels } from '../engine/wasm/module.js';

/**
 * `float64` (the project's default, docs/algorithm.md §7.3, §13): Θ accumulated in float64 and solved in float64.
 * `float32` reproduces the released code's float32 Gram for comparisons (eigenvalues still f64).
 */
export type GramPrecision = 'float64' | 'float32';

/** The float64 linear algebra and distinct-row counting, in WebAssembly whatever the backend. */
export class LinearAlgebra {
  private constructor(private readonly kernels: WasmKernels) {}

  static async create(): Promise<LinearAlgebra> {
    return new LinearAlgebra(await WasmKernels.create());
  }

  gram(gradients: GradientMatrix, precision: GramPrecision = 'float64'): Float64Array {
    const { rows, columns } = gradients;
    return this.scoped(() => {
      const g = this.kernels.upload(gradients.data);
      const theta = this.kernels.alloc(rows * rows * 8);
      if (precision === 'float64') this.kernels.exports.gram_f64(g, rows, columns, theta);
      else this.kernels.exports.gram_f32(g, rows, columns, theta);
      return this.kernels.f64(theta, rows * rows).slice();
    });
  }

  /** All eigenvalues of a symmetric matrix, ascending. */
  eigenvalues(matrix: Float64Array, n: number): Float64Array {
    return this.scoped(() => {
      const a = this.kernels.alloc(n * n * 8);
      this.kernels.f64(a, n * n).set(matrix);
      const values = this.kernels.alloc(n * 8);
      const sweeps = this.kernels.exports.symmetric_eigenvalues(a, n, values);
      if (sweeps < 0) throw new Error('the Jacobi eigen-solver did not converge');
      return this.kernels.f64(values, n).slice();
    });
  }

  countDistinctRows(patterns: PatternMatrix): number {
    return this.scoped(() => {
      const packed = this.kernels.alloc(patterns.packed.byteLength);
      this.kernels.u32(packed, patterns.packed.length).set(patterns.packed);
      let capacity = 1;
      while (capacity < 2 * patterns.rows) capacity *= 2;
      const table = this.kernels.alloc(capacity * 4);
      return this.kernels.exports.count_distinct_rows(packed, patterns.rows, patterns.words, table, capacity);
    });
  }

  /**
   * K[i, j] = the number of sign bits in [bitStart, bitEnd) on which rows i and j agree (NASWOT's
   * c·cᵀ + (1 − c)(1 − c)ᵀ over those units), rows × rows in float64.
   */
  signAgreements(patterns: PatternMatrix, bitStart: number, bitEnd: number): Float64Array {
    const { rows } = patterns;
    return this.scoped(() => {
      const packed = this.kernels.alloc(patterns.packed.byteLength);
      this.kernels.u32(packed, patterns.packed.length).set(patterns.packed);
      const k = this.kernels.alloc(rows * rows * 8);
      this.kernels.f64(k, rows * rows).fill(0);
      this.kernels.exports.add_sign_agreements(packed, rows, patterns.words, bitStart, bitEnd, k);
      return this.kernels.f64(k, rows * rows).slice();
    });
  }

  private scoped<T>(work: () => T): T {
    const mark = this.kernels.mark();
    try {
      return work();
    } finally {
      this.kernels.release(mark);
    }
  }
}

import { tensorSize } from '../../graph/ir.js';
import { inputJacobianPass } from './passes.js';
import { proxyIndicator } from './proxy.js';

const K = 1e-5;

/** NumPy's `corrcoef` of the rows of a rows × columns float32 matrix, in float64. */
export function rowCorrelations(matrix: Float32Array, rows: number, columns: number): Float64Array {
  const centred = new Float64Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < columns; c++) mean += matrix[r * columns + c];
    mean /= columns;
    for (let c = 0; c < columns; c++) centred[r * columns + c] = matrix[r * columns + c] - mean;
  }
  const covariance = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let total = 0;
      for (let c = 0; c < columns; c++) total += centred[i * columns + c] * centred[j * columns + c];
      covariance[i * rows + j] = covariance[j * rows + i] = total;
    }
  }
  const correlation = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) correlation[i * rows + j] = covariance[i * rows + j] / Math.sqrt(covariance[i * rows + i] * covariance[j * rows + j]);
  }
  return correlation;
}

/**
 * jacob_cov (zero-cost-nas `jacob_cov.py`, NASWOT v1): J = ∂(Σ logits)/∂x per sample, C = corrcoef
 * of J's rows, v = eigenvalues of C; score = −Σ (ln(v + k) + 1/(v + k)), k = 10⁻⁵.
 */
export const jacobCovIndicator = proxyIndicator({
  name: 'jacob_cov',
  key: 'jacobCov',
  symbol: 'JCov',
  title: 'Jacobian covariance',
  measure: async (context) => {
    const { network, batch, linalg } = context;
    const { jacobian } = await inputJacobianPass(context);
    const correlations = rowCorrelations(jacobian, batch, tensorSize(network.input));
    // A sample whose Jacobian row is constant (no path from input to logits) has no correlation:
    // NumPy gives NaN and the reference catches the failing eigen-solve as NaN; it ranks worst here.
    if (!correlations.every(Number.isFinite)) return { value: -Infinity, extra: { degenerate: 'a Jacobian row is constant, so its correlations are undefined' } };
    const eig = linalg.eigenvalues(correlations, batch);
    let value = 0;
    for (const v of eig) value -= Math.log(v + K) + 1 / (v + K);
    let jacobianAbsSum = 0;
    for (const x of jacobian) jacobianAbsSum += Math.abs(x);
    return { value, extra: { eig: Array.from(eig), jacobian_abs_sum: jacobianAbsSum } };
  },
});

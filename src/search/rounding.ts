/**
 * The three roundings the released TE-NAS code applies to its scores (docs/algorithm.md §9.1).
 * They differ on near-half inputs, and a one-digit difference can reorder candidates, so each one is
 * reproduced exactly rather than approximated with `toFixed`/`Math.round`.
 */

const MAX_DECIMALS = 300;

function assertDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new RangeError(`decimals must be an integer in 0..${MAX_DECIMALS}, got ${decimals}`);
  }
}

/**
 * 10^k as Python computes `10 ** k` when the result meets a float: exact for k >= 0 (an int, or
 * 10.0 ** k, both exact up to 1e22) and the correctly rounded double for k < 0. Parsing the decimal
 * literal gives the correctly rounded value in every case, whereas `10 ** k` in JS is not guaranteed to.
 */
export function pythonPow10(k: number): number {
  return Number(`1e${k}`);
}

/** Round half to even to an integer, like C's rint() in the default rounding mode. */
export function rint(y: number): number {
  const nearest = Math.round(y); // ties toward +Infinity
  if (nearest - y === 0.5 && nearest % 2 !== 0) return nearest - 1;
  return nearest;
}

/**
 * NumPy's `np.round(x, decimals)` for float64 (decimals >= 0): rint(x · 10^d) / 10^d, where the
 * product is the rounded binary product, so ties are decided on that product, not on x's decimal value.
 */
export function roundNumpy(x: number, decimals: number): number {
  assertDecimals(decimals);
  const scale = pythonPow10(decimals);
  return rint(x * scale) / scale;
}

/** `np.round(x, 3)`: the rounding of the per-repeat Δκ values (docs/algorithm.md §9.1). */
export function roundNumpy3(x: number): number {
  return roundNumpy(x, 3);
}

/** Splits a finite, non-negative double into an exact `mantissa · 2^exponent`. */
function decomposeDouble(value: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biasedExponent = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (biasedExponent === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biasedExponent - 1075 };
}

/** Formats the integer `scaled` as a decimal number with `decimals` digits after the point. */
function scaledIntegerToDecimal(scaled: bigint, decimals: number, negative: boolean): string {
  const digits = scaled.toString().padStart(decimals + 1, '0');
  const integerPart = digits.slice(0, digits.length - decimals);
  const fractionPart = digits.slice(digits.length - decimals);
  return `${negative ? '-' : ''}${integerPart}${decimals > 0 ? `.${fractionPart}` : ''}`;
}

/**
 * Python's `round(x, decimals)` for a float (decimals >= 0): the exact binary value of x rounded to
 * `decimals` decimal places, half to even only on exact ties, then converted back to the nearest double
 * (CPython does the same with dtoa mode 3 and strtod). NaN, ±Infinity and ±0 come back unchanged.
 */
export function roundPython(x: number, decimals: number): number {
  assertDecimals(decimals);
  if (!Number.isFinite(x) || x === 0) return x;
  const { mantissa, exponent } = decomposeDouble(Math.abs(x));
  let numerator = mantissa * 10n ** BigInt(decimals);
  let denominator = 1n;
  if (exponent >= 0) numerator <<= BigInt(exponent);
  else denominator <<= BigInt(-exponent);
  let quotient = numerator / denominator;
  const twiceRemainder = 2n * (numerator % denominator);
  const roundsUp =
    twiceRemainder > denominator || (twiceRemainder === denominator && (quotient & 1n) === 1n);
  if (roundsUp) quotient += 1n;
  return Number(scaledIntegerToDecimal(quotient, decimals, x < 0));
}

/** Python's `round(x, 3)` on a float: the rounding of the per-repeat ΔR values (docs/algorithm.md §9.1). */
export function roundPython3(x: number): number {
  return roundPython(x, 3);
}

const ROUND_TO_EPS = 1e-8;

/**
 * The released code's `round_to(number, precision)` sort key (prune_tenas.py L53-64), literally:
 * sign(x) · np.round((|x| + 1e-8) · 10^(−p), precision) · 10^p with p = floor(log10(|x| + 1e-8)) + 1.
 * The inner round is NumPy's because the scores are numpy float64 means; log10 is ln(x)/ln(10) as
 * Python's `math.log(x, 10)` computes it. 0 is returned unchanged; NaN and ±Infinity throw, as
 * `math.floor` does in Python.
 */
export function roundTo(x: number, precision = 3): number {
  if (x === 0) return x;
  if (!Number.isFinite(x)) {
    throw new RangeError(`round_to: cannot round ${x} (the score must be a finite number)`);
  }
  const sign = x / Math.abs(x);
  const shifted = Math.abs(x) + ROUND_TO_EPS;
  const power = Math.floor(Math.log(shifted) / Math.log(10)) + 1;
  return sign * roundNumpy(shifted * pythonPow10(-power), precision) * pythonPow10(power);
}

/**
 * `np.mean` of three float64 values: its summation degenerates to ((a + b) + c) / 3. The sum starts
 * from +0 as NumPy's does, so three -0 values give +0, not -0.
 */
export function mean3(a: number, b: number, c: number): number {
  return (0 + a + b + c) / 3;
}

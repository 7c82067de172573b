/** Rank statistics for comparing training-free scores with benchmark accuracies. */

/** ±∞ is a value like any other to a rank statistic (a proxy's −∞ ranks last); NaN has no rank. */
function requireOrderedValues(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) throw new RangeError(`${what} holds NaN at index ${i}`);
  }
}

function requirePairs(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) throw new RangeError(`the two samples differ in length (${x.length} and ${y.length})`);
  requireOrderedValues(x, 'the first sample');
  requireOrderedValues(y, 'the second sample');
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total / values.length;
}

/** Sample standard deviation (ddof = 1); NaN for fewer than two values. */
export function sampleStd(values: ArrayLike<number>): number {
  if (values.length < 2) return Number.NaN;
  const centre = mean(values);
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - centre) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

/** 1-based ranks in ascending order; tied values share the mean of the ranks they span. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  // Compared, not subtracted: −∞ − (−∞) is NaN, and −∞ values (AZ-NAS's) must tie.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    const shared = (start + 1 + end) / 2; // mean of the ranks start+1 .. end
    for (let k = start; k < end; k++) ranks[order[k]] = shared;
    start = end;
  }
  return ranks;
}

function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: the Pearson correlation of the average ranks; NaN when either sample is constant. */
export function spearmanRho(x: ArrayLike<number>, y: ArrayLike<number>): number {
  requirePairs(x, y);
  if (x.length < 2) return Number.NaN;
  return pearson(averageRanks(x), averageRanks(y));
}

/** Pairs within runs of equal values of a sorted sequence: Σ t(t−1)/2. */
function tiedPairs(sorted: ArrayLike<number>): number {
  let pairs = 0;
  for (let start = 0; start < sorted.length; ) {
    let end = start + 1;
    while (end < sorted.length && sorted[end] === sorted[start]) end++;
    const run = end - start;
    pairs += (run * (run - 1)) / 2;
    start = end;
  }
  return pairs;
}

/** Sorts `values` ascending in place (stable bottom-up merge sort) and returns the number of strict inversions. */
function sortCountingInversions(values: Float64Array<ArrayBuffer>): number {
  const n = values.length;
  let source = values;
  let target = new Float64Array(n);
  let inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let left = 0; left < n; left += 2 * width) {
      const middle = Math.min(left + width, n);
      const right = Math.min(left + 2 * width, n);
      let i = left;
      let j = middle;
      let k = left;
      while (i < middle && j < right) {
        if (source[j] < source[i]) {
          inversions += middle - i; // source[j] is smaller than every remaining left value
          target[k++] = source[j++];
        } else {
          target[k++] = source[i++];
        }
      }
      while (i < middle) target[k++] = source[i++];
      while (j < right) target[k++] = source[j++];
    }
    [source, target] = [target, source];
  }
  if (source !== values) values.set(source);
  return inversions;
}

/**
 * Kendall's τ-b (ties in either sample handled as in scipy.stats.kendalltau), by Knight's
 * O(n log n) method: sort by (x, y), count the discordant pairs as the inversions of y in that
 * order, and correct for the pairs tied in x, in y and in both. NaN when either sample is constant.
 */
export function kendallTau(values: ArrayLike<number>, others: ArrayLike<number>): number {
  requirePairs(values, others);
  const n = values.length;
  if (n < 2) return Number.NaN;
  // τ depends on the order alone: on ranks, infinite values compare and subtract like the others.
  const x = averageRanks(values);
  const y = averageRanks(others);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b] || y[a] - y[b]);
  const xSorted = Float64Array.from(order, (i) => x[i]);
  const ySorted = Float64Array.from(order, (i) => y[i]);

  const xTies = tiedPairs(xSorted);
  let jointTies = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && xSorted[end] === xSorted[start] && ySorted[end] === ySorted[start]) end++;
    const run = end - start;
    jointTies += (run * (run - 1)) / 2;
    start = end;
  }
  const discordant = sortCountingInversions(ySorted);
  const yTies = tiedPairs(ySorted);

  const total = (n * (n - 1)) / 2;
  const concordantMinusDiscordant = total - xTies - yTies + jointTies - 2 * discordant;
  const denominator = Math.sqrt((total - xTies) * (total - yTies));
  return denominator === 0 ? Number.NaN : concordantMinusDiscordant / denominator;
}

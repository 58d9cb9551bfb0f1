/** Small descriptive statistics used across stages. Inputs are not modified. */

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values);
  out.sort();
  return out;
}

/** Percentile with linear interpolation between closest ranks (numpy's default), p in [0, 100]. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function percentile(values: ArrayLike<number>, p: number): number {
  return percentileSorted(sortedCopy(values), p);
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return sum / values.length;
}

/** Sample standard deviation (n - 1). */
export function std(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return 0;
  const m = mean(values);
  let acc = 0;
  for (let i = 0; i < n; i++) acc += ((values[i] as number) - m) ** 2;
  return Math.sqrt(acc / (n - 1));
}

export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

export interface Summary {
  n: number;
  median: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  p5: number;
  p95: number;
  p99: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = sortedCopy(values);
  return {
    n: s.length,
    median: percentileSorted(s, 50),
    mean: mean(s),
    std: std(s),
    min: s.length ? (s[0] as number) : Number.NaN,
    max: s.length ? (s[s.length - 1] as number) : Number.NaN,
    p5: percentileSorted(s, 5),
    p95: percentileSorted(s, 95),
    p99: percentileSorted(s, 99),
  };
}

/**
 * Half-width of a distribution-free 95 % confidence interval of the median of `sorted` (ascending): the
 * order statistics at 1-based ranks ⌊n/2 − 1.96·√n/2⌋ and ⌈1 + n/2 + 1.96·√n/2⌉ (normal approximation of
 * the binomial), clipped to the sample.
 * Small samples give the whole range, so the interval only narrows as repetitions accumulate.
 */
export function medianCiHalfWidthSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const d = 1.96 * Math.sqrt(n) / 2;
  const lo = Math.max(0, Math.floor(n / 2 - d) - 1);
  const hi = Math.min(n - 1, Math.ceil(n / 2 + d));
  return ((sorted[hi] as number) - (sorted[lo] as number)) / 2;
}

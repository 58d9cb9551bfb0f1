/**
 * The two predictor-driven choices of the Abacus controller, as pure functions of a latency model:
 * how many of the ranked queries fit the budget when all run to completion (`largestFittingPrefix`), and
 * how far the next query may run (`searchSplit`, a k-ary search over its split points).
 */
import type { GroupMember, LatencyModel } from './types.js';

/**
 * The largest J in 0..k such that the group of `queries[0..J)`, all run to completion, is predicted to
 * finish within `budgetMs`. One batched predictor call prices the k prefixes; J is the largest index whose
 * prefix fits (the prefixes are not assumed to be priced monotonically).
 */
export function largestFittingPrefix(
  queries: readonly GroupMember[],
  budgetMs: number,
  model: LatencyModel,
): { count: number; predictedMs: Float64Array } {
  if (queries.length === 0) return { count: 0, predictedMs: new Float64Array(0) };
  const rows: GroupMember[][] = [];
  for (let j = 1; j <= queries.length; j++) rows.push(queries.slice(0, j));
  const predictedMs = model.predictMs(rows);
  let count = 0;
  for (let j = queries.length; j >= 1; j--) {
    if ((predictedMs[j - 1] as number) <= budgetMs) {
      count = j;
      break;
    }
  }
  return { count, predictedMs };
}

export interface SplitSearchInput {
  /** Members that run whatever the split (e.g. the queries that run to completion). */
  base: readonly GroupMember[];
  /** The query to split: its next segment starts at `searched.start`; `searched.end` is the furthest end allowed. */
  searched: GroupMember;
  budgetMs: number;
  /** Split points priced per predictor call (≥ 1). */
  ways: number;
  /** Stop as soon as a feasible split leaves less slack than this (ms). */
  thldMs: number;
  model: LatencyModel;
}

export interface SplitSearchResult {
  /** The chosen end (start < end <= searched.end), or null when no non-empty segment fits the budget. */
  end: number | null;
  /** Predicted group latency with the chosen end (NaN when end is null). */
  predictedMs: number;
  /** budgetMs - predictedMs (NaN when end is null); never negative. */
  slackMs: number;
  /** Batched predictor calls made. */
  steps: number;
  /** The candidate ends of each step, in the order priced. */
  candidates: number[][];
}

/**
 * Choose where the searched query's next segment ends: a k-ary search for the furthest end e in
 * (start, end] whose group (base + searched[start, e)) is predicted to fit the budget.
 *
 * Each step prices `min(ways, m)` distinct candidates of the open range of m untested ends, splitting its
 * m + 1 possible answers ("none", or each end) into equal parts, with ONE batched predictor call. Among the
 * feasible candidates (prediction <= budget) the furthest is kept if it beats the best so far; the range
 * then narrows to the ends strictly between it and the next priced candidate above it (or, when none is
 * feasible, to the ends below the first candidate). The search stops when the best feasible candidate leaves
 * less than `thldMs` of slack or the range is empty. Every candidate is strictly inside the range, so none
 * is an empty segment; the full remainder (`searched.end`) is a candidate like any other and is chosen when
 * it fits and nothing stopped the search earlier. A candidate predicted over budget is never returned.
 * Each step removes at least one end from the range, so the search ends after at most m steps (about
 * log_{ways+1}(m + 1) when predictions grow with the end).
 */
export function searchSplit(input: SplitSearchInput): SplitSearchResult {
  const { base, searched, budgetMs, thldMs, model } = input;
  if (!Number.isInteger(input.ways) || input.ways < 1) throw new RangeError(`searchSplit: ways must be an integer >= 1, got ${input.ways}`);
  if (!(searched.end >= searched.start)) throw new RangeError(`searchSplit: empty or inverted range [${searched.start}, ${searched.end})`);
  let lo = searched.start + 1;
  let hi = searched.end;
  let bestEnd: number | null = null;
  let bestMs = Number.NaN;
  let steps = 0;
  const candidates: number[][] = [];
  // Each step removes at least one end from the range, so there are at most (end - start) steps.
  const maxSteps = searched.end - searched.start;
  while (lo <= hi) {
    if (steps >= maxSteps) throw new Error(`searchSplit: no convergence after ${steps} steps on (${searched.start}, ${searched.end}]`);
    const untested = hi - lo + 1;
    const w = Math.min(input.ways, untested);
    const ends: number[] = [];
    const part = (untested + 1) / (w + 1);
    for (let i = 1; i <= w; i++) ends.push(lo - 1 + Math.floor(i * part));
    const rows: GroupMember[][] = ends.map((end) => [...base, { ...searched, end }]);
    const predicted = model.predictMs(rows);
    steps++;
    candidates.push(ends);
    let feasible = -1;
    for (let i = w - 1; i >= 0; i--) {
      const ms = predicted[i] as number;
      if (ms <= budgetMs) {
        feasible = i;
        break;
      }
    }
    if (feasible >= 0) {
      const end = ends[feasible] as number;
      if (bestEnd === null || end > bestEnd) {
        bestEnd = end;
        bestMs = predicted[feasible] as number;
      }
      lo = end + 1;
      if (feasible + 1 < w) hi = (ends[feasible + 1] as number) - 1;
    } else {
      hi = (ends[0] as number) - 1;
    }
    if (bestEnd !== null && budgetMs - bestMs < thldMs) break;
  }
  return {
    end: bestEnd,
    predictedMs: bestMs,
    slackMs: bestEnd === null ? Number.NaN : budgetMs - bestMs,
    steps,
    candidates,
  };
}

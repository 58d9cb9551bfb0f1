/**
 * The two predictor-driven choices of the Abacus controller, as pure functions of a latency model:
 * how many of the ranked queries fit the budget when all run to completion (`largestFittingPrefix`), and
 * how far the next query may run (`searchSplit`, a k-ary search over its split points).
 *
 * Both run on every decision, so they build the groups they price in reused scratch arrays (the latency
 * model must not keep them; see `LatencyModel`) and pass the model a reused output buffer: after warm-up a
 * search step allocates only the list of its candidate ends, which the result reports.
 */
import type { GroupMember, LatencyModel } from './types.js';

/** A member whose fields the search overwrites between calls. */
function blankMember(): GroupMember {
  return { modelId: 0, start: 0, end: 0, batch: 0, seq: 0 };
}

/**
 * Groups to price, kept between calls: `groups[i]` is slot i's member array, `lists[n]` the list of the
 * first n groups (what one predictor call prices), `out` the predictions. One scratch serves one call at a
 * time; a call made while it is in use (a latency model that searches) gets a fresh one. The arrays keep
 * the last call's members until the next call overwrites them (a few small objects).
 */
class GroupScratch {
  readonly groups: GroupMember[][] = [];
  private readonly lists: GroupMember[][][] = [[]];
  out = new Float64Array(16);
  busy = false;

  /** Room for `n` groups and predictions. */
  reserve(n: number): void {
    while (this.groups.length < n) {
      this.groups.push([]);
      this.lists.push(this.groups.slice(0, this.groups.length));
    }
    if (this.out.length < n) this.out = new Float64Array(Math.max(n, 2 * this.out.length));
  }

  /** The first `n` groups (n <= reserved). */
  list(n: number): readonly (readonly GroupMember[])[] {
    return this.lists[n] as GroupMember[][];
  }
}

const prefixScratch = new GroupScratch();
const splitScratch = new GroupScratch();
/** The searched member of each candidate slot (its end changes per step). */
const splitMembers: GroupMember[] = [];

function acquire(shared: GroupScratch): GroupScratch {
  if (shared.busy) return new GroupScratch();
  shared.busy = true;
  return shared;
}

/**
 * The largest J in 0..k such that the group of `queries[0..J)`, all run to completion, is predicted to
 * finish within `budgetMs`. One batched predictor call prices the k prefixes; J is the largest index whose
 * prefix fits (the prefixes are not assumed to be priced monotonically). `predictedMs` holds the k prices:
 * `out` when given (length >= k) and the model writes there, else a new array.
 */
export function largestFittingPrefix(
  queries: readonly GroupMember[],
  budgetMs: number,
  model: LatencyModel,
  out?: Float64Array,
): { count: number; predictedMs: Float64Array } {
  const k = queries.length;
  if (k === 0) return { count: 0, predictedMs: new Float64Array(0) };
  const scratch = acquire(prefixScratch);
  let predictedMs: Float64Array;
  try {
    scratch.reserve(k);
    for (let j = 1; j <= k; j++) {
      const group = scratch.groups[j - 1] as GroupMember[];
      group.length = j;
      for (let i = 0; i < j; i++) group[i] = queries[i] as GroupMember;
    }
    predictedMs = model.predictMs(scratch.list(k), out ?? new Float64Array(k));
  } finally {
    scratch.busy = false;
  }
  let count = 0;
  for (let j = k; j >= 1; j--) {
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
  // Slot i's group is base + its own copy of the searched member; only the copy's end changes per step.
  const slots = Math.min(input.ways, Math.max(hi - lo + 1, 0));
  const scratch = acquire(splitScratch);
  const members = scratch === splitScratch ? splitMembers : [];
  try {
    scratch.reserve(slots);
    for (let i = 0; i < slots; i++) {
      const m = members[i] ?? (members[i] = blankMember());
      m.modelId = searched.modelId;
      m.start = searched.start;
      m.batch = searched.batch;
      m.seq = searched.seq;
      const group = scratch.groups[i] as GroupMember[];
      group.length = base.length + 1;
      for (let b = 0; b < base.length; b++) group[b] = base[b] as GroupMember;
      group[base.length] = m;
    }
    while (lo <= hi) {
      if (steps >= maxSteps) throw new Error(`searchSplit: no convergence after ${steps} steps on (${searched.start}, ${searched.end}]`);
      const untested = hi - lo + 1;
      const w = Math.min(input.ways, untested);
      const ends: number[] = [];
      const part = (untested + 1) / (w + 1);
      for (let i = 0; i < w; i++) {
        const end = lo - 1 + Math.floor((i + 1) * part);
        ends.push(end);
        (members[i] as GroupMember).end = end;
      }
      const predicted = model.predictMs(scratch.list(w), scratch.out);
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
  } finally {
    scratch.busy = false;
  }
  return {
    end: bestEnd,
    predictedMs: bestMs,
    slackMs: bestEnd === null ? Number.NaN : budgetMs - bestMs,
    steps,
    candidates,
  };
}

/**
 * The policies' decisions: given the serving state at one moment, which segments form the next group.
 * Decisions are synchronous and side-effect free apart from dropping queries through `ctx.drop`.
 *
 * - fcfs / edf / sjf: one whole query alone per group (no overlap), the first of all waiting queries by
 *   arrival / deadline / predicted solo latency (sjf needs a model).
 * - concurrent: each idle service starts its oldest waiting query, whole; services overlap freely.
 * - abacus: one candidate per service ranked by headroom; the longest prefix that fits the budget (urgent
 *   headroom minus the predicted remaining time of the group in flight) runs to completion, the next
 *   candidate gets the furthest split `searchSplit` finds within the budget.
 * - abandon (every policy): expired queries (headroom <= 0) are dropped at every decision; a query about
 *   to be launched is dropped when predicted to miss even alone after the group in flight, which needs a
 *   model: fcfs/edf/concurrent without one drop only expired queries. Without abandon nothing is dropped.
 *
 * The full description is `src/controller/POLICIES.md`.
 */
import { headroomMs, memberOf, remainderMember, type QueryState, type ServicePool } from './state.js';
import { largestFittingPrefix, searchSplit } from './search.js';
import type { GroupMember, LatencyModel, PolicyName } from './types.js';

export interface DecisionContext {
  /** Run time (ms since the start of the run). */
  nowMs: number;
  /**
   * Time until the planned group's members start: the predicted remaining time of the group in flight
   * (max(0, predicted end - now); 0 when idle or unknown) plus the runner's start lead.
   */
  inflightRemainingMs: number;
  pools: readonly ServicePool[];
  model: LatencyModel | undefined;
  abandon: boolean;
  ways: number;
  thldMs: number;
  /** Drop a query now (abandon). */
  drop(q: QueryState): void;
}

export interface PlannedSegment {
  query: QueryState;
  /** The segment is operators [query.progress, end). */
  end: number;
  /** Predicted solo latency of the query's remaining operators when the plan was made (NaN without a model). */
  remainingSoloMs: number;
}

export interface GroupPlan {
  segments: PlannedSegment[];
  /** Predicted launch-to-barrier latency (null without a model). */
  predictedMs: number | null;
  /** k-ary search steps spent on this plan. */
  searchSteps: number;
  /** Launching later than this (run time) could break the plan's budget; +Infinity when it has none. */
  feasibleUntilMs: number;
  /** Launching earlier than this leaves more than thldMs of extra budget: worth recomputing. */
  recomputeBeforeMs: number;
}

const EMPTY_PLAN: GroupPlan = { segments: [], predictedMs: null, searchSteps: 0, feasibleUntilMs: Infinity, recomputeBeforeMs: -Infinity };

/**
 * The abandon rule, the same for every policy: a query is predicted to miss its QoS when its headroom is
 * already <= 0, or, with a latency model, when even running it alone right after the group in flight is
 * predicted to finish after its deadline: headroom - inflightRemaining < predicted solo latency of its
 * remaining operators. Without a model only the first condition applies.
 */
export function predictedToMiss(q: QueryState, nowMs: number, inflightRemainingMs: number, remainingSoloMs: number): boolean {
  const h = headroomMs(q, nowMs);
  if (h <= 0) return true;
  return Number.isFinite(remainingSoloMs) && h - inflightRemainingMs < remainingSoloMs;
}

/** With abandon: drop every waiting query whose headroom is <= 0 (all policies, at every decision). */
export function dropExpired(ctx: DecisionContext): void {
  if (!ctx.abandon) return;
  for (const pool of ctx.pools) {
    let expired: QueryState[] | null = null;
    for (const q of pool.waiting) if (headroomMs(q, ctx.nowMs) <= 0) (expired ??= []).push(q);
    if (expired) for (const q of expired) ctx.drop(q);
  }
}

/** The cached solo price of a query's remaining operators, or NaN when it has none at its progress. */
function cachedRemainderMs(q: QueryState): number {
  if (q.progress === 0) return q.wholeSoloMs;
  return q.remainderPricedAt === q.progress && q.remainderSoloMs !== undefined ? q.remainderSoloMs : Number.NaN;
}

/**
 * Predicted solo latency of each query's remaining operators, one batched call for those not cached: a
 * query's price is kept on it (`wholeSoloMs`, or `remainderSoloMs` at its progress) until its next segment
 * launches, so a decision repeated before then does not price it again.
 */
export function priceRemainders(model: LatencyModel, queries: readonly QueryState[]): Float64Array {
  const out = new Float64Array(queries.length);
  const rows: GroupMember[][] = [];
  const rowOf: number[] = [];
  queries.forEach((q, i) => {
    const cached = cachedRemainderMs(q);
    if (Number.isFinite(cached)) out[i] = cached;
    else {
      rows.push([remainderMember(q)]);
      rowOf.push(i);
    }
  });
  if (rows.length > 0) {
    const predicted = model.predictMs(rows);
    rowOf.forEach((i, r) => {
      const q = queries[i] as QueryState;
      const ms = predicted[r] as number;
      out[i] = ms;
      if (q.progress === 0) q.wholeSoloMs = ms;
      else {
        q.remainderSoloMs = ms;
        q.remainderPricedAt = q.progress;
      }
    });
  }
  return out;
}

type BaselineKey = (q: QueryState) => number;

function before(a: QueryState, b: QueryState, key: BaselineKey): boolean {
  const ka = key(a);
  const kb = key(b);
  if (ka !== kb) return ka < kb;
  if (a.trace.arrivalMs !== b.trace.arrivalMs) return a.trace.arrivalMs < b.trace.arrivalMs;
  return a.admission < b.admission;
}

/**
 * fcfs / sjf / edf: the next group is ONE whole query, the first in the policy's order over every waiting
 * query: fcfs by arrival, edf by deadline (arrival + QoS), sjf by predicted solo latency (ties by arrival).
 * With abandon, expired queries are dropped first, then the chosen query is dropped (and the next one
 * chosen) while it is predicted to miss.
 */
export function decideBaseline(policy: 'fcfs' | 'sjf' | 'edf', ctx: DecisionContext): GroupPlan {
  dropExpired(ctx);
  if (ctx.model) {
    const unpriced: QueryState[] = [];
    for (const pool of ctx.pools) for (const q of pool.waiting) if (!Number.isFinite(q.wholeSoloMs)) unpriced.push(q);
    if (unpriced.length > 0) priceRemainders(ctx.model, unpriced);
  }
  const key: BaselineKey =
    policy === 'fcfs' ? (q) => q.trace.arrivalMs : policy === 'edf' ? (q) => q.deadlineMs : (q) => q.wholeSoloMs;
  // fcfs: each pool is in admission (= arrival) order, so only the pools' heads compete.
  const pick = (): QueryState | undefined => {
    let best: QueryState | undefined;
    if (policy === 'fcfs') {
      for (const pool of ctx.pools) {
        const head = pool.waiting[0];
        if (head !== undefined && (best === undefined || before(head, best, key))) best = head;
      }
    } else {
      for (const pool of ctx.pools) for (const q of pool.waiting) if (best === undefined || before(q, best, key)) best = q;
    }
    return best;
  };
  for (let chosen = pick(); chosen !== undefined; chosen = pick()) {
    const soloMs = ctx.model ? chosen.wholeSoloMs : Number.NaN;
    if (ctx.abandon && predictedToMiss(chosen, ctx.nowMs, ctx.inflightRemainingMs, soloMs)) {
      ctx.drop(chosen);
      continue;
    }
    return {
      segments: [{ query: chosen, end: chosen.opCount, remainingSoloMs: soloMs }],
      predictedMs: Number.isFinite(soloMs) ? soloMs : null,
      searchSteps: 0,
      feasibleUntilMs: Infinity,
      recomputeBeforeMs: -Infinity,
    };
  }
  return EMPTY_PLAN;
}

/**
 * concurrent: when `pool`'s service is idle, its next query (fcfs within the service) runs whole, alone,
 * without waiting for the other services. Same abandon rule (nothing is in flight on this service).
 */
export function decideConcurrent(pool: ServicePool, ctx: DecisionContext): GroupPlan {
  dropExpired(ctx);
  while (pool.waiting.length > 0) {
    const q = pool.waiting[0] as QueryState;
    const soloMs = ctx.model && ctx.abandon ? (priceRemainders(ctx.model, [q])[0] as number) : Number.NaN;
    if (ctx.abandon && predictedToMiss(q, ctx.nowMs, 0, soloMs)) {
      ctx.drop(q);
      continue;
    }
    return {
      segments: [{ query: q, end: q.opCount, remainingSoloMs: soloMs }],
      predictedMs: Number.isFinite(soloMs) ? soloMs : null,
      searchSteps: 0,
      feasibleUntilMs: Infinity,
      recomputeBeforeMs: -Infinity,
    };
  }
  return EMPTY_PLAN;
}

function mostUrgent(pool: ServicePool, exclude: ReadonlySet<QueryState>): QueryState | undefined {
  if (pool.inProgress) return exclude.has(pool.inProgress) ? undefined : pool.inProgress;
  let best: QueryState | undefined;
  for (const q of pool.waiting) {
    if (exclude.has(q)) continue;
    if (best === undefined || q.deadlineMs < best.deadlineMs || (q.deadlineMs === best.deadlineMs && q.admission < best.admission)) best = q;
  }
  return best;
}

/** The prefix prices of the last abacus decision (read within the decision only; decisions do not nest). */
let prefixOut = new Float64Array(16);
/** Nothing dropped yet (a decision's first candidates). */
const NONE_DROPPED: ReadonlySet<QueryState> = new Set<QueryState>();

/**
 * Sort by deadline, then admission (a total order: admissions are unique). Insertion sort: there is one
 * candidate per service, and unlike Array.prototype.sort it allocates no work array.
 */
function sortByUrgency(qs: QueryState[]): void {
  for (let i = 1; i < qs.length; i++) {
    const q = qs[i] as QueryState;
    let j = i - 1;
    while (j >= 0) {
      const p = qs[j] as QueryState;
      if (p.deadlineMs < q.deadlineMs || (p.deadlineMs === q.deadlineMs && p.admission < q.admission)) break;
      qs[j + 1] = p;
      j--;
    }
    qs[j + 1] = q;
  }
}

/**
 * abacus: the headroom-based controller (see POLICIES.md). Candidates are one query per service: the
 * service's query in progress, else its most urgent waiting query. They are ranked by headroom; the budget
 * is the most urgent one's headroom minus the predicted remaining time of the group in flight; the longest
 * prefix that fits when run to completion goes in whole, and the next query gets a partial segment chosen
 * by `searchSplit`.
 */
export function decideAbacus(ctx: DecisionContext): GroupPlan {
  const model = ctx.model;
  if (!model) throw new Error('decideAbacus: the abacus policy needs a latency model');
  dropExpired(ctx);
  // Only abandon drops candidates and prices them solo (without it, no map is made).
  let soloByQuery: Map<QueryState, number> | null = null;
  let candidates: QueryState[] = [];
  for (const pool of ctx.pools) {
    const q = mostUrgent(pool, NONE_DROPPED);
    if (q) candidates.push(q);
  }
  if (ctx.abandon) {
    // Drop candidates predicted to miss even when run alone next; refill from their services; repeat.
    const dropped = new Set<QueryState>();
    const solos = new Map<QueryState, number>();
    soloByQuery = solos;
    let unchecked = candidates;
    while (unchecked.length > 0) {
      const solo = priceRemainders(model, unchecked);
      const refill: QueryState[] = [];
      unchecked.forEach((q, i) => {
        const soloMs = solo[i] as number;
        solos.set(q, soloMs);
        if (predictedToMiss(q, ctx.nowMs, ctx.inflightRemainingMs, soloMs)) {
          const pool = ctx.pools.find((p) => p.service === q.trace.model) as ServicePool;
          dropped.add(q);
          ctx.drop(q);
          const next = mostUrgent(pool, dropped);
          if (next) refill.push(next);
        }
      });
      candidates = candidates.filter((q) => !dropped.has(q)).concat(refill);
      unchecked = refill;
    }
  }
  if (candidates.length === 0) return EMPTY_PLAN;
  sortByUrgency(candidates);
  const urgent = candidates[0] as QueryState;
  const budgetMs = headroomMs(urgent, ctx.nowMs) - ctx.inflightRemainingMs;
  const remainders = candidates.map(remainderMember);
  if (prefixOut.length < remainders.length) prefixOut = new Float64Array(2 * remainders.length);
  const prefix = largestFittingPrefix(remainders, budgetMs, model, prefixOut);
  const soloOf = (q: QueryState): number => soloByQuery?.get(q) ?? Number.NaN;
  const whole = (q: QueryState): PlannedSegment => ({ query: q, end: q.opCount, remainingSoloMs: soloOf(q) });
  const expectedStartMs = ctx.nowMs + ctx.inflightRemainingMs;
  const k = candidates.length;
  const fitCount = prefix.count;
  if (fitCount === 0) {
    // Even the most urgent query alone is predicted to miss (only reachable without abandon): run it alone.
    return {
      segments: [whole(urgent)],
      predictedMs: prefix.predictedMs[0] as number,
      searchSteps: 0,
      feasibleUntilMs: Infinity,
      recomputeBeforeMs: expectedStartMs - ctx.thldMs,
    };
  }
  const segments = candidates.slice(0, fitCount).map(whole);
  let predictedMs = prefix.predictedMs[fitCount - 1] as number;
  let searchSteps = 0;
  if (fitCount < k) {
    const next = candidates[fitCount] as QueryState;
    // Its full remainder was priced in the prefix call and does not fit: search the ends below it.
    if (next.progress + 1 <= next.opCount - 1) {
      const found = searchSplit({
        base: remainders.slice(0, fitCount),
        searched: memberOf(next, next.opCount - 1),
        budgetMs,
        ways: ctx.ways,
        thldMs: ctx.thldMs,
        model,
      });
      searchSteps = found.steps;
      if (found.end !== null) {
        segments.push({ query: next, end: found.end, remainingSoloMs: soloOf(next) });
        predictedMs = found.predictedMs;
      }
    }
  }
  return {
    segments,
    predictedMs,
    searchSteps,
    feasibleUntilMs: urgent.deadlineMs - predictedMs,
    recomputeBeforeMs: fitCount === k ? -Infinity : expectedStartMs - ctx.thldMs,
  };
}

/** The serialized policies' decision function. */
export function decideSerialized(policy: Exclude<PolicyName, 'concurrent'>, ctx: DecisionContext): GroupPlan {
  return policy === 'abacus' ? decideAbacus(ctx) : decideBaseline(policy, ctx);
}

/**
 * Whether a plan made earlier may be launched now (nothing in flight): its budget still holds, launching now
 * does not leave enough extra budget to be worth recomputing, and no member is now predicted to miss.
 */
export function planStillValid(plan: GroupPlan, nowMs: number, abandon: boolean): boolean {
  if (nowMs > plan.feasibleUntilMs || nowMs < plan.recomputeBeforeMs) return false;
  if (!abandon) return true;
  return plan.segments.every((s) => !predictedToMiss(s.query, nowMs, 0, s.remainingSoloMs));
}

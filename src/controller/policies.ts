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

/**
 * The abandon rule over one candidate per service: a candidate predicted to miss even when run alone after
 * `inflightMs` is dropped and its service's next most urgent query takes its place, until none is predicted to
 * miss. Returns the candidates left (the refills after the survivors); `solos`, when given, receives every
 * checked candidate's solo price.
 */
function dropPredictedMisses(ctx: DecisionContext, model: LatencyModel, candidates: QueryState[], inflightMs: number, solos?: Map<QueryState, number>): QueryState[] {
  const dropped = new Set<QueryState>();
  let kept = candidates;
  let unchecked = candidates;
  while (unchecked.length > 0) {
    const solo = priceRemainders(model, unchecked);
    const refill: QueryState[] = [];
    unchecked.forEach((q, i) => {
      const soloMs = solo[i] as number;
      solos?.set(q, soloMs);
      if (!predictedToMiss(q, ctx.nowMs, inflightMs, soloMs)) return;
      dropped.add(q);
      ctx.drop(q);
      const next = mostUrgent(ctx.pools.find((p) => p.service === q.trace.model) as ServicePool, dropped);
      if (next) refill.push(next);
    });
    kept = kept.filter((q) => !dropped.has(q)).concat(refill);
    unchecked = refill;
  }
  return kept;
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
    soloByQuery = new Map<QueryState, number>();
    candidates = dropPredictedMisses(ctx, model, candidates, ctx.inflightRemainingMs, soloByQuery);
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

/**
 * A segment in flight under the abacus policy with per-member barriers (`barrier: 'member'`): each member
 * finishes on its own, and the controller keeps its predicted end up to date as members join and leave.
 */
export interface RunningMember {
  query: QueryState;
  /** The segment as the latency model sees it. */
  segment: GroupMember;
  /** Predicted solo latency of the segment. */
  soloMs: number;
  /** Predicted solo latency of the query's operators after the segment (0 for its last segment). */
  afterMs: number;
  /** Predicted finish (run time). */
  predictedEndMs: number;
  /** The co-location slowdown its predicted end currently assumes (1: alone). */
  slowdown: number;
}

/** One launch of a per-member decision: a whole or partial segment, alone in its runner group. */
export interface MemberLaunch {
  segment: PlannedSegment;
  /** Predicted solo latency of the segment, and of the query's operators after it (0 when it is the last). */
  soloMs: number;
  afterMs: number;
  /** Predicted own latency from its start, co-location included. */
  predictedMs: number;
  slowdown: number;
}

export interface MemberDecision {
  launches: MemberLaunch[];
  /** New predicted ends of members already in flight that the launches slow down. */
  updatedEnds: Map<RunningMember, { predictedEndMs: number; slowdown: number }>;
  searchSteps: number;
}

/** The co-location slowdown of a set of segments: the group's predicted time over its longest solo time (>= 1). */
function slowdownOf(groupMs: number, longestSoloMs: number): number {
  if (!(longestSoloMs > 0) || !Number.isFinite(groupMs)) return 1;
  return Math.max(1, groupMs / longestSoloMs);
}

/**
 * abacus with per-member barriers. A member that finishes frees its service at once; the next segment of an
 * idle service starts when the latency model says the new overlap keeps every query's deadline:
 *
 * - Nothing in flight: the group `decideAbacus` plans (prefix and split search), each member on its own.
 * - Otherwise the idle services' candidates, most urgent first, each priced with everything in flight
 *   (one batched call: the candidate's remainder beside every running segment). The overlap's slowdown
 *   `f` is that group's predicted time over its longest solo time. The candidate starts now, whole, when
 *   `now + lead + f × its solo time <= its deadline`, and every running member, its remaining time
 *   stretched by `f / (the slowdown it already assumes)`, still ends (plus the solo time of its query's
 *   operators after it) by its deadline. The first candidate that does not fit stops the decision: less
 *   urgent ones do not start ahead of it (it will run beside fewer, or alone, at the next finish).
 * - Abandon as everywhere: expired queries are dropped; a candidate predicted to miss even alone from now
 *   is dropped and its service's next query takes its place.
 */
export function decideAbacusMembers(ctx: DecisionContext, running: readonly RunningMember[], leadMs: number): MemberDecision {
  const model = ctx.model;
  if (!model) throw new Error('decideAbacusMembers: the abacus policy needs a latency model');
  const none: MemberDecision = { launches: [], updatedEnds: new Map(), searchSteps: 0 };
  if (running.length === 0) {
    const plan = decideAbacus({ ...ctx, inflightRemainingMs: leadMs });
    if (plan.segments.length === 0) return none;
    // Solo prices: a whole remainder's is the one cached on its query (priced at admission or by the abandon
    // rule); a partial segment and the operators after it are priced together, in one call, only if any.
    const n = plan.segments.length;
    const soloMs = new Float64Array(n);
    const afterMs = new Float64Array(n);
    const whole: QueryState[] = [];
    const wholeAt: number[] = [];
    const rows: GroupMember[][] = [];
    const partialAt: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = plan.segments[i] as PlannedSegment;
      if (s.end >= s.query.opCount) {
        whole.push(s.query);
        wholeAt.push(i);
      } else {
        const seg = memberOf(s.query, s.end);
        rows.push([seg], [{ ...seg, start: s.end, end: s.query.opCount }]);
        partialAt.push(i);
      }
    }
    if (whole.length > 0) {
      const cached = priceRemainders(model, whole);
      wholeAt.forEach((i, k) => (soloMs[i] = cached[k] as number));
    }
    if (rows.length > 0) {
      const priced = model.predictMs(rows);
      partialAt.forEach((i, k) => {
        soloMs[i] = priced[2 * k] as number;
        afterMs[i] = priced[2 * k + 1] as number;
      });
    }
    let longest = 0;
    for (let i = 0; i < n; i++) longest = Math.max(longest, soloMs[i] as number);
    const f = slowdownOf(plan.predictedMs ?? longest, longest);
    const launches = plan.segments.map((s, i): MemberLaunch => {
      const solo = soloMs[i] as number;
      return { segment: s, soloMs: solo, afterMs: afterMs[i] as number, predictedMs: solo * f, slowdown: f };
    });
    return { launches, updatedEnds: new Map(), searchSteps: plan.searchSteps };
  }
  dropExpired(ctx);
  const busy = new Set(running.map((r) => r.query.trace.model));
  let candidates: QueryState[] = [];
  for (const pool of ctx.pools) {
    if (busy.has(pool.service)) continue;
    const q = mostUrgent(pool, NONE_DROPPED);
    if (q) candidates.push(q);
  }
  if (candidates.length === 0) return none;
  // abandon: a candidate predicted to miss even alone from now is dropped; its service's next query takes its place
  if (ctx.abandon) {
    candidates = dropPredictedMisses(ctx, model, candidates, leadMs);
    if (candidates.length === 0) return none;
  }
  sortByUrgency(candidates);
  const solo = Float64Array.from(priceRemainders(model, candidates)); // cached on the queries
  const launches: MemberLaunch[] = [];
  const updatedEnds = new Map<RunningMember, { predictedEndMs: number; slowdown: number }>();
  // the set in flight as the next candidate would see it: running members and this decision's launches
  const inFlight: { segment: GroupMember; soloMs: number; endMs: number; slowdown: number; afterMs: number; deadlineMs: number; running?: RunningMember }[] = running.map((r) => ({
    segment: r.segment,
    soloMs: r.soloMs,
    endMs: r.predictedEndMs,
    slowdown: r.slowdown,
    afterMs: r.afterMs,
    deadlineMs: r.query.deadlineMs,
    running: r,
  }));
  const startMs = ctx.nowMs + leadMs;
  for (let i = 0; i < candidates.length; i++) {
    const q = candidates[i] as QueryState;
    const qSolo = solo[i] as number;
    const member = remainderMember(q);
    const groupMs = model.predictMs([[member, ...inFlight.map((m) => m.segment)]])[0] as number;
    let longest = qSolo;
    for (const m of inFlight) longest = Math.max(longest, m.soloMs);
    const f = slowdownOf(groupMs, longest);
    const qEnd = startMs + qSolo * f;
    let fits = qEnd <= q.deadlineMs;
    const stretched: number[] = [];
    for (const m of inFlight) {
      const stretch = Math.max(1, f / m.slowdown);
      const end = ctx.nowMs + Math.max(0, m.endMs - ctx.nowMs) * stretch;
      stretched.push(end);
      if (end + m.afterMs > m.deadlineMs) fits = false;
    }
    if (!fits) {
      // With abandon, a candidate that misses both ways (beside what runs now, or alone once all of it has
      // finished) is doomed: dropped now, so that it takes no device time; its service's next query is
      // tried in its place. Otherwise it waits, and less urgent candidates do not start ahead of it.
      if (ctx.abandon && qEnd > q.deadlineMs) {
        let allEndMs = startMs;
        for (const m of inFlight) allEndMs = Math.max(allEndMs, m.endMs);
        if (allEndMs + qSolo > q.deadlineMs) {
          ctx.drop(q);
          const next = mostUrgent(ctx.pools.find((p) => p.service === q.trace.model) as ServicePool, NONE_DROPPED);
          const nextSolo = next ? (priceRemainders(model, [next])[0] as number) : Number.NaN;
          if (next && !predictedToMiss(next, ctx.nowMs, leadMs, nextSolo)) {
            candidates[i] = next;
            solo[i] = nextSolo;
            i--;
          }
          continue;
        }
      }
      break;
    }
    inFlight.forEach((m, j) => {
      m.endMs = stretched[j] as number;
      m.slowdown = Math.max(m.slowdown, f);
      if (m.running) updatedEnds.set(m.running, { predictedEndMs: m.endMs, slowdown: m.slowdown });
    });
    const launch: MemberLaunch = { segment: { query: q, end: q.opCount, remainingSoloMs: qSolo }, soloMs: qSolo, afterMs: 0, predictedMs: qSolo * f, slowdown: f };
    launches.push(launch);
    inFlight.push({ segment: member, soloMs: qSolo, endMs: qEnd, slowdown: f, afterMs: 0, deadlineMs: q.deadlineMs });
  }
  return { launches, updatedEnds, searchSteps: 0 };
}

/**
 * The members still in flight after one of them finished: their predicted ends shrink to the slowdown of
 * the set that is left (one predictor call; a set of one runs alone, slowdown 1).
 */
export function relaxedEnds(model: LatencyModel, running: readonly RunningMember[], nowMs: number): Map<RunningMember, { predictedEndMs: number; slowdown: number }> {
  const out = new Map<RunningMember, { predictedEndMs: number; slowdown: number }>();
  if (running.length === 0) return out;
  let f = 1;
  if (running.length > 1) {
    const groupMs = model.predictMs([running.map((r) => r.segment)])[0] as number;
    f = slowdownOf(groupMs, Math.max(...running.map((r) => r.soloMs)));
  }
  for (const r of running) {
    if (f >= r.slowdown) continue;
    const remaining = Math.max(0, r.predictedEndMs - nowMs);
    out.set(r, { predictedEndMs: nowMs + (remaining * f) / r.slowdown, slowdown: f });
  }
  return out;
}

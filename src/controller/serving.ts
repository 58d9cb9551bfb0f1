/**
 * The serving loop: issues the queries of a trace at their arrival times, asks the policy for groups,
 * launches them on the runner and accounts for every query. It is event-driven: between events it awaits
 * either the group in flight or the next arrival on the clock (no polling), so with a `VirtualClock` a
 * whole run is simulated quickly and deterministically, and with a `MonotonicClock` it serves in real time.
 *
 * Serialized policies (fcfs, sjf, edf, abacus) have one group in flight at a time. While it runs, the next
 * group is decided (pipelining) and decided again whenever the state changes (an arrival, a failure); at the
 * barrier the plan is launched if it is still valid at the actual time (`planStillValid`), otherwise it is
 * decided again with fresh state. The `concurrent` policy launches each service's next query whenever that
 * service is idle.
 */
import { performance } from 'node:perf_hooks';
import { InputError, errorMessage } from '../common/errors.js';
import { MonotonicClock } from './clock.js';
import { OnlineQueue, type OnlineEntry, type OnlineRunView } from './online.js';
import { decideAbacusMembers, decideConcurrent, decideSerialized, planStillValid, priceRemainders, relaxedEnds, type DecisionContext, type GroupPlan, type MemberLaunch, type RunningMember } from './policies.js';
import { summarizeRun } from './runlog.js';
import { removeFromPool, type QueryState, type ServicePool } from './state.js';
import { CalibratedLatencyModel, type CalibrationScope } from './calibration.js';
import { POLICY_NAMES, type Clock, type GroupLogRow, type GroupOutcome, type GroupRunner, type LatencyModel, type PolicyName, type QueryLogRow, type QueryStatus, type QueryTensor, type RunLogSink, type RunSummary, type SegmentRun, type TraceQuery } from './types.js';

export interface ServingOptions {
  policy: PolicyName;
  runner: GroupRunner;
  /** Required by sjf and abacus; optional for fcfs, edf and concurrent (then used by the abandon rule). */
  latencyModel?: LatencyModel;
  trace: readonly TraceQuery[];
  /** Split points priced per predictor call in the abacus search (default 2). */
  ways?: number;
  /** Slack (ms) below which the abacus search accepts a split (default 5). */
  thldMs?: number;
  /** Drop queries predicted to miss their QoS (default false). */
  abandon?: boolean;
  /** Default: the real monotonic clock. */
  clock?: Clock;
  log?: RunLogSink;
  /** Shutdown: stop issuing new queries, finish or drop the issued ones, then resolve. */
  signal?: AbortSignal;
  /**
   * Online mode: queries submitted at run time, read like the trace (which may then be empty). The run
   * ends once the queue is closed (or `signal` aborts, which closes it) and every accepted query is done.
   */
  online?: OnlineQueue;
  /**
   * Scale the latency model's predictions by the measured/predicted ratio of this run's finished groups
   * (src/controller/calibration.ts). Default false: the model as trained. (Not yet equivalent between online
   * submissions and a trace: an online run with it can decide differently from the same trace offline.)
   */
  calibrate?: boolean;
  /** With `calibrate`: one ratio per model ('model', default) or one for every model ('global'). */
  calibrationScope?: CalibrationScope;
  /**
   * abacus only: 'group' (default) joins a group's members at one barrier, as the paper; 'member' lets each
   * member finish on its own and starts an idle service's next segment beside the ones still running when the
   * latency model says every deadline still holds (`decideAbacusMembers`).
   */
  barrier?: BarrierMode;
}

export type BarrierMode = 'group' | 'member';
export const BARRIER_MODES: readonly BarrierMode[] = ['group', 'member'];

interface InflightGroup {
  index: number;
  launchMs: number;
  /** The calibration factor the group was planned with (1 without calibration). */
  calibrationFactor: number;
  predictedEndMs: number | null;
  segments: SegmentRun[];
  queries: QueryState[];
  plan: GroupPlan;
  decisionUs: number;
  /** barrier 'member': the member's running state (predicted end kept up to date). */
  member?: RunningMember;
}

type GroupEvent = { group: InflightGroup; outcome: GroupOutcome } | { group: InflightGroup; error: unknown };

/** Wakes the loop; a signal given while nobody waits is kept for the next wait. */
class Wakeup {
  private resolve: (() => void) | null = null;
  private pending = false;
  signal(): void {
    if (this.resolve) {
      const r = this.resolve;
      this.resolve = null;
      r();
    } else this.pending = true;
  }
  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((r) => {
      this.resolve = r;
    });
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Validate the options (throws InputError) and fill in defaults. */
function checkOptions(options: ServingOptions): Required<Pick<ServingOptions, 'ways' | 'thldMs' | 'abandon'>> {
  const { policy } = options;
  if (!POLICY_NAMES.includes(policy)) throw new InputError(`unknown policy '${String(policy)}': expected one of ${POLICY_NAMES.join(', ')}`);
  if ((policy === 'sjf' || policy === 'abacus') && !options.latencyModel) throw new InputError(`policy '${policy}' needs a latency model (predictor)`);
  const ways = options.ways ?? 2;
  const thldMs = options.thldMs ?? 5;
  if (!Number.isInteger(ways) || ways < 1) throw new InputError(`ways must be an integer >= 1, got ${ways}`);
  if (!Number.isFinite(thldMs) || thldMs < 0) throw new InputError(`thld must be a number of ms >= 0, got ${thldMs}`);
  const ids = new Set<string>();
  for (const q of options.trace) {
    if (ids.has(q.id)) throw new InputError(`query id '${q.id}' appears twice in the trace`);
    if (options.online && OnlineQueue.ownsId(q.id)) throw new InputError(`query id '${q.id}' is reserved for online queries`);
    ids.add(q.id);
    if (!Number.isFinite(q.arrivalMs) || q.arrivalMs < 0) throw new InputError(`query ${q.id}: bad arrival time ${q.arrivalMs}`);
    if (!(q.qosMs > 0)) throw new InputError(`query ${q.id}: bad QoS ${q.qosMs}`);
  }
  if (options.barrier !== undefined && !BARRIER_MODES.includes(options.barrier)) throw new InputError(`unknown barrier mode '${String(options.barrier)}': expected ${BARRIER_MODES.join(' or ')}`);
  if (options.barrier === 'member' && policy !== 'abacus') throw new InputError(`barrier 'member' is a mode of the abacus policy, not of '${policy}'`);
  return { ways, thldMs, abandon: options.abandon ?? false };
}

/**
 * Serve a trace with one policy and return the run's summary. Every issued query ends up in exactly one
 * log row with status ok, late, dropped or failed. Queries of the trace not yet issued when `signal` aborts
 * are not issued (and not counted).
 */
export async function runServing(options: ServingOptions): Promise<RunSummary> {
  const settings = checkOptions(options);
  const run = new ServingRun(options, settings.ways, settings.thldMs, settings.abandon);
  return run.execute();
}

/** The reason the serving loop cancels its arrival timer with (a constant: no exception object per wake). */
const ARRIVAL_SLEEP_CANCELLED = Symbol('arrival sleep cancelled');

class ServingRun {
  private readonly clock: Clock;
  private readonly trace: TraceQuery[];
  private readonly pools = new Map<string, ServicePool>();
  private readonly poolList: ServicePool[] = [];
  private readonly opCounts = new Map<string, number>();
  private readonly rows: QueryLogRow[] = [];
  private readonly decisionsUs: number[] = [];
  /**
   * Reaction times, µs: from the moment the event that let a launch happen reached the controller (a group's
   * completion callback, or the loop's wake for an arrival) to that launch handed to the runner. This is the
   * controller's whole critical path (event bookkeeping, admission, decision, launch), of which the decision
   * is one part.
   */
  private readonly reactionsUs: number[] = [];
  /** Real time (`performance.now()`) the earliest event not yet answered by a launch reached the loop. */
  private triggerAtMs = Infinity;
  /** The timer of the wait for the next arrival, until the next wait (or the run's end) cancels it. */
  private arrivalSleep: AbortController | null = null;
  /** Log rows made on the critical path, handed to the run log after the launches they preceded. */
  private readonly pendingQueryRows: QueryLogRow[] = [];
  private readonly pendingGroupRows: GroupLogRow[] = [];
  private readonly groupSearchSteps: number[] = [];
  private readonly events: GroupEvent[] = [];
  private readonly wake = new Wakeup();
  private readonly inflight = new Map<number, InflightGroup>();
  /** Services with a segment in flight (concurrent policy). */
  private readonly busyServices = new Set<string>();
  private startMs = 0;
  private nextArrival = 0;
  private admitted = 0;
  private live = 0;
  private groupIndex = 0;
  private plansReused = 0;
  /** Bumped on every state change a pending plan did not see (arrival, failure). */
  private version = 0;
  private pendingPlan: { plan: GroupPlan; version: number; decisionUs: number } | null = null;
  /**
   * The runner's start lead as observed (the latest group's; 0 until one reports it): a group's members
   * start this long after its launch, so decisions and the in-flight group's predicted end budget it.
   */
  private startLeadMs = 0;
  private stopping = false;
  /** The latency model decisions use: the trained one, calibrated at run time when `calibrate` asks for it. */
  private readonly model: LatencyModel | undefined;
  private readonly calibrated: CalibratedLatencyModel | null;

  constructor(
    private readonly options: ServingOptions,
    private readonly ways: number,
    private readonly thldMs: number,
    private readonly abandon: boolean,
  ) {
    this.clock = options.clock ?? new MonotonicClock();
    this.calibrated = options.latencyModel && options.calibrate === true ? new CalibratedLatencyModel(options.latencyModel, { scope: options.calibrationScope ?? 'model' }) : null;
    this.model = this.calibrated ?? options.latencyModel;
    this.trace = [...options.trace].map((q, i) => ({ q, i })).sort((a, b) => a.q.arrivalMs - b.q.arrivalMs || a.i - b.i).map((x) => x.q);
    for (const q of this.trace) this.addPool(q.model, q.modelId, `query ${q.id}`);
    for (const s of options.online?.serviceList ?? []) this.addPool(s.name, s.modelId, 'online service');
  }

  private addPool(model: string, modelId: number, what: string): void {
    const known = this.pools.get(model);
    if (known !== undefined) {
      if (known.modelId !== modelId) throw new InputError(`${what}: model '${model}' has id ${modelId}, earlier queries ${known.modelId}`);
      return;
    }
    let ops: number;
    try {
      ops = this.options.runner.operatorCount(model);
    } catch (err) {
      throw new InputError(`the runner does not serve model '${model}': ${errorMessage(err)}`, { cause: err });
    }
    if (!Number.isInteger(ops) || ops < 1) throw new InputError(`model '${model}' has a bad operator count ${ops}`);
    this.opCounts.set(model, ops);
    const pool: ServicePool = { service: model, modelId, waiting: [], inProgress: null };
    this.pools.set(model, pool);
    this.poolList.push(pool);
  }

  private now(): number {
    return this.clock.nowMs() - this.startMs;
  }

  async execute(): Promise<RunSummary> {
    this.startMs = this.clock.nowMs();
    const online = this.options.online;
    const onAbort = (): void => {
      this.stopping = true;
      online?.close();
      this.wake.signal();
    };
    online?.attach(this.onlineView());
    if (this.options.signal?.aborted) onAbort();
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.options.policy === 'concurrent') await this.loopConcurrent();
      else if (this.options.barrier === 'member') await this.loopMembers();
      else await this.loopSerialized(this.options.policy);
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      online?.detach();
      this.cancelArrivalSleep();
      this.writeLog(true);
    }
    if (this.rows.length !== this.admitted) throw new Error(`controller accounting: ${this.admitted} issued but ${this.rows.length} logged`);
    return summarizeRun(this.rows, {
      policy: this.options.policy,
      ways: this.ways,
      thldMs: this.thldMs,
      abandon: this.abandon,
      barrier: this.options.barrier ?? 'group',
      decisionsUs: this.decisionsUs,
      reactionsUs: this.reactionsUs,
      plansReused: this.plansReused,
      groupSearchSteps: this.groupSearchSteps,
    });
  }

  private arrivalsLeft(): boolean {
    return (!this.stopping && this.nextArrival < this.trace.length) || (this.options.online?.hasMore() ?? false);
  }

  /** Issue every query whose arrival time has come, and every online submission; apply cancellations. */
  private admitArrivals(): void {
    let any = false;
    if (!this.stopping) {
      // Compare on the clock's own scale, exactly as waitForEvent computes the wake-up time: rounding in
      // (clock - start) could otherwise leave a due query unadmitted and the loop spinning.
      const clockMs = this.clock.nowMs();
      while (this.nextArrival < this.trace.length && this.arrivalClockMs(this.trace[this.nextArrival] as TraceQuery) <= clockMs) {
        this.issue(this.trace[this.nextArrival++] as TraceQuery, Number.NaN);
        any = true;
      }
    }
    const online = this.options.online;
    if (online) {
      for (const entry of online.take()) {
        // the queue priced it with the trained model: the decisions here use the calibrated one
        entry.state = this.issue(entry.query, this.calibrated && Number.isFinite(entry.soloMs) ? entry.soloMs * this.calibrated.factorFor(entry.query.modelId) : entry.soloMs);
        any = true;
      }
      for (const entry of online.cancelledIssued()) {
        const q = entry.state as QueryState;
        if (q.phase === 'waiting' && !q.segmentInFlight) {
          this.drop(q);
          any = true;
        }
        // otherwise its segment is in flight: processEvents drops it unless that segment was its last
      }
    }
    if (any) {
      this.version++;
      this.priceAdmitted();
    }
  }

  /**
   * Price every waiting query that has no solo price yet, in one predictor call, when the policy will ask
   * for it (sjf and abacus always, the others for the abandon rule). Done at admission, so a decision made
   * later -- at a group's finish, the controller's critical path -- finds the price cached on the query.
   */
  private priceAdmitted(): void {
    const model = this.model;
    if (!model || !(this.options.policy === 'sjf' || this.options.policy === 'abacus' || this.abandon)) return;
    let unpriced: QueryState[] | null = null;
    for (const pool of this.poolList) for (const q of pool.waiting) if (q.progress === 0 && !Number.isFinite(q.wholeSoloMs)) (unpriced ??= []).push(q);
    if (unpriced) priceRemainders(model, unpriced);
  }

  /** The calibration factor stepped: every plan and every query's cached solo price is re-made with the new one. */
  private forgetPrices(): void {
    for (const pool of this.poolList) {
      for (const q of pool.waiting) {
        if (q.progress === 0) q.wholeSoloMs = Number.NaN;
        delete q.remainderSoloMs;
        delete q.remainderPricedAt;
      }
    }
    this.version++;
  }

  private issue(q: TraceQuery, wholeSoloMs: number): QueryState {
    const state: QueryState = {
      trace: q,
      deadlineMs: q.arrivalMs + q.qosMs,
      opCount: this.opCounts.get(q.model) as number,
      admission: this.admitted++,
      progress: 0,
      segmentInFlight: false,
      phase: 'waiting',
      startMs: null,
      finishMs: null,
      groups: 0,
      searchSteps: 0,
      wholeSoloMs,
    };
    (this.pools.get(q.model) as ServicePool).waiting.push(state);
    this.live++;
    return state;
  }

  /** The run as the online queue sees it (admission control and status). */
  private onlineView(): OnlineRunView {
    return {
      policy: this.options.policy,
      latencyModel: this.options.latencyModel,
      pools: this.poolList,
      nowMs: () => this.now(),
      inflightRemainingMs: (service) => {
        const nowMs = this.now();
        let remaining = 0;
        for (const g of this.inflight.values()) {
          if ((this.options.policy === 'concurrent' || this.options.barrier === 'member') && !g.segments.some((s) => s.service === service)) continue;
          if (g.predictedEndMs !== null) remaining = Math.max(remaining, g.predictedEndMs - nowMs);
        }
        return remaining;
      },
      operatorCount: (service) => this.opCounts.get(service) as number,
      wake: () => this.wake.signal(),
    };
  }

  private arrivalClockMs(q: TraceQuery): number {
    return this.startMs + q.arrivalMs;
  }

  /** Wait for a group event, the next arrival or shutdown. */
  private async waitForEvent(): Promise<void> {
    this.emitLogRows();
    // an event answered without a launch (or none at all) is no trigger for a later launch
    this.triggerAtMs = Infinity;
    // the arrival timer of the last wait, cancelled here, off the critical path that followed its wake
    this.cancelArrivalSleep();
    if (this.events.length > 0) return;
    const waits: Promise<void>[] = [this.wake.wait()];
    if (!this.stopping && this.nextArrival < this.trace.length) {
      const timer = new AbortController();
      this.arrivalSleep = timer;
      waits.push(this.clock.sleepUntil(this.arrivalClockMs(this.trace[this.nextArrival] as TraceQuery), timer.signal));
    }
    await Promise.race(waits);
    // a group's completion callback set the trigger earlier than this wake; an arrival or a signal sets it here
    this.triggerAtMs = Math.min(this.triggerAtMs, performance.now());
  }

  /** Cancel the pending arrival timer, if any (with a fixed reason: `abort()` without one builds a DOMException, 3-4 µs). */
  private cancelArrivalSleep(): void {
    this.arrivalSleep?.abort(ARRIVAL_SLEEP_CANCELLED);
    this.arrivalSleep = null;
  }

  private finish(q: QueryState, status: QueryStatus, finishMs: number, detail: { output?: QueryTensor; error?: string } = {}): void {
    q.phase = status;
    q.finishMs = finishMs;
    q.segmentInFlight = false;
    this.live--;
    const completed = status === 'ok' || status === 'late';
    const row: QueryLogRow = {
      id: q.trace.id,
      model: q.trace.model,
      batch: q.trace.batch,
      seq: q.trace.seq,
      qosMs: q.trace.qosMs,
      arrivalMs: round3(q.trace.arrivalMs),
      startMs: q.startMs === null ? null : round3(q.startMs),
      finishMs: round3(finishMs),
      latencyMs: completed ? round3(finishMs - q.trace.arrivalMs) : null,
      status,
      groups: q.groups,
      searchSteps: q.searchSteps,
      policy: this.options.policy,
    };
    this.rows.push(row);
    if (this.options.log) this.pendingQueryRows.push(row);
    this.options.online?.settle(row, detail);
  }

  private drop = (q: QueryState): void => {
    removeFromPool(this.pools.get(q.trace.model) as ServicePool, q);
    this.finish(q, 'dropped', this.now());
  };

  /** `inflightRemainingMs`: of the group in flight (0 if none); the planned group's start lead is added. */
  private context(inflightRemainingMs: number): DecisionContext {
    return {
      nowMs: this.now(),
      inflightRemainingMs: inflightRemainingMs + this.startLeadMs,
      pools: this.poolList,
      model: this.model,
      abandon: this.abandon,
      ways: this.ways,
      thldMs: this.thldMs,
      drop: this.drop,
    };
  }

  /** Hand the pending rows to the run log and flush it (`final`: the run's end). */
  private writeLog(final: boolean): void {
    this.emitLogRows();
    this.options.log?.flush?.(final);
  }

  /** Hand the rows made since the last call to the run log (after the launches, off the critical path). */
  private emitLogRows(): void {
    const log = this.options.log;
    if (!log) return;
    for (const row of this.pendingQueryRows) log.query(row);
    if (log.group) for (const row of this.pendingGroupRows) log.group(row);
    this.pendingQueryRows.length = 0;
    this.pendingGroupRows.length = 0;
  }

  private timed(decide: () => GroupPlan): { plan: GroupPlan; decisionUs: number } {
    const t0 = performance.now();
    const plan = decide();
    const decisionUs = (performance.now() - t0) * 1000;
    this.decisionsUs.push(decisionUs);
    return { plan, decisionUs };
  }

  private launch(plan: GroupPlan, decisionUs: number): InflightGroup {
    const launchMs = this.now();
    const segments: SegmentRun[] = [];
    const queries: QueryState[] = [];
    for (const s of plan.segments) {
      const q = s.query;
      const pool = this.pools.get(q.trace.model) as ServicePool;
      const segment: SegmentRun = { service: q.trace.model, modelId: q.trace.modelId, queryId: q.trace.id, start: q.progress, end: s.end, batch: q.trace.batch, seq: q.trace.seq };
      const entry: OnlineEntry | undefined = this.options.online?.entry(q.trace.id);
      if (entry?.inputs && q.progress === 0) segment.inputs = entry.inputs;
      if (entry?.returnOutput && s.end >= q.opCount) segment.returnOutput = true;
      segments.push(segment);
      queries.push(q);
      q.progress = s.end;
      q.segmentInFlight = true;
      q.groups++;
      q.searchSteps += plan.searchSteps;
      if (q.startMs === null) q.startMs = launchMs;
      if (s.end >= q.opCount) {
        q.phase = 'running';
        removeFromPool(pool, q);
      } else pool.inProgress = q;
    }
    const group: InflightGroup = {
      index: this.groupIndex++,
      launchMs,
      calibrationFactor: this.calibrated?.groupFactor(segments) ?? 1,
      predictedEndMs: plan.predictedMs === null || !Number.isFinite(plan.predictedMs) ? null : launchMs + this.startLeadMs + plan.predictedMs,
      segments,
      queries,
      plan,
      decisionUs,
    };
    this.groupSearchSteps.push(plan.searchSteps);
    this.inflight.set(group.index, group);
    for (const s of segments) this.busyServices.add(s.service);
    this.options.runner.runGroup(segments).then(
      (outcome) => {
        this.triggerAtMs = Math.min(this.triggerAtMs, performance.now());
        this.events.push({ group, outcome });
        this.wake.signal();
      },
      (error: unknown) => {
        this.triggerAtMs = Math.min(this.triggerAtMs, performance.now());
        this.events.push({ group, error });
        this.wake.signal();
      },
    );
    if (this.triggerAtMs !== Infinity) {
      this.reactionsUs.push((performance.now() - this.triggerAtMs) * 1000);
      this.triggerAtMs = Infinity;
    }
    return group;
  }

  /** barrier 'member': launch one member alone in its runner group, with its running state. */
  private launchMember(launch: MemberLaunch, decisionUs: number, searchSteps: number): void {
    const q = launch.segment.query;
    const segment = { modelId: q.trace.modelId, start: q.progress, end: launch.segment.end, batch: q.trace.batch, seq: q.trace.seq };
    const plan: GroupPlan = { segments: [launch.segment], predictedMs: launch.predictedMs, searchSteps, feasibleUntilMs: Infinity, recomputeBeforeMs: -Infinity };
    const group = this.launch(plan, decisionUs);
    const predictedEndMs = group.predictedEndMs ?? group.launchMs + this.startLeadMs + launch.predictedMs;
    group.member = { query: q, segment, soloMs: launch.soloMs, afterMs: launch.afterMs, predictedEndMs, slowdown: launch.slowdown };
  }

  /** barrier 'member': a member's predicted end changed (a member joined or left beside it). */
  private moveEnd(member: RunningMember, update: { predictedEndMs: number; slowdown: number }): void {
    member.predictedEndMs = update.predictedEndMs;
    member.slowdown = update.slowdown;
    for (const g of this.inflight.values()) if (g.member === member) g.predictedEndMs = update.predictedEndMs;
  }

  private runningMembers(): RunningMember[] {
    const out: RunningMember[] = [];
    for (const g of this.inflight.values()) if (g.member) out.push(g.member);
    return out;
  }

  /** Apply finished and failed groups. */
  private processEvents(): void {
    const anyEvent = this.events.length > 0;
    this.applyEvents();
    if (anyEvent && this.options.barrier === 'member' && this.model) {
      // the members left run beside fewer: their predicted ends shrink to the slowdown of the set left
      for (const [member, update] of relaxedEnds(this.model, this.runningMembers(), this.now())) this.moveEnd(member, update);
    }
  }

  private applyEvents(): void {
    while (this.events.length > 0) {
      const event = this.events.shift() as GroupEvent;
      const { group } = event;
      this.inflight.delete(group.index);
      for (const s of group.segments) this.busyServices.delete(s.service);
      const nowMs = this.now();
      const failed = 'error' in event;
      let cancelledNow = false;
      const groupMs = failed ? nowMs - group.launchMs : event.outcome.groupMs;
      // members start at the runner's start signal, `leadMs` after the launch; their times count from there
      const leadMs = failed ? 0 : Math.max(0, event.outcome.startLeadMs ?? 0);
      if (!failed && event.outcome.startLeadMs !== undefined) this.startLeadMs = leadMs;
      // What the controller last believed this launch would take: the plan's price, or for a member (per-member
      // barriers) its predicted end as it stood when it finished (members that joined or left beside it moved it).
      const believedMs = group.member ? group.member.predictedEndMs - group.launchMs - leadMs : group.plan.predictedMs;
      if (!failed && this.calibrated && believedMs !== null && Number.isFinite(believedMs)) {
        // plans and cached solo prices made with the old factor are stale once it has stepped
        if (this.calibrated.observe(groupMs, believedMs / group.calibrationFactor, group.segments.map((seg) => seg.modelId))) this.forgetPrices();
      }
      const memberMs = new Map<string, number>();
      const outputs = new Map<string, QueryTensor>();
      if (!failed) {
        for (const m of event.outcome.members) {
          memberMs.set(m.queryId, m.ms);
          if (m.output) outputs.set(m.queryId, m.output);
        }
      }
      const members: GroupLogRow['members'] = [];
      group.segments.forEach((s, i) => {
        const q = group.queries[i] as QueryState;
        const final = s.end >= q.opCount;
        const ownMs = memberMs.get(q.trace.id);
        members.push({
          id: q.trace.id,
          model: q.trace.model,
          start: s.start,
          end: s.end,
          final,
          ...(ownMs !== undefined ? { ms: round3(ownMs), barrierWaitMs: round3(Math.max(0, groupMs - ownMs)) } : {}),
        });
        if (q.phase !== 'waiting' && q.phase !== 'running') return; // dropped while its segment ran
        q.segmentInFlight = false;
        if (failed) {
          removeFromPool(this.pools.get(q.trace.model) as ServicePool, q);
          this.finish(q, 'failed', nowMs, { error: errorMessage(event.error) });
        } else if (final) {
          const finishMs = group.launchMs + leadMs + (ownMs ?? groupMs);
          const output = outputs.get(q.trace.id);
          this.finish(q, finishMs - q.trace.arrivalMs <= q.trace.qosMs ? 'ok' : 'late', finishMs, output ? { output } : {});
        } else if (this.options.online?.entry(q.trace.id)?.cancelled) {
          this.drop(q); // its submitter went away while this segment ran
          cancelledNow = true;
        }
      });
      if (cancelledNow) this.version++;
      if (failed) this.version++;
      if (this.options.log?.group) this.pendingGroupRows.push({
        index: group.index,
        launchMs: round3(group.launchMs),
        startLeadMs: round3(leadMs),
        finishMs: round3(group.launchMs + leadMs + groupMs),
        groupMs: round3(groupMs),
        predictedMs: group.plan.predictedMs === null ? null : round3(group.plan.predictedMs),
        ...(group.member ? { predictedFinalMs: round3(group.member.predictedEndMs - group.launchMs - leadMs) } : {}),
        ...(this.calibrated ? { calibrationFactor: round3(group.calibrationFactor) } : {}),
        status: failed ? 'failed' : 'ok',
        members,
        searchSteps: group.plan.searchSteps,
        decisionUs: round3(group.decisionUs),
      });
    }
  }

  private async loopSerialized(policy: Exclude<PolicyName, 'concurrent'>): Promise<void> {
    for (;;) {
      this.processEvents();
      this.admitArrivals();
      const running = this.inflight.values().next().value as InflightGroup | undefined;
      if (running === undefined) {
        let plan: GroupPlan;
        let decisionUs: number;
        const pending = this.pendingPlan;
        this.pendingPlan = null;
        if (pending && pending.version === this.version && planStillValid(pending.plan, this.now(), this.abandon)) {
          plan = pending.plan;
          decisionUs = pending.decisionUs;
          if (plan.segments.length > 0) this.plansReused++;
        } else {
          ({ plan, decisionUs } = this.timed(() => decideSerialized(policy, this.context(0))));
        }
        if (plan.segments.length > 0) {
          this.launch(plan, decisionUs);
          this.writeLog(false);
          continue;
        }
        if (this.live > 0) throw new Error(`controller: ${this.live} queries waiting but policy '${policy}' planned no group`);
        if (!this.arrivalsLeft()) return;
      } else if (this.pendingPlan === null || this.pendingPlan.version !== this.version) {
        // Pipelining: decide the next group while this one runs, budgeting for its predicted remaining time.
        const remainingMs = running.predictedEndMs === null ? 0 : Math.max(0, running.predictedEndMs - this.now());
        const { plan, decisionUs } = this.timed(() => decideSerialized(policy, this.context(remainingMs)));
        this.pendingPlan = { plan, version: this.version, decisionUs };
      }
      await this.waitForEvent();
    }
  }

  /**
   * abacus with per-member barriers: every member runs in its own runner group, so a service is free the
   * moment its segment ends, and each decision starts what `decideAbacusMembers` says fits beside what runs.
   */
  private async loopMembers(): Promise<void> {
    for (;;) {
      this.processEvents();
      this.admitArrivals();
      if (this.poolList.some((p) => p.waiting.length > 0 && !this.busyServices.has(p.service))) {
        const t0 = performance.now();
        const decision = decideAbacusMembers(this.context(0), this.runningMembers(), this.startLeadMs);
        const decisionUs = (performance.now() - t0) * 1000;
        this.decisionsUs.push(decisionUs);
        for (const [member, update] of decision.updatedEnds) this.moveEnd(member, update);
        decision.launches.forEach((l, i) => this.launchMember(l, decisionUs, i === 0 ? decision.searchSteps : 0));
        if (decision.launches.length === 0 && this.inflight.size === 0 && this.poolList.some((p) => p.waiting.length > 0)) {
          throw new Error(`controller: ${this.live} queries waiting, nothing in flight, but the abacus member decision launched nothing`);
        }
      }
      this.writeLog(false);
      if (this.inflight.size === 0 && this.live === 0 && !this.arrivalsLeft()) return;
      await this.waitForEvent();
    }
  }

  private async loopConcurrent(): Promise<void> {
    for (;;) {
      this.processEvents();
      this.admitArrivals();
      for (const pool of this.poolList) {
        if (this.busyServices.has(pool.service) || pool.waiting.length === 0) continue;
        const { plan, decisionUs } = this.timed(() => decideConcurrent(pool, this.context(0)));
        if (plan.segments.length > 0) this.launch(plan, decisionUs);
      }
      this.writeLog(false);
      if (this.inflight.size === 0 && this.live === 0 && !this.arrivalsLeft()) return;
      await this.waitForEvent();
    }
  }
}

/**
 * The controller's contracts with the stages it drives: a `GroupRunner` that executes operator groups
 * (the executor, or `SimulatedRunner`), a `LatencyModel` that prices groups (the predictor), and a `Clock`
 * (the real monotonic clock, or a virtual one for simulation). Plus the records a run produces.
 *
 * All times are milliseconds (`…Ms`) or microseconds (`…Us`). Times inside a run are relative to the run's
 * start on its clock.
 */

/**
 * A tensor a query carries: its own input (online serving) or its output. Row-major `data` with concrete
 * `dims`; float16 data is a Uint16Array of half-precision bits.
 */
export interface QueryTensor {
  dims: number[];
  data: Float32Array | Uint16Array;
}

/** One segment of a query in a group: operators `[start, end)` of `service`'s model. */
export interface SegmentRun {
  /** Model (service) name, e.g. `resnet50`. */
  service: string;
  modelId: number;
  queryId: string;
  start: number;
  end: number;
  batch: number;
  /** Sequence length (BERT), 0 for models without one. */
  seq: number;
  /** Online queries only, on their first segment: the query's own inputs by name. */
  inputs?: Readonly<Record<string, QueryTensor>>;
  /** Online queries only, on their last segment: return the final output. */
  returnOutput?: boolean;
}

/** What a group took: launch to barrier (`groupMs`) and launch to each member's own finish. */
export interface GroupOutcome {
  /** From the group's start signal to its barrier. */
  groupMs: number;
  /**
   * From the runner's launch to the start signal the members wait for (the executor's start lead); member
   * times and groupMs count from the start signal. Absent: 0 (a runner that starts at once).
   */
  startLeadMs?: number;
  /** `ms`: from the start signal to the member's finish; `output`: the final output of a member that asked for it (`returnOutput`). */
  members: { queryId: string; ms: number; output?: QueryTensor }[];
}

/**
 * Runs operator groups: the members are launched together and joined by a barrier; the promise resolves at
 * the barrier. A rejected promise means the group failed: the queries in it are marked `failed`. A
 * synchronous throw is a programming error and aborts the run.
 *
 * The serialized policies (fcfs, sjf, edf, abacus) have at most one group in flight. The `concurrent`
 * policy calls `runGroup` with one-member groups for different services while others are still running;
 * it never has two segments of one service in flight.
 */
export interface GroupRunner {
  runGroup(members: readonly SegmentRun[]): Promise<GroupOutcome>;
  /** Number of operators (segment boundaries) of a service's model; throws for an unknown service. */
  operatorCount(service: string): number;
}

/** One member of a group as the latency model sees it. */
export interface GroupMember {
  modelId: number;
  start: number;
  end: number;
  batch: number;
  seq: number;
}

/**
 * Predicts launch-to-barrier latencies of groups, many groups per call (one batched forward pass).
 * `predictMs` returns one value per group, in order. With `out` (length >= groups.length) it may write the
 * values there and return `out`, allocating nothing; an implementation may also ignore `out` and return a
 * new array, so callers read the returned array. The call is synchronous and must not keep `groups`, their
 * arrays or their members: callers reuse them for the next call (the split search does).
 */
export interface LatencyModel {
  predictMs(groups: readonly (readonly GroupMember[])[], out?: Float64Array): Float64Array;
}

/**
 * A monotonic time source the serving loop waits on. `sleepUntil` resolves once `nowMs() >= untilMs`, or
 * early (resolving, not rejecting) when `signal` aborts.
 */
export interface Clock {
  nowMs(): number;
  sleepUntil(untilMs: number, signal?: AbortSignal): Promise<void>;
}

export type PolicyName = 'fcfs' | 'sjf' | 'edf' | 'abacus' | 'concurrent';
export const POLICY_NAMES: readonly PolicyName[] = ['fcfs', 'sjf', 'edf', 'abacus', 'concurrent'];

/** One query of a load trace. `arrivalMs` is relative to the start of the run. */
export interface TraceQuery {
  id: string;
  arrivalMs: number;
  /** Service (model) name. */
  model: string;
  modelId: number;
  batch: number;
  seq: number;
  qosMs: number;
}

/** ok: finished within QoS; late: finished beyond it; dropped: abandoned; failed: its group failed. */
export type QueryStatus = 'ok' | 'late' | 'dropped' | 'failed';

/** One row of the per-query run log. Times are ms from the start of the run; null where not applicable. */
export interface QueryLogRow {
  id: string;
  model: string;
  batch: number;
  seq: number;
  qosMs: number;
  arrivalMs: number;
  /** Launch of the query's first segment (null when it never ran). */
  startMs: number | null;
  /** Finish of its last segment; for dropped/failed queries, when that was decided or observed. */
  finishMs: number | null;
  /** finishMs - arrivalMs for completed (ok/late) queries, else null. */
  latencyMs: number | null;
  status: QueryStatus;
  /** Number of groups the query had a segment in. */
  groups: number;
  /** k-ary search steps (batched predictor calls over split points) of the groups the query was in. */
  searchSteps: number;
  policy: PolicyName;
}

/** One row of the per-group log. */
export interface GroupLogRow {
  index: number;
  /** When the controller launched the group; its members started `startLeadMs` later. */
  launchMs: number;
  /** The runner's start lead (0 where it reports none); finishMs = launchMs + startLeadMs + groupMs. */
  startLeadMs?: number;
  finishMs: number;
  groupMs: number;
  /** As the controller predicted it, calibration included (the trained model's own: predictedMs / calibrationFactor). */
  predictedMs: number | null;
  /** barrier 'member': the member's predicted own time as last updated, after members joined or left beside it. */
  predictedFinalMs?: number;
  /** The run-time calibration factor the group was planned with (absent: no calibration). */
  calibrationFactor?: number;
  status: 'ok' | 'failed';
  /**
   * `ms`: from the start signal to the member's finish; `barrierWaitMs`: how long it then waited at the barrier
   * for the group's last member (groupMs - ms). Absent for a failed group.
   */
  members: { id: string; model: string; start: number; end: number; final: boolean; ms?: number; barrierWaitMs?: number }[];
  searchSteps: number;
  /** Controller time spent deciding this group (µs). */
  decisionUs: number;
}

/** Where a run's rows go. Implementations: `openRunLog` (files), `MemoryRunLog`. */
export interface RunLogSink {
  query(row: QueryLogRow): void;
  group?(row: GroupLogRow): void;
  /**
   * Called by the serving loop right after launches (where writing does not delay one) with force false,
   * and at the end of the run with force true (everything written must then be on disk).
   */
  flush?(force: boolean): void;
}

export interface ModelSummary {
  issued: number;
  completed: number;
  late: number;
  dropped: number;
  failed: number;
  violationRatio: number;
  p99Ms: number | null;
}

/** The summary of one run. See `src/controller/POLICIES.md` for the metric definitions. */
export interface RunSummary {
  policy: PolicyName;
  issued: number;
  /** ok + late. */
  completed: number;
  late: number;
  dropped: number;
  failed: number;
  /** (late + dropped + failed) / issued. */
  violationRatio: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  /** p99 over completed queries of latency / that query's QoS (= p99 / QoS under a single QoS). */
  p99OverQos: number | null;
  /** QoS-met completions per measured second. */
  goodputQps: number;
  /** Completions (ok + late) per measured second. */
  throughputQps: number;
  /** First arrival to the last finish, drop or failure. */
  durationMs: number;
  decisions: number;
  /** Decisions made while a group ran and launched unchanged at its barrier. */
  plansReused: number;
  decisionP50Us: number | null;
  decisionP99Us: number | null;
  /**
   * The controller's critical path, µs: from a group's completion (or an arrival's wake) reaching the loop
   * to the launch it allowed -- event bookkeeping, admission pricing, the decision and the launch call.
   */
  reactionP50Us: number | null;
  reactionP99Us: number | null;
  groups: number;
  searchStepsMean: number;
  searchStepsMax: number;
  ways: number;
  thldMs: number;
  abandon: boolean;
  /** abacus: how its groups were joined ('group': one barrier; 'member': each member on its own). */
  barrier?: 'group' | 'member';
  perModel: Record<string, ModelSummary>;
}

/**
 * Simulation: a `GroupRunner` that "runs" a group by waiting on a (virtual) clock for as long as a latency
 * function says, and latency functions: one from any `LatencyModel` (e.g. a trained predictor) with seeded
 * noise, and `AnalyticLatencyModel`, a closed-form model built from the original's measured A100 solo
 * latencies, for simulating without a profile.
 */
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { ZOO } from '../zoo/catalog.js';
import { VirtualClock } from './clock.js';
import { runServing, type ServingOptions } from './serving.js';
import type { Clock, GroupMember, GroupOutcome, GroupRunner, LatencyModel, RunSummary, SegmentRun } from './types.js';

/** Group latency, or group latency and each member's own finish (launch-relative, in member order). */
export type SimulatedTiming = number | { groupMs: number; memberMs?: readonly number[] };

/**
 * Latency of a group about to launch. `overlapping` holds the segments of other groups still in flight at
 * that moment (only the `concurrent` policy has any): a simple model of interference is to price the union.
 */
export type SimulatedLatencyFn = (members: readonly SegmentRun[], overlapping: readonly SegmentRun[]) => SimulatedTiming;

export interface SimulatedRunnerOptions {
  clock: Clock;
  /** Operators per service name. */
  operatorCounts: Readonly<Record<string, number>> | ReadonlyMap<string, number>;
  latency: SimulatedLatencyFn;
  /** Make a group fail (its promise rejects at its finish time); `groupIndex` counts launches from 0. */
  fail?: (members: readonly SegmentRun[], groupIndex: number) => boolean;
  /** A start lead, as the executor's start signal: members start this long after the launch (default 0, not reported). */
  startLeadMs?: number;
}

export interface SimulatedGroupRecord {
  index: number;
  launchMs: number;
  finishMs: number;
  members: readonly SegmentRun[];
  failed: boolean;
}

/**
 * A deterministic runner on a clock (normally a `VirtualClock`). It enforces the executor's invariants: a
 * group holds at most one segment per service, a service runs at most one segment at a time, and segments
 * lie within the model; breaking one throws synchronously (a controller bug, not a group failure).
 */
export class SimulatedRunner implements GroupRunner {
  /** Every launched group, in launch order. */
  readonly history: SimulatedGroupRecord[] = [];
  private readonly counts: Map<string, number>;
  private readonly running = new Map<string, SegmentRun>();

  constructor(private readonly options: SimulatedRunnerOptions) {
    this.counts = options.operatorCounts instanceof Map ? new Map(options.operatorCounts) : new Map(Object.entries(options.operatorCounts));
  }

  operatorCount(service: string): number {
    const n = this.counts.get(service);
    if (n === undefined) throw new InputError(`SimulatedRunner: unknown service '${service}'`);
    return n;
  }

  /** Services with a segment in flight now. */
  busyServices(): string[] {
    return [...this.running.keys()];
  }

  runGroup(members: readonly SegmentRun[]): Promise<GroupOutcome> {
    if (members.length === 0) throw new Error('SimulatedRunner: empty group');
    const services = new Set<string>();
    for (const m of members) {
      const ops = this.operatorCount(m.service);
      if (services.has(m.service)) throw new Error(`SimulatedRunner: two segments of '${m.service}' in one group`);
      services.add(m.service);
      if (this.running.has(m.service)) throw new Error(`SimulatedRunner: '${m.service}' already runs a segment (query ${this.running.get(m.service)?.queryId})`);
      if (!Number.isInteger(m.start) || !Number.isInteger(m.end) || m.start < 0 || m.end > ops || m.start > m.end) {
        throw new Error(`SimulatedRunner: bad segment [${m.start}, ${m.end}) of '${m.service}' (${ops} operators)`);
      }
    }
    const clock = this.options.clock;
    const launchMs = clock.nowMs();
    const index = this.history.length;
    const timing = this.options.latency(members, [...this.running.values()]);
    const groupMs = typeof timing === 'number' ? timing : timing.groupMs;
    const memberMs = typeof timing === 'number' || timing.memberMs === undefined ? members.map(() => groupMs) : [...timing.memberMs];
    if (!Number.isFinite(groupMs) || groupMs < 0 || memberMs.length !== members.length || memberMs.some((ms) => !Number.isFinite(ms) || ms < 0 || ms > groupMs)) {
      throw new Error(`SimulatedRunner: bad simulated timing ${JSON.stringify(timing)}`);
    }
    const failed = this.options.fail?.(members, index) ?? false;
    const leadMs = this.options.startLeadMs ?? 0;
    const record: SimulatedGroupRecord = { index, launchMs, finishMs: launchMs + leadMs + groupMs, members: [...members], failed };
    this.history.push(record);
    for (const m of members) this.running.set(m.service, m);
    return clock.sleepUntil(launchMs + leadMs + groupMs).then(() => {
      for (const m of members) this.running.delete(m.service);
      if (failed) throw new Error(`simulated failure of group ${index}`);
      return { groupMs, ...(this.options.startLeadMs !== undefined ? { startLeadMs: leadMs } : {}), members: members.map((m, i) => ({ queryId: m.queryId, ms: memberMs[i] as number })) };
    });
  }
}

export function toGroupMember(s: SegmentRun): GroupMember {
  return { modelId: s.modelId, start: s.start, end: s.end, batch: s.batch, seq: s.seq };
}

/**
 * Simulated latency from a latency model: the model's prediction for the group (for the `concurrent`
 * policy, for the group together with the segments still in flight), times (1 + noise·N(0,1)) with a seeded
 * generator, never below 0.
 */
export function latencyFromModel(model: LatencyModel, options: { noise?: number; seed?: number } = {}): SimulatedLatencyFn {
  const noise = options.noise ?? 0;
  const rng = new Rng(options.seed ?? 0);
  return (members, overlapping) => {
    const group = [...members, ...overlapping].map(toGroupMember);
    const ms = model.predictMs([group])[0] as number;
    const factor = noise > 0 ? Math.max(0, 1 + noise * rng.normal()) : 1;
    return ms * factor;
  };
}

/**
 * Simulated latency from a latency model, member by member: the launch's members and the segments still in
 * flight are priced together as one group (time T) and each alone; the overlap's slowdown is
 * f = T / (the longest solo time), and each launched member takes its own solo time × f (noise as
 * `latencyFromModel`). A short member beside a long one so finishes before it, as on a device; members in
 * flight are not slowed down further. For comparing policies whose members overlap without aligned starts
 * (concurrent, abacus with per-member barriers).
 */
export function latencyPerMemberFromModel(model: LatencyModel, options: { noise?: number; seed?: number } = {}): SimulatedLatencyFn {
  const noise = options.noise ?? 0;
  const rng = new Rng(options.seed ?? 0);
  return (members, overlapping) => {
    const all = [...members, ...overlapping].map(toGroupMember);
    const priced = model.predictMs([all, ...all.map((m) => [m])]);
    let longest = 0;
    for (let i = 1; i <= all.length; i++) longest = Math.max(longest, priced[i] as number);
    const f = longest > 0 ? Math.max(1, (priced[0] as number) / longest) : 1;
    const memberMs = members.map((_, i) => {
      const factor = noise > 0 ? Math.max(0, 1 + noise * rng.normal()) : 1;
      return (priced[i + 1] as number) * f * factor;
    });
    return { groupMs: Math.max(...memberMs), memberMs };
  };
}

/** Solo latency (ms) of the original's models on an A100 at batch 4, 8, 16, 32 (reference §1.5). */
const A100_SOLO_MS: Readonly<Record<number, readonly [number, number, number, number]>> = {
  0: [8.68, 8.71, 8.68, 12.51],
  1: [16.54, 16.22, 16.3, 19.81],
  2: [24.37, 23.71, 23.87, 26.44],
  3: [15.21, 15.01, 15.2, 17.63],
  4: [3.05, 5.48, 10.99, 23.35],
  5: [3.5, 6.33, 13.11, 27.38],
  6: [10.9, 11.0, 11.0, 10.9],
};

export interface AnalyticLatencyOptions {
  /** Solo latency (ms) of whole models at batch 4/8/16/32, by model id (default: the A100 table). */
  soloMs?: Readonly<Record<number, readonly [number, number, number, number]>>;
  /** Operators per model id (default: the zoo's). */
  operatorCounts?: Readonly<Record<number, number>>;
  /** Share of the non-longest members' time added to the longest (0: perfect overlap, 1: serial). */
  overlapPenalty?: number;
  /** Fixed cost per group (launch and barrier), ms. */
  groupOverheadMs?: number;
}

/**
 * A closed-form latency model: a segment costs its share of the model's solo latency (interpolated in
 * log2 batch, operators weighted equally), and a group costs
 * `overhead + longest + overlapPenalty · (sum of the others)`. Monotone in every segment's length. For
 * simulations and tests, not a substitute for a trained predictor.
 */
export class AnalyticLatencyModel implements LatencyModel {
  private readonly soloMs: Readonly<Record<number, readonly [number, number, number, number]>>;
  private readonly ops: Readonly<Record<number, number>>;
  private readonly overlapPenalty: number;
  private readonly groupOverheadMs: number;

  constructor(options: AnalyticLatencyOptions = {}) {
    this.soloMs = options.soloMs ?? A100_SOLO_MS;
    this.ops = options.operatorCounts ?? Object.fromEntries(ZOO.map((m) => [m.id, m.operatorCount]));
    this.overlapPenalty = options.overlapPenalty ?? 0.3;
    this.groupOverheadMs = options.groupOverheadMs ?? 0.2;
  }

  /** Solo latency of a whole model at a batch size. */
  modelMs(modelId: number, batch: number): number {
    const table = this.soloMs[modelId];
    if (table === undefined) throw new InputError(`AnalyticLatencyModel: no solo latencies for model id ${modelId}`);
    const x = Math.log2(Math.max(batch, 1)) - 2; // 0 at batch 4, 3 at batch 32
    const i = Math.min(Math.max(Math.floor(x), 0), 2);
    const a = table[i] as number;
    const b = table[i + 1] as number;
    return Math.max(0.05, a + (b - a) * (x - i));
  }

  segmentMs(m: GroupMember): number {
    const ops = this.ops[m.modelId];
    if (ops === undefined) throw new InputError(`AnalyticLatencyModel: no operator count for model id ${m.modelId}`);
    return (this.modelMs(m.modelId, m.batch) * (m.end - m.start)) / ops;
  }

  predictMs(groups: readonly (readonly GroupMember[])[]): Float64Array {
    const out = new Float64Array(groups.length);
    groups.forEach((group, g) => {
      let longest = 0;
      let sum = 0;
      for (const m of group) {
        const ms = this.segmentMs(m);
        longest = Math.max(longest, ms);
        sum += ms;
      }
      out[g] = this.groupOverheadMs + longest + this.overlapPenalty * (sum - longest);
    });
    return out;
  }
}

export interface SimulationOptions extends Omit<ServingOptions, 'runner' | 'clock'> {
  operatorCounts: SimulatedRunnerOptions['operatorCounts'];
  /** How long simulated groups take. */
  latency: SimulatedLatencyFn;
  fail?: SimulatedRunnerOptions['fail'];
  startLeadMs?: number;
}

/** Serve a trace on a `SimulatedRunner` with a fresh `VirtualClock` (fast, deterministic). */
export async function simulateServing(options: SimulationOptions): Promise<{ summary: RunSummary; runner: SimulatedRunner; clock: VirtualClock }> {
  const { operatorCounts, latency, fail, startLeadMs, ...serving } = options;
  const clock = new VirtualClock();
  const runner = new SimulatedRunner({ clock, operatorCounts, latency, ...(fail ? { fail } : {}), ...(startLeadMs !== undefined ? { startLeadMs } : {}) });
  const summary = await runServing({ ...serving, runner, clock });
  return { summary, runner, clock };
}

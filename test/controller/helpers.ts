/** Shared fixtures for the controller tests: hand-written latency models, small traces, fake pools. */
import type { GroupMember, LatencyModel, TraceQuery } from '../../src/controller/types.js';
import type { QueryState, ServicePool } from '../../src/controller/state.js';

/** A latency model from a function of one group; counts calls and rows. */
export class FnModel implements LatencyModel {
  calls = 0;
  rows = 0;
  constructor(private readonly fn: (group: readonly GroupMember[]) => number) {}
  predictMs(groups: readonly (readonly GroupMember[])[]): Float64Array {
    this.calls++;
    this.rows += groups.length;
    return Float64Array.from(groups.map((g) => this.fn(g)));
  }
}

/** Each operator of model id m costs perOpMs[m] ms; a group costs its longest member plus `penalty` of the rest. */
export function linearModel(perOpMs: Record<number, number>, penalty = 0.5): FnModel {
  return new FnModel((group) => {
    let longest = 0;
    let sum = 0;
    for (const m of group) {
      const ms = (perOpMs[m.modelId] ?? 1) * (m.end - m.start);
      longest = Math.max(longest, ms);
      sum += ms;
    }
    return longest + penalty * (sum - longest);
  });
}

export function query(id: string, model: string, modelId: number, arrivalMs: number, qosMs: number, batch = 4, seq = 0): TraceQuery {
  return { id, model, modelId, arrivalMs, qosMs, batch, seq };
}

let admissionCounter = 0;

export function state(trace: TraceQuery, opCount: number, progress = 0): QueryState {
  return {
    trace,
    deadlineMs: trace.arrivalMs + trace.qosMs,
    opCount,
    admission: admissionCounter++,
    progress,
    segmentInFlight: false,
    phase: 'waiting',
    startMs: null,
    finishMs: null,
    groups: 0,
    searchSteps: 0,
    wholeSoloMs: Number.NaN,
  };
}

export function pool(service: string, modelId: number, waiting: QueryState[], inProgress: QueryState | null = null): ServicePool {
  return { service, modelId, waiting, inProgress };
}

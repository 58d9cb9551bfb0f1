/**
 * Mutable serving state shared by the serving loop and the policies: one record per issued query and one
 * pool per service.
 */
import type { GroupMember, TraceQuery } from './types.js';

/**
 * Life of a query: `waiting` (issued, not finished; it may have run some segments: `progress > 0`) →
 * `running` (its last segment is in flight) → `ok`/`late`; or → `dropped` / `failed` from waiting or running.
 */
export type QueryPhase = 'waiting' | 'running' | 'ok' | 'late' | 'dropped' | 'failed';

export interface QueryState {
  readonly trace: TraceQuery;
  /** arrivalMs + qosMs. */
  readonly deadlineMs: number;
  readonly opCount: number;
  /** Admission order (ties in every ordering are broken by it). */
  readonly admission: number;
  /** Operators already launched: the next segment starts here. */
  progress: number;
  /** A segment of this query is in the group now running. */
  segmentInFlight: boolean;
  phase: QueryPhase;
  startMs: number | null;
  finishMs: number | null;
  groups: number;
  searchSteps: number;
  /** Predicted solo latency of the whole query (NaN until priced). */
  wholeSoloMs: number;
  /**
   * Predicted solo latency of the remaining operators of a started query, and the progress it was priced
   * at (the price holds until the query's next segment launches); absent until priced.
   */
  remainderSoloMs?: number;
  remainderPricedAt?: number;
}

/** A service's queries that are issued and not finished. */
export interface ServicePool {
  readonly service: string;
  readonly modelId: number;
  /** Waiting queries in admission order (including `inProgress`). */
  waiting: QueryState[];
  /** The query that has started but not finished (at most one per service: executors keep one activation). */
  inProgress: QueryState | null;
}

export function headroomMs(q: QueryState, nowMs: number): number {
  return q.deadlineMs - nowMs;
}

/** The query's remaining operators as a group member. */
export function remainderMember(q: QueryState): GroupMember {
  return { modelId: q.trace.modelId, start: q.progress, end: q.opCount, batch: q.trace.batch, seq: q.trace.seq };
}

export function memberOf(q: QueryState, end: number): GroupMember {
  return { modelId: q.trace.modelId, start: q.progress, end, batch: q.trace.batch, seq: q.trace.seq };
}

/** Remove a query from its pool (it finished its last launch, or was dropped or failed). */
export function removeFromPool(pool: ServicePool, q: QueryState): void {
  const i = pool.waiting.indexOf(q);
  if (i >= 0) pool.waiting.splice(i, 1);
  if (pool.inProgress === q) pool.inProgress = null;
}

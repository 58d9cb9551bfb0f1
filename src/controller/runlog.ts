/**
 * Run logs and run summaries. Per-query rows go to NDJSON or CSV files through a `DurableAppender`
 * (buffered: rows are appended and fsynced in batches, so a crash loses at most the last batch); group rows
 * optionally to an NDJSON file. `summarizeRun` turns the rows into the run's summary.
 */
import { existsSync, statSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { InputError } from '../common/errors.js';
import { DurableAppender } from '../common/fsutil.js';
import { mean, percentileSorted, sortedCopy } from '../common/stats.js';
import type { GroupLogRow, ModelSummary, PolicyName, QueryLogRow, RunLogSink, RunSummary } from './types.js';

/** Keeps every row in memory (tests, and callers that post-process a run). */
export class MemoryRunLog implements RunLogSink {
  readonly queries: QueryLogRow[] = [];
  readonly groups: GroupLogRow[] = [];
  query(row: QueryLogRow): void {
    this.queries.push(row);
  }
  group(row: GroupLogRow): void {
    this.groups.push(row);
  }
}

export type RunLogFormat = 'ndjson' | 'csv';

/** CSV column names of the per-query log, in order. */
export const QUERY_CSV_COLUMNS = [
  'id', 'model', 'batch', 'seq', 'qos_ms', 'arrival_ms', 'start_ms', 'finish_ms', 'latency_ms', 'status', 'groups', 'search_steps', 'policy',
] as const;

function queryCsvRecord(row: QueryLogRow): (string | number)[] {
  const opt = (v: number | null): string | number => (v === null ? '' : v);
  return [row.id, row.model, row.batch, row.seq, row.qosMs, row.arrivalMs, opt(row.startMs), opt(row.finishMs), opt(row.latencyMs), row.status, row.groups, row.searchSteps, row.policy];
}

/** Format rows as CSV (with the header when `header` is true). */
export function formatQueryCsv(rows: readonly QueryLogRow[], header: boolean): string {
  return stringify(rows.map(queryCsvRecord), header ? { header: true, columns: [...QUERY_CSV_COLUMNS] } : {});
}

export interface RunLogFileOptions {
  /** Per-query log file. */
  path: string;
  format: RunLogFormat;
  /** Optional per-group NDJSON log. */
  groupsPath?: string;
  /** Append to existing files instead of refusing them. */
  append?: boolean;
  /** Flush when this many rows are buffered (default 256). */
  flushRows?: number;
  /** Flush when the oldest buffered row is this old, real ms (default 500). */
  flushIntervalMs?: number;
}

/** A run log on files. `close()` flushes what is left. */
export class FileRunLog implements RunLogSink {
  private readonly queryFile: DurableAppender;
  private readonly groupFile: DurableAppender | null;
  private readonly format: RunLogFormat;
  private queryBuffer: string[] = [];
  private groupBuffer: string[] = [];
  private oldestBufferedAt = 0;
  private readonly flushRows: number;
  private readonly flushIntervalMs: number;
  private closed = false;

  constructor(options: RunLogFileOptions) {
    for (const path of [options.path, options.groupsPath]) {
      if (path !== undefined && !options.append && existsSync(path) && statSync(path).size > 0) {
        throw new InputError(`run log '${path}' already exists; remove it or append to it`);
      }
    }
    const needsHeader = options.format === 'csv' && !(existsSync(options.path) && statSync(options.path).size > 0);
    this.format = options.format;
    this.flushRows = options.flushRows ?? 256;
    this.flushIntervalMs = options.flushIntervalMs ?? 500;
    this.queryFile = new DurableAppender(options.path);
    this.groupFile = options.groupsPath !== undefined ? new DurableAppender(options.groupsPath) : null;
    if (needsHeader) this.queryFile.append(stringify([], { header: true, columns: [...QUERY_CSV_COLUMNS] }));
  }

  query(row: QueryLogRow): void {
    this.buffer(this.queryBuffer, this.format === 'csv' ? formatQueryCsv([row], false) : `${JSON.stringify(row)}\n`);
  }

  group(row: GroupLogRow): void {
    if (this.groupFile) this.buffer(this.groupBuffer, `${JSON.stringify(row)}\n`);
  }

  flush(force: boolean): void {
    const pending = this.queryBuffer.length + this.groupBuffer.length;
    if (pending === 0) return;
    if (!force && pending < this.flushRows && Date.now() - this.oldestBufferedAt < this.flushIntervalMs) return;
    if (this.queryBuffer.length > 0) this.queryFile.append(this.queryBuffer.join(''));
    if (this.groupFile && this.groupBuffer.length > 0) this.groupFile.append(this.groupBuffer.join(''));
    this.queryBuffer = [];
    this.groupBuffer = [];
  }

  close(): void {
    if (this.closed) return;
    this.flush(true);
    this.queryFile.close();
    this.groupFile?.close();
    this.closed = true;
  }

  private buffer(target: string[], text: string): void {
    if (this.closed) throw new Error('FileRunLog: write after close');
    if (this.queryBuffer.length + this.groupBuffer.length === 0) this.oldestBufferedAt = Date.now();
    target.push(text);
  }
}

export function openRunLog(options: RunLogFileOptions): FileRunLog {
  return new FileRunLog(options);
}

/** Sends every row to several sinks. */
export function teeRunLog(...sinks: RunLogSink[]): RunLogSink {
  return {
    query: (row) => sinks.forEach((s) => s.query(row)),
    group: (row) => sinks.forEach((s) => s.group?.(row)),
    flush: (force) => sinks.forEach((s) => s.flush?.(force)),
  };
}

export interface RunMeta {
  policy: PolicyName;
  ways: number;
  thldMs: number;
  abandon: boolean;
  barrier?: 'group' | 'member';
  /** Controller decision times, µs. */
  decisionsUs: ArrayLike<number>;
  /** Reaction times (event reaching the controller to the launch it allowed), µs; absent: not measured. */
  reactionsUs?: ArrayLike<number>;
  plansReused: number;
  /** Search steps of every launched group. */
  groupSearchSteps: ArrayLike<number>;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function modelSummary(rows: readonly QueryLogRow[]): ModelSummary {
  const latencies: number[] = [];
  let late = 0;
  let dropped = 0;
  let failed = 0;
  for (const r of rows) {
    if (r.status === 'dropped') dropped++;
    else if (r.status === 'failed') failed++;
    else {
      if (r.status === 'late') late++;
      latencies.push(r.latencyMs as number);
    }
  }
  const issued = rows.length;
  return {
    issued,
    completed: latencies.length,
    late,
    dropped,
    failed,
    violationRatio: issued === 0 ? 0 : (late + dropped + failed) / issued,
    p99Ms: finiteOrNull(percentileSorted(sortedCopy(latencies), 99)),
  };
}

/**
 * Summary of a run from its per-query rows (one row per issued query). Latency percentiles are over
 * completed (ok + late) queries, linear interpolation; the measured time runs from the first arrival to the
 * last finish, drop or failure.
 */
export function summarizeRun(rows: readonly QueryLogRow[], meta: RunMeta): RunSummary {
  const overall = modelSummary(rows);
  const latencies: number[] = [];
  const normalised: number[] = [];
  let firstArrivalMs = Infinity;
  let lastEventMs = -Infinity;
  for (const r of rows) {
    firstArrivalMs = Math.min(firstArrivalMs, r.arrivalMs);
    if (r.finishMs !== null) lastEventMs = Math.max(lastEventMs, r.finishMs);
    if (r.latencyMs !== null && (r.status === 'ok' || r.status === 'late')) {
      latencies.push(r.latencyMs);
      normalised.push(r.latencyMs / r.qosMs);
    }
  }
  const durationMs = Number.isFinite(firstArrivalMs) && Number.isFinite(lastEventMs) ? Math.max(0, lastEventMs - firstArrivalMs) : 0;
  const sorted = sortedCopy(latencies);
  const ok = overall.completed - overall.late;
  const perSecond = (n: number): number => (durationMs > 0 ? (n * 1000) / durationMs : 0);
  const decisions = sortedCopy(meta.decisionsUs);
  const reactions = sortedCopy(meta.reactionsUs ?? []);
  const byModel = new Map<string, QueryLogRow[]>();
  for (const r of rows) {
    const list = byModel.get(r.model);
    if (list) list.push(r);
    else byModel.set(r.model, [r]);
  }
  let stepsMax = 0;
  for (let i = 0; i < meta.groupSearchSteps.length; i++) stepsMax = Math.max(stepsMax, meta.groupSearchSteps[i] as number);
  return {
    policy: meta.policy,
    issued: overall.issued,
    completed: overall.completed,
    late: overall.late,
    dropped: overall.dropped,
    failed: overall.failed,
    violationRatio: overall.violationRatio,
    p50Ms: finiteOrNull(percentileSorted(sorted, 50)),
    p90Ms: finiteOrNull(percentileSorted(sorted, 90)),
    p95Ms: finiteOrNull(percentileSorted(sorted, 95)),
    p99Ms: finiteOrNull(percentileSorted(sorted, 99)),
    meanMs: finiteOrNull(mean(sorted)),
    p99OverQos: finiteOrNull(percentileSorted(sortedCopy(normalised), 99)),
    goodputQps: perSecond(ok),
    throughputQps: perSecond(overall.completed),
    durationMs,
    decisions: decisions.length,
    plansReused: meta.plansReused,
    decisionP50Us: finiteOrNull(percentileSorted(decisions, 50)),
    decisionP99Us: finiteOrNull(percentileSorted(decisions, 99)),
    reactionP50Us: finiteOrNull(percentileSorted(reactions, 50)),
    reactionP99Us: finiteOrNull(percentileSorted(reactions, 99)),
    groups: meta.groupSearchSteps.length,
    searchStepsMean: meta.groupSearchSteps.length > 0 ? mean(meta.groupSearchSteps) : 0,
    searchStepsMax: stepsMax,
    ways: meta.ways,
    thldMs: meta.thldMs,
    ...(meta.policy === 'abacus' ? { barrier: meta.barrier ?? 'group' } : {}),
    abandon: meta.abandon,
    perModel: Object.fromEntries([...byModel.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([m, list]) => [m, modelSummary(list)])),
  };
}

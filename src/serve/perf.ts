/**
 * perf_analyzer-style measurement for `abacus load`: a load level (closed-loop concurrency, N requests
 * always outstanding, or an open-loop request rate) runs continuously while it is measured in windows of
 * `windowMs`; it stops when the last 3 windows are stable, or after `maxTrials` windows. Then a verdict
 * in MLPerf LoadGen's style says whether the measurement is VALID. Sweeps run one level after another
 * (`--concurrency-range`, `--request-rate-range`).
 *
 * Definitions (perf_analyzer's where it has one):
 * - a window's throughput = requests answered (ok or late) whose reply ended in the window / its length;
 *   its latency = those requests' client latencies (avg, p50/p90/p95/p99), from the scheduled send time
 *   (open loop) or the send time (closed loop) to the end of the reply;
 * - stable: over the last 3 windows, max/min of the throughput and max/min of the latency metric (the
 *   average, or pN with `percentile`) are each at most 1 + `stabilityPct`/100, and every window answered
 *   something;
 * - the reported numbers are those of the 3 windows together (of all windows when it never got stable);
 * - verdict: VALID when the measurement is stable, its windows last at least `minDurationS`, hold at least
 *   `minQueries` requests, and their pN latency (`boundPercentile`, default 99, MLPerf's server tail),
 *   counting a rejected or failed request as an infinite latency, is within `latencyBoundMs`.
 * Every request a level issues is in its records (those still in flight when it stops are awaited), and
 * counted as ok, late, rejected or failed.
 */
import { performance } from 'node:perf_hooks';
import { Rng } from '../common/rng.js';
import { mean, percentileSorted, sortedCopy } from '../common/stats.js';
import type { RemoteModel } from './client.js';
import { sendRecorded, type LoadRecord, type PayloadSource } from './load.js';
import type { InferTransport } from './transport.js';

export type LoadLevel = { mode: 'concurrency'; concurrency: number } | { mode: 'rate'; rateQps: number; arrivals: 'poisson' | 'constant' };

/** The model, shape and QoS of the k-th request of a level. */
export type RequestPicker = (k: number) => { model: string; batch: number; seq: number; qosMs: number };

export interface MeasureOptions {
  transport: InferTransport;
  models: ReadonlyMap<string, RemoteModel>;
  payloads: PayloadSource;
  pick: RequestPicker;
  windowMs: number;
  stabilityPct: number;
  maxTrials: number;
  /** Stabilise on (and report as the headline) pN instead of the average. */
  percentile?: number;
  timeoutMs: number;
  seed: number;
  /** Open loop: most requests in flight at once; one beyond it fails at once, counted. */
  maxInFlight?: number;
  verdict: VerdictRules;
  onWindow?: (level: LoadLevel, window: WindowMeasure, stable: boolean) => void;
}

export interface LatencyStats {
  avgMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface WindowMeasure extends LatencyStats {
  trial: number;
  startMs: number;
  endMs: number;
  /** Requests whose reply (or failure) ended in the window, by outcome. */
  ok: number;
  late: number;
  rejected: number;
  failed: number;
  throughputQps: number;
  serverQueueAvgMs: number | null;
  serverTotalAvgMs: number | null;
}

export interface VerdictRules {
  minDurationS: number;
  minQueries: number;
  latencyBoundMs: number;
  boundPercentile: number;
}

export interface Verdict {
  result: 'VALID' | 'INVALID';
  stable: boolean | null;
  minDuration: { requiredS: number; measuredS: number; ok: boolean };
  minQueries: { required: number; measured: number; ok: boolean };
  latencyBound: { percentile: number; boundMs: number; measuredMs: number | null; ok: boolean };
  /** One line per failed check. */
  reasons: string[];
}

export interface LevelResult {
  level: LoadLevel;
  /** The value perf_analyzer's CSV keys rows by: the concurrency, or the rate in requests/s. */
  value: number;
  windows: WindowMeasure[];
  stable: boolean;
  /** The measured windows together (the last 3 when stable, else all). */
  measured: WindowMeasure;
  verdict: Verdict;
  records: LoadRecord[];
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const orNull = (x: number): number | null => (Number.isFinite(x) ? round3(x) : null);

/** pN of sorted values that may hold +Infinity (a failed request), without interpolating into NaN. */
function tailOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const hi = sorted[Math.ceil(rank)] as number;
  return Number.isFinite(hi) ? percentileSorted(sorted, p) : Number.POSITIVE_INFINITY;
}

/** Latency statistics of answered requests. */
export function latencyStats(records: readonly LoadRecord[]): LatencyStats {
  const s = sortedCopy(records.flatMap((r) => (r.latencyMs !== null ? [r.latencyMs] : [])));
  return { avgMs: orNull(mean(s)), p50Ms: orNull(percentileSorted(s, 50)), p90Ms: orNull(percentileSorted(s, 90)), p95Ms: orNull(percentileSorted(s, 95)), p99Ms: orNull(percentileSorted(s, 99)) };
}

function windowOf(records: readonly LoadRecord[], trial: number, startMs: number, endMs: number): WindowMeasure {
  const count = (o: LoadRecord['outcome']): number => records.filter((r) => r.outcome === o).length;
  const answered = records.filter((r) => r.latencyMs !== null);
  const avg = (xs: number[]): number | null => orNull(mean(xs));
  return {
    trial,
    startMs: round3(startMs),
    endMs: round3(endMs),
    ok: count('ok'),
    late: count('late'),
    rejected: count('rejected'),
    failed: count('failed'),
    throughputQps: round3((answered.length * 1000) / Math.max(1e-9, endMs - startMs)),
    ...latencyStats(records),
    serverQueueAvgMs: avg(answered.flatMap((r) => (r.serverQueueMs !== null ? [r.serverQueueMs] : []))),
    serverTotalAvgMs: avg(answered.flatMap((r) => (r.serverTotalMs !== null ? [r.serverTotalMs] : []))),
  };
}

function latencyMetric(w: LatencyStats, percentile: number | undefined): number | null {
  if (percentile === undefined) return w.avgMs;
  if (percentile === 50) return w.p50Ms;
  if (percentile === 90) return w.p90Ms;
  if (percentile === 95) return w.p95Ms;
  return w.p99Ms;
}

/** Whether the last 3 windows are stable (see the module's definition). */
export function isStable(windows: readonly WindowMeasure[], stabilityPct: number, percentile?: number): boolean {
  if (windows.length < 3) return false;
  const last = windows.slice(-3);
  const limit = 1 + stabilityPct / 100;
  const within = (xs: (number | null)[]): boolean => {
    if (xs.some((x) => x === null || !(x > 0))) return false;
    const v = xs as number[];
    return Math.max(...v) / Math.min(...v) <= limit;
  };
  return within(last.map((w) => w.throughputQps)) && within(last.map((w) => latencyMetric(w, percentile)));
}

/** The MLPerf-style verdict over the measured requests. */
export function verdictOf(records: readonly LoadRecord[], durationS: number, rules: VerdictRules, stable: boolean | null): Verdict {
  const latencies = sortedCopy(records.map((r) => r.latencyMs ?? Number.POSITIVE_INFINITY));
  const tail = tailOf(latencies, rules.boundPercentile);
  const v: Verdict = {
    result: 'VALID',
    stable,
    minDuration: { requiredS: rules.minDurationS, measuredS: round3(durationS), ok: durationS >= rules.minDurationS },
    minQueries: { required: rules.minQueries, measured: records.length, ok: records.length >= rules.minQueries },
    latencyBound: { percentile: rules.boundPercentile, boundMs: rules.latencyBoundMs, measuredMs: Number.isFinite(tail) ? round3(tail) : null, ok: records.length > 0 && tail <= rules.latencyBoundMs },
    reasons: [],
  };
  if (stable === false) v.reasons.push('the latency and throughput did not get stable within the trials');
  if (!v.minDuration.ok) v.reasons.push(`min duration not satisfied: ${v.minDuration.measuredS} s measured, ${rules.minDurationS} s required`);
  if (!v.minQueries.ok) v.reasons.push(`min queries not satisfied: ${records.length} measured, ${rules.minQueries} required`);
  if (!v.latencyBound.ok) v.reasons.push(`latency bound not met: p${rules.boundPercentile} ${Number.isFinite(tail) ? `${round3(tail)} ms` : 'infinite (requests were rejected or failed)'} > ${rules.latencyBoundMs} ms`);
  if (v.reasons.length > 0) v.result = 'INVALID';
  return v;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run one load level until it is stable (or `maxTrials` windows), then stop it and await its requests. */
export async function measureLevel(level: LoadLevel, o: MeasureOptions): Promise<LevelResult> {
  const t0 = performance.now();
  const records: LoadRecord[] = [];
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let k = 0;
  const prefix = level.mode === 'concurrency' ? `c${level.concurrency}` : `r${level.rateQps}`;
  const issue = (scheduledMs: number): Promise<void> => {
    const n = k++;
    const q = o.pick(n);
    const p = sendRecorded(o.transport, o.payloads, o.models, { id: `${prefix}-q${n}`, arrivalMs: scheduledMs, modelId: 0, ...q }, t0, o.timeoutMs).then((r) => {
      records.push(r);
    });
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return tracked;
  };
  let driver: Promise<void>;
  if (level.mode === 'concurrency') {
    const worker = async (): Promise<void> => {
      while (!stopped) await issue(performance.now() - t0);
    };
    driver = Promise.all(Array.from({ length: level.concurrency }, worker)).then(() => undefined);
  } else {
    const rng = new Rng(o.seed);
    const maxInFlight = o.maxInFlight ?? 2048;
    driver = (async () => {
      let at = 0;
      while (!stopped) {
        at += level.arrivals === 'poisson' ? rng.exponential(level.rateQps / 1000) : 1000 / level.rateQps;
        const delay = t0 + at - performance.now();
        if (delay > 0) await sleep(delay);
        if (stopped) break;
        if (inFlight.size >= maxInFlight) {
          const n = k++;
          const q = o.pick(n);
          records.push({
            id: `${prefix}-q${n}`, model: q.model, batch: q.batch, seq: q.seq, qosMs: q.qosMs, sentMs: round3(at), finishMs: round3(performance.now() - t0), latencyMs: null,
            outcome: 'failed', httpStatus: 0, grpcCode: null, serverTotalMs: null, serverQueueMs: null, error: `client limit: ${maxInFlight} requests already in flight`,
          });
          continue;
        }
        void issue(at);
      }
    })();
  }
  const windows: WindowMeasure[] = [];
  let stable = false;
  try {
    for (let trial = 1; trial <= o.maxTrials && !stable; trial++) {
      const start = performance.now() - t0;
      await sleep(o.windowMs);
      const end = performance.now() - t0;
      const inWindow = records.filter((r) => r.finishMs >= start && r.finishMs < end);
      const w = windowOf(inWindow, trial, start, end);
      windows.push(w);
      stable = isStable(windows, o.stabilityPct, o.percentile);
      o.onWindow?.(level, w, stable);
    }
  } finally {
    stopped = true;
    await driver;
    await Promise.all([...inFlight]);
  }
  const used = stable ? windows.slice(-3) : windows;
  const from = used[0]?.startMs ?? 0;
  const to = used[used.length - 1]?.endMs ?? 0;
  const measuredRecords = records.filter((r) => r.finishMs >= from && r.finishMs < to);
  records.sort((a, b) => a.sentMs - b.sentMs || (a.id < b.id ? -1 : 1));
  return {
    level,
    value: level.mode === 'concurrency' ? level.concurrency : level.rateQps,
    windows,
    stable,
    measured: windowOf(measuredRecords, used.length, from, to),
    verdict: verdictOf(measuredRecords, (to - from) / 1000, o.verdict, stable),
    records,
  };
}

/** Parse `start:end:step` (perf_analyzer's range; `start` alone is one level, `start:end` steps by 1). */
export function parseRange(text: string, what: string, integer: boolean): number[] {
  const parts = text.split(':').map((p) => p.trim());
  const nums = parts.map(Number);
  const okNum = (x: number): boolean => Number.isFinite(x) && x > 0 && (!integer || Number.isInteger(x));
  if (parts.length < 1 || parts.length > 3 || !nums.every(okNum)) return rangeError(what, text, integer);
  const [start, end = start, step = 1] = nums as [number, number?, number?];
  if (end < start) return rangeError(what, text, integer);
  const out: number[] = [];
  for (let v = start; v <= end + 1e-9 && out.length <= 1000; v += step) out.push(round3(v));
  if (out.length > 1000) return rangeError(what, text, integer);
  return out;
}

function rangeError(what: string, text: string, integer: boolean): never {
  throw new RangeError(`${what} must be start[:end[:step]] with ${integer ? 'integers' : 'numbers'} > 0, end >= start, at most 1000 levels; got '${text}'`);
}

/** perf_analyzer's CSV (-f), latencies in µs; abacus adds the verdict and the request counts. */
export function formatPerfCsv(results: readonly LevelResult[]): string {
  const us = (ms: number | null): string => (ms === null ? '' : String(Math.round(ms * 1000)));
  const first = results[0]?.level.mode === 'rate' ? 'Request Rate' : 'Concurrency';
  const lines = [`${first},Inferences/Second,Server Queue,Server Total,p50 latency,p90 latency,p95 latency,p99 latency,Avg latency,Stable,Verdict,Requests,Ok,Late,Rejected,Failed`];
  for (const r of [...results].sort((a, b) => a.measured.throughputQps - b.measured.throughputQps)) {
    const m = r.measured;
    lines.push([r.value, m.throughputQps, us(m.serverQueueAvgMs), us(m.serverTotalAvgMs), us(m.p50Ms), us(m.p90Ms), us(m.p95Ms), us(m.p99Ms), us(m.avgMs), r.stable, r.verdict.result, r.records.length,
      r.records.filter((x) => x.outcome === 'ok').length, r.records.filter((x) => x.outcome === 'late').length, r.records.filter((x) => x.outcome === 'rejected').length, r.records.filter((x) => x.outcome === 'failed').length].join(','));
  }
  return `${lines.join('\n')}\n`;
}

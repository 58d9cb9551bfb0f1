/**
 * Peak-load search in the spirit of the MLPerf server scenario: the highest Poisson load (queries/s) at which
 * a run still meets its latency bound, found by bisection over runs.
 */
import { InputError } from '../common/errors.js';
import type { RunSummary } from './types.js';

/** Does a run pass: p99 latency within QoS (p99 of latency/QoS <= 1) and at most `maxViolationRatio` violations. */
export function meetsServerRule(summary: RunSummary, maxViolationRatio = 0.01): boolean {
  return summary.p99OverQos !== null && summary.p99OverQos <= 1 && summary.violationRatio <= maxViolationRatio;
}

export interface PeakSearchOptions {
  /** Run at a load and summarise (normally: generate a trace with a fixed seed at that load, serve it). */
  evaluate: (loadQps: number) => Promise<RunSummary>;
  lowQps: number;
  highQps: number;
  /** Stop when the bracket is narrower than this (default: 1% of lowQps, at least 0.1). */
  resolutionQps?: number;
  /** Default 0.01. */
  maxViolationRatio?: number;
  /** Called after every run. */
  onPoint?: (point: PeakPoint) => void;
}

export interface PeakPoint {
  loadQps: number;
  pass: boolean;
  summary: RunSummary;
}

export interface PeakResult {
  /** The highest load that passed (null when even lowQps failed). */
  peakQps: number | null;
  /** The lowest load seen to fail (null when highQps passed: the peak may be higher). */
  failQps: number | null;
  /** Every run, in the order made. */
  points: PeakPoint[];
}

/**
 * Bisection over [lowQps, highQps]: run at highQps first (pass: the peak is at least highQps), then halve
 * the bracket [pass, fail] until it is narrower than the resolution. The low end is assumed to pass and
 * run only when no other load passed, to confirm it (fail: no peak in range): it is the longest run of
 * all (a trace of a fixed number of queries spans queries / load seconds), and near the peak it is
 * seldom needed. Assumes passing is monotone in load, which holds approximately when every load replays
 * the same seeded trace scaled in time.
 */
export async function findPeakLoad(options: PeakSearchOptions): Promise<PeakResult> {
  const { lowQps, highQps } = options;
  if (!(lowQps > 0) || !(highQps > lowQps)) throw new InputError(`peak search needs 0 < low < high, got low ${lowQps}, high ${highQps}`);
  const resolutionQps = options.resolutionQps ?? Math.max(0.1, lowQps * 0.01);
  if (!(resolutionQps > 0)) throw new InputError(`peak search resolution must be > 0, got ${resolutionQps}`);
  const maxViolationRatio = options.maxViolationRatio ?? 0.01;
  const points: PeakPoint[] = [];
  const probe = async (loadQps: number): Promise<boolean> => {
    const summary = await options.evaluate(loadQps);
    const point = { loadQps, pass: meetsServerRule(summary, maxViolationRatio), summary };
    points.push(point);
    options.onPoint?.(point);
    return point.pass;
  };
  if (await probe(highQps)) return { peakQps: highQps, failQps: null, points };
  let pass = lowQps;
  let fail = highQps;
  let passed = false;
  while (fail - pass > resolutionQps) {
    const mid = (pass + fail) / 2;
    if (await probe(mid)) {
      pass = mid;
      passed = true;
    } else fail = mid;
  }
  if (!passed && !(await probe(lowQps))) return { peakQps: null, failQps: lowQps, points };
  return { peakQps: pass, failQps: fail, points };
}
